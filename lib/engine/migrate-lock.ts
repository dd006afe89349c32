/**
 * The migrate lock. Two CI jobs may run migrate at once. The engine serialises each start and
 * complete with its run lock, but the list of unapplied migrations is computed before those, so
 * it must be computed again by whichever run goes second. migrate therefore holds its own session
 * advisory lock (per state schema and schema) for the whole run, on a connection of its own, and
 * reads the history only once it holds it: the second run waits, then finds the migrations
 * applied. It is a separate key from the engine's run lock because that lock is taken by the
 * engine on another connection for each step; taking the same key here would make the engine
 * wait for us forever. A `start` run by hand does not take the migrate lock; before each start
 * migrate checks the history's tip is still the one it planned from, and the engine's own checks
 * (one active migration, linear history) refuse anything that slipped in between.
 */
import { withAdvisoryLock } from "./advisory-lock.ts";
import { connect, type Sql } from "./connection.ts";

/** The advisory lock key migrate runs hold, per state schema and schema. */
export function migrateLockKey(stateSchema: string, schema: string): string {
  return `pgtandem:migrate:${JSON.stringify([stateSchema, schema])}`;
}

export interface MigrateLockOptions {
  url: string;
  /** See ConnectOptions.connectTimeoutMs (the CLI's --connect-timeout). */
  connectTimeoutMs?: number;
  schema: string;
  stateSchema: string;
  /** Called once when another run holds the lock, before waiting for it. */
  onWait: () => void;
}

/**
 * Runs `fn` holding the migrate lock, on a connection of its own (the session's connections are
 * the engine's). No lock_timeout there: a second CI job waits for the first to finish, however
 * long its backfills take.
 */
export async function withMigrateLock<T>(
  options: MigrateLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const key = migrateLockKey(options.stateSchema, options.schema);
  const lockSql = await connect({
    url: options.url,
    schema: options.schema,
    lockTimeoutMs: 0,
    max: 1,
    applicationName: "pgtandem-migrate-lock",
    ...(options.connectTimeoutMs !== undefined
      ? { connectTimeoutMs: options.connectTimeoutMs }
      : {}),
  });
  try {
    if (await lockHeld(lockSql, key)) options.onWait();
    return await withAdvisoryLock(lockSql, key, () => fn());
  } finally {
    await lockSql.end({ timeout: 5 });
  }
}

/** Is the session advisory lock of `key` held by someone (informational only)? */
async function lockHeld(sql: Sql, key: string): Promise<boolean> {
  const [row] = await sql.unsafe<{ held: boolean }[]>(
    `SELECT EXISTS (
      SELECT FROM pg_catalog.pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = pg_catalog.hashtextextended($1, 0)
    ) AS held`,
    [key],
  );
  return row?.held === true;
}
