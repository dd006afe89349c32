/**
 * pgtandem's entry point: wires the CLI to the process and the runtime port (lib/runtime.ts) to
 * the runtime. Everything else lives in lib/.
 *
 * User migrations and plugins `import … from "pgtandem"` from any folder, with no node_modules:
 * under Bun (`bun main.ts` and the compiled binary) a runtime plugin serves lib/mod.ts as the
 * virtual module "pgtandem"; under Deno, deno.json's import map does.
 */
import process from "node:process";
import { setTimeout } from "node:timers";
import { runCli } from "./lib/cli/run.ts";
import { isDeadSocketWrite } from "./lib/engine/connection.ts";
import * as pgtandem from "./lib/mod.ts";
import { pgtandemModulePlugin, setRuntime } from "./lib/runtime.ts";

/** The one Bun API used here; typed locally so the entry type-checks under Deno too. */
interface BunRuntime {
  plugin(plugin: ReturnType<typeof pgtandemModulePlugin>): unknown;
}
(globalThis as { Bun?: BunRuntime }).Bun?.plugin(pgtandemModulePlugin({ ...pgtandem }));

/** Set by a release binary's generated entry (scripts/build-binaries.ts) before this runs. */
const embedded = (globalThis as Record<PropertyKey, unknown>)[Symbol.for("pgtandem.declarations")];

setRuntime({
  declarations: async () => {
    if (typeof embedded === "string") return embedded;
    // From a checkout: generate them now with tsc. A variable specifier keeps the generator (and
    // TypeScript) out of compiled binaries.
    const generator = new URL("./scripts/gen-types.ts", import.meta.url).href;
    try {
      const { generateDeclarations } = await import(generator);
      return await generateDeclarations();
    } catch (cause) {
      throw new Error(
        `this build of pgtandem carries no type declarations and cannot generate them ` +
          `(${(cause as Error).message}): use a release binary from scripts/build-binaries.ts`,
        { cause },
      );
    }
  },
});

// A lost connection must end the command with its one line, not a driver's stack trace.
process.on("uncaughtException", (error) => {
  if (isDeadSocketWrite(error)) return;
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
process.exitCode = code;
// Never outlive the command: after a lost connection the driver may still hold a socket it
// reopened while we closed the pool. Unref'd, so it never delays a normal exit.
setTimeout(() => process.exit(code), 2000).unref();
