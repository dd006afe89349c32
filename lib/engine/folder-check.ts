/**
 * A folder's unapplied migrations checked as the sequence migrate applies one by one, before the
 * first start: the first with everything start checks against the live database (prepare.ts), each
 * next one against the virtual schema the ones before it leave once completed. The chain stops at
 * raw SQL, whose effect is unknown until it runs (the engine checks the migrations after it at
 * their start), and at an invalid migration (what it leaves is unknown).
 */
import { type Issue, PgtandemError, ValidationError } from "../errors.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import { migrationVersionName } from "../migration/migration.ts";
import { versionSchemaName } from "../naming.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { schemaOnceCompleted } from "./group-checks.ts";
import { prepareMigration, type PrepareOptions } from "./prepare.ts";
import { buildSteps, hasOpaqueStep, type OperationStep } from "./steps.ts";
import { versionSchemaIssues } from "./version-schema.ts";

/** The problems of one migration of the sequence. */
export interface SequenceFailure {
  migration: LoadedMigration;
  issues: Issue[];
}

/** Every problem of every migration of `loaded`, checked in order; empty when all are valid. */
export async function checkSequence(
  loaded: readonly LoadedMigration[],
  options: PrepareOptions,
): Promise<SequenceFailure[]> {
  const { schema } = options;
  const failures: SequenceFailure[] = [];
  const claimed = new Map<string, string>();
  let current: VirtualSchema | undefined;
  for (const [index, migration] of loaded.entries()) {
    let issues: Issue[];
    let steps: OperationStep[] | undefined;
    if (index === 0) {
      const first = await checkFirst(migration, options);
      ({ issues, steps } = first);
      current = first.initial;
      if (options.useVersionSchema) {
        claimed.set(
          versionSchemaName(schema, migrationVersionName(migration.migration)),
          migration.migration.name,
        );
      }
    } else {
      issues = options.useVersionSchema
        ? await versionSchemaIssues(options.sql, schema, migration.migration, { claimed })
        : [];
      if (current !== undefined) {
        const built = buildSteps(migration.operations, current, schema, { validate: true });
        issues.unshift(...built.issues);
        if (built.issues.length === 0) steps = built.steps;
      }
    }
    if (issues.length > 0) failures.push({ migration, issues });
    current = next(steps, current);
  }
  return failures;
}

/** The first migration, with start's own checks; its steps when valid. */
async function checkFirst(
  migration: LoadedMigration,
  options: PrepareOptions,
): Promise<{ issues: Issue[]; steps?: OperationStep[]; initial?: VirtualSchema }> {
  try {
    const prepared = await prepareMigration(migration, options);
    return { issues: [], steps: prepared.steps, initial: prepared.initial };
  } catch (error) {
    if (error instanceof ValidationError) return { issues: error.issues };
    if (error instanceof PgtandemError) return { issues: [{ path: [], message: error.message }] };
    throw error;
  }
}

/** What the next migration sees, or undefined when it cannot be known. */
function next(
  steps: OperationStep[] | undefined,
  current: VirtualSchema | undefined,
): VirtualSchema | undefined {
  if (steps === undefined) return undefined;
  if (hasOpaqueStep(steps, "atStart") || hasOpaqueStep(steps, "atComplete")) return undefined;
  const last = steps.at(-1)?.after;
  if (last !== undefined) return schemaOnceCompleted(last);
  return current === undefined ? undefined : schemaOnceCompleted(current);
}
