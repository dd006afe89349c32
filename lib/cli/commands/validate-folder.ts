/**
 * `validate DIR`: checks what `migrate DIR` would apply now, the way it would apply it, before
 * anything is applied. Several unapplied files that migrate starts as one group
 * (docs/migration-groups.md) are checked as that group, with start's own checks, so every refusal
 * of the group shows here, naming the member files; otherwise the files are checked as the
 * sequence migrate applies (lib/engine/folder-check.ts): the first with start's checks, each next
 * one against the schema the ones before it leave. Applied files that changed since they were
 * applied (drift) are problems too, unless --allow-drift.
 */
import { stat } from "node:fs/promises";
import { blockingDrift, type Drift, folderDrift } from "../../engine/drift.ts";
import { checkSequence } from "../../engine/folder-check.ts";
import { planFolder } from "../../engine/folder-plan.ts";
import { GroupValidationError } from "../../engine/group-checks.ts";
import { prepareMigration } from "../../engine/prepare.ts";
import { type Issue, PgtandemError, ValidationError } from "../../errors.ts";
import { formatPath } from "../../errors.ts";
import {
  listMigrationFolder,
  loadMigrations,
  type MigrationFileEntry,
  MigrationFilesError,
} from "../../migration/folder.ts";
import { composeGroup, memberList } from "../../migration/group.ts";
import type { LoadedMigration } from "../../migration/loader.ts";
import type { CommandContext } from "../command.ts";
import { type Session, withSession } from "../session.ts";

/** Is `path` a folder (validate and plan take a file or a folder)? */
export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** One problem, with the file it is in. */
interface FileIssue extends Issue {
  file: string;
}

interface FolderCheck {
  mode: "group" | "one-by-one" | "up_to_date" | "active";
  migrations: string[];
  issues: FileIssue[];
  /** Applied migrations whose file changed or no longer loads. */
  drift: Drift[];
  note?: string;
}

/** Runs `validate DIR`; returns the exit code. */
export async function validateFolder(context: CommandContext, dir: string): Promise<number> {
  const { config, io } = context;
  const entries = await listMigrationFolder(dir);
  const found = await withSession(config, context.registry, io, async (session) => {
    await session.state.assertInitialized();
    return await checkFolder(context, session, dir, entries);
  });
  const valid = found.issues.length === 0;
  if (config.json) {
    io.stdout.write(`${JSON.stringify({ dir, valid, ...found }, null, 2)}\n`);
    return valid ? 0 : 1;
  }
  if (found.note) io.stderr.write(`${found.note}\n`);
  if (context.args.flags["allow-drift"] === true) {
    for (const d of found.drift) io.stderr.write(`Warning: ${d.message}\n`);
  }
  for (const issue of found.issues) {
    const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : "";
    io.stderr.write(`${issue.file}: ${where}${issue.message}\n`);
  }
  if (valid) io.stdout.write(`${dir}: valid${summary(found)}\n`);
  return valid ? 0 : 1;
}

function summary(found: FolderCheck): string {
  const names = memberList(found.migrations.map((name) => ({ name })));
  switch (found.mode) {
    case "group":
      return ` (migrate starts ${names} as one migration group)`;
    case "one-by-one":
      return found.migrations.length > 1
        ? ` (migrate applies ${names} one by one)`
        : ` (migrate applies ${names})`;
    default:
      return "";
  }
}

async function checkFolder(
  context: CommandContext,
  session: Session,
  dir: string,
  entries: MigrationFileEntry[],
): Promise<FolderCheck> {
  const { config } = context;
  const { state } = session;
  const all = await folderDrift(state, config.schema, dir, entries, context.registry);
  const drift = blockingDrift(all);
  const driftIssues = context.args.flags["allow-drift"] === true ? [] : drift.map(driftIssue);
  const found = await checkPending(context, session, dir, entries);
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
  context: CommandContext,
  session: Session,
  dir: string,
  entries: MigrationFileEntry[],
): Promise<Omit<FolderCheck, "drift">> {
  const { config } = context;
  const { state } = session;
  const plan = await planFolder(state, entries, {
    schema: config.schema,
    useVersionSchema: config.useVersionSchema,
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
    loaded = await loadMigrations(plan.comparison.unapplied, context.registry);
  } catch (error) {
    if (!(error instanceof MigrationFilesError)) throw error;
    const issues = error.failures.flatMap(({ entry, error }) => fileIssues(entry.path, error));
    return { mode, migrations, issues };
  }
  const options = {
    sql: session.sql,
    state,
    schema: config.schema,
    useVersionSchema: config.useVersionSchema,
    allowUserTriggers: config.allowUserTriggers,
  };
  if (!plan.group) {
    const failures = await checkSequence(loaded, options);
    const issues = failures.flatMap(({ migration, issues }) =>
      issues.map((issue) => ({ file: migration.path, ...issue }))
    );
    return { mode, migrations, issues };
  }
  try {
    await prepareMigration(composeGroup(loaded), options);
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
