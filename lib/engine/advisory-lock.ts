/**
 * Serialises runs of the tool: one session advisory lock per key (usually per database + base
 * schema), held on a connection of its own for the whole run. A session lock (not a transaction
 * lock) because a run spans many transactions (backfill batches, CREATE INDEX CONCURRENTLY).
 *
 * The lock lives exactly as long as that connection. The connection is never recycled by the
 * driver, sends no statement while `fn` runs (the idle timeouts are off, see connection.ts), and
 * is watched: when it closes under us the lock is gone, so the run must stop and say so. It is
 * a pool of its own rather than a reserved connection of the caller's pool because postgres.js
 * cannot use a reserved connection after it closed (the unlock would throw inside the driver
 * and never settle).
 */
import postgres from "postgres";
import { ConnectionLostError } from "../errors.ts";

/** How long the final unlock may take before we just close the connection (which unlocks too). */
const UNLOCK_TIMEOUT_MS = 5000;

/**
 * The lock key for runs against one base schema. The state schema is part of it because two
 * state schemas in one database are independent histories.
 */
export function runLockKey(stateSchema: string, schema: string): string {
  return `pgtandem:run:${JSON.stringify([stateSchema, schema])}`;
}

/**
 * Runs `fn` while holding the session advisory lock derived from `key`, waiting for it if
 * another session holds it. The string is hashed to a bigint by the server
 * (`hashtextextended(key, 0)`), so every client of any version derives the same lock.
 *
 * The lock is taken on a new connection opened with `sql`'s settings (statement_timeout aside:
 * waiting for another run is governed by lock_timeout only); `fn` receives it and may use it or
 * ignore it. When that connection closes before `fn` settles, `sql`'s own `onclose` hook is
 * called (so a session can stop its work at once) and this function rejects with a
 * ConnectionLostError once `fn` settles, whatever `fn` did: its work was not serialised any more.
 */
export async function withAdvisoryLock<T>(
  sql: postgres.Sql,
  key: string,
  fn: (connection: postgres.Sql) => Promise<T>,
): Promise<T> {
  let locked = false;
  let releasing = false;
  let lost = false;
  const inherited = sql.options.onclose;
  // Spreading parsed options is how postgres.js itself opens its LISTEN connection.
  const lockSql = postgres(
    {
      ...sql.options,
      max: 1,
      idle_timeout: null,
      max_lifetime: null,
      connection: { ...sql.options.connection, statement_timeout: "0" },
      onclose: (id: number) => {
        // Before the lock is held, a failure shows as the error of the lock statement.
        if (!locked || releasing || lost) return;
        lost = true;
        inherited?.(id);
      },
    } as unknown as postgres.Options<Record<string, never>>,
  );
  try {
    await lockSql.unsafe(
      "SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtextextended($1, 0))",
      [key],
    );
    locked = true;
  } catch (error) {
    releasing = true;
    await lockSql.end({ timeout: 0 });
    throw error;
  }
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await fn(lockSql) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const wasLost = lost;
  releasing = true;
  if (!wasLost) await within(UNLOCK_TIMEOUT_MS, release(lockSql, key));
  await lockSql.end({ timeout: 1 }).catch(() => undefined);
  if (wasLost) {
    throw new ConnectionLostError(
      "lost the connection holding the run lock (the server closed it)",
      outcome.ok ? {} : { cause: outcome.error },
    );
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/**
 * Unlocks. If `fn` left a failed transaction open the plain unlock fails, so end that
 * transaction and drop every session lock. Closing the connection would release the lock too;
 * doing it explicitly means it is free as soon as we return.
 */
async function release(connection: postgres.Sql, key: string): Promise<void> {
  const unlock = () =>
    connection.unsafe(
      "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended($1, 0))",
      [key],
    );
  try {
    await unlock();
  } catch {
    await connection.unsafe("ROLLBACK").catch(() => undefined);
    await connection.unsafe("SELECT pg_catalog.pg_advisory_unlock_all()").catch(() => undefined);
  }
}

/** Waits for `promise` at most `ms` milliseconds; never rejects. */
async function within(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}
