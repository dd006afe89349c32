/**
 * `migrate DIR`: brings the database up to date with a folder of migrations, as pgroll's migrate.
 *
 * Order of events, and why:
 *  1. The folder is listed (missing, empty or ambiguous folders fail before any connection).
 *  2. Under the *migrate lock* (below) the database is read: an active migration or a schema that
 *     needs a baseline end the run with a message and exit 0, as in pgroll. Otherwise the history
 *     after the newest baseline is compared pairwise with the files (compareWithHistory); a
 *     mismatch fails and nothing changes.
 *  3. Every unapplied file is parsed, then checked against the schema it will meet: the first
 *     against the live schema, each next one against the virtual schema the previous ones leave
 *     (until a raw SQL operation makes that unknowable; the engine checks the rest at their
 *     start). Any problem in any file fails the run before the first start.
 *  4. Group mode (docs/migration-groups.md) when more than one file is unapplied, --complete and
 *     --one-by-one are not given, version schemas are on and a version schema is deployed
 *     (latest_version exists: an application may be using it): the files start as ONE migration
 *     group, whose only versions are the deployed one and the last file's; `complete` or
 *     `rollback` ends it. Otherwise (pgroll's behaviour) all but the last are started and
 *     completed, and the last is completed only with --complete. --to NAME stops after NAME.
 *
 * Version schemas. Completing a migration removes the version before it (its views cannot
 * outlive the contract phase). So when more than one migration is applied one by one, the first
 * intermediate complete removes the version that was the latest before this run, which clients
 * of the deployed application may still use; the intermediate versions created by this run are
 * removed in turn by the next complete. pgroll does the same without a word (its issue #725).
 * That is why group mode is the default whenever a version is deployed. In one-by-one mode
 * pgtandem says so: a warning on stderr before anything is applied naming the version schema that
 * will go away, a line on stdout for every version schema actually removed, and
 * `removedVersionSchemas` in the --json report.
 *
 * Concurrency. Two CI jobs may run migrate at once. The engine serialises each start and
 * complete with its run lock, but the list of unapplied migrations is computed before those, so
 * it must be computed again by whichever run goes second. migrate therefore holds its own session
 * advisory lock (migrateLockKey: per state schema and schema) for the whole run, on a connection of
 * its own, and reads the history only once it holds it: the second run waits, then finds the
 * migrations applied. It is a separate key from the engine's run lock because that lock is taken
 * by the engine on another connection for each step; taking the same key here would make the
 * engine wait for us forever. A `start` run by hand does not take the migrate lock; before each
 * start migrate checks the history's tip is still the one it planned from, and the engine's own
 * checks (one active migration, linear history) refuse anything that slipped in between.
 */
import { PgtandemError, StateError } from "../../errors.ts";
import { withAdvisoryLock } from "../../engine/advisory-lock.ts";
import { connect, type Sql } from "../../engine/connection.ts";
import { userSqlIssues } from "../../engine/expression-check.ts";
import { buildSteps, hasOpaqueStep } from "../../operations/steps.ts";
import { describeIssues, schemaOnceCompleted } from "../../engine/group-checks.ts";
import type { StateStore } from "../../engine/state.ts";
import { composeGroup, intermediateVersionWarnings, memberList } from "../../migration/group.ts";
import type { Issue } from "../../errors.ts";
import { formatPath } from "../../errors.ts";
import {
  compareWithHistory,
  listMigrationFolder,
  loadMigrations,
  MIGRATION_FILE_EXTENSIONS,
  type MigrationFileEntry,
  MigrationFilesError,
} from "../../migration/folder.ts";
import type { LoadedMigration } from "../../migration/loader.ts";
import { migrationVersionName } from "../../migration/migration.ts";
import { byteLength, MAX_IDENTIFIER_BYTES, versionSchemaName } from "../../naming.ts";
import type { VirtualSchema } from "../../schema/model.ts";
import { type Command, type CommandContext, requirePositional } from "../command.ts";
import type { Config } from "../config.ts";
import { type Session, withSession } from "../session.ts";

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
  /** Present when the run started a migration group: its name (the last member's) and members. */
  group?: { name: string; members: string[] };
}

/** The advisory lock key migrate runs hold, per state schema and schema. */
export function migrateLockKey(stateSchema: string, schema: string): string {
  return `pgtandem:migrate:${JSON.stringify([stateSchema, schema])}`;
}

export const migrateCommand: Command = {
  name: "migrate",
  summary:
    "Apply a folder's unapplied migrations in file name order (several: as one group while a version is deployed)",
  usage:
    "migrate DIR [--complete] [--one-by-one] [--to NAME] [--expect-one] [--backfill-batch-size N] [--backfill-batch-delay D] [--allow-user-triggers] [--json]",
  examples: [
    "pgtandem migrate ./migrations                # start what is unapplied, leave it active",
    "pgtandem migrate ./migrations --complete     # and complete it",
    "pgtandem migrate ./migrations --to 03_b      # stop after 03_b",
    "pgtandem migrate ./migrations --expect-one   # deploys: never more than one at a time",
    "Group mode: when more than one file is unapplied, --complete and --one-by-one are not",
    "given and a version schema is deployed (an application may use it), the files start as",
    "ONE migration group: one start, one backfill per table, then one `complete` or",
    "`rollback`; only the deployed version and the last file's version are served.",
    "Otherwise (pgroll's behaviour, or --one-by-one) all but the last are started and",
    "completed; completing the first removes the version schema that was the latest before",
    "the run (a warning on stderr says which); --json lists removals.",
    "Exit codes: 0 applied, up to date, a migration already active, or baseline needed;",
    "            1 invalid file, history mismatch, failed start/complete, bad usage",
  ],
  async run(context) {
    const dir = requirePositional(context, "a migrations folder");
    const entries = await listMigrationFolder(dir);
    if (entries.length === 0) {
      throw new PgtandemError(
        "invalid_input",
        `migrations folder "${dir}" has no migration files (${
          MIGRATION_FILE_EXTENSIONS.join(", ")
        })`,
      );
    }
    const { config, io } = context;
    const report: MigrateReport = {
      schema: config.schema,
      status: "up_to_date",
      applied: [],
      removedVersionSchemas: [],
      activeMigration: null,
      databaseOnly: [],
    };
    try {
      await withSession(config, context.registry, io, async (session) => {
        await session.state.assertInitialized();
        await withMigrateLock(context, () => migrate(context, session, entries, report));
      });
    } catch (error) {
      // A failure after some migrations were applied: the JSON report still tells what was.
      if (config.json && report.applied.length > 0) printJson(context, report);
      throw error;
    }
    if (config.json) printJson(context, report);
    return 0;
  },
};

async function migrate(
  context: CommandContext,
  session: Session,
  entries: MigrationFileEntry[],
  report: MigrateReport,
): Promise<void> {
  const { config, io } = context;
  const { state } = session;
  const schema = config.schema;
  const say = sayer(context);

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

  const history = await state.history(schema);
  const baseline = await state.latestBaseline(schema);
  const comparison = compareWithHistory(entries, history, baseline?.name);
  report.databaseOnly = comparison.remoteOnly.map((h) => h.name);
  if (comparison.unapplied.length === 0) {
    report.status = "up_to_date";
    say("Database is up to date; no migrations to apply");
    if (comparison.remoteOnly.length > 0) {
      io.stderr.write(
        `Warning: the database has ${comparison.remoteOnly.length} migration(s) the folder lacks: ${
          report.databaseOnly.map((n) => `"${n}"`).join(", ")
        }; run "pgtandem pull" to add them\n`,
      );
    }
    return;
  }
  const unapplied = upTo(context, comparison.unapplied, history);
  if (context.args.flags["expect-one"] && unapplied.length > 1) {
    throw new PgtandemError(
      "state",
      `expected one migration to apply but found ${unapplied.length}: ${
        unapplied.map((e) => `"${e.name}"`).join(", ")
      }; nothing was applied`,
    );
  }

  const loaded = await loadAll(context, unapplied);
  const complete = context.args.flags.complete === true;
  const latestBefore = await state.latestVersion(schema);
  const deployed = latestBefore === undefined ? undefined : versionSchemaName(schema, latestBefore);
  if (deployed !== undefined && groupModeApplies(context, loaded.length, deployed)) {
    await applyGroup(context, session, loaded, { tip, deployed, report });
    return;
  }
  await precheck(context, session, loaded);

  if (deployed && config.useVersionSchema && loaded.length > 1) {
    io.stderr.write(
      `Warning: applying ${loaded.length} migrations completes "${
        loaded[0]!.migration.name
      }", which removes version schema "${deployed}", the latest before this run; ` +
        `clients still using it must move to the new version (without --complete and ` +
        `--one-by-one, migrate starts the files as one migration group and keeps it)\n`,
    );
  }

  let expectedTip = await state.latestMigration(schema);
  for (const [index, migration] of loaded.entries()) {
    try {
      expectedTip = await applyOne(context, session, migration, {
        last: index === loaded.length - 1,
        complete,
        expectedTip,
        deployed,
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
 * `--to NAME`: the unapplied files up to and including NAME. Refused, changing nothing, when NAME
 * is not one of them.
 */
function upTo(
  context: CommandContext,
  unapplied: MigrationFileEntry[],
  history: { name: string }[],
): MigrationFileEntry[] {
  const to = context.args.flags.to;
  if (typeof to !== "string") return unapplied;
  const index = unapplied.findIndex((e) => e.name === to);
  if (index >= 0) return unapplied.slice(0, index + 1);
  const why = history.some((h) => h.name === to)
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
  context: CommandContext,
  session: Session,
  loaded: LoadedMigration[],
  options: { tip: string | undefined; deployed: string; report: MigrateReport },
): Promise<void> {
  const { config, io } = context;
  const { state, engine } = session;
  const { report } = options;
  const say = sayer(context);
  const group = composeGroup(loaded);
  for (const line of intermediateVersionWarnings(loaded)) io.stderr.write(`${line}\n`);
  // The engine checks the history again under its run lock; this names what changed.
  const tip = await state.latestMigration(config.schema);
  if (tip !== options.tip) {
    throw new StateError(
      `the history of schema "${config.schema}" changed while migrate was running; nothing was applied`,
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
  say(
    `Migration group "${outcome.name}" started: ${memberList(group.group)} as one migration`,
  );
  say(
    `New version of the schema available under the postgres "${outcome.versionSchema}" schema; ` +
      `"${options.deployed}" is still served until "pgtandem complete" (or "pgtandem rollback")`,
  );
}

/** Starts one migration (and completes it unless it is the last and --complete is off). */
async function applyOne(
  context: CommandContext,
  session: Session,
  migration: LoadedMigration,
  options: {
    last: boolean;
    complete: boolean;
    expectedTip: string | undefined;
    deployed: string | undefined;
    report: MigrateReport;
  },
): Promise<string> {
  const { config } = context;
  const { state, engine } = session;
  const schema = config.schema;
  const { last, complete, expectedTip, deployed, report } = options;
  const say = sayer(context);
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
  const entry = {
    name,
    completed: false,
    versionSchema: outcome.versionSchema ?? null,
  };
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
      !(await schemaExists(session.sql, previousSchema))
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

/** Parses every unapplied file; all problems of all files are listed on stderr. */
async function loadAll(
  context: CommandContext,
  entries: MigrationFileEntry[],
): Promise<LoadedMigration[]> {
  try {
    return await loadMigrations(entries, context.registry);
  } catch (error) {
    if (!(error instanceof MigrationFilesError)) throw error;
    for (const line of error.describe()) context.io.stderr.write(`${line}\n`);
    throw new PgtandemError(
      "invalid_migration",
      `incompatible migration(s): ${error.failures.length} of ${entries.length} unapplied migration files ${
        error.failures.length === 1 ? "is" : "are"
      } invalid (${error.failures.map((f) => f.entry.fileName).join(", ")}); nothing was applied`,
      { cause: error },
    );
  }
}

/**
 * Validates the unapplied migrations before the first start, each against the schema the
 * previous ones leave (schemaOnceCompleted). The chain stops at raw SQL, whose effect is
 * unknown until it runs: the engine validates those migrations and the ones after at their start.
 */
async function precheck(
  context: CommandContext,
  session: Session,
  loaded: LoadedMigration[],
): Promise<void> {
  const failures = await precheckIssues(context.config, session, loaded);
  if (failures.length === 0) return;
  for (const { migration, issues } of failures) {
    for (const line of describeIssues(migration.path, issues)) {
      context.io.stderr.write(`${line}\n`);
    }
  }
  const first = failures[0]!;
  const firstIssue = first.issues[0]!;
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

/** The issues of each migration applied one by one (see precheck); empty when all are valid. */
export async function precheckIssues(
  config: Config,
  session: Pick<Session, "sql" | "state">,
  loaded: readonly LoadedMigration[],
): Promise<{ migration: LoadedMigration; issues: Issue[] }[]> {
  const schema = config.schema;
  let current: VirtualSchema = await session.state.catalog.readVirtualSchema(schema);
  const versionSchemas = new Map<string, string>();
  const failures: { migration: LoadedMigration; issues: Issue[] }[] = [];
  let chained = true;
  for (const migration of loaded) {
    const issues: Issue[] = [];
    if (config.useVersionSchema) {
      const versionSchema = versionSchemaName(schema, migrationVersionName(migration.migration));
      const other = versionSchemas.get(versionSchema);
      if (byteLength(versionSchema) > MAX_IDENTIFIER_BYTES) {
        issues.push({
          path: ["version_schema"],
          message:
            `version schema name "${versionSchema}" is longer than ${MAX_IDENTIFIER_BYTES} bytes; set a shorter "version_schema"`,
        });
      } else if (other !== undefined) {
        issues.push({
          path: ["version_schema"],
          message: `version schema "${versionSchema}" is also the one of migration "${other}"`,
        });
      } else if (await schemaExists(session.sql, versionSchema)) {
        issues.push({
          path: ["version_schema"],
          message:
            `schema "${versionSchema}" already exists; choose another migration name or "version_schema"`,
        });
      }
      versionSchemas.set(versionSchema, migration.migration.name);
    }
    if (chained) {
      const result = buildSteps(migration.operations, current, schema, { validate: true });
      if (result.issues.length === 0) {
        // User SQL too; functions or types an earlier file's plugin creates are not there yet.
        const checked = await userSqlIssues(session.sql, result.steps, {
          baseSchema: schema,
          objectsMayBeMissing: migration !== loaded[0],
        });
        result.issues.push(...checked.errors);
      }
      if (result.issues.length > 0) {
        issues.push(...result.issues);
        // What this migration would leave is unknown: the ones after cannot be checked.
        chained = false;
      } else if (
        hasOpaqueStep(result.steps, "atStart") || hasOpaqueStep(result.steps, "atComplete")
      ) {
        chained = false;
      } else {
        current = schemaOnceCompleted(result.steps.at(-1)?.after ?? current);
      }
    }
    if (issues.length > 0) failures.push({ migration, issues });
  }
  return failures;
}

/**
 * Does `migrate` start `count` unapplied migrations as one group? Yes when there are several,
 * version schemas are on and one is deployed (`deployed`: an application may be using it), unless
 * `--complete` or `--one-by-one` asks for pgroll's behaviour.
 */
export function groupModeApplies(
  context: CommandContext,
  count: number,
  deployed: string | undefined,
): boolean {
  const { flags } = context.args;
  return count > 1 && deployed !== undefined && context.config.useVersionSchema &&
    flags.complete !== true && flags["one-by-one"] !== true;
}

/**
 * What `migrate DIR` would apply now, for `plan DIR` and `validate DIR`: the unapplied files and
 * whether they start as one group. Throws on a history mismatch, as migrate does.
 */
export async function pendingInFolder(
  context: CommandContext,
  state: StateStore,
  entries: MigrationFileEntry[],
): Promise<{ unapplied: MigrationFileEntry[]; group: boolean; deployed: string | undefined }> {
  const schema = context.config.schema;
  const history = await state.history(schema);
  const baseline = await state.latestBaseline(schema);
  const { unapplied } = compareWithHistory(entries, history, baseline?.name);
  const latest = await state.latestVersion(schema);
  const deployed = latest === undefined ? undefined : versionSchemaName(schema, latest);
  return { unapplied, group: groupModeApplies(context, unapplied.length, deployed), deployed };
}

/** Re-exported for `validate`, which checks a file against what the active migration leaves. */
export { schemaOnceCompleted };

async function schemaExists(sql: Sql, name: string): Promise<boolean> {
  const rows = await sql.unsafe(
    "SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1",
    [name],
  );
  return rows.length > 0;
}

/**
 * Runs `fn` holding the migrate lock, on a connection of its own (the session's two connections
 * are the engine's). No lock_timeout there: a second CI job waits for the first to finish, however
 * long its backfills take. When the lock is taken, say who we wait for.
 */
async function withMigrateLock<T>(context: CommandContext, fn: () => Promise<T>): Promise<T> {
  const { config } = context;
  const key = migrateLockKey(config.stateSchema, config.schema);
  const lockSql = await connectForLock(config);
  try {
    if (await lockHeld(lockSql, key)) {
      context.io.stderr.write(
        `Another migrate run on schema "${config.schema}" is in progress; waiting for it to finish\n`,
      );
    }
    return await withAdvisoryLock(lockSql, key, () => fn());
  } finally {
    await lockSql.end({ timeout: 5 });
  }
}

function connectForLock(config: Config): Promise<Sql> {
  return connect({
    url: config.postgresUrl,
    schema: config.schema,
    lockTimeoutMs: 0,
    connectTimeoutMs: config.connectTimeoutMs,
    max: 1,
    applicationName: "pgtandem-migrate-lock",
  });
}

/** Is the session advisory lock of `key` held by someone (informational only)? */
async function lockHeld(sql: Sql, key: string): Promise<boolean> {
  const [row] = await sql.unsafe<{ held: boolean }[]>(
    `SELECT EXISTS (
      SELECT FROM pg_catalog.pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = pg_catalog.hashtextextended($1, 0)
    ) AS held`,
    [key],
  );
  return row?.held === true;
}

/** Human output lines; silent with --json, whose report says it all at the end. */
function sayer(context: CommandContext): (line: string) => void {
  return (line) => {
    if (!context.config.json) context.io.stdout.write(`${line}\n`);
  };
}

function printJson(context: CommandContext, report: MigrateReport): void {
  context.io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
