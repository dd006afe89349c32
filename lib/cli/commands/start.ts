import { type LoadedMigration, loadMigrationFile } from "../../migration/loader.ts";
import { composeGroup, intermediateVersionWarnings } from "../../migration/group.ts";
import { type Command, printResult, UsageError } from "../command.ts";
import { withSession } from "../session.ts";

export const startCommand: Command = {
  name: "start",
  summary: "Start a migration (or a group of them): the new version is served next to the old one",
  usage:
    "start FILE... [--complete] [--backfill-batch-size N] [--backfill-batch-delay D] [--allow-user-triggers]",
  examples: [
    "pgtandem start migrations/02_add_email.yaml",
    "pgtandem start migrations/03_rename.json --complete",
    "pgtandem start migrations/02_a.yaml migrations/03_b.yaml migrations/04_c.yaml",
    "Several files start one migration group: one start, one backfill per table, one complete",
    "or rollback; only the version before the group and the last file's version are served.",
  ],
  async run(context) {
    const files = context.args.positionals;
    if (files.length === 0) throw new UsageError(`"start" needs a migration file`);
    // Parse and check the files before touching the database.
    const members: LoadedMigration[] = [];
    for (const file of files) members.push(await loadMigrationFile(file, context.registry));
    const loaded = members.length === 1 ? members[0]! : composeGroup(members);
    const { io, config } = context;
    if (members.length > 1) {
      for (const line of intermediateVersionWarnings(members)) io.stderr.write(`${line}\n`);
    }
    await withSession(config, context.registry, io, async ({ engine }) => {
      const outcome = await engine.start(loaded);
      const what = members.length > 1
        ? `Migration group "${outcome.name}" (${members.length} migrations)`
        : `Migration "${outcome.name}"`;
      const completed = context.args.flags.complete === true;
      if (completed) await engine.complete();
      printResult(
        context,
        completed
          ? `${what} started and completed\n`
          : outcome.versionSchema
          ? `New version of the schema available under the postgres "${outcome.versionSchema}" schema\n`
          : `${what} started successfully\n`,
        {
          migration: outcome.name,
          status: completed ? "complete" : "started",
          versionSchema: outcome.versionSchema ?? null,
          ...(members.length > 1 ? { group: members.map((m) => m.migration.name) } : {}),
        },
      );
    }, { writes: true });
    return 0;
  },
};
