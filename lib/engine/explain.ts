/**
 * `plan`: what start, complete and rollback would run for a migration, without running anything.
 * It performs start's own checks (state, baseline, validation against the live schema, the version
 * schema name), then lays out the same pure phases the engine executes (phases.ts), de-duplicated
 * exactly as the engine de-duplicates each batch. Only catalog reads are made.
 *
 * Locks here are the ones the actions declare; lib/lint/refine.ts sharpens them from the parse
 * tree of each statement.
 *
 * @module
 */
import type { Issue } from "../errors.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import type { VirtualSchema } from "../schema/model.ts";
import type { Sql } from "./connection.ts";
import { type Action, dedupeActions } from "../plan/action.ts";
import {
  type CompletePhases,
  completePhases,
  type PhaseOptions,
  rollbackPhases,
  startPhases,
} from "./phases.ts";
import { dependentStartActions, withDependentObjects } from "./dependents.ts";
import { prepareMigration, type PrepareOptions } from "./prepare.ts";
import type { StateStore } from "./state.ts";
import type { OperationStep } from "../operations/steps.ts";
import { versionSchemaName } from "../naming.ts";

/** One statement of a plan, in execution order. */
export interface PlannedStatement {
  /** The action's stable id. */
  id: string;
  sql: string;
  /** The physical table the statement locks, when known. */
  table: string | null;
  /** The strongest table lock it takes (refined from the parse tree when the parser is there). */
  lock: string;
  /**
   * What it does to that table's rows: none | catalog | scan | rewrite | write, or "unknown" when
   * the statement was not analysed.
   */
  effect: string;
  /** Runs outside a transaction block (CONCURRENTLY): writes go on while it runs. */
  concurrent: boolean;
  /** The migration author's own SQL (a `sql` operation). */
  userSql: boolean;
  /** Why the lock or effect is what it is, e.g. "NOT VALID: no scan". */
  note?: string;
}

export type PlanCommand = "start" | "complete" | "rollback";

/** A batch of statements the engine runs together, in order. */
export interface PlannedPhase {
  command: PlanCommand;
  /**
   * start: columns, triggers, constraints, views; complete: prepare, switch-over, refresh-views;
   * rollback: undo, after.
   */
  phase: string;
  /** "single": the whole phase is one transaction; "per-statement": each statement commits alone. */
  transaction: "single" | "per-statement";
  statements: PlannedStatement[];
  /** Something the plan cannot list exactly (views rebuilt from the catalog after raw SQL). */
  note?: string;
}

export interface PlannedBackfill {
  /** Physical table. */
  table: string;
  /** max(pg_class.reltuples, pg_stat_user_tables.n_live_tup); null when PostgreSQL has no idea. */
  estimatedRows: number | null;
}

export interface MigrationPlan {
  migration: string;
  schema: string;
  /** The version schema start creates; null with --use-version-schema=false. */
  versionSchema: string | null;
  phases: PlannedPhase[];
  /** Tables start backfills (after the views exist), in order. */
  backfill: PlannedBackfill[];
}

export interface ExplainOptions extends PrepareOptions {
  sql: Sql;
  state: StateStore;
  schema: string;
  useVersionSchema: boolean;
  serverMajor: number;
  /** In a sequence: the latest version once the migrations before it ran (complete drops it). */
  latestVersion?: string;
}

export interface Explained {
  plan: MigrationPlan;
  /** The schema the migration starts from (the current version). */
  initial: VirtualSchema;
  /** Its checked steps (the last one's schema is what it leaves). */
  steps: OperationStep[];
  /** What start accepts but warns about (see PreparedMigration.warnings). */
  warnings: Issue[];
}

/** The full plan of a migration: every statement start, complete and rollback would run. */
export async function explainMigration(
  loaded: LoadedMigration,
  options: ExplainOptions,
): Promise<Explained> {
  const { initial, steps, versionSchema, warnings } = await prepareMigration(loaded, options);
  const latest = options.latestVersion ?? await options.state.latestVersion(options.schema);
  const phaseOptions: PhaseOptions = {
    baseSchema: options.schema,
    versionSchema,
    serverMajor: options.serverMajor,
  };
  const completeOptions = {
    ...phaseOptions,
    // Once this migration has started, today's latest version is the one complete drops.
    previousVersionSchema: latest === undefined
      ? undefined
      : versionSchemaName(options.schema, latest),
  };
  // Dependent objects (views recreated, foreign keys re-pointed) as complete would handle them.
  const dependents = { sql: options.sql, state: options.state, baseSchema: options.schema };
  const complete = await withDependentObjects(
    dependents,
    steps,
    completePhases(steps, completeOptions),
  );
  const companions = await dependentStartActions(dependents, steps);
  const phases = planPhases(steps, completeOptions, complete, companions);
  const tables = startPhases(steps, phaseOptions).backfill;
  const estimates = await tableRowEstimates(options.sql, options.schema, tables);
  const plan: MigrationPlan = {
    migration: loaded.migration.name,
    schema: options.schema,
    versionSchema: versionSchema ?? null,
    phases,
    backfill: tables.map((table) => ({ table, estimatedRows: estimates.get(table) ?? null })),
  };
  return { plan, initial, steps, warnings };
}

/**
 * The phases as the engine runs them (roll.ts): each batch de-duplicated on its own. Pure, so
 * tests can compare it with what the engine executes.
 */
export function planPhases(
  steps: readonly OperationStep[],
  options: PhaseOptions & { previousVersionSchema: string | undefined },
  completeWithDependents?: CompletePhases,
  triggerCompanions: readonly Action[] = [],
): PlannedPhase[] {
  const start = startPhases(steps, options);
  const complete = completeWithDependents ?? completePhases(steps, options);
  const rollback = rollbackPhases(steps, options);
  const phase = (
    command: PlanCommand,
    name: string,
    actions: readonly Action[],
    transaction: PlannedPhase["transaction"] = "per-statement",
    note?: string,
  ): PlannedPhase => ({
    command,
    phase: name,
    transaction,
    statements: dedupeActions(actions).map(plannedStatement),
    ...(note ? { note } : {}),
  });
  const phases = [
    phase("start", "columns", start.columns),
    phase("start", "triggers", [...start.triggers, ...triggerCompanions]),
    phase("start", "constraints", start.rest),
    start.views === null
      ? phase(
        "start",
        "views",
        [],
        "per-statement",
        "the version's views are created from the catalog once the raw SQL has run",
      )
      : phase("start", "views", start.views),
    phase("start", "after-backfill", start.afterBackfill),
    phase("complete", "prepare", complete.prepare),
    phase("complete", "switch-over", complete.switchOver, "single"),
    complete.refreshViews
      ? phase(
        "complete",
        "refresh-views",
        [],
        "per-statement",
        "the version's views are rebuilt from the catalog once the raw SQL has run",
      )
      : undefined,
    phase("rollback", "undo", rollback.together, "single"),
    phase("rollback", "after", rollback.after),
  ];
  return phases.filter((p): p is PlannedPhase => p !== undefined);
}

function plannedStatement(action: Action): PlannedStatement {
  return {
    id: action.id,
    sql: action.sql,
    table: action.table ?? null,
    lock: action.lock,
    effect: "unknown",
    concurrent: !action.transactional,
    userSql: action.kind === "sql" && action.userSql === true,
  };
}

/**
 * PostgreSQL's own estimate of the rows in each table: pg_class.reltuples (from the last VACUUM
 * or ANALYZE; -1 when never analysed) and pg_stat_user_tables.n_live_tup, whichever is larger.
 * A read-only catalog query. Tables it cannot find are absent from the map.
 */
export async function tableRowEstimates(
  sql: Sql,
  schema: string,
  tables?: readonly string[],
): Promise<Map<string, number | null>> {
  if (tables && tables.length === 0) return new Map();
  const rows = await sql.unsafe<{ name: string; reltuples: number; live: number | null }[]>(
    `SELECT c.relname AS name, c.reltuples::float8 AS reltuples, s.n_live_tup::float8 AS live
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
        AND ($2::text[] IS NULL OR c.relname = ANY($2::text[]))`,
    [schema, tables ? [...tables] : null],
  );
  const estimates = new Map<string, number | null>();
  for (const row of rows) {
    const known = [row.reltuples, row.live].filter((n): n is number => n !== null && n >= 0);
    estimates.set(row.name, known.length > 0 ? Math.round(Math.max(...known)) : null);
  }
  return estimates;
}
