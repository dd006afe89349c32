/**
 * Start's checks on table shapes the operations cannot see in the virtual schema: partitioned
 * tables, inheritance hierarchies and the 1600-column limit. Each refuses, before any DDL, what
 * would otherwise fail half-way through start or complete (or, worse, succeed with wrong data),
 * with one line naming the table and what to do.
 */
import type { Issue } from "../errors.ts";
import { isTemporaryName, NEEDS_BACKFILL_COLUMN } from "../naming.ts";
import type { Sql } from "./connection.ts";
import { ident } from "../sql.ts";
import type { Action } from "../plan/action.ts";
import type { OperationStep } from "../operations/steps.ts";

/** PostgreSQL's hard limit on a table's attributes, dropped ones included. */
export const MAX_TABLE_COLUMNS = 1600;

/** What the catalog says about one table of the migrated schema. */
interface TableShape {
  partitioned: boolean;
  /** Column slots in use: attnum > 0, dropped columns included (they keep theirs for good). */
  slots: number;
  /** Inheritance (INHERITS) children, schema-qualified; partitions are not listed. */
  children: string[];
  /** Inheritance parents, schema-qualified. */
  parents: string[];
  /** Columns inherited from a parent (attinhcount > 0). */
  inherited: string[];
  /** The table's owner, and whether the current user has its privileges (owns it). */
  owner: string;
  owned: boolean;
  /** The current user: the role the migration's DDL runs as. */
  who: string;
}

/** The issues of the migration's steps against the live tables' shapes; empty when fine. */
export async function shapeIssues(
  sql: Sql,
  schema: string,
  steps: readonly OperationStep[],
): Promise<Issue[]> {
  if (steps.length === 0) return [];
  const shapes = await readShapes(sql, schema);
  const [version] = await sql.unsafe<{ major: number }[]>(
    "SELECT current_setting('server_version_num')::int / 10000 AS major",
  );
  const major = Number(version?.major ?? 0);
  const issues: Issue[] = [];
  for (const step of steps) {
    const path = ["operations", step.index, step.operation.kind];
    const found = [
      ...ownershipIssues(step, shapes),
      ...inheritanceIssues(step, shapes),
      ...partitionIssues(step, shapes, major),
    ];
    issues.push(...found.map((message) => ({ path, message })));
  }
  issues.push(...columnBudgetIssues(steps, shapes));
  return issues;
}

async function readShapes(sql: Sql, schema: string): Promise<Map<string, TableShape>> {
  const rows = await sql.unsafe<
    {
      relname: string;
      partitioned: boolean;
      slots: number;
      children: string[] | null;
      parents: string[] | null;
      inherited: string[] | null;
      owner: string;
      owned: boolean;
      who: string;
    }[]
  >(
    `SELECT c.relname, c.relkind = 'p' AS partitioned,
      -- a partitioned table's columns are added to every partition, which may have more
      -- dropped columns than the parent
      (SELECT max(slots)::int FROM (
        SELECT count(*) AS slots FROM pg_catalog.pg_attribute a
        WHERE a.attnum > 0 AND a.attrelid IN (
          SELECT c.oid UNION ALL
          SELECT relid FROM pg_catalog.pg_partition_tree(c.oid) WHERE c.relkind = 'p'
        )
        GROUP BY a.attrelid
      ) per_table) AS slots,
      -- qualified whatever the search_path: format, not regclass::text
      (SELECT array_agg(pg_catalog.format('%s.%s', cn.nspname, ch.relname) ORDER BY cn.nspname, ch.relname)
        FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class ch ON ch.oid = i.inhrelid
        JOIN pg_catalog.pg_namespace cn ON cn.oid = ch.relnamespace
        WHERE i.inhparent = c.oid AND NOT ch.relispartition) AS children,
      (SELECT array_agg(pg_catalog.format('%s.%s', pn.nspname, p.relname) ORDER BY pn.nspname, p.relname)
        FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
        JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
        WHERE i.inhrelid = c.oid AND NOT c.relispartition) AS parents,
      (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attinhcount > 0 AND NOT c.relispartition) AS inherited,
      pg_catalog.pg_get_userbyid(c.relowner) AS owner,
      pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE') AS owned,
      current_user AS who
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
    [schema],
  );
  return new Map(rows.map((r) => [r.relname, {
    partitioned: r.partitioned,
    slots: Number(r.slots ?? 0),
    children: r.children ?? [],
    parents: r.parents ?? [],
    inherited: r.inherited ?? [],
    owner: r.owner,
    owned: r.owned,
    who: r.who,
  }]));
}

/** Physical columns of `physical` the step adds, drops, renames or retypes; or its drop. */
function changedColumns(step: OperationStep, physical: string): string[] | "dropped" {
  const before = step.before.tables.find((t) => t.physicalName === physical);
  if (!before) return [];
  const after = step.after.tables.find((t) => t.physicalName === physical);
  if (!after) return "dropped";
  const changed = new Set<string>();
  for (const column of before.columns) {
    const now = after.columns.find((c) => c.physicalName === column.physicalName);
    if (!now || now.name !== column.name || now.type !== column.type) {
      changed.add(column.physicalName);
    }
  }
  for (const column of after.columns) {
    if (!before.columns.some((c) => c.physicalName === column.physicalName)) {
      changed.add(column.physicalName);
    }
  }
  return [...changed];
}

/** Physical tables the step's actions, triggers or backfills write to. */
function touchedTables(step: OperationStep): Set<string> {
  const tables = new Set<string>();
  for (const action of step.result.actions) if (action.table) tables.add(action.table);
  for (const trigger of step.result.triggers ?? []) tables.add(trigger.table);
  for (const backfill of step.result.backfills ?? []) tables.add(backfill.table);
  return tables;
}

/**
 * Only a table's owner (or a member of the owning role) may alter it. Checked for every table of
 * the migration before any DDL: otherwise a migration whose second operation touches a table of
 * another role fails half-way, after the first operation's DDL, and its undo fails the same way.
 */
function ownershipIssues(step: OperationStep, shapes: Map<string, TableShape>): string[] {
  const tables = touchedTables(step);
  for (const table of step.before.tables) {
    const changed = changedColumns(step, table.physicalName);
    if (changed === "dropped" || changed.length > 0) tables.add(table.physicalName);
  }
  const messages: string[] = [];
  for (const table of tables) {
    const shape = shapes.get(table);
    if (!shape || shape.owned) continue;
    messages.push(
      `must be owner of table ${table}: role "${shape.who}" needs to own table "${table}" (owned by role "${shape.owner}"; or be a member of it: GRANT ${
        ident(shape.owner)
      } TO ${ident(shape.who)})`,
    );
  }
  return messages;
}

/**
 * Inheritance (INHERITS) is not migrated: the sync triggers and the backfill cover the parent
 * only, so a child's rows would keep stale or missing values. Column changes on a parent (they
 * reach every child) and on a child's inherited columns (PostgreSQL refuses them) are refused;
 * a child's own columns and index or constraint work on either side are fine.
 */
function inheritanceIssues(step: OperationStep, shapes: Map<string, TableShape>): string[] {
  const messages: string[] = [];
  const tables = touchedTables(step);
  for (const table of step.before.tables) tables.add(table.physicalName);
  for (const table of tables) {
    const shape = shapes.get(table);
    if (!shape) continue;
    const changed = changedColumns(step, table);
    const syncs = (step.result.triggers ?? []).some((t) => t.table === table) ||
      (step.result.backfills ?? []).some((b) => b.table === table);
    if (shape.children.length > 0 && (changed === "dropped" || changed.length > 0 || syncs)) {
      messages.push(
        `table "${table}" has inheritance children (${
          quoteList(shape.children)
        }) that pgtandem does not migrate (their rows would not be backfilled and their writes would skip the sync triggers): detach them with ALTER TABLE … NO INHERIT, or migrate a partitioned table instead`,
      );
      continue;
    }
    if (shape.parents.length === 0 || changed === "dropped") continue;
    const inherited = changed.filter((c) => shape.inherited.includes(c));
    if (inherited.length > 0) {
      messages.push(
        `column ${quoteList(inherited)} of table "${table}" is inherited from ${
          quoteList(shape.parents)
        }: change it on the parent table (pgtandem refuses inheritance parents too; see docs/table-shapes.md)`,
      );
    }
  }
  return messages;
}

/**
 * What PostgreSQL cannot do on a partitioned table without blocking writes: a NOT VALID foreign
 * key (before 18) and turning a concurrently built unique index into a constraint. Plain indexes
 * are built partition by partition (lib/engine/partitioned-index.ts).
 */
function partitionIssues(
  step: OperationStep,
  shapes: Map<string, TableShape>,
  major: number,
): string[] {
  const messages: string[] = [];
  for (const action of step.result.actions) {
    const table = action.table;
    if (!table || !shapes.get(table)?.partitioned) continue;
    if (action.kind === "concurrent_index" && isUniqueIndexBuild(action)) {
      messages.push(
        `cannot build unique index "${action.name}" on partitioned table "${table}" without blocking writes (PostgreSQL cannot build it concurrently nor attach it as a constraint): add unique constraints to a partitioned table outside a migration`,
      );
    }
    if (action.kind === "sql" && major < 18 && isNotValidForeignKey(action)) {
      messages.push(
        `cannot add a foreign key to partitioned table "${table}" on PostgreSQL ${major}: before PostgreSQL 18 it cannot be added NOT VALID, which pgtandem needs to add it without blocking writes`,
      );
    }
  }
  return [...new Set(messages)];
}

function isUniqueIndexBuild(action: Action): boolean {
  return action.kind === "concurrent_index" && /^\s*CREATE\s+UNIQUE\s/i.test(action.sql);
}

function isNotValidForeignKey(action: Action): boolean {
  return action.kind === "sql" && !action.userSql && /\bFOREIGN KEY\b/.test(action.sql) &&
    /\bNOT VALID\s*$/.test(action.sql);
}

/**
 * Every column a migration adds (temporary copies, the backfill marker) takes one of the table's
 * 1600 attribute slots, and keeps it after it is dropped: a start that failed on the limit would
 * have used slots up for good. So the budget is checked before any DDL.
 */
function columnBudgetIssues(
  steps: readonly OperationStep[],
  shapes: Map<string, TableShape>,
): Issue[] {
  const first = steps[0]!;
  const issues: Issue[] = [];
  for (const initial of first.before.tables) {
    const shape = shapes.get(initial.physicalName);
    if (!shape) continue;
    const existing = new Set(initial.columns.map((c) => c.physicalName));
    const added = new Set<string>();
    let marker = false;
    for (const step of steps) {
      const table = step.after.tables.find((t) => t.physicalName === initial.physicalName);
      for (const column of table?.columns ?? []) {
        if (!existing.has(column.physicalName)) added.add(column.physicalName);
      }
      if (
        (step.result.triggers ?? []).some((t) =>
          t.table === initial.physicalName && t.direction === "up"
        )
      ) marker = true;
    }
    const needed = added.size + (marker ? 1 : 0);
    if (needed > 0 && shape.slots + needed > MAX_TABLE_COLUMNS) {
      issues.push({
        path: ["operations"],
        message:
          `table "${initial.physicalName}" uses ${shape.slots} of PostgreSQL's ${MAX_TABLE_COLUMNS} column slots (dropped columns keep theirs) and this migration needs ${needed} more (${
            describeNeeds(added, marker)
          }): recreate the table to free the slots of dropped columns`,
      });
    }
  }
  return issues;
}

function describeNeeds(added: Set<string>, marker: boolean): string {
  const temporary = [...added].filter(isTemporaryName).length;
  const parts: string[] = [];
  if (added.size - temporary > 0) parts.push(`${added.size - temporary} new`);
  if (temporary > 0) parts.push(`${temporary} temporary`);
  if (marker) parts.push(`the "${NEEDS_BACKFILL_COLUMN}" marker`);
  return parts.join(", ");
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}
