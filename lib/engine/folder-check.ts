/**
 * A folder's unapplied migrations checked as the sequence migrate applies one by one, before the
 * first start, each with start's own checks (prepare.ts): the first against the live database,
 * each next one against the virtual schema the ones before it leave once completed. The chain
 * stops at raw SQL, whose effect is unknown until it runs, and at an invalid migration (what it
 * leaves is unknown): the files after it are then checked at their start. Version schemas are
 * claimed along the way, so two files of the sequence cannot share one.
 */
import { type Issue, PgtandemError, ValidationError } from "../errors.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import { migrationVersionName } from "../migration/migration.ts";
import { versionSchemaName } from "../naming.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { schemaOnceCompleted } from "./group-checks.ts";
import { prepareMigration, type PrepareOptions } from "./prepare.ts";
import { hasOpaqueStep } from "../operations/steps.ts";
import { versionSchemaIssues } from "./version-schema.ts";

/** The problems of one migration of the sequence. */
export interface SequenceFailure {
  migration: LoadedMigration;
  issues: Issue[];
}

/** Every problem of every migration of `loaded`, checked in order; empty when all are valid. */
export async function checkSequence(
  loaded: readonly LoadedMigration[],
  options: Omit<PrepareOptions, "initial" | "claimed">,
): Promise<SequenceFailure[]> {
  const failures: SequenceFailure[] = [];
  const claimed = new Map<string, string>();
  // undefined for the first file (the live schema); null once the chain is broken.
  let current: VirtualSchema | undefined | null = undefined;
  for (const migration of loaded) {
    if (current === null) {
      // Unknown schema: only what needs no schema.
      const issues = options.useVersionSchema
        ? await versionSchemaIssues(options.sql, options.schema, migration.migration, { claimed })
        : [];
      if (issues.length > 0) failures.push({ migration, issues });
      continue;
    }
    try {
      const prepared = await prepareMigration(migration, {
        ...options,
        ...(current === undefined ? {} : { initial: current }),
        claimed,
      });
      const { steps } = prepared;
      current = hasOpaqueStep(steps, "atStart") || hasOpaqueStep(steps, "atComplete")
        ? null
        : schemaOnceCompleted(steps.at(-1)?.after ?? prepared.initial);
    } catch (error) {
      if (!(error instanceof PgtandemError)) throw error;
      const issues = error instanceof ValidationError
        ? error.issues
        : [{ path: [], message: error.message }];
      failures.push({ migration, issues });
      current = null;
      if (options.useVersionSchema) claim(claimed, options.schema, migration);
    }
  }
  return failures;
}

/** An invalid migration still claims its version schema (prepare stopped before, or after). */
function claim(claimed: Map<string, string>, schema: string, migration: LoadedMigration): void {
  const name = versionSchemaName(schema, migrationVersionName(migration.migration));
  if (!claimed.has(name)) claimed.set(name, migration.migration.name);
}
