/**
 * Objects that depend on what a migration replaces or drops at complete. Complete drops the old
 * physical column of every rewritten column (its copy takes its place), every dropped column and
 * every dropped table; PostgreSQL refuses (or, for generated columns, silently cascades) when
 * something else uses them. This module decides, before start writes anything, what happens to
 * each such object, and at complete adds the actions that carry it over:
 *
 *  - foreign keys of other tables referencing a rewritten column are re-pointed to the copy
 *    (added NOT VALID and validated in complete's prepare phase; swapped in the switch-over);
 *  - views using a rewritten column (and views built on them) are recreated in the switch-over
 *    with their original query, owner, grants, comments, options and INSTEAD OF triggers;
 *  - everything else is refused at start with one line naming the object and what to do:
 *    materialized views, triggers, rules, policies and generated columns using a rewritten or
 *    dropped column, views using a dropped column or table, foreign keys to a dropped table or
 *    column, and foreign keys whose types could no longer be compared.
 *
 * The catalog is read at start (prepare), by `plan`/`validate`, and again at complete, so an
 * object created after start is handled (or refused before complete changes anything) too.
 *
 * @module
 */
import { type Issue, ValidationError } from "../errors.ts";
import { deletedTableName, duplicateName, isTemporaryName, versionSchemaName } from "../naming.ts";
import { doBlock, ident, literal } from "../sql.ts";
import type { Sql } from "./connection.ts";
import { readDependents, readPolicies, readTriggers, readViewTree } from "./dependents-catalog.ts";
import { type ColumnChange, migrationChanges } from "./dependents-changes.ts";
import { foreignKeyPlan } from "./dependents-fks.ts";
import {
  advice,
  createPolicy,
  createTrigger,
  createView,
  describe,
  dropPolicy,
  dropTrigger,
  dropViews,
  qualifiedName,
  subject,
  triggerCompanion,
} from "./dependents-sql.ts";
import { type Action, sqlAction } from "../plan/action.ts";
import type { CompletePhases } from "./phases.ts";
import type { StateStore } from "./state.ts";
import type { OperationStep } from "../operations/steps.ts";

export interface DependentsContext {
  sql: Sql;
  state: StateStore;
  baseSchema: string;
}

/** What complete adds for dependent objects. */
export interface DependentActions {
  /** Non-destructive, idempotent: new foreign keys on the copies, validated. Runs first. */
  prepare: Action[];
  /** Switch-over, first: drop what depends on the old columns. */
  before: Action[];
  /** Switch-over, once the copies are in place: recreate views, name re-pointed foreign keys. */
  after: Action[];
}

interface Analysis {
  issues: Issue[];
  /** Start, once the sync triggers exist: companions of column-specific triggers. */
  start: Action[];
  actions: DependentActions;
}

/**
 * Start's (and plan's, validate's) check: one issue per dependent object that cannot be carried
 * over. Read-only.
 */
export async function dependentObjectIssues(
  context: DependentsContext,
  steps: readonly OperationStep[],
): Promise<Issue[]> {
  return (await analyse(context, steps, "start")).issues;
}

/** Start's check and its trigger companions (see below) from one reading of the catalog. */
export async function dependentsAtStart(
  context: DependentsContext,
  steps: readonly OperationStep[],
): Promise<{ issues: Issue[]; start: Action[] }> {
  const { issues, start } = await analyse(context, steps, "start");
  return { issues, start };
}

/**
 * Start, right after the sync triggers are installed: a companion of every AFTER trigger whose
 * `UPDATE OF` list names a rewritten column, listing the copy instead, so writes through the new
 * version (which set the copy) fire it as writes through the old version fire the original.
 */
export async function dependentStartActions(
  context: DependentsContext,
  steps: readonly OperationStep[],
): Promise<Action[]> {
  return (await analyse(context, steps, "start")).start;
}

/**
 * Complete's phases with the dependent objects' actions added; throws (before anything runs)
 * when an object created since start cannot be carried over.
 */
export async function withDependentObjects(
  context: DependentsContext,
  steps: readonly OperationStep[],
  phases: CompletePhases,
  migration = "the active migration",
): Promise<CompletePhases> {
  const { issues, actions } = await analyse(context, steps, "complete");
  if (issues.length > 0) throw new ValidationError(`cannot complete ${migration}`, issues);
  return mergeDependentActions(phases, actions);
}

/** Adds the actions to complete's phases (pure; `plan` uses it too). */
export function mergeDependentActions(
  phases: CompletePhases,
  actions: DependentActions,
): CompletePhases {
  // Recreations need the copies under the old columns' names, and are best made before any
  // later rename so PostgreSQL carries the recreated objects through it: right after the last
  // copy is renamed into place (the switch-over runs operation by operation).
  // Views are dropped just before the first old column goes, so the renames before it carry
  // them along (dropViews keeps their queries as they are then).
  const switchOver = phases.switchOver;
  const lastCopyRename = switchOver.findLastIndex((a) =>
    a.id.startsWith("rename_duplicate_") || a.id.startsWith("restore_")
  );
  const at = lastCopyRename === -1 ? switchOver.length : lastCopyRename + 1;
  const firstOldColumnDrop = switchOver.findIndex((a) => a.id.startsWith("drop_old_columns_"));
  const drop = firstOldColumnDrop === -1 || firstOldColumnDrop > at ? 0 : firstOldColumnDrop;
  const isViewDrop = (a: Action) => a.id.startsWith("drop_dependent_views_");
  return {
    ...phases,
    prepare: [...actions.prepare, ...phases.prepare],
    switchOver: [
      ...actions.before.filter((a) => !isViewDrop(a)),
      ...switchOver.slice(0, drop),
      ...actions.before.filter(isViewDrop),
      ...switchOver.slice(drop, at),
      ...actions.after,
      ...switchOver.slice(at),
    ],
  };
}

/**
 * Rollback (and cleanup after a failed start): before the copies are dropped, drop every foreign
 * key a failed complete pointed at a copy and every trigger companion start put on one. Pure;
 * the DO blocks find them in the catalog.
 */
export function dependentRollbackActions(
  steps: readonly OperationStep[],
  baseSchema: string,
): Action[] {
  const changes = migrationChanges(steps).columns.filter((c) => c.kind === "replaced" && c.copy);
  const foreignKeys = changes.map((c) =>
    sqlAction(
      `drop_repointed_foreign_keys_${c.table}_${c.copy!.physicalName}`,
      doBlock(` DECLARE k record; BEGIN
  FOR k IN SELECT con.conrelid::regclass AS tab, con.conname
             FROM pg_catalog.pg_constraint con
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = ANY (con.confkey)
            WHERE con.contype = 'f' AND con.confrelid = pg_catalog.to_regclass(${
        literal(ident(baseSchema, c.table))
      })
              AND a.attname = ${literal(c.copy!.physicalName)}
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', k.tab, k.conname);
  END LOOP;
END`),
      { table: c.table },
    )
  );
  const triggers = [...new Set(changes.map((c) => c.table))].map((table) =>
    sqlAction(
      `drop_trigger_companions_${table}`,
      doBlock(` DECLARE t record; BEGIN
  FOR t IN SELECT tg.tgname FROM pg_catalog.pg_trigger tg
            WHERE tg.tgrelid = pg_catalog.to_regclass(${literal(ident(baseSchema, table))})
              AND NOT tg.tgisinternal
              AND pg_catalog.starts_with(tg.tgname, ${literal(duplicateName(""))})
  LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', t.tgname, ${
        literal(ident(baseSchema, table))
      });
  END LOOP;
END`),
      { table },
    )
  );
  return [...foreignKeys, ...triggers];
}

async function analyse(
  context: DependentsContext,
  steps: readonly OperationStep[],
  phase: "start" | "complete",
): Promise<Analysis> {
  const empty: Analysis = {
    issues: [],
    start: [],
    actions: { prepare: [], before: [], after: [] },
  };
  if (steps.length === 0) return empty;
  const changes = migrationChanges(steps);
  if (changes.columns.length === 0 && changes.droppedTables.length === 0) return empty;
  const { sql, baseSchema } = context;
  const droppedTables = new Set(changes.droppedTables.map((t) => t.table));
  // At complete a dropped table is already renamed out of the way.
  const physicalOf = (table: string) =>
    phase === "complete" && droppedTables.has(table) ? deletedTableName(table) : table;
  const startNameOf = new Map([...droppedTables].map((t) => [physicalOf(t), t]));
  const byColumn = new Map<string, string[]>();
  for (const c of changes.columns) {
    byColumn.set(physicalOf(c.table), [...(byColumn.get(physicalOf(c.table)) ?? []), c.column]);
  }
  const versionSchemas = await versionSchemasOf(context);
  const objects = (await readDependents(
    sql,
    baseSchema,
    byColumn,
    [...droppedTables].map(physicalOf),
  )).map((o) => ({ ...o, table: startNameOf.get(o.table) ?? o.table }))
    .filter((o) => !versionSchemas.has(o.schema));
  const issues: Issue[] = [];
  const problem = (step: OperationStep, message: string) =>
    issues.push({ path: ["operations", step.index, step.operation.kind], message });
  // A generated column cannot be rewritten on a copy: the copy is a plain column, which complete
  // would silently put in its place (pgroll does), so later writes would no longer compute it.
  const replaced = changes.columns.filter((c) => c.kind === "replaced");
  if (replaced.length > 0) {
    const generated = await sql.unsafe<{ table: string; column: string }[]>(
      `SELECT c.relname AS table, a.attname AS column
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND a.attgenerated <> '' AND NOT a.attisdropped
          AND (c.relname, a.attname) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
      [
        baseSchema,
        replaced.map((c) => physicalOf(c.table)),
        replaced.map((c) => c.column),
      ] as never[],
    );
    for (const g of generated) {
      const change = replaced.find((c) => physicalOf(c.table) === g.table && c.column === g.column);
      if (!change) continue;
      problem(
        change.step,
        `${
          subject(change, change.tableName)
        }: it is a generated column, which a copy would turn into a plain one; drop it and add it again with the new definition instead`,
      );
    }
  }

  // What depends on a rewritten column and can be recreated: object oid → the first change.
  const recreate = {
    view: new Map<number, ColumnChange>(),
    trigger: new Map<number, ColumnChange>(),
    policy: new Map<number, ColumnChange>(),
  };
  const companions: Action[] = [];
  for (const object of objects) {
    const ownerTable = startNameOf.get(object.relation) ?? object.relation;
    // Objects of a dropped table go with it.
    if (object.schema === baseSchema && droppedTables.has(ownerTable)) continue;
    const change = object.column === null
      ? undefined
      : changes.columns.find((c) => c.table === object.table && c.column === object.column);
    const tableDrop = changes.droppedTables.find((t) => t.table === object.table);
    if (object.kind === "trigger" && isTemporaryName(object.name)) {
      // A companion start made (its WHEN may name the old column): it goes with its original.
      companions.push(
        sqlAction(
          `drop_trigger_companion_${object.relation}_${object.name}`,
          `DROP TRIGGER IF EXISTS ${ident(object.name)} ON ${
            ident(object.schema, object.relation)
          }`,
          { table: object.relation },
        ),
      );
      continue;
    }
    if (change?.kind === "replaced") {
      if (object.kind === "view" && object.viewOid !== undefined) {
        if (!recreate.view.has(object.viewOid)) recreate.view.set(object.viewOid, change);
        continue;
      }
      if (object.kind === "trigger" || object.kind === "policy") {
        if (!recreate[object.kind].has(object.oid)) recreate[object.kind].set(object.oid, change);
        continue;
      }
    }
    const step = change?.step ?? tableDrop?.step;
    if (!step) continue;
    problem(
      step,
      `${subject(change, object.table)}: ${describe(object, baseSchema)} ${advice(object)}`,
    );
  }

  const firstChange = (oids: Iterable<number>, of: Map<number, ColumnChange>) =>
    [...oids].map((o) => of.get(o)).find((c) => c) ?? [...of.values()][0]!;
  const views = await readViewTree(sql, [...recreate.view.keys()]);
  for (const view of views) {
    if (view.kind === "view" && view.rules.length === 0) continue;
    const change = firstChange([view.oid], recreate.view);
    const what = view.kind === "view"
      ? `view ${qualifiedName(view.schema, view.name, baseSchema)} has rules (${
        view.rules.map((r) => `"${r}"`).join(", ")
      }) that cannot be recreated with it; drop them before this migration and create them again after complete`
      : `materialized view ${
        qualifiedName(view.schema, view.name, baseSchema)
      } is built on a view this migration must recreate; drop it before this migration and create it again after complete`;
    problem(change.step, `${subject(change, change.table)}: ${what}`);
  }

  const triggers = await readTriggers(sql, [...recreate.trigger.keys()]);
  for (const trigger of triggers) {
    if (trigger.timing !== "BEFORE") continue;
    // A BEFORE trigger would run before the sync trigger and see (and set) stale values for
    // writes through the new version.
    const change = recreate.trigger.get(trigger.oid)!;
    problem(
      change.step,
      `${subject(change, change.table)}: BEFORE trigger "${trigger.name}" on table ${
        qualifiedName(trigger.schema, trigger.table, baseSchema)
      } depends on it; drop the trigger before this migration and create it again after complete`,
    );
  }
  const carried = triggers.filter((t) => t.timing !== "BEFORE");
  const policies = await readPolicies(sql, [...recreate.policy.keys()]);

  const fks = await foreignKeyPlan(context, changes, physicalOf, droppedTables, problem);
  const replacedCopies = new Map(
    changes.columns.filter((c) => c.copy).map((
      c,
    ) => [`${c.table}.${c.column}`, c.copy!.physicalName]),
  );
  return {
    issues,
    start: carried.flatMap((t) => {
      const companion = triggerCompanion(t, (column) => replacedCopies.get(`${t.table}.${column}`));
      return companion ? [companion] : [];
    }),
    actions: {
      prepare: fks.prepare,
      before: [
        ...fks.before,
        ...(views.length > 0 ? [dropViews(views)] : []),
        ...companions,
        ...carried.map(dropTrigger),
        ...policies.map(dropPolicy),
      ],
      after: [
        ...views.map((view, index) => createView(view, index)),
        ...carried.map(createTrigger),
        ...policies.map(createPolicy),
        ...fks.after,
      ],
    },
  };
}

/** The version schemas pgtandem/pgroll manage for this schema: their views are the tool's own. */
async function versionSchemasOf(context: DependentsContext): Promise<Set<string>> {
  const rows = await context.state.fullHistory(context.baseSchema);
  return new Set(rows.map((row) =>
    versionSchemaName(
      context.baseSchema,
      typeof row.migration.version_schema === "string" ? row.migration.version_schema : row.name,
    )
  ));
}
