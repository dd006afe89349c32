/**
 * What start, complete and rollback run, in which order, as pure functions of a migration's
 * steps. The engine executes these phases; `plan` prints them. Keeping the order here, in one
 * place, is what lets the two never disagree.
 */
import type { VirtualSchema } from "../schema/model.ts";
import { type Action, isSwitchOver, orderByStage } from "./plan.ts";
import { dependentRollbackActions } from "./dependents.ts";
import { hasOpaqueStep, type OperationStep } from "./steps.ts";
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
}

/**
 * Start: new columns, then the triggers that fill them, then the constraints on them (an
 * old-side write can never meet a NOT NULL check before the trigger that satisfies it exists),
 * then the views (no write through the new version can precede its triggers), then backfill.
 */
export function startPhases(steps: readonly OperationStep[], options: PhaseOptions): StartPhases {
  const actions = steps.flatMap((s) => s.result.actions);
  const late = (a: Action) => a.afterTriggers === true;
  const triggers = steps.flatMap((s) => s.result.triggers ?? []);
  const final = steps.at(-1)?.after;
  return {
    columns: actions.filter((a) => !late(a)),
    triggers: triggers.length > 0
      ? triggerActions(triggers, {
        baseSchema: options.baseSchema,
        versionSchema: options.versionSchema ?? "",
      })
      : [],
    rest: actions.filter(late),
    views: hasOpaqueStep(steps, "atStart") || !final ? null : viewActions(final, options),
    backfill: [...new Set(steps.flatMap((s) => s.result.backfills ?? []).map((b) => b.table))],
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
  /** Slow but write-friendly work: dropping the previous version, validations, index work. */
  prepare: Action[];
  /** The catalog-only swap and the trigger drops, in one short transaction. */
  switchOver: Action[];
  /** Raw SQL ran at complete: rebuild the version's views from the catalog afterwards. */
  refreshViews: boolean;
}

export function completePhases(
  steps: readonly OperationStep[],
  options: PhaseOptions & { previousVersionSchema: string | undefined },
): CompletePhases {
  const operationActions = orderByStage(
    steps.flatMap((step) =>
      step.operation.definition.complete(step.operation.params, {
        before: step.before,
        after: step.after,
        baseSchema: options.baseSchema,
      })
    ),
  );
  const previous = options.previousVersionSchema;
  return {
    prepare: [
      ...(previous && previous !== options.versionSchema
        ? [dropVersionSchemaAction(previous)]
        : []),
      ...operationActions.filter((a) => !isSwitchOver(a)),
    ],
    switchOver: [...triggerDrops(steps, options), ...operationActions.filter(isSwitchOver)],
    refreshViews: options.versionSchema !== undefined && hasOpaqueStep(steps, "atComplete"),
  };
}

export interface RollbackPhases {
  /** The version schema goes first: no new-version client may write any more. */
  dropVersion: Action[];
  /** Triggers and the physical undo, together in one transaction. */
  together: Action[];
  /** What cannot run in a transaction (DROP INDEX CONCURRENTLY) and the user's `down` SQL. */
  after: Action[];
}

/** Rollback actions of every step in reverse order; all idempotent. */
export function rollbackPhases(
  steps: readonly OperationStep[],
  options: PhaseOptions,
): RollbackPhases {
  const actions = [...steps].reverse().flatMap((step) =>
    step.operation.definition.rollback(step.operation.params, {
      before: step.before,
      after: step.after,
      baseSchema: options.baseSchema,
    })
  );
  const together = (a: Action) => a.kind === "sql" && a.transactional && !a.userSql;
  return {
    dropVersion: options.versionSchema ? [dropVersionSchemaAction(options.versionSchema)] : [],
    together: [
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
