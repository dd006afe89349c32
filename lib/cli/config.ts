/** The resolved settings of one run: flags, then PGROLL_* environment variables, then defaults. */
import { DEFAULT_CONNECT_TIMEOUT_MS } from "../engine/connection.ts";
import { PgtandemError } from "../errors.ts";
import { flagOrEnv, type FlagValues } from "./args.ts";

export interface Config {
  postgresUrl: string;
  schema: string;
  stateSchema: string;
  lockTimeoutMs: number;
  /** --statement-timeout in ms; 0: no limit. */
  statementTimeoutMs: number;
  /** --connect-timeout in ms: connecting, retries included, gives up after it. */
  connectTimeoutMs: number;
  role: string | undefined;
  verbose: boolean;
  useVersionSchema: boolean;
  json: boolean;
  skipValidation: boolean;
  backfillBatchSize: number;
  /** --backfill-batch-size (or its env var) was given: the size is kept, not adapted. */
  backfillBatchSizeFixed: boolean;
  backfillBatchDelayMs: number;
  allowUserTriggers: boolean;
}

export const DEFAULT_POSTGRES_URL = "postgres://postgres:postgres@localhost?sslmode=disable";

export function resolveConfig(flags: FlagValues, env: Record<string, string | undefined>): Config {
  const get = (name: Parameters<typeof flagOrEnv>[1]) => flagOrEnv(flags, name, env);
  const role = get("role") as string | undefined;
  return {
    postgresUrl: (get("postgres-url") as string | undefined) ?? DEFAULT_POSTGRES_URL,
    schema: nonEmpty("schema", (get("schema") as string | undefined) ?? "public"),
    stateSchema: nonEmpty(
      "pgroll-schema",
      (get("pgroll-schema") as string | undefined) ?? "pgroll",
    ),
    lockTimeoutMs: integer("lock-timeout", get("lock-timeout") as string | undefined, 500),
    statementTimeoutMs: milliseconds(
      "statement-timeout",
      get("statement-timeout") as string | undefined,
    ),
    connectTimeoutMs: connectTimeout(get("connect-timeout") as string | undefined),
    role: role === "" ? undefined : role,
    verbose: (get("verbose") as boolean | undefined) ?? false,
    useVersionSchema: (get("use-version-schema") as boolean | undefined) ?? true,
    json: (get("json") as boolean | undefined) ?? false,
    skipValidation: (get("skip-validation") as boolean | undefined) ?? false,
    backfillBatchSize: integer(
      "backfill-batch-size",
      get("backfill-batch-size") as string | undefined,
      1000,
      1,
    ),
    backfillBatchSizeFixed: get("backfill-batch-size") !== undefined,
    backfillBatchDelayMs: duration(get("backfill-batch-delay") as string | undefined),
    allowUserTriggers: (get("allow-user-triggers") as boolean | undefined) ?? false,
  };
}

function nonEmpty(flag: string, value: string): string {
  if (value === "") throw new PgtandemError("invalid_input", `--${flag} must not be empty`);
  return value;
}

function integer(flag: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min) {
    throw new PgtandemError(
      "invalid_input",
      `--${flag}: expected an integer of at least ${min}, got "${raw}"`,
    );
  }
  return Number(raw);
}

/** A duration, or a bare number of milliseconds as --lock-timeout takes it. */
function milliseconds(flag: string, raw: string | undefined): number {
  return raw !== undefined && /^\d+$/.test(raw.trim()) ? Number(raw) : duration(raw, flag);
}

/** Seconds as libpq's connect_timeout takes them, or a duration; more than 0. */
function connectTimeout(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_CONNECT_TIMEOUT_MS;
  const ms = /^\d+(\.\d+)?$/.test(raw.trim())
    ? Math.round(Number(raw) * 1000)
    : duration(raw, "connect-timeout");
  if (ms <= 0) {
    throw new PgtandemError(
      "invalid_input",
      `--connect-timeout: must be more than 0, got "${raw}"`,
    );
  }
  return ms;
}

/** Go-style durations as pgroll takes them: 0, 250ms, 1s, 1.5s, 2m. */
export function duration(raw: string | undefined, flag = "backfill-batch-delay"): number {
  if (raw === undefined || raw === "0") return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(raw.trim());
  if (!match) {
    throw new PgtandemError(
      "invalid_input",
      `--${flag}: expected a duration like 100ms, 1s or 2m, got "${raw}"`,
    );
  }
  const unit = { ms: 1, s: 1000, m: 60_000 }[match[2] as "ms" | "s" | "m"];
  return Math.round(Number(match[1]) * unit);
}
