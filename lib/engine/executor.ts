/**
 * Executes plans. Every statement runs under the session's lock_timeout and is retried on lock
 * timeouts; concurrent index builds are checked for validity and rebuilt when they fail, so an
 * INVALID index is never left behind.
 */
import type postgres from "postgres";
import { formatPath, PgtandemError, QueryError, sqlstateOf } from "../errors.ts";
import { ident, literal } from "../sql.ts";
import type { UserSql } from "../user-sql.ts";
import type { Sql } from "./connection.ts";
import { type LockWaitOptions, stronglyLockedTables, waitForLongLockHolders } from "./lock-wait.ts";
import { runPartitionedIndexAction } from "./partitioned-index.ts";
import type { Action, ActionOrigin, ConcurrentIndexAction, SqlAction } from "../plan/action.ts";
import { withLockRetry } from "./retry.ts";

export interface ExecuteOptions {
  /** Schema the unqualified index names of concurrent_index actions live in. */
  schema: string;
  /** Called with each action before it runs (for --verbose). */
  onAction?: (action: Action) => void;
  onRetry?: (action: Action, attempt: number, delayMs: number) => void;
  /** Receives the failures of `warnOnly` actions. */
  onWarning?: (message: string) => void;
  /**
   * Wait outside the lock queue while long transactions hold conflicting locks (lock-wait.ts),
   * and leave at least `drainMs` between two attempts that queued clients behind us.
   */
  lockWait?: LockWaitOptions & { drainMs?: number };
}

const INDEX_BUILD_ATTEMPTS = 5;
const INSUFFICIENT_PRIVILEGE = "42501";

export async function executeActions(
  sql: Sql,
  actions: readonly Action[],
  options: ExecuteOptions,
): Promise<void> {
  for (const action of actions) {
    options.onAction?.(action);
    if (await runPartitionedIndexAction(sql, action, options.schema)) continue;
    if (action.kind === "concurrent_index") await buildIndex(sql, action, options);
    else await runStatement(sql, action, options);
  }
}

/**
 * Runs `actions` in one transaction, retried as a whole on lock timeouts. Statements whose errors
 * may be ignored run inside a savepoint so an ignored error does not abort the transaction.
 */
export async function executeAtomically(
  sql: Sql,
  actions: readonly Action[],
  options: ExecuteOptions & {
    /** More work for the same transaction, after the actions (e.g. recording the outcome). */
    thenInTransaction?: (tx: postgres.TransactionSql) => Promise<void>;
  },
): Promise<void> {
  if (actions.length === 0 && !options.thenInTransaction) return;
  let current: Action | undefined;
  try {
    const strong = stronglyLockedTables(
      actions.flatMap((a) => (a.kind === "sql" ? [a] : [])),
    );
    await withLockRetry("switch-over", async () => {
      if (options.lockWait && strong) {
        await waitForLongLockHolders(
          sql,
          options.schema,
          strong.tables,
          strong.lock,
          options.lockWait,
        );
      }
      return await sql.begin(async (tx) => {
        for (const action of actions) {
          current = action;
          options.onAction?.(action);
          const ignore = action.kind === "sql" ? action.ignoreSqlstates ?? [] : [];
          if (ignore.length === 0) {
            await tx.unsafe(action.sql).simple();
            continue;
          }
          try {
            await tx.savepoint((sp) => sp.unsafe(action.sql).simple());
          } catch (error) {
            if (!ignore.includes(sqlstateOf(error) ?? "")) throw error;
          }
        }
        current = undefined;
        await options.thenInTransaction?.(tx);
      });
    }, options.lockWait?.drainMs ? { minDelayMs: options.lockWait.drainMs } : {});
  } catch (error) {
    throw current ? wrapError(current, error) : error;
  }
}

async function runStatement(sql: Sql, action: SqlAction, options: ExecuteOptions): Promise<void> {
  const guard = action.guard;
  if (guard && !(await isFastDefault(sql, options.schema, guard.type, guard.expression))) {
    throw new PgtandemError("invalid_migration", guard.message);
  }
  try {
    await withLockRetry(
      action.id,
      // simple(): user SQL may hold several statements; generated SQL is one statement.
      async () => {
        if (options.lockWait && action.table !== undefined) {
          await waitForLongLockHolders(
            sql,
            options.schema,
            [action.table],
            action.lock,
            options.lockWait,
          );
        }
        return await sql.unsafe(action.sql).simple();
      },
      {
        onRetry: (attempt, delay) => options.onRetry?.(action, attempt, delay),
        ...(options.lockWait?.drainMs ? { minDelayMs: options.lockWait.drainMs } : {}),
      },
    );
  } catch (error) {
    const state = sqlstateOf(error);
    if (state && action.ignoreSqlstates?.includes(state)) return;
    if (action.warnOnly) {
      const where = action.origin ? ` (${originText(action.origin)})` : "";
      options.onWarning?.(`${action.warnOnly}: ${(error as Error).message}${where}`);
      return;
    }
    // User SQL may have opened a transaction and failed inside it; leave the session clean.
    if (action.userSql) await sql.unsafe("ROLLBACK").catch(() => {});
    throw wrapError(action, error);
  }
}

async function buildIndex(
  sql: Sql,
  action: ConcurrentIndexAction,
  options: ExecuteOptions,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    // A previous attempt (or a killed run) may have left an invalid index of this name.
    await dropInvalidIndex(sql, options.schema, action.name);
    try {
      await withLockRetry(action.id, () => sql.unsafe(action.sql).simple());
      return;
    } catch (error) {
      const state = sqlstateOf(error);
      // Deadlocks and lock timeouts during the build leave an invalid index: drop it, try again.
      const transient = state === "40P01" || state === "55P03";
      if (!transient || attempt >= INDEX_BUILD_ATTEMPTS) {
        await dropInvalidIndex(sql, options.schema, action.name).catch(() => {});
        throw wrapError(action, error);
      }
    }
  }
}

/**
 * Would `ADD COLUMN … DEFAULT expression` be catalog-only? Asks PostgreSQL itself: add such a
 * column to an empty probe table and see whether that rewrote the table (its relfilenode
 * changed). PostgreSQL's rule (non-volatile default, no domain constraints, …) differs between
 * majors; the probe follows the server. Everything happens in a transaction that is rolled back.
 */
async function isFastDefault(
  sql: Sql,
  schema: string,
  type: UserSql,
  expression: UserSql,
): Promise<boolean> {
  const rollback = new Error("probe done");
  let fast = false;
  try {
    await sql.begin(async (tx) => {
      const table = await createProbeTable(tx, schema);
      const filenode = async () => {
        const [row] = await tx.unsafe<{ node: string }[]>(
          `SELECT pg_catalog.pg_relation_filenode(${literal(table)}::regclass)::text AS node`,
        );
        return row?.node;
      };
      const before = await filenode();
      await tx.unsafe(`ALTER TABLE ${table} ADD COLUMN probe ${type} DEFAULT ${expression}`);
      fast = (await filenode()) === before;
      throw rollback;
    });
  } catch (error) {
    if (error !== rollback) throw error;
  }
  return fast;
}

/**
 * Creates the probe table (inside the probe's transaction) where the migration's user may:
 * the migrated schema (CREATE there, which migrations with triggers need anyway), else pg_temp
 * (TEMPORARY, often revoked from PUBLIC on hardened servers), else a schema of its own (CREATE
 * on the database, which the version schema needs). Returns its qualified, quoted name.
 */
async function createProbeTable(tx: postgres.TransactionSql, schema: string): Promise<string> {
  const name = `_pgtandem_probe_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const places: Array<[string, string[]]> = [
    [ident(schema, name), []],
    [`pg_temp.${ident(name)}`, []],
    [ident(name, name), [`CREATE SCHEMA ${ident(name)}`]],
  ];
  for (const [table, before] of places) {
    try {
      await tx.savepoint(async (sp) => {
        for (const statement of before) await sp.unsafe(statement);
        await sp.unsafe(`CREATE TABLE ${table} (id int)`);
      });
      return table;
    } catch (error) {
      if (sqlstateOf(error) !== INSUFFICIENT_PRIVILEGE) throw error;
    }
  }
  const [who] = await tx.unsafe<{ name: string }[]>("SELECT current_user AS name");
  throw new PgtandemError(
    "query",
    `cannot check that a column default is not volatile: role "${who?.name}" may create a table neither in schema "${schema}" (CREATE), nor as a temporary table (TEMPORARY), nor in a new schema (CREATE on the database); grant one of these or set "up" to the default`,
  );
}

async function dropInvalidIndex(sql: Sql, schema: string, name: string): Promise<void> {
  const rows = await sql.unsafe(
    `select 1 from pg_index i join pg_class c on c.oid = i.indexrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${literal(schema)} and c.relname = ${literal(name)} and not i.indisvalid`,
  );
  if (rows.length > 0) {
    await withLockRetry(
      `drop invalid index ${name}`,
      () => sql.unsafe(`DROP INDEX CONCURRENTLY IF EXISTS ${ident(schema, name)}`).simple(),
    );
  }
}

function wrapError(action: Action, error: unknown): Error {
  if (error instanceof QueryError || !(error instanceof Error)) return error as Error;
  if (error instanceof PgtandemError) return error;
  const sqlstate = sqlstateOf(error);
  const options: { cause: unknown; sqlstate?: string; statement: string } = {
    cause: error,
    statement: action.sql,
  };
  if (sqlstate) options.sqlstate = sqlstate;
  const detail = (error as { detail?: string }).detail;
  return new QueryError(
    `${describeAction(action)}: ${error.message}${detail ? ` (${detail})` : ""}`,
    options,
  );
}

function describeAction(action: Action): string {
  // User SQL is reported where the user wrote it, not by our internal statement id.
  if (action.kind === "sql" && action.origin?.file !== undefined) return originText(action.origin);
  if (action.kind === "sql" && action.userSql) return "raw SQL failed";
  return `failed to execute "${action.id}"`;
}

/** `03_emails.ts: operations[1].alter_column.up`, or the bare field before anchoring. */
function originText(origin: ActionOrigin): string {
  const path = formatPath(origin.path);
  return origin.file !== undefined ? `${origin.file}: ${path}` : path;
}
