/**
 * `analyze`: the schema as the state store's `read_schema` sees it, as indented JSON (pgroll's
 * hidden analyze command). Handy to see what a migration will be validated against.
 */
import { type Command, noPositionals } from "../command.ts";
import { withSession } from "../session.ts";

export const analyzeCommand: Command = {
  name: "analyze",
  summary: "Print the schema as the tool reads it (read_schema), as JSON",
  usage: "analyze [--schema NAME]",
  examples: [
    "pgtandem analyze --schema public",
    "Exit codes: 0 printed; 1 not initialized, cannot connect",
  ],
  async run(context) {
    noPositionals(context);
    const schema = await withSession(
      context.config,
      context.registry,
      context.io,
      async ({ state }) => {
        await state.assertInitialized();
        return await state.catalog.readSchema(context.config.schema);
      },
    );
    context.io.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    return 0;
  },
};
