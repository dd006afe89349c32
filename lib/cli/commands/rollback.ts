import { type Command, noPositionals, printResult } from "../command.ts";
import { withSession } from "../session.ts";

export const rollbackCommand: Command = {
  name: "rollback",
  summary: "Roll back the active migration: the schema is exactly as before its start",
  usage: "rollback",
  examples: ["pgtandem rollback"],
  async run(context) {
    noPositionals(context);
    const name = await withSession(
      context.config,
      context.registry,
      context.io,
      ({ engine }) => engine.rollback(),
      { writes: true },
    );
    printResult(context, `Migration "${name}" rolled back\n`, {
      migration: name,
      status: "rolled_back",
    });
    return 0;
  },
};
