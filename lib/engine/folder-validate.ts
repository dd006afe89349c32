/**
 * `validate DIR` as the engine checks it: what `migrate DIR` would apply now, the way it would
 * apply it, before anything is applied. Several unapplied files that migrate starts as one group
 * (docs/migration-groups.md) are checked as that group, with start's own checks, so every refusal
 * of the group names its member file; otherwise the files are checked as the sequence migrate
 * applies (folder-check.ts). Applied files that changed since they were applied (drift.ts) are
 * problems too, unless `allowDrift`. Reads only.
 */
import { type Issue, PgtandemError, ValidationError } from "../errors.ts";
import {
  loadMigrations,
  type MigrationFileEntry,
  MigrationFilesError,
} from "../migration/folder.ts";
import { composeGroup } from "../migration/group.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import type { Registry } from "../operations/registry.ts";
import type { Sql } from "./connection.ts";
import { blockingDrift, type Drift, folderDrift } from "./drift.ts";
import { checkSequence } from "./folder-check.ts";
import { planFolder } from "./folder-plan.ts";
import { GroupValidationError } from "./group-checks.ts";
import { prepareMigration } from "./prepare.ts";
import type { StateStore } from "./state.ts";

/** One problem, with the file it is in. */
export interface FileIssue extends Issue {
  file: string;
}

/** What `validate DIR` found. */
export interface FolderCheck {
  /** How migrate applies the folder now (or why it applies nothing). */
  mode: "group" | "one-by-one" | "up_to_date" | "active";
  /** The unapplied migrations, in order. */
  migrations: string[];
  issues: FileIssue[];
  /** Applied migrations whose file changed or no longer loads. */
  drift: Drift[];
  note?: string;
}

export interface FolderCheckDeps {
  sql: Sql;
  state: StateStore;
  registry: Registry;
}

export interface FolderCheckOptions {
  schema: string;
  useVersionSchema: boolean;
  allowUserTriggers: boolean;
  /** Drift is reported but is no problem. */
  allowDrift: boolean;
}

/** Checks the folder `dir` (its `entries`) against the database. */
export async function checkFolder(
  deps: FolderCheckDeps,
  dir: string,
  entries: readonly MigrationFileEntry[],
  options: FolderCheckOptions,
): Promise<FolderCheck> {
  const all = await folderDrift(deps.state, options.schema, dir, entries, deps.registry);
  const drift = blockingDrift(all);
  const driftIssues = options.allowDrift ? [] : drift.map(driftIssue);
  const found = await checkPending(deps, dir, entries, options);
  return { ...found, issues: [...driftIssues, ...found.issues], drift };
}

/** Drift as a problem of its file: `FILE: changed since it was applied (…)`. */
function driftIssue(d: Drift): FileIssue {
  const file = d.file ?? d.name;
  const message = d.message.startsWith(`${file}: `) ? d.message.slice(file.length + 2) : d.message;
  return { file, path: [], message };
}

/** The unapplied files, checked as migrate applies them. */
async function checkPending(
  deps: FolderCheckDeps,
  dir: string,
  entries: readonly MigrationFileEntry[],
  options: FolderCheckOptions,
): Promise<Omit<FolderCheck, "drift">> {
  const { state } = deps;
  const plan = await planFolder(state, entries, {
    schema: options.schema,
    useVersionSchema: options.useVersionSchema,
    oneByOne: false,
  });
  if (plan.active) {
    return {
      mode: "active",
      migrations: [],
      issues: [],
      note: `Note: migration "${plan.active}" is active: migrate applies nothing until it is ` +
        `completed or rolled back (validate each file to check it against what it leaves)`,
    };
  }
  const migrations = plan.comparison.unapplied.map((e) => e.name);
  if (migrations.length === 0) return { mode: "up_to_date", migrations, issues: [] };
  const mode = plan.group ? "group" : "one-by-one";
  let loaded: LoadedMigration[];
  try {
    loaded = await loadMigrations(plan.comparison.unapplied, deps.registry);
  } catch (error) {
    if (!(error instanceof MigrationFilesError)) throw error;
    const issues = error.failures.flatMap(({ entry, error }) => fileIssues(entry.path, error));
    return { mode, migrations, issues };
  }
  const prepare = {
    sql: deps.sql,
    state,
    schema: options.schema,
    useVersionSchema: options.useVersionSchema,
    allowUserTriggers: options.allowUserTriggers,
  };
  if (!plan.group) {
    const failures = await checkSequence(loaded, prepare);
    const issues = failures.flatMap(({ migration, issues }) =>
      issues.map((issue) => ({ file: migration.path, ...issue }))
    );
    return { mode, migrations, issues };
  }
  try {
    await prepareMigration(composeGroup(loaded), prepare);
    return { mode, migrations, issues: [] };
  } catch (error) {
    if (!(error instanceof PgtandemError)) throw error;
    const file = error instanceof GroupValidationError ? error.source : dir;
    return { mode, migrations, issues: fileIssues(file, error) };
  }
}

function fileIssues(file: string, error: PgtandemError): FileIssue[] {
  if (error instanceof ValidationError) return error.issues.map((issue) => ({ file, ...issue }));
  const message = error.message.startsWith(`${file}: `)
    ? error.message.slice(file.length + 2)
    : error.message;
  return [{ file, path: [], message }];
}
