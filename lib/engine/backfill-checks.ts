/**
 * What start must know about a table before it backfills it, asked of the catalog without
 * changing anything, so `plan` refuses exactly when `start` would:
 *
 * - Row-level security: a backfill that sees only the rows a policy lets through would leave the
 *   others unfilled and the migration would complete with their values lost. The backfill runs
 *   with `row_security = off` (PostgreSQL then errors instead of filtering); this check names the
 *   privilege that is missing before any DDL.
 * - User triggers: every backfilled row is an UPDATE, so the user's `updated_at = now()` or audit
 *   triggers would change data the user did not change, beyond rollback's reach. When the role may
 *   set `session_replication_role`, batches run as `replica` and only pgtandem's ALWAYS triggers
 *   fire; otherwise the triggers that would fire are named and start needs an explicit
 *   `--allow-user-triggers`.
 */
import { type Issue, PgtandemError, sqlstateOf } from "../errors.ts";
import type postgres from "postgres";
import type { Sql } from "./connection.ts";

/** The table (and each leaf partition) as these checks read it. */
interface TableFacts {
  relation: string;
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  owned: boolean;
}

/** Whether batches on this table may run with `session_replication_role = replica`. */
export interface TriggerSilencing {
  /** The role may set the parameter and the table has no constraint that needs its triggers. */
  silenced: boolean;
  /** User triggers that fire for the backfill's UPDATEs as batches will run them. */
  firing: string[];
  /** Why the triggers cannot be silenced, for the refusal; empty when they can. */
  reason: string;
}

/** The name prefix of pgtandem's sync triggers (see triggers.ts) and of pgroll's. */
const SYNC_TRIGGER_PATTERN = "~\\_pgroll\\_%";
const OWN_TRIGGER_PATTERNS = [SYNC_TRIGGER_PATTERN, "\\_pgroll\\_%"];

/**
 * Start-time issues of backfilling `tables` of `schema` (tables missing from the catalog, e.g.
 * created by the same migration, have no rows and are skipped): row-level security the role is
 * subject to, and user triggers the backfill would fire unless `allowUserTriggers`.
 */
export async function backfillIssues(
  sql: Sql,
  schema: string,
  tables: readonly string[],
  options: { allowUserTriggers: boolean },
): Promise<Issue[]> {
  const issues: Issue[] = [];
  for (const table of new Set(tables)) {
    const rls = await rowSecurityProblem(sql, schema, table);
    if (rls) issues.push({ path: [], message: rls });
    if (options.allowUserTriggers) continue;
    const { firing, reason } = await triggerSilencing(sql, schema, table);
    if (firing.length === 0) continue;
    issues.push({
      path: [],
      message: `the backfill of table "${table}" would fire user trigger${
        firing.length > 1 ? "s" : ""
      } ${
        firing.map((t) => `"${t}"`).join(", ")
      } for every existing row (${reason}): pass --allow-user-triggers to accept that, or run as a role that may set session_replication_role`,
    });
  }
  return issues;
}

/**
 * One line naming the privilege the role lacks to backfill `table` under row-level security, or
 * undefined when no policy can hide rows from it (superuser, BYPASSRLS, or owner of a table
 * without FORCE ROW LEVEL SECURITY, on the table and on every leaf partition).
 */
export async function rowSecurityProblem(
  sql: Sql,
  schema: string,
  table: string,
): Promise<string | undefined> {
  const [role] = await sql.unsafe(
    `SELECT current_user AS name, rolsuper OR rolbypassrls AS bypass
     FROM pg_catalog.pg_roles WHERE rolname = current_user`,
  );
  if (role?.bypass) return undefined;
  const facts = await tableFacts(sql, schema, table);
  const hidden = facts.find((f) => f.rowSecurity && (f.forceRowSecurity || !f.owned));
  if (!hidden) return undefined;
  const why = hidden.owned
    ? `it owns table "${hidden.relation}" but FORCE ROW LEVEL SECURITY applies policies to the owner too`
    : `row-level security is enabled on table "${hidden.relation}"`;
  return `cannot backfill table "${table}": role "${role?.name}" would not see every row (${why}); grant it BYPASSRLS, or run as the table's owner without FORCE ROW LEVEL SECURITY`;
}

/**
 * Whether the backfill of `table` runs with user triggers silenced, and which user triggers fire
 * for its UPDATEs all the same. Silencing needs the privilege to set session_replication_role
 * (superuser, or `GRANT SET ON PARAMETER` on PostgreSQL 15+), and no deferrable unique or
 * exclusion constraint on the table: those are rechecked by internal triggers that `replica`
 * would skip. Column-specific (`UPDATE OF`) triggers never fire: the backfill's UPDATE sets only
 * the marker column.
 */
export async function triggerSilencing(
  sql: Sql,
  schema: string,
  table: string,
): Promise<TriggerSilencing> {
  const deferrable = await sql.unsafe(
    `SELECT con.conname FROM pg_catalog.pg_constraint con
     WHERE con.conrelid IN (${relationsSql}) AND con.condeferrable AND con.contype IN ('u', 'p', 'x')
     LIMIT 1`,
    [schema, table],
  );
  // Ours must all be ALWAYS, or replica mode would skip them and the backfill fill nothing.
  const quiet = await sql.unsafe(
    `SELECT t.tgname FROM pg_catalog.pg_trigger t
     WHERE t.tgrelid IN (${relationsSql}) AND t.tgname LIKE $3 AND t.tgenabled <> 'A' LIMIT 1`,
    [schema, table, SYNC_TRIGGER_PATTERN],
  );
  let reason = "";
  if (quiet.length > 0) {
    reason = `pgtandem's trigger "${quiet[0]!.tgname}" is not ENABLE ALWAYS`;
  } else if (deferrable.length > 0) {
    reason = `its deferrable constraint "${
      deferrable[0]!.conname
    }" needs triggers that replica mode skips`;
  } else if (!(await maySetReplicationRole(sql))) {
    reason = "the role may not set session_replication_role";
  }
  const silenced = reason === "";
  // Under replica, ALWAYS and REPLICA triggers fire; otherwise ORIGIN and ALWAYS ones.
  const rows = await sql.unsafe(
    `SELECT DISTINCT t.tgname FROM pg_catalog.pg_trigger t
     WHERE t.tgrelid IN (${relationsSql}) AND NOT t.tgisinternal
       AND t.tgtype::int & 16 <> 0 AND pg_catalog.cardinality(t.tgattr::int2[]) = 0
       AND t.tgenabled::text = ANY ($3::text[])
       AND NOT t.tgname LIKE ANY ($4::text[])
     ORDER BY 1`,
    [schema, table, silenced ? ["A", "R"] : ["O", "A"], OWN_TRIGGER_PATTERNS],
  );
  return { silenced, firing: rows.map((r) => r.tgname as string), reason };
}

/**
 * Whether this role may set session_replication_role, found by setting it in a transaction (or,
 * inside one, a savepoint) that is then rolled back, so nothing outlives the probe:
 * version-independent, and exact for superusers, `GRANT SET ON PARAMETER` and whatever
 * PostgreSQL adds later.
 */
export async function maySetReplicationRole(sql: Sql): Promise<boolean> {
  const probe = async (tx: postgres.TransactionSql): Promise<never> => {
    await tx.unsafe(`SELECT pg_catalog.set_config('session_replication_role', 'replica', true)`);
    throw PROBE_PASSED;
  };
  try {
    // `plan` runs its checks inside a read-only transaction, where only savepoints are left.
    const inTransaction = sql as unknown as Partial<postgres.TransactionSql>;
    if (typeof sql.begin === "function") await sql.begin(probe);
    else await inTransaction.savepoint!(probe);
  } catch (error) {
    if (error === PROBE_PASSED) return true;
    if (sqlstateOf(error) === INSUFFICIENT_PRIVILEGE) return false;
    throw error;
  }
  return true;
}

const PROBE_PASSED = Symbol("probe passed");
const INSUFFICIENT_PRIVILEGE = "42501";

/** The table $1.$2 and its leaf partitions, as a subquery of oids. */
const relationsSql = `SELECT c.oid FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2
  UNION SELECT p.relid FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
  LATERAL pg_catalog.pg_partition_tree(c.oid) p
  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'p'`;

async function tableFacts(sql: Sql, schema: string, table: string): Promise<TableFacts[]> {
  const rows = await sql.unsafe(
    `SELECT c.relname AS relation, c.relrowsecurity, c.relforcerowsecurity,
       pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE') AS owned
     FROM pg_catalog.pg_class c WHERE c.oid IN (${relationsSql})`,
    [schema, table],
  );
  return rows.map((r) => ({
    relation: r.relation as string,
    rowSecurity: r.relrowsecurity as boolean,
    forceRowSecurity: r.relforcerowsecurity as boolean,
    owned: r.owned as boolean,
  }));
}

/**
 * The backfill's answer to PostgreSQL refusing a batch under `row_security = off`: the one-line
 * message of {@link rowSecurityProblem} when row-level security is the cause, else undefined.
 */
export async function explainRowSecurityError(
  sql: Sql,
  schema: string,
  table: string,
  error: unknown,
): Promise<PgtandemError | undefined> {
  if (sqlstateOf(error) !== INSUFFICIENT_PRIVILEGE) return undefined;
  const message = await rowSecurityProblem(sql, schema, table).catch(() => undefined);
  return message ? new PgtandemError("query", message, { cause: error }) : undefined;
}
