/**
 * What `migrate DIR` would do now, read-only: shared by `migrate`, `plan DIR`, `validate DIR` and
 * `status DIR` so they agree. pgroll's rule decides which files are unapplied
 * (compareWithHistory); drift (./drift.ts) says which applied files changed.
 */
import {
  compareWithHistory,
  type FolderComparison,
  type MigrationFileEntry,
} from "../migration/folder.ts";
import { versionSchemaName } from "../naming.ts";
import type { StateStore } from "./state.ts";

export interface FolderPlanOptions {
  schema: string;
  useVersionSchema: boolean;
  /** `--complete` or `--one-by-one`: pgroll's one-by-one behaviour even while a version is deployed. */
  oneByOne: boolean;
}

/** The database's side of a folder. */
export interface FolderPlan {
  /** The active migration, if any: migrate applies nothing until it ends. */
  active: string | undefined;
  /** The schema has tables but no history: `baseline` first. */
  needsBaseline: boolean;
  /** The newest migration of the history (any type), the tip migrate starts from. */
  tip: string | undefined;
  comparison: FolderComparison;
  /** Does migrate start the unapplied files as one group (docs/migration-groups.md)? */
  group: boolean;
  /** The latest version's schema, when one is deployed. */
  deployed: string | undefined;
}

/**
 * Reads what migrate DIR would apply. Throws, as migrate does, when the history and the folder
 * disagree on a name (applying anything would fork the history).
 */
export async function planFolder(
  state: StateStore,
  entries: readonly MigrationFileEntry[],
  options: FolderPlanOptions,
): Promise<FolderPlan> {
  const { schema } = options;
  const active = (await state.activeMigration(schema))?.name;
  const needsBaseline = await state.needsBaseline(schema);
  const tip = await state.latestMigration(schema);
  const history = await state.history(schema);
  const baseline = await state.latestBaseline(schema);
  const comparison = compareWithHistory(entries, history, baseline?.name);
  const latest = await state.latestVersion(schema);
  const deployed = latest === undefined ? undefined : versionSchemaName(schema, latest);
  const group = groupModeApplies(comparison.unapplied.length, deployed, options);
  return { active, needsBaseline, tip, comparison, group, deployed };
}

/**
 * Does `migrate` start `count` unapplied migrations as one group? Yes when there are several,
 * version schemas are on and one is deployed (an application may be using it), unless
 * `--complete` or `--one-by-one` asks for pgroll's behaviour.
 */
export function groupModeApplies(
  count: number,
  deployed: string | undefined,
  options: Pick<FolderPlanOptions, "useVersionSchema" | "oneByOne">,
): boolean {
  return count > 1 && deployed !== undefined && options.useVersionSchema && !options.oneByOne;
}
