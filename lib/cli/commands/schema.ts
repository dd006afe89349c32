/**
 * `schema [DIR]`: prints the JSON Schema of migration files, with the operation kinds of the loaded
 * plugins (`--plugin`, or the config file of DIR), for editors and CI checks of YAML/JSON files.
 */
import { migrationJsonSchema } from "../../migration/json-schema.ts";
import { type Command, UsageError } from "../command.ts";

/** `pgtandem schema`. */
export const schemaCommand: Command = {
  name: "schema",
  summary: "Print the JSON Schema of migration files, including the kinds of loaded plugins",
  usage: "schema [DIR] [--plugin FILE]...",
  examples: [
    "pgtandem schema > migration.schema.json",
    "pgtandem schema --plugin plugins/audit.ts --plugin plugins/enum.ts",
    "pgtandem schema migrations     # the plugins of migrations/pgtandem.jsonc",
  ],
  run(context) {
    if (context.args.positionals.length > 1) {
      throw new UsageError(`"schema" takes at most one migrations folder`);
    }
    const schema = migrationJsonSchema(context.registry);
    context.io.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    return Promise.resolve(0);
  },
};
