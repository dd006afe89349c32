/**
 * Waiting for a lock without blocking the application. A statement that asks for ACCESS EXCLUSIVE
 * (or SHARE ROW EXCLUSIVE) on a table queues behind any transaction holding a conflicting lock,
 * and every client that comes after queues behind it: while a 3-second report query holds ACCESS
 * SHARE, an ALTER TABLE in the queue stalls all writes for as long as its lock_timeout. So before
 * each attempt we look at who holds conflicting locks, and while a transaction that has already
 * run for a while holds one, we wait outside the queue and try only once it has finished.
 * lock_timeout stays the backstop for what we cannot see coming.
 */
import type { LockLevel } from "../plan/action.ts";
import type { Sql } from "./connection.ts";

/** PostgreSQL's table lock conflict table, for the modes our DDL asks for. */
const CONFLICTS: Partial<Record<LockLevel, string[]>> = {
  "ACCESS EXCLUSIVE": [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
  ],
  "SHARE ROW EXCLUSIVE": [
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
  ],
};

export interface LockWaitOptions {
  /**
   * A holder whose transaction is younger than this is taken to be a short one: it ends before
   * the queue behind us grows, so we do not wait for it.
   */
  minHolderAgeMs?: number;
  /** After this long we attempt anyway (lock_timeout and the retries take over). */
  maxWaitMs?: number;
  /** Told about each blocking transaction once (--verbose). */
  log?: (message: string) => void;
  /** Polling interval. */
  pollMs?: number;
}

interface Holder {
  pid: number;
  mode: string;
  relname: string;
  /** Null when pg_stat_activity hides the holder's transaction start (see below). */
  age_ms: number | null;
  /** The holder's transaction, e.g. `3/1234`: the same value on two polls is one transaction. */
  vxid: string;
}

/**
 * Returns once no transaction older than `minHolderAgeMs` holds a lock on `tables` (in `schema`)
 * that conflicts with `lock`, or after `maxWaitMs`. Only reads pg_locks and pg_stat_activity.
 *
 * A role without pg_read_all_stats (pgtandem's usual production role) sees NULL as the
 * xact_start of other users' sessions, so their age cannot be read; pg_locks still shows them.
 * Such a holder counts as long when the same transaction (pid and virtualtransaction) still
 * holds its lock one poll later. Only the first poll waits for that second look, so a stream of
 * short transactions never keeps us waiting.
 */
export async function waitForLongLockHolders(
  sql: Sql,
  schema: string,
  tables: readonly string[],
  lock: LockLevel,
  options: LockWaitOptions = {},
): Promise<void> {
  const modes = CONFLICTS[lock];
  if (!modes || tables.length === 0) return;
  const minAge = options.minHolderAgeMs ?? 50;
  const deadline = Date.now() + (options.maxWaitMs ?? 300_000);
  const told = new Set<number>();
  const firstSeen = new Map<string, number>();
  for (let poll = 1;; poll++) {
    const holders = await sql.unsafe<Holder[]>(
      // The comment names the query in pg_stat_activity: tests and operators can see the wait.
      `SELECT /* pgtandem: waiting-outside-the-queue */ l.pid, l.mode, c.relname,
              l.virtualtransaction AS vxid,
              (extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::float8 AS age_ms
         FROM pg_catalog.pg_locks l
         JOIN pg_catalog.pg_class c ON c.oid = l.relation
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid()
          AND n.nspname = $1 AND c.relname = ANY($2::text[]) AND l.mode = ANY($3::text[])
          AND (a.xact_start IS NULL
            OR a.xact_start < clock_timestamp() - make_interval(secs => $4::float8 / 1000))`,
      [schema, [...tables], modes, minAge],
    );
    const now = Date.now();
    const key = (h: Holder) => `${h.pid} ${h.vxid}`;
    const long = holders.filter((h) =>
      h.age_ms !== null || now - (firstSeen.get(key(h)) ?? now) >= minAge
    );
    const unknown = holders.some((h) => h.age_ms === null && !firstSeen.has(key(h)));
    for (const h of holders) if (!firstSeen.has(key(h))) firstSeen.set(key(h), now);
    if ((long.length === 0 && !(unknown && poll === 1)) || now > deadline) return;
    for (const h of long) {
      if (told.has(h.pid)) continue;
      told.add(h.pid);
      const age = h.age_ms !== null
        ? `its transaction has run ${Math.round(h.age_ms)} ms`
        : `its transaction has held it for ${now - firstSeen.get(key(h))!} ms or more`;
      options.log?.(
        `  waiting outside the lock queue: pid ${h.pid} holds ${h.mode} on "${h.relname}" (${age})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}

/** The tables, per strongest lock, that `actions` lock strongly enough to queue clients. */
export function stronglyLockedTables(
  actions: readonly { table?: string; lock: LockLevel }[],
): { lock: LockLevel; tables: string[] } | undefined {
  const tables = new Set<string>();
  let lock: LockLevel | undefined;
  for (const a of actions) {
    if (a.table === undefined || !CONFLICTS[a.lock]) continue;
    tables.add(a.table);
    if (lock !== "ACCESS EXCLUSIVE") lock = a.lock;
  }
  return lock ? { lock, tables: [...tables] } : undefined;
}
