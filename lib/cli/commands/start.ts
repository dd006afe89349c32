import { loadMigrationFile } from "../../migration/loader.ts";
import { type Command, requirePositional } from "../command.ts";
import { withSession } from "../session.ts";

export const startCommand: Command = {
  name: "start",
  summary: "Start a migration: the new version is served next to the old one",
  usage:
    "start FILE [--complete] [--backfill-batch-size N] [--backfill-batch-delay D] [--allow-user-triggers]",
  examples: [
    "pgtandem start migrations/02_add_email.yaml",
    "pgtandem start migrations/03_rename.json --complete",
  ],
  async run(context) {
    const file = requirePositional(context, "a migration file");
    // Parse and check the file before touching the database.
    const loaded = await loadMigrationFile(file, context.registry);
    const { io, config } = context;
    await withSession(config, context.registry, io, async ({ engine }) => {
      const outcome = await engine.start(loaded);
      if (context.args.flags.complete) {
        await engine.complete();
        io.stdout.write(`Migration "${outcome.name}" started and completed\n`);
      } else if (outcome.versionSchema) {
        io.stdout.write(
          `New version of the schema available under the postgres "${outcome.versionSchema}" schema\n`,
        );
      } else {
        io.stdout.write(`Migration "${outcome.name}" started successfully\n`);
      }
    });
    return 0;
  },
};
