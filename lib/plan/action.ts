/**
 * Plans: what an operation phase asks the engine to do. Operations never hold a connection; they
 * return actions, and the engine executes them (with lock_timeout and retry), prints them for
 * `plan`, or de-duplicates them.
 */
import type { UserSql } from "../user-sql.ts";

/** The strongest table lock a statement takes, for `plan` output and the safety lint. */
export type LockLevel =
  | "none"
  | "ACCESS SHARE"
  | "SHARE UPDATE EXCLUSIVE"
  | "SHARE"
  | "SHARE ROW EXCLUSIVE"
  | "ACCESS EXCLUSIVE";

export interface SqlAction {
  kind: "sql";
  /**
   * Stable id derived from the action's parameters. When two operations of one migration
   * produce the same id, the engine runs it once (at the position of its last occurrence).
   */
  id: string;
  sql: string;
  /** The table the statement locks, and how strongly. */
  table?: string;
  lock: LockLevel;
  /** False for statements that cannot run in a transaction block (CONCURRENTLY). */
  transactional: boolean;
  /**
   * SQLSTATEs that mean "already done / harmless" for this statement; the engine ignores them.
   * Used sparingly, e.g. copying a default that no longer fits a new type.
   */
  ignoreSqlstates?: string[];
  /** User-written SQL (raw `sql` operations): shown as such in plans and never de-duplicated. */
  userSql?: boolean;
  /** Checked by the engine right before the statement runs. */
  guard?: FastDefaultGuard;
  /** See {@link AfterTriggers}. */
  afterTriggers?: boolean;
  /**
   * Start runs it once the backfill is done (a VALIDATE of a foreign key on a backfilled
   * column: the backfill skips foreign-key triggers, so only VALIDATE checks the rows it wrote).
   */
  afterBackfill?: boolean;
  /**
   * A failure of this statement is reported as a warning starting with this text, and the run
   * goes on (a check whose failure is the user's to judge, not a reason to refuse).
   */
  warnOnly?: string;
  /** Where the user SQL this statement runs was written; errors name it. */
  origin?: ActionOrigin;
}

/**
 * The field of a migration that holds the user SQL an action runs. An operation sets the path
 * relative to its own body (`["up"]`, `["column", "default"]`); before start the engine anchors
 * it to the file and the operation (`["operations", 1, "alter_column", "up"]`), so a failure
 * reads `03_emails.ts: operations[1].alter_column.up: column "emial" does not exist`.
 */
export interface ActionOrigin {
  /** The migration file, once anchored. */
  file?: string;
  path: (string | number)[];
}

/**
 * `ADD COLUMN … DEFAULT expr` is catalog-only when the default is not volatile; otherwise it
 * rewrites the whole table under an ACCESS EXCLUSIVE lock. The engine probes first and refuses.
 */
export interface FastDefaultGuard {
  kind: "fast_default";
  type: UserSql;
  expression: UserSql;
  /** Error message when the default would rewrite the table. */
  message: string;
}

/**
 * Builds a unique (or plain) index with CREATE INDEX CONCURRENTLY; the engine checks that the
 * build left a valid index and, if not, drops it and tries again, so no INVALID index is left.
 */
export interface ConcurrentIndexAction {
  kind: "concurrent_index";
  id: string;
  /** The index name (unqualified; it lives in the table's schema). */
  name: string;
  table: string;
  sql: string;
  lock: "SHARE UPDATE EXCLUSIVE";
  transactional: false;
  /** See {@link AfterTriggers}. */
  afterTriggers?: boolean;
}

/**
 * Start actions marked `afterTriggers` (constraints on the new columns the sync triggers fill:
 * NOT VALID checks, foreign keys, unique indexes) run after the triggers are installed; all other
 * start actions run before, in operation order. So an old-side write can never meet, say, a NOT
 * NULL check on a new column before the trigger that fills that column exists.
 */
export type AfterTriggers = true;

export type Action = SqlAction | ConcurrentIndexAction;

/** The settings of {@link sqlAction}; each is the SqlAction field of the same name. */
export interface SqlActionOptions {
  table?: string;
  lock?: LockLevel;
  transactional?: boolean;
  ignoreSqlstates?: string[];
  userSql?: boolean;
  guard?: FastDefaultGuard;
  afterTriggers?: boolean;
  warnOnly?: string;
  origin?: ActionOrigin;
}

/** Shorthand for the most common action. */
export function sqlAction(id: string, sql: string, options: SqlActionOptions = {}): SqlAction {
  const action: SqlAction = {
    kind: "sql",
    id,
    sql,
    lock: options.lock ?? "ACCESS EXCLUSIVE",
    transactional: options.transactional ?? true,
  };
  if (options.table !== undefined) action.table = options.table;
  if (options.ignoreSqlstates) action.ignoreSqlstates = options.ignoreSqlstates;
  if (options.userSql) action.userSql = true;
  if (options.guard) action.guard = options.guard;
  if (options.afterTriggers) action.afterTriggers = true;
  if (options.warnOnly) action.warnOnly = options.warnOnly;
  if (options.origin) action.origin = options.origin;
  return action;
}

/** The migration author's own statements (a `sql` operation), run verbatim: `userSql` is set. */
export function userSqlAction(
  id: string,
  sql: UserSql,
  options: Omit<SqlActionOptions, "userSql"> = {},
): SqlAction {
  return sqlAction(id, sql, { ...options, userSql: true });
}

/**
 * Keeps one copy of each id, at the position of its last occurrence: the later operation in a
 * migration is the one whose ordering matters (e.g. a column dropped by two sub-changes).
 * User SQL is never merged.
 */
export function dedupeActions(actions: readonly Action[]): Action[] {
  const lastIndex = new Map<string, number>();
  actions.forEach((a, i) => {
    if (!(a.kind === "sql" && a.userSql)) lastIndex.set(a.id, i);
  });
  return actions.filter((a, i) => (a.kind === "sql" && a.userSql) || lastIndex.get(a.id) === i);
}

/**
 * Catalog-only DDL that takes an ACCESS EXCLUSIVE lock: renames, dropping a column, turning an
 * index into a constraint. At complete and rollback these run together with the trigger drops in
 * one short transaction, so no client ever writes between "the triggers are gone" and "the
 * columns they served are swapped" (a write there could miss a NOT NULL filled by a trigger).
 */
export function isSwitchOver(action: Action): boolean {
  return action.kind === "sql" && action.transactional && !action.userSql &&
    action.lock === "ACCESS EXCLUSIVE";
}

/** The action, to run after the sync triggers are installed (see {@link AfterTriggers}). */
export function afterTriggers<A extends Action>(action: A): A {
  return { ...action, afterTriggers: true };
}
