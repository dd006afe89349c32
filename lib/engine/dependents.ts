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
import { ident, identList, literal } from "../sql.ts";
import type { Sql } from "./connection.ts";
import {
  type DependentObject,
  foreignKeyTypesFit,
  type IncomingForeignKey,
  readDependents,
  readIncomingForeignKeys,
  readViewTree,
  type ViewDefinition,
} from "./dependents-catalog.ts";
import {
  type ColumnChange,
  type MigrationChanges,
  migrationChanges,
} from "./dependents-changes.ts";
import { type Action, orderByStage, sqlAction } from "./plan.ts";
import type { CompletePhases } from "./phases.ts";
import type { StateStore } from "./state.ts";
import type { OperationStep } from "./steps.ts";

/**
 * Recreations run in the switch-over after the copies have taken the old columns' names (stage
 * 0) and before column and table renames (stages 1, 2): the original definitions still resolve,
 * and PostgreSQL carries the recreated objects through the renames that follow.
 */
const RECREATE_STAGE = 0.5;

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
  /** Switch-over, at stage 0.5: recreate views, give re-pointed foreign keys their names. */
  after: Action[];
}

interface Analysis {
  issues: Issue[];
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
  return {
    ...phases,
    prepare: [...actions.prepare, ...phases.prepare],
    switchOver: orderByStage([...actions.before, ...phases.switchOver, ...actions.after]),
  };
}

/**
 * Rollback (and cleanup after a failed start): drop every foreign key a failed complete may have
 * pointed at a copy, before the copies are dropped. Pure; the DO block finds them by catalog.
 */
export function dependentRollbackActions(
  steps: readonly OperationStep[],
  baseSchema: string,
): Action[] {
  const changes = migrationChanges(steps).columns.filter((c) => c.kind === "replaced" && c.copy);
  return changes.map((c) =>
    sqlAction(
      `drop_repointed_foreign_keys_${c.table}_${c.copy!.physicalName}`,
      `DO $pgtandem$ DECLARE k record; BEGIN
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
END $pgtandem$`,
      { table: c.table },
    )
  );
}

async function analyse(
  context: DependentsContext,
  steps: readonly OperationStep[],
  phase: "start" | "complete",
): Promise<Analysis> {
  const empty: Analysis = { issues: [], actions: { prepare: [], before: [], after: [] } };
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

  const recreate: number[] = [];
  for (const object of objects) {
    const ownerTable = startNameOf.get(object.relation) ?? object.relation;
    // Objects of a dropped table go with it.
    if (object.schema === baseSchema && droppedTables.has(ownerTable)) continue;
    const change = object.column === null
      ? undefined
      : changes.columns.find((c) => c.table === object.table && c.column === object.column);
    const tableDrop = changes.droppedTables.find((t) => t.table === object.table);
    if (change?.kind === "replaced" && object.kind === "view" && object.viewOid !== undefined) {
      recreate.push(object.viewOid);
      continue;
    }
    const step = change?.step ?? tableDrop?.step;
    if (!step) continue;
    problem(
      step,
      `${subject(change, object.table)}: ${describe(object, baseSchema)} ${advice(object)}`,
    );
  }

  const views = await readViewTree(sql, [...new Set(recreate)]);
  for (const view of views) {
    if (view.kind === "view" && view.rules.length === 0) continue;
    const change = changes.columns.find((c) => c.kind === "replaced")!;
    const what = view.kind === "view"
      ? `view ${qualifiedName(view.schema, view.name, baseSchema)} has rules (${
        view.rules.map((r) => `"${r}"`).join(", ")
      }) that cannot be recreated with it; drop them before this migration and create them again after complete`
      : `materialized view ${
        qualifiedName(view.schema, view.name, baseSchema)
      } is built on a view this migration must recreate; drop it before this migration and create it again after complete`;
    problem(change.step, `${subject(change, change.table)}: ${what}`);
  }

  const fks = await foreignKeyPlan(context, changes, phase, physicalOf, droppedTables, problem);
  return {
    issues,
    actions: {
      prepare: fks.prepare,
      before: [...fks.before, ...(views.length > 0 ? [dropViews(views)] : [])],
      after: [...views.map(createView), ...fks.after],
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

interface ForeignKeyActions {
  prepare: Action[];
  before: Action[];
  after: Action[];
}

/**
 * Incoming foreign keys. Pointing at a rewritten column: re-pointed to the copy. Pointing at a
 * dropped column or table: refused when the foreign key outlives the migration, else dropped
 * first in the switch-over (its table or column goes at complete anyway).
 */
async function foreignKeyPlan(
  context: DependentsContext,
  changes: MigrationChanges,
  phase: "start" | "complete",
  physicalOf: (table: string) => string,
  droppedTables: ReadonlySet<string>,
  problem: (step: OperationStep, message: string) => void,
): Promise<ForeignKeyActions> {
  const { sql, baseSchema } = context;
  const out: ForeignKeyActions = { prepare: [], before: [], after: [] };
  const referenced = [...new Set([...changes.columns.map((c) => c.table), ...droppedTables])];
  const startNameOf = new Map(referenced.map((t) => [physicalOf(t), t]));
  const fks = (await readIncomingForeignKeys(sql, baseSchema, referenced.map(physicalOf)))
    // The duplicator's own copies are handled with their originals.
    .filter((fk) => !isTemporaryName(fk.name))
    .map((fk) => ({ ...fk, referencedTable: startNameOf.get(fk.referencedTable)! }));

  const repoint: { fk: IncomingForeignKey; columns: string[]; referenced: string[] }[] = [];
  const typeChecks: { fk: IncomingForeignKey; change: ColumnChange; i: number }[] = [];
  for (const fk of fks) {
    const inBase = fk.schema === baseSchema;
    const holderStart = inBase ? startNameOf.get(fk.table) ?? fk.table : fk.table;
    const referencedChanges = fk.referencedColumns.map((c) =>
      changes.columns.find((x) => x.table === fk.referencedTable && x.column === c)
    );
    const tableDrop = changes.droppedTables.find((t) => t.table === fk.referencedTable);
    const droppedColumn = referencedChanges.find((c) => c?.kind === "dropped");
    if (!tableDrop && !referencedChanges.some((c) => c)) continue;
    const holderPhysical = inBase ? physicalOf(holderStart) : fk.table;
    const qualifiedHolder = ident(fk.schema, holderPhysical);
    const dropOld = sqlAction(
      `drop_foreign_key_${holderPhysical}_${fk.name}`,
      `ALTER TABLE IF EXISTS ${qualifiedHolder} DROP CONSTRAINT IF EXISTS ${ident(fk.name)}`,
      { table: holderPhysical },
    );
    if (!outlives(fk, holderStart, inBase, changes, droppedTables)) {
      out.before.push(dropOld);
      continue;
    }
    const cause = tableDrop ?? droppedColumn;
    if (cause) {
      const what = tableDrop
        ? `cannot drop table "${fk.referencedTable}"`
        : `cannot drop column "${droppedColumn!.column}" of table "${fk.referencedTable}"`;
      problem(
        cause.step,
        `${what}: foreign key "${fk.name}" of table ${
          qualifiedName(fk.schema, holderStart, baseSchema)
        } references it; drop that constraint first (drop_constraint in this migration, or before it)`,
      );
      continue;
    }
    const holderChanges = inBase
      ? fk.columns.map((c) =>
        changes.columns.find((x) => x.table === holderStart && x.column === c)
      )
      : [];
    repoint.push({
      fk,
      columns: fk.columns.map((c, i) => holderChanges[i]?.copy?.physicalName ?? c),
      referenced: fk.referencedColumns.map((c, i) => referencedChanges[i]?.copy?.physicalName ?? c),
    });
    referencedChanges.forEach((change, i) => {
      if (change) typeChecks.push({ fk, change, i });
    });
    out.before.push(dropOld);
    const dup = duplicateName(fk.name);
    out.prepare.push(
      sqlAction(
        `repoint_foreign_key_${holderPhysical}_${fk.name}`,
        `ALTER TABLE ${qualifiedHolder} DROP CONSTRAINT IF EXISTS ${ident(dup)}, ADD CONSTRAINT ${
          ident(dup)
        } FOREIGN KEY (${identList(repoint.at(-1)!.columns)}) REFERENCES ${
          ident(baseSchema, physicalOf(fk.referencedTable))
        } (${
          identList(repoint.at(-1)!.referenced)
        }) MATCH ${fk.matchType} ON UPDATE ${fk.onUpdate} ON DELETE ${fk.onDelete}${
          fk.deferrable ? ` DEFERRABLE INITIALLY ${fk.deferred ? "DEFERRED" : "IMMEDIATE"}` : ""
        } NOT VALID`,
        { table: holderPhysical, lock: "SHARE ROW EXCLUSIVE" },
      ),
      sqlAction(
        `validate_repointed_foreign_key_${holderPhysical}_${fk.name}`,
        `ALTER TABLE ${qualifiedHolder} VALIDATE CONSTRAINT ${ident(dup)}`,
        { table: holderPhysical, lock: "SHARE UPDATE EXCLUSIVE" },
      ),
    );
    out.after.push(
      sqlAction(
        `rename_repointed_foreign_key_${holderPhysical}_${fk.name}`,
        `ALTER TABLE ${qualifiedHolder} RENAME CONSTRAINT ${ident(dup)} TO ${ident(fk.name)}`,
        // 42704: the referencing column was rewritten too; its duplicator already renamed it.
        { table: holderPhysical, stage: RECREATE_STAGE, ignoreSqlstates: ["42704"] },
      ),
    );
  }

  const pairs = typeChecks.map(({ fk, change, i }) => {
    const holder = fk.schema === baseSchema
      ? changes.finalColumns.get(startNameOfHolder(fk, startNameOf))?.get(fk.columns[i]!)
      : undefined;
    return { from: holder?.type ?? fk.columnTypes[i]!, to: change.copy!.type };
  });
  const fit = await foreignKeyTypesFit(sql, pairs);
  typeChecks.forEach(({ fk, change, i }, n) => {
    if (fit[n]) return;
    const holder = fk.schema === baseSchema ? startNameOfHolder(fk, startNameOf) : fk.table;
    problem(
      change.step,
      `cannot change the type of column "${change.column}" of table "${change.table}" to "${
        change.copy!.type
      }": foreign key "${fk.name}" of table ${
        qualifiedName(fk.schema, holder, context.baseSchema)
      } references it from column "${fk.columns[i]}" of type "${
        pairs[n]!.from
      }"; change that column to a matching type in the same migration`,
    );
  });
  void phase;
  return out;
}

function startNameOfHolder(fk: IncomingForeignKey, startNameOf: ReadonlyMap<string, string>) {
  return startNameOf.get(fk.table) ?? fk.table;
}

/**
 * Does the foreign key still exist once the migration is complete? Not when its table or one of
 * its columns is dropped, nor when an operation of the migration drops the constraint.
 */
function outlives(
  fk: IncomingForeignKey,
  holder: string,
  inBase: boolean,
  changes: MigrationChanges,
  droppedTables: ReadonlySet<string>,
): boolean {
  if (!inBase) return true;
  if (droppedTables.has(holder)) return false;
  const dropped = fk.columns.some((c) =>
    changes.columns.some((x) => x.table === holder && x.column === c && x.kind === "dropped")
  );
  if (dropped) return false;
  const initial = changes.initial?.tables.find((t) => t.physicalName === holder);
  const final = changes.finalTables.get(holder);
  if (!initial || !final) return true; // created after start, outside the model
  if (!(fk.name in initial.foreignKeys)) return true;
  if (fk.name in final.foreignKeys) return true;
  // Renamed by rename_constraint: a foreign key the initial table did not have, to the same table.
  const target = initial.foreignKeys[fk.name]!.referencedTable;
  return Object.values(final.foreignKeys).some((k) =>
    !(k.name in initial.foreignKeys) && k.referencedTable === target
  );
}

function dropViews(views: readonly ViewDefinition[]): Action {
  const names = [...views].reverse().map((v) => ident(v.schema, v.name));
  return sqlAction(
    `drop_dependent_views_${views.map((v) => v.name).join("_")}`,
    `DROP VIEW IF EXISTS ${names.join(", ")}`,
    { table: views[0]!.name },
  );
}

/** The view again, as it was: query, column names, options, owner, grants, comments, triggers. */
function createView(view: ViewDefinition): Action {
  const name = ident(view.schema, view.name);
  const options = view.options.length > 0 ? ` WITH (${view.options.join(", ")})` : "";
  const statements = [
    `CREATE VIEW ${name} (${identList(view.columns)})${options} AS\n${view.query}`,
    `ALTER VIEW ${name} OWNER TO ${ident(view.owner)}`,
    ...view.columnDefaults.map((d) =>
      `ALTER VIEW ${name} ALTER COLUMN ${ident(d.column)} SET DEFAULT ${d.expression}`
    ),
  ];
  if (view.grants.length > 0) {
    // An explicit ACL replaces the owner's implicit privileges: start from none, as it was.
    statements.push(`REVOKE ALL ON ${name} FROM PUBLIC, ${ident(view.owner)}`, ...view.grants);
  }
  if (view.comment !== null) {
    statements.push(`COMMENT ON VIEW ${name} IS ${literal(view.comment)}`);
  }
  for (const c of view.columnComments) {
    statements.push(`COMMENT ON COLUMN ${name}.${ident(c.column)} IS ${literal(c.comment)}`);
  }
  statements.push(...view.triggers);
  return sqlAction(`recreate_view_${view.schema}_${view.name}`, statements.join(";\n"), {
    table: view.name,
    stage: RECREATE_STAGE,
  });
}

function subject(change: ColumnChange | undefined, table: string): string {
  if (!change) return `cannot drop table "${table}"`;
  return change.kind === "dropped"
    ? `cannot drop column "${change.column}" of table "${table}"`
    : `cannot change column "${change.column}" of table "${table}"`;
}

function qualifiedName(schema: string, name: string, baseSchema: string): string {
  return schema === baseSchema ? `"${name}"` : `"${schema}"."${name}"`;
}

function describe(object: DependentObject, baseSchema: string): string {
  const on = `on table ${qualifiedName(object.schema, object.relation, baseSchema)}`;
  switch (object.kind) {
    case "view":
    case "materialized view":
      return `${object.kind} ${qualifiedName(object.schema, object.relation, baseSchema)} uses it;`;
    case "generated column":
      return `generated column "${object.name}" of table ${
        qualifiedName(object.schema, object.relation, baseSchema)
      } is computed from it;`;
    case "trigger":
    case "rule":
    case "policy":
      return `${object.kind} "${object.name}" ${on} depends on it;`;
    default:
      return `${object.description} depends on it;`;
  }
}

function advice(object: DependentObject): string {
  const kind = object.kind === "other" ? "it" : `the ${object.kind}`;
  return `drop ${kind} before this migration and create it again after complete`;
}
