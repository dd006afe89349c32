/**
 * Lock-timeout retry. Every DDL statement and every backfill batch runs with a short
 * lock_timeout so it never queues behind (and blocks) application traffic for long; when the
 * lock is not granted in time (SQLSTATE 55P03) we wait a jittered, exponentially growing delay
 * and try again, up to a bounded budget.
 */
import { PgtandemError, sqlstateOf } from "../errors.ts";

export const LOCK_NOT_AVAILABLE = "55P03";

export interface RetryOptions {
  /** Attempts in all, first try included. */
  maxAttempts?: number;
  /** First backoff ceiling in ms; doubles each retry up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Least wait between two attempts: a failed attempt queued clients behind it for up to its
   * lock_timeout, and they need that long to drain before we queue them again.
   */
  minDelayMs?: number;
  /** Called before each wait, e.g. to log the retry with --verbose. */
  onRetry?: (attempt: number, delayMs: number) => void;
}

export const DEFAULT_RETRY: Required<Omit<RetryOptions, "onRetry" | "minDelayMs">> = {
  maxAttempts: 30,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
};

/** Runs `fn`, retrying only when it fails with a lock timeout. */
export async function withLockRetry<T>(
  what: string,
  fn: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const { maxAttempts, initialDelayMs, maxDelayMs } = { ...DEFAULT_RETRY, ...options };
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (sqlstateOf(error) !== LOCK_NOT_AVAILABLE) throw error;
      if (attempt >= maxAttempts) {
        throw new PgtandemError(
          "lock_timeout",
          `${what}: could not acquire a lock after ${attempt} attempts (lock_timeout)`,
          { cause: error },
        );
      }
      // Full jitter: uniform in [0, ceiling) so competing runs do not retry in lockstep.
      const ceiling = Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs);
      const delay = Math.max(options.minDelayMs ?? 0, Math.random() * ceiling);
      options.onRetry?.(attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
