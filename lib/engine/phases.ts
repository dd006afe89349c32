/**
 * What start, complete and rollback run, in which order, as pure functions of a migration's
 * steps. The engine executes these phases; `plan` prints them. Keeping the order here, in one
 * place, is what lets the two never disagree.
 */
import type { VirtualSchema } from "../schema/model.ts";
import { cloneSchema } from "../schema/virtual.ts";
import { completedDefinitions } from "../operations/duplicate.ts";
import { dependentRollbackActions } from "./dependents.ts";
import { type Action, isSwitchOver } from "../plan/action.ts";
import { activeSteps, hasOpaqueStep, type OperationStep } from "../operations/steps.ts";
import { triggerActions, triggerDropActions } from "./triggers.ts";
import { createVersionViewsActions, dropVersionSchemaAction } from "./views.ts";

export interface PhaseOptions {
  baseSchema: string;
  /** The migration's version schema; undefined with --use-version-schema=false. */
  versionSchema: string | undefined;
  serverMajor: number;
}

export interface StartPhases {
  /** The operations' start actions in operation order, but for the `rest`. */
  columns: Action[];
  triggers: Action[];
  /** Constraints on the columns the triggers fill (actions marked `afterTriggers`). */
  rest: Action[];
  /** The version's views; null when raw SQL changed the schema and it must be re-read first. */
  views: Action[] | null;
  /** Physical tables to backfill, in order. */
  backfill: string[];
  /** Once the backfill is done (actions marked `afterBackfill`: foreign keys validated). */
  afterBackfill: Action[];
}

/**
 * Start: new columns, then the triggers that fill them, then the constraints on them (an
 * old-side write can never meet a NOT NULL check before the trigger that satisfies it exists),
 * then the views (no write through the new version can precede its triggers), then backfill.
 */
export function startPhases(steps: readonly OperationStep[], options: PhaseOptions): StartPhases {
  const actions = steps.flatMap((s) => s.result.actions);
  const afterBackfill = (a: Action) => a.kind === "sql" && a.afterBackfill === true;
  const late = (a: Action) => a.afterTriggers === true && !afterBackfill(a);
  const triggers = steps.flatMap((s) => s.result.triggers ?? []);
  const final = steps.at(-1)?.after;
  return {
    columns: actions.filter((a) => !late(a) && !afterBackfill(a)),
    triggers: triggers.length > 0
      ? triggerActions(triggers, {
        baseSchema: options.baseSchema,
        versionSchema: options.versionSchema ?? "",
      })
      : [],
    rest: actions.filter(late),
    views: hasOpaqueStep(steps, "atStart") || !final ? null : viewActions(final, options),
    backfill: [...new Set(steps.flatMap((s) => s.result.backfills ?? []).map((b) => b.table))],
    afterBackfill: actions.filter(afterBackfill),
  };
}

/** The version schema and its views for a virtual schema. */
export function viewActions(schema: VirtualSchema, options: PhaseOptions): Action[] {
  if (!options.versionSchema) return [];
  return createVersionViewsActions(schema, {
    baseSchema: options.baseSchema,
    versionSchema: options.versionSchema,
    serverMajor: options.serverMajor,
  });
}

export interface CompletePhases {
  /**
   * Slow but write-friendly work (validations, index work, the user's onComplete SQL). It runs
   * before anything is dropped or renamed, so it names objects as start left them, and it must be
   * safe to run again: a complete that stops after it leaves both versions working.
   */
  prepare: Action[];
  /**
   * One short transaction: the previous version schema goes, the triggers go, the catalog-only
   * swap runs, and (the engine adds it) the migration is recorded as complete. All or nothing.
   */
  switchOver: Action[];
  /** Raw SQL ran at complete: rebuild the version's views from the catalog, in the same transaction. */
  refreshViews: boolean;
}

/**
 * Complete, operation by operation in migration order. Each operation's switch-over actions are
 * computed from the schema as the switch-over actions of the operations before it leave it
 * (`completedForm`): `rename a → b` then `rename b → c` renames `a` to `b`, then `b` to `c`.
 * Its prepare actions run before any switch-over and so see the schema as start left it.
 */
export function completePhases(
  steps: readonly OperationStep[],
  options: PhaseOptions & { previousVersionSchema: string | undefined },
): CompletePhases {
  const prepare: Action[] = [];
  const switchOver: Action[] = [];
  const surviving = new Set(steps.at(-1)?.after.tables.map((t) => t.physicalName) ?? []);
  for (const step of activeSteps(steps)) {
    const { definition, params } = step.operation;
    // A table a later operation drops is renamed away at that operation's start and dropped at
    // its complete: finishing earlier changes to it is pointless, and its names are gone.
    const dropped = step.before.tables.filter((t) => !surviving.has(t.physicalName));
    const startedNames = new Set(dropped.map((t) => t.physicalName));
    const completedNames = new Set(dropped.map((t) => t.name));
    const asStarted = definition.complete(params, {
      before: step.before,
      after: step.after,
      started: step.before,
      baseSchema: options.baseSchema,
    });
    const asCompleted = definition.complete(params, {
      before: completedForm(step.before),
      after: step.after,
      started: step.before,
      baseSchema: options.baseSchema,
    });
    prepare.push(...asStarted.filter((a) => !isSwitchOver(a) && !onTable(a, startedNames)));
    switchOver.push(...asCompleted.filter((a) => isSwitchOver(a) && !onTable(a, completedNames)));
  }
  const previous = options.previousVersionSchema;
  return {
    prepare,
    switchOver: [
      ...(previous && previous !== options.versionSchema
        ? [dropVersionSchemaAction(previous)]
        : []),
      ...triggerDrops(steps, options),
      ...switchOver,
    ],
    refreshViews: options.versionSchema !== undefined && hasOpaqueStep(steps, "atComplete"),
  };
}

function onTable(action: Action, tables: ReadonlySet<string>): boolean {
  return action.table !== undefined && tables.has(action.table);
}

/**
 * The physical schema once the switch-over actions of every earlier operation have run: each of
 * them leaves the objects it touched under their virtual names (a copy renamed into place, a
 * column or table renamed), so every physical name is the virtual one.
 */
export function completedForm(schema: VirtualSchema): VirtualSchema {
  const completed = cloneSchema(schema);
  for (const table of completed.tables) {
    completedDefinitions(table);
    table.physicalName = table.name;
    for (const column of table.columns) column.physicalName = column.name;
    for (const index of Object.values(table.indexes)) delete index.physicalName;
  }
  return completed;
}

export interface RollbackPhases {
  /**
   * The version schema, the triggers and the physical undo, together in one transaction: a
   * rollback that fails (a lost privilege, a lock timeout) leaves both versions working and the
   * migration in progress, and no new-version client writes once it commits.
   */
  together: Action[];
  /** What cannot run in a transaction (DROP INDEX CONCURRENTLY) and the user's `down` SQL. */
  after: Action[];
}

/** Rollback actions of every step in reverse order; all idempotent. */
export function rollbackPhases(
  steps: readonly OperationStep[],
  options: PhaseOptions,
): RollbackPhases {
  const actions = activeSteps(steps).reverse().flatMap((step) =>
    step.operation.definition.rollback(step.operation.params, {
      before: step.before,
      after: step.after,
      started: step.before,
      baseSchema: options.baseSchema,
    })
  );
  const together = (a: Action) => a.kind === "sql" && a.transactional && !a.userSql;
  return {
    together: [
      ...(options.versionSchema ? [dropVersionSchemaAction(options.versionSchema)] : []),
      ...triggerDrops(steps, options),
      ...dependentRollbackActions(steps, options.baseSchema),
      ...actions.filter(together),
    ],
    after: actions.filter((a) => !together(a)),
  };
}

function triggerDrops(steps: readonly OperationStep[], options: PhaseOptions): Action[] {
  const triggers = steps.flatMap((s) => s.result.triggers ?? []);
  if (triggers.length === 0) return [];
  return triggerDropActions(triggers, {
    baseSchema: options.baseSchema,
    versionSchema: options.versionSchema ?? "",
  });
}
