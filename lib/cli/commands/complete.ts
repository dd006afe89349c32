import { type Command, printResult } from "../command.ts";
import { withSession } from "../session.ts";

export const completeCommand: Command = {
  name: "complete",
  summary: "Complete the active migration: the old version goes away",
  usage: "complete",
  examples: ["pgtandem complete"],
  async run(context) {
    // pgroll's usage names a file here and ignores it; accept and ignore it too.
    const name = await withSession(
      context.config,
      context.registry,
      context.io,
      ({ engine }) => engine.complete(),
      { writes: true },
    );
    printResult(context, `Migration "${name}" completed successfully!\n`, {
      migration: name,
      status: "complete",
    });
    return 0;
  },
};
