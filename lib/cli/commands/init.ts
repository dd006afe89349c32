import { VERSION } from "../../version.ts";
import { type Command, noPositionals, printResult } from "../command.ts";
import { withSession } from "../session.ts";

export const initCommand: Command = {
  name: "init",
  summary: "Create the state store (idempotent)",
  usage: "init",
  examples: ["pgtandem init --postgres-url postgres://user@localhost/app"],
  async run(context) {
    noPositionals(context);
    await withSession(context.config, context.registry, context.io, async ({ state }) => {
      // Already initialized by this version: nothing to do. Re-running the DDL would need the
      // state schema's owner and CREATE on the database, which another deploying login (a CI
      // runner with USAGE and table privileges on the state schema) does not have.
      if (await state.isInitialized() && (await state.storedVersion()) === VERSION) return;
      await state.init(VERSION);
    }, { writes: true });
    printResult(context, "Initialization complete\n", {
      status: "initialized",
      stateSchema: context.config.stateSchema,
    });
    return 0;
  },
};
