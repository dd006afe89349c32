/**
 * Serialises runs of the tool: one session advisory lock per key (usually per database + base
 * schema), held on a reserved connection for the whole run. A session lock (not a transaction
 * lock) because a run spans many transactions (backfill batches, CREATE INDEX CONCURRENTLY).
 */
import type postgres from "postgres";

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
 * (`hashtextextended(key, 0)`), so every client of any version derives the same lock. `fn`
 * receives the reserved connection holding the lock; it may use it or ignore it. The lock is
 * released (and the connection returned to the pool) when `fn` settles; if the connection dies,
 * the server releases the lock itself.
 */
export async function withAdvisoryLock<T>(
  sql: postgres.Sql,
  key: string,
  fn: (connection: postgres.ReservedSql) => Promise<T>,
): Promise<T> {
  const connection = await sql.reserve();
  let locked = false;
  try {
    await connection.unsafe(
      "SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtextextended($1, 0))",
      [
        key,
      ],
    );
    locked = true;
    const result = await fn(connection);
    await unlock(connection, key);
    locked = false;
    return result;
  } finally {
    // Reached with `locked` still set only when `fn` threw: release the lock without letting a
    // failure to do so hide the error of `fn`.
    if (locked) await forceUnlock(connection, key);
    connection.release();
  }
}

async function unlock(connection: postgres.ReservedSql, key: string): Promise<void> {
  await connection.unsafe(
    "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended($1, 0))",
    [key],
  );
}

/**
 * The connection goes back to the pool, so it must not keep the lock: if `fn` left a failed
 * transaction open the plain unlock fails, so end that transaction and drop every session lock.
 * A dead connection needs nothing (the server released the lock with the session).
 */
async function forceUnlock(connection: postgres.ReservedSql, key: string): Promise<void> {
  try {
    await unlock(connection, key);
  } catch {
    await connection.unsafe("ROLLBACK").catch(() => undefined);
    await connection.unsafe("SELECT pg_catalog.pg_advisory_unlock_all()").catch(() => undefined);
  }
}
