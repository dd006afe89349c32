/**
 * Threads one virtual schema through a migration's operations. Start, complete, rollback and
 * `plan` all begin here: operation i sees the schema as operations 1..i-1 left it. Because
 * operations are pure, replaying them from the schema recorded at start reproduces exactly the
 * states complete and rollback need, in any later run of the tool.
 */
import type { Issue } from "../errors.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { cloneSchema } from "../schema/virtual.ts";
import type { ParsedOperation, StartResult } from "./operation.ts";

export interface OperationStep {
  index: number;
  operation: ParsedOperation;
  /** The virtual schema before this operation's start. */
  before: VirtualSchema;
  /** The virtual schema after it. */
  after: VirtualSchema;
  result: StartResult;
  /**
   * The step this one was merged into (see OperationDefinition.absorb): that step runs both
   * operations; this one only carries the schema forward and has no actions of its own.
   */
  mergedInto?: number;
}

export interface StepsResult {
  steps: OperationStep[];
  issues: Issue[];
}

/**
 * Runs every operation's start against the virtual schema. With `validate`, each operation is
 * first checked against the schema it will see; validation stops at the first failing operation
 * because later ones would only report consequences of it.
 */
export function buildSteps(
  operations: readonly ParsedOperation[],
  initial: VirtualSchema,
  baseSchema: string,
  options: { validate: boolean },
): StepsResult {
  const steps: OperationStep[] = [];
  const issues: Issue[] = [];
  if (options.validate) issues.push(...isolationIssues(operations));
  const schema = cloneSchema(initial);
  for (const [index, operation] of operations.entries()) {
    const prefix = ["operations", index, operation.kind];
    if (options.validate) {
      const found = operation.definition.validate(operation.params, schema);
      if (found.length > 0) {
        issues.push(...found.map((i) => ({ path: [...prefix, ...i.path], message: i.message })));
        break;
      }
    }
    const merge = mergeWithEarlier(steps, operation, schema, baseSchema);
    if (Array.isArray(merge)) {
      // Validation reports it; a replay (validate: false) of a started migration never gets here.
      issues.push(...merge.map((i) => ({ path: [...prefix, ...i.path], message: i.message })));
      break;
    }
    const before = cloneSchema(schema);
    const result = operation.definition.start(operation.params, { schema, baseSchema });
    if (merge !== undefined) {
      // The schema moves on as the operation says; its actions are the merged step's.
      steps.push({
        index,
        operation,
        before,
        after: cloneSchema(schema),
        result: { actions: [] },
        mergedInto: merge,
      });
    } else {
      steps.push({ index, operation, before, after: cloneSchema(schema), result });
    }
  }
  return { steps, issues };
}

/**
 * Lets an earlier step absorb `operation` (OperationDefinition.absorb): the
 * earlier step is started again from its own `before` with the merged params. Returns the index
 * of the step that absorbed it, issues when it cannot be absorbed, undefined when no step is
 * concerned.
 */
function mergeWithEarlier(
  steps: OperationStep[],
  operation: ParsedOperation,
  schema: VirtualSchema,
  baseSchema: string,
): number | Issue[] | undefined {
  const absorb = operation.definition.absorb;
  if (!absorb) return undefined;
  for (let i = steps.length - 1; i >= 0; i--) {
    const earlier = steps[i]!;
    if (earlier.mergedInto !== undefined) continue;
    const merged = absorb(
      {
        kind: earlier.operation.kind,
        params: earlier.operation.params,
        before: earlier.before,
        after: earlier.after,
      },
      operation.params,
      schema,
    );
    if (merged === undefined) continue;
    if (Array.isArray(merged)) return merged;
    const scratch = cloneSchema(earlier.before);
    const result = earlier.operation.definition.start(merged.params, {
      schema: scratch,
      baseSchema,
    });
    steps[i] = {
      ...earlier,
      operation: { ...earlier.operation, params: merged.params },
      result,
    };
    return i;
  }
  return undefined;
}

/** The steps that run actions: merged-away steps are carried by the step they merged into. */
export function activeSteps(steps: readonly OperationStep[]): OperationStep[] {
  return steps.filter((s) => s.mergedInto === undefined);
}

/** Raw SQL run at start changes the schema behind the model's back: it must run alone. */
function isolationIssues(operations: readonly ParsedOperation[]): Issue[] {
  if (operations.length < 2) return [];
  const issues: Issue[] = [];
  operations.forEach((op, index) => {
    if (op.definition.opaque?.(op.params).atStart) {
      issues.push({
        path: ["operations", index, op.kind],
        message:
          "a raw SQL operation without onComplete must be the only operation of its migration",
      });
    }
  });
  return issues;
}

/** Does any operation change the schema outside the model at this phase? */
export function hasOpaqueStep(steps: readonly OperationStep[], phase: "atStart" | "atComplete") {
  return steps.some((s) => s.operation.definition.opaque?.(s.operation.params)[phase] ?? false);
}
