/**
 * `migrate DIR`: brings the database up to date with a folder of migrations, as pgroll's migrate.
 * The engine does the work (lib/engine/migrate.ts, where the order of events and the version
 * schema rules are explained); this command parses the arguments and prints the report.
 */
import { PgtandemError } from "../../errors.ts";
import { emptyMigrateReport, migrateFolder, type MigrateReport } from "../../engine/migrate.ts";
import { listMigrationFolder, MIGRATION_FILE_EXTENSIONS } from "../../migration/folder.ts";
import { type Command, type CommandContext, requirePositional } from "../command.ts";
import { withSession } from "../session.ts";

export type { MigrateReport };

export const migrateCommand: Command = {
  name: "migrate",
  summary:
    "Apply a folder's unapplied migrations in file name order (several: as one group while a version is deployed)",
  usage:
    "migrate DIR [--complete] [--one-by-one] [--to NAME] [--expect-one] [--backfill-batch-size N] [--backfill-batch-delay D] [--allow-user-triggers] [--allow-drift] [--json]",
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
    "Before anything, applied files are compared with what the database recorded: a",
    "changed or unloadable applied file (drift) stops the run, one line per file,",
    "unless --allow-drift. Unapplied files are checked as a sequence before the first start.",
    "Which files count: docs/folder-commands.md.",
    "Exit codes: 0 applied, up to date, a migration already active, or baseline needed;",
    "            1 invalid file, drift, history mismatch, failed start/complete, bad usage",
  ],
  async run(context) {
    const dir = requirePositional(context, "a migrations folder");
    const entries = await listMigrationFolder(dir);
    if (entries.length === 0) {
      throw new PgtandemError(
        "invalid_input",
        `migrations folder "${dir}" has no migration files (${
          MIGRATION_FILE_EXTENSIONS.join(", ")
        }; see docs/folder-commands.md for which files count)`,
      );
    }
    const { config, io } = context;
    const { flags } = context.args;
    const report = emptyMigrateReport(config.schema);
    const to = flags.to;
    try {
      await withSession(config, context.registry, io, async (session) => {
        await migrateFolder(
          { ...session, registry: context.registry },
          entries,
          {
            dir,
            url: config.postgresUrl,
            connectTimeoutMs: config.connectTimeoutMs,
            schema: config.schema,
            stateSchema: config.stateSchema,
            useVersionSchema: config.useVersionSchema,
            allowUserTriggers: config.allowUserTriggers,
            complete: flags.complete === true,
            oneByOne: flags["one-by-one"] === true,
            ...(typeof to === "string" ? { to } : {}),
            expectOne: flags["expect-one"] === true,
            allowDrift: flags["allow-drift"] === true,
          },
          {
            say: (line) => {
              if (!config.json) io.stdout.write(`${line}\n`);
            },
            warn: (line) => io.stderr.write(`${line}\n`),
          },
          report,
        );
      }, { writes: true });
    } catch (error) {
      // A failure after some migrations were applied: the JSON report still tells what was.
      if (config.json && report.applied.length > 0) printJson(context, report);
      throw error;
    }
    if (config.json) printJson(context, report);
    return 0;
  },
};

function printJson(context: CommandContext, report: MigrateReport): void {
  context.io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
