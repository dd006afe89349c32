import { type Command, noPositionals } from "../command.ts";
import { withSession } from "../session.ts";

/** pgroll's status document, key for key. */
export interface StatusDocument {
  schema: string;
  version: string;
  status: "No migrations" | "In progress" | "Complete";
}

export const statusCommand: Command = {
  name: "status",
  summary: "Show the schema's current version and whether a migration is in progress (JSON)",
  usage: "status",
  examples: ["pgtandem status --schema public"],
  async run(context) {
    noPositionals(context);
    const { config } = context;
    const document = await withSession(config, context.registry, context.io, async ({ state }) => {
      await state.assertInitialized();
      const version = (await state.latestVersion(config.schema)) ?? "";
      const active = await state.activeMigration(config.schema);
      const status: StatusDocument["status"] = version === "" && !active
        ? "No migrations"
        : active
        ? "In progress"
        : "Complete";
      return { schema: config.schema, version, status } satisfies StatusDocument;
    });
    context.io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    return 0;
  },
};
