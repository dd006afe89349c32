/**
 * The runtime port (ARCHITECTURE decision 9): the few things lib/ needs that differ between Bun,
 * a compiled Bun binary and Deno. lib/ only calls `runtime()`; main.ts wires the real thing with
 * `setRuntime` before the CLI runs. The defaults are runtime-neutral, so lib/ works embedded and in
 * tests without any wiring.
 *
 * Serving `import … from "pgtandem"` to user files is the entry's job, not lib's: Bun (and the
 * compiled binary) registers `pgtandemModulePlugin` with `Bun.plugin`; Deno maps the name through
 * deno.json's import map. Either way a user file runs from any folder, with no node_modules.
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** What lib/ asks of the runtime it runs on. */
export interface Runtime {
  /**
   * Imports the module at `path` (made absolute against the working directory) and returns its
   * namespace. Errors thrown while the module evaluates propagate unchanged.
   */
  importModule(path: string): Promise<Record<string, unknown>>;
  /**
   * The text of `pgtandem.d.ts`, declaring module "pgtandem" (see `pgtandem types`). Absent when
   * this build carries none.
   */
  declarations?: () => Promise<string>;
}

const neutral: Runtime = {
  importModule: async (path) =>
    await import(pathToFileURL(resolve(path)).href) as Record<string, unknown>,
};

let current: Runtime = neutral;

/** The runtime lib/ runs on. */
export function runtime(): Runtime {
  return current;
}

/** Replaces parts of the runtime; what is not given keeps its runtime-neutral default. */
export function setRuntime(overrides: Partial<Runtime>): void {
  current = { ...neutral, ...overrides };
}

/** The module name user migrations and plugins import. */
export const MODULE_NAME = "pgtandem";

/** The part of Bun's plugin builder `pgtandemModulePlugin` uses. */
export interface VirtualModuleBuilder {
  module(
    specifier: string,
    callback: () => { exports: Record<string, unknown>; loader: "object" },
  ): unknown;
}

/**
 * A Bun runtime plugin that serves `exports` (the namespace of lib/mod.ts) as the module
 * "pgtandem", for any importing file wherever it lives. Pass it to `Bun.plugin`; this module only
 * describes the plugin, so lib/ itself never touches a Bun API. Works in `bun main.ts` and in a
 * `bun build --compile` binary (tests/binary.test.ts runs a migration outside the repository).
 */
export function pgtandemModulePlugin(exports: Record<string, unknown>): {
  name: string;
  setup(build: VirtualModuleBuilder): void;
} {
  return {
    name: "pgtandem-module",
    setup(build) {
      build.module(MODULE_NAME, () => ({ exports, loader: "object" }));
    },
  };
}
