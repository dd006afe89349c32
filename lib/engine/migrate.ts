/**
 * `migrate DIR` as the engine runs it: brings the database up to date with a folder of
 * migrations, as pgroll's migrate. The command only parses arguments and prints the report.
 *
 * Order of events, and why:
 *  1. Under the migrate lock (./migrate-lock.ts) the database is read: an active migration or a
 *     schema that needs a baseline end the run with a report, as in pgroll.
 *  2. Drift (./drift.ts): an applied migration whose file changed, no longer loads or is missing
 *     stops the run, changing nothing, unless `allowDrift`.
 *  3. The history after the newest baseline is compared pairwise with the files
 *     (compareWithHistory); a mismatch fails and nothing changes.
 *  4. Every unapplied file is parsed, then checked as a sequence (./folder-check.ts). Any problem
 *     in any file fails the run before the first start.
 *  5. Group mode (docs/migration-groups.md) when more than one file is unapplied, `complete` and
 *     `oneByOne` are off, version schemas are on and a version schema is deployed: the files start
 *     as ONE migration group. Otherwise (pgroll's behaviour) all but the last are started and
 *     completed, and the last is completed only with `complete`. `to` stops after that file.
 *
 * Version schemas. Completing a migration removes the version before it. So when more than one
 * migration is applied one by one, the first intermediate complete removes the version that was
 * the latest before this run, which clients of the deployed application may still use (pgroll
 * does the same without a word, its issue #725). That is why group mode is the default whenever a
 * version is deployed. In one-by-one mode a warning names the version schema that will go away,
 * a line says each version schema actually removed, and the report lists them.
 */
import { type Issue, PgtandemError, StateError } from "../errors.ts";
import { formatPath } from "../errors.ts";
import {
  loadMigrations,
  type MigrationFileEntry,
  MigrationFilesError,
} from "../migration/folder.ts";
import { composeGroup, intermediateVersionWarnings, memberList } from "../migration/group.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import { versionSchemaName } from "../naming.ts";
import type { Registry } from "../operations/registry.ts";
import type { Sql } from "./connection.ts";
import { blockingDrift, type Drift, folderDrift } from "./drift.ts";
import { checkSequence } from "./folder-check.ts";
import { planFolder } from "./folder-plan.ts";
import { describeIssues } from "./group-checks.ts";
import { withMigrateLock } from "./migrate-lock.ts";
import type { Engine } from "./roll.ts";
import type { StateStore } from "./state.ts";
import { schemaExists } from "./version-schema.ts";

/** What a migrate run did; the --json output. */
export interface MigrateReport {
  schema: string;
  status: "applied" | "up_to_date" | "active" | "baseline_required";
  applied: { name: string; completed: boolean; versionSchema: string | null }[];
  /** Version schemas this run removed, in order. */
  removedVersionSchemas: string[];
  /** The active migration when the run ends, if any. */
  activeMigration: string | null;
  /** Names in the database's history after the last local file (the folder is behind). */
  databaseOnly: string[];
  /** Applied migrations whose file changed or no longer loads (present when --allow-drift went on). */
  drift?: Drift[];
  /** Present when the run started a migration group: its name (the last member's) and members. */
  group?: { name: string; members: string[] };
}

/** An empty report, filled in as the run goes (so a failed run still tells what it applied). */
export function emptyMigrateReport(schema: string): MigrateReport {
  return {
    schema,
    status: "up_to_date",
    applied: [],
    removedVersionSchemas: [],
    activeMigration: null,
    databaseOnly: [],
  };
}

export interface MigrateOptions {
  /** The folder, for messages. */
  dir: string;
  url: string;
  /** See ConnectOptions.connectTimeoutMs (the CLI's --connect-timeout). */
  connectTimeoutMs?: number;
  schema: string;
  stateSchema: string;
  useVersionSchema: boolean;
  allowUserTriggers: boolean;
  /** Complete the last migration too (and apply one by one). */
  complete: boolean;
  /** pgroll's one-by-one behaviour even while a version is deployed. */
  oneByOne: boolean;
  /** Stop after this unapplied migration. */
  to?: string;
  /** Refuse when more than one migration is unapplied. */
  expectOne: boolean;
  /** Go on past drift (still reported). */
  allowDrift: boolean;
}

/** What migrate works with: the session's pools and engine. */
export interface MigrateDeps {
  sql: Sql;
  state: StateStore;
  engine: Engine;
  registry: Registry;
}

/** Where migrate's lines go: `say` for progress (stdout), `warn` for warnings and problems. */
export interface MigrateEvents {
  say(line: string): void;
  warn(line: string): void;
}

/** Runs migrate under the migrate lock; fills and returns `report`. */
export async function migrateFolder(
  deps: MigrateDeps,
  entries: readonly MigrationFileEntry[],
  options: MigrateOptions,
  events: MigrateEvents,
  report: MigrateReport = emptyMigrateReport(options.schema),
): Promise<MigrateReport> {
  await deps.state.assertInitialized();
  const onWait = () =>
    events.warn(
      `Another migrate run on schema "${options.schema}" is in progress; waiting for it to finish`,
    );
  await withMigrateLock(
    {
      url: options.url,
      ...(options.connectTimeoutMs !== undefined
        ? { connectTimeoutMs: options.connectTimeoutMs }
        : {}),
      schema: options.schema,
      stateSchema: options.stateSchema,
      onWait,
    },
    () => migrate({ deps, entries, options, events, report }),
  );
  return report;
}

/** One migrate run: what it works with, what it was asked, where it reports. */
interface MigrateRun {
  deps: MigrateDeps;
  entries: readonly MigrationFileEntry[];
  options: MigrateOptions;
  events: MigrateEvents;
  report: MigrateReport;
}

async function migrate(run: MigrateRun): Promise<void> {
  const { deps, entries, options, events, report } = run;
  const { state } = deps;
  const { schema } = options;
  const { say, warn } = events;

  const active = await state.activeMigration(schema);
  if (active) {
    report.status = "active";
    report.activeMigration = active.name;
    say(
      `migration "${active.name}" is active: complete or roll it back before migrating (nothing applied)`,
    );
    return;
  }
  if (await state.needsBaseline(schema)) {
    report.status = "baseline_required";
    say(
      `Schema "${schema}" is non-empty but has no migration history. Run \`pgtandem baseline\` first`,
    );
    return;
  }
  // pgroll completed a group: write its members to history before comparing with the folder.
  const tip = await state.latestMigration(schema);
  if (tip !== undefined && await state.expandCompletedGroup(schema, tip)) {
    say(`History of the completed migration group "${tip}" written migration by migration`);
  }

  const plan = await planFolder(state, entries, {
    schema,
    useVersionSchema: options.useVersionSchema,
    oneByOne: options.complete || options.oneByOne,
  });
  await checkDrift(run);
  const { comparison } = plan;
  report.databaseOnly = comparison.remoteOnly.map((h) => h.name);
  if (comparison.unapplied.length === 0) {
    report.status = "up_to_date";
    say("Database is up to date; no migrations to apply");
    if (comparison.remoteOnly.length > 0) {
      warn(
        `Warning: the database has ${comparison.remoteOnly.length} migration(s) the folder lacks: ${
          report.databaseOnly.map((n) => `"${n}"`).join(", ")
        }; run "pgtandem pull" to add them`,
      );
    }
    return;
  }
  const unapplied = upTo(options.to, comparison.unapplied, comparison.applied);
  if (options.expectOne && unapplied.length > 1) {
    throw new PgtandemError(
      "state",
      `expected one migration to apply but found ${unapplied.length}: ${
        unapplied.map((e) => `"${e.name}"`).join(", ")
      }; nothing was applied`,
    );
  }

  const loaded = await loadAll(deps.registry, unapplied, warn);
  const { deployed } = plan;
  if (deployed !== undefined && plan.group && unapplied.length > 1) {
    await applyGroup(deps, loaded, { tip: plan.tip, deployed, schema, events, report });
    return;
  }
  await precheck(deps, loaded, options, warn);

  if (deployed && options.useVersionSchema && loaded.length > 1) {
    warn(
      `Warning: applying ${loaded.length} migrations completes "${
        loaded[0]!.migration.name
      }", which removes version schema "${deployed}", the latest before this run; ` +
        `clients still using it must move to the new version (without --complete and ` +
        `--one-by-one, migrate starts the files as one migration group and keeps it)`,
    );
  }

  let expectedTip = await state.latestMigration(schema);
  for (const [index, migration] of loaded.entries()) {
    try {
      expectedTip = await applyOne(deps, migration, {
        last: index === loaded.length - 1,
        complete: options.complete,
        expectedTip,
        deployed,
        schema,
        say,
        report,
      });
    } catch (error) {
      const done = report.applied.filter((a) => a.name !== migration.migration.name);
      if (done.length === 0 || !(error instanceof PgtandemError)) throw error;
      throw new PgtandemError(
        error.code,
        `failed to run migration file "${migration.path}" after this run applied ${
          done.map((a) => `"${a.name}"`).join(", ")
        }: ${error.message}`,
        { cause: error },
      );
    }
  }
}

/**
 * Drift stops the run before anything changes, one line per drifted file, unless `allowDrift`
 * (then the lines are warnings). Missing files are the history comparison's business (a mismatch
 * error, or "up to date" with a warning when the database is ahead of the folder, as in pgroll).
 */
async function checkDrift({ deps, entries, options, events, report }: MigrateRun): Promise<void> {
  const all = await folderDrift(deps.state, options.schema, options.dir, entries, deps.registry);
  const drift = blockingDrift(all);
  if (drift.length === 0) return;
  report.drift = drift;
  for (const d of drift) events.warn(`${options.allowDrift ? "Warning: " : ""}${d.message}`);
  if (options.allowDrift) return;
  throw new PgtandemError(
    "state",
    `${drift.length} applied migration${drift.length === 1 ? "" : "s"} changed since ${
      drift.length === 1 ? "it was" : "they were"
    } applied (${
      drift.map((d) => d.file ?? `"${d.name}"`).join(", ")
    }); nothing was applied (--allow-drift goes on anyway)`,
  );
}

/**
 * `to`: the unapplied files up to and including that one. Refused, changing nothing, when it is
 * not one of them.
 */
function upTo(
  to: string | undefined,
  unapplied: MigrationFileEntry[],
  applied: MigrationFileEntry[],
): MigrationFileEntry[] {
  if (to === undefined) return unapplied;
  const index = unapplied.findIndex((e) => e.name === to);
  if (index >= 0) return unapplied.slice(0, index + 1);
  const why = applied.some((h) => h.name === to)
    ? "it is already applied"
    : `the unapplied migrations are ${unapplied.map((e) => `"${e.name}"`).join(", ")}`;
  throw new PgtandemError(
    "invalid_input",
    `--to "${to}": no such unapplied migration (${why}); nothing was applied`,
  );
}

/**
 * Group mode: the unapplied files start as one migration group (one start, one backfill per
 * table); the deployed version stays served next to the last file's until complete or rollback.
 * Whatever the group refuses, it refuses before anything changes (the engine's start checks).
 */
async function applyGroup(
  deps: MigrateDeps,
  loaded: LoadedMigration[],
  options: {
    tip: string | undefined;
    deployed: string;
    schema: string;
    events: MigrateEvents;
    report: MigrateReport;
  },
): Promise<void> {
  const { state, engine } = deps;
  const { report, schema, events } = options;
  const group = composeGroup(loaded);
  for (const line of intermediateVersionWarnings(loaded)) events.warn(line);
  // The engine checks the history again under its run lock; this names what changed.
  const tip = await state.latestMigration(schema);
  if (tip !== options.tip) {
    throw new StateError(
      `the history of schema "${schema}" changed while migrate was running; nothing was applied`,
    );
  }
  let outcome;
  try {
    outcome = await engine.start(group);
  } catch (error) {
    if (!(error instanceof PgtandemError)) throw error;
    throw new PgtandemError(
      error.code,
      `cannot start the migration group of ${memberList(group.group)}: ${error.message}`,
      { cause: error },
    );
  }
  const names = group.group.map((m) => m.name);
  for (const name of names) {
    report.applied.push({
      name,
      completed: false,
      versionSchema: name === outcome.name ? outcome.versionSchema ?? null : null,
    });
  }
  report.status = "applied";
  report.activeMigration = outcome.name;
  report.group = { name: outcome.name, members: names };
  events.say(
    `Migration group "${outcome.name}" started: ${memberList(group.group)} as one migration`,
  );
  events.say(
    `New version of the schema available under the postgres "${outcome.versionSchema}" schema; ` +
      `"${options.deployed}" is still served until "pgtandem complete" (or "pgtandem rollback")`,
  );
}

/** Starts one migration (and completes it unless it is the last and `complete` is off). */
async function applyOne(
  deps: MigrateDeps,
  migration: LoadedMigration,
  options: {
    last: boolean;
    complete: boolean;
    expectedTip: string | undefined;
    deployed: string | undefined;
    schema: string;
    say: (line: string) => void;
    report: MigrateReport;
  },
): Promise<string> {
  const { state, engine } = deps;
  const { last, complete, expectedTip, deployed, report, schema, say } = options;
  const name = migration.migration.name;
  const tip = await state.latestMigration(schema);
  if (tip !== expectedTip) {
    throw new StateError(
      `the history of schema "${schema}" changed while migrate was running: expected the latest migration to be ${
        expectedTip === undefined ? "none" : `"${expectedTip}"`
      }, found "${tip}"; "${name}" was not applied`,
    );
  }
  const outcome = await engine.start(migration);
  const entry = { name, completed: false, versionSchema: outcome.versionSchema ?? null };
  report.applied.push(entry);
  report.status = "applied";
  if (!last || complete) {
    const previous = await state.previousVersion(schema);
    const previousSchema = previous === undefined ? undefined : versionSchemaName(schema, previous);
    await engine.complete();
    entry.completed = true;
    say(`Migration "${name}" started and completed`);
    if (
      previousSchema !== undefined && previousSchema !== outcome.versionSchema &&
      !(await schemaExists(deps.sql, previousSchema))
    ) {
      report.removedVersionSchemas.push(previousSchema);
      say(
        `Version schema "${previousSchema}" removed${
          previousSchema === deployed ? " (the latest version before this run)" : ""
        }`,
      );
    }
  } else {
    report.activeMigration = name;
    say(
      outcome.versionSchema
        ? `New version of the schema available under the postgres "${outcome.versionSchema}" schema`
        : `Migration "${name}" started successfully`,
    );
  }
  return name;
}

/** Parses every unapplied file; all problems of all files are listed through `warn`. */
async function loadAll(
  registry: Registry,
  entries: MigrationFileEntry[],
  warn: (line: string) => void,
): Promise<LoadedMigration[]> {
  try {
    return await loadMigrations(entries, registry);
  } catch (error) {
    if (!(error instanceof MigrationFilesError)) throw error;
    for (const line of error.describe()) warn(line);
    throw new PgtandemError(
      "invalid_migration",
      `incompatible migration(s): ${error.failures.length} of ${entries.length} unapplied migration files ${
        error.failures.length === 1 ? "is" : "are"
      } invalid (${error.failures.map((f) => f.entry.fileName).join(", ")}); nothing was applied`,
      { cause: error },
    );
  }
}

/** The unapplied migrations checked as a sequence before the first start (./folder-check.ts). */
async function precheck(
  deps: MigrateDeps,
  loaded: LoadedMigration[],
  options: MigrateOptions,
  warn: (line: string) => void,
): Promise<void> {
  const failures = await checkSequence(loaded, {
    sql: deps.sql,
    state: deps.state,
    schema: options.schema,
    useVersionSchema: options.useVersionSchema,
    allowUserTriggers: options.allowUserTriggers,
  });
  if (failures.length === 0) return;
  for (const { migration, issues } of failures) {
    for (const line of describeIssues(migration.path, issues)) warn(line);
  }
  const first = failures[0]!;
  const firstIssue: Issue = first.issues[0]!;
  const where = firstIssue.path.length > 0 ? `${formatPath(firstIssue.path)}: ` : "";
  const against = loaded.indexOf(first.migration) === 0
    ? "the database's schema"
    : "the schema the migrations before it leave";
  throw new PgtandemError(
    "invalid_migration",
    `migration "${first.migration.migration.name}" is invalid against ${against}: ${where}${firstIssue.message}${
      failures.length > 1 ? ` (and ${failures.length - 1} more invalid migrations)` : ""
    }; nothing was applied`,
  );
}
