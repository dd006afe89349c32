/**
 * `plan DIR` when migrate applies the unapplied files one by one: the plan of each file in turn,
 * each against the schema the files before it leave (as folder-check.ts validates them), so the
 * whole sequence shows before anything is applied. A file with raw SQL ends what can be planned:
 * the files after it are named, not planned (what it leaves is known only once it runs).
 */
import type { LoadedMigration } from "../migration/loader.ts";
import { migrationVersionName } from "../migration/migration.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { type Explained, explainMigration, type ExplainOptions } from "./explain.ts";
import { schemaOnceCompleted } from "./group-checks.ts";
import { hasOpaqueStep } from "../operations/steps.ts";

export interface ExplainedSequence {
  /** The plans of the files that could be planned, in order. */
  planned: { migration: LoadedMigration; explained: Explained }[];
  /** The files after a raw SQL migration, not planned. */
  unplanned: LoadedMigration[];
}

/** Plans `loaded` in order; throws, as `plan FILE` does, on the first invalid file. */
export async function explainSequence(
  loaded: readonly LoadedMigration[],
  options: Omit<ExplainOptions, "initial" | "claimed" | "latestVersion">,
): Promise<ExplainedSequence> {
  const claimed = new Map<string, string>();
  const planned: ExplainedSequence["planned"] = [];
  let current: VirtualSchema | undefined;
  let latestVersion: string | undefined;
  for (const [index, migration] of loaded.entries()) {
    const explained = await explainMigration(migration, {
      ...options,
      ...(current === undefined ? {} : { initial: current }),
      ...(latestVersion === undefined ? {} : { latestVersion }),
      claimed,
    });
    planned.push({ migration, explained });
    const { steps, initial } = explained;
    if (hasOpaqueStep(steps, "atStart") || hasOpaqueStep(steps, "atComplete")) {
      return { planned, unplanned: loaded.slice(index + 1) };
    }
    current = schemaOnceCompleted(steps.at(-1)?.after ?? initial);
    latestVersion = migrationVersionName(migration.migration);
  }
  return { planned, unplanned: [] };
}
