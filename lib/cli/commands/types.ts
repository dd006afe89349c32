/**
 * `types [--out DIR]`: writes `pgtandem.d.ts`, the declarations of module "pgtandem" (generated
 * with tsc from lib/mod.ts when the binary is built, zod's types included), so editors and `tsc`
 * type-check migrations and plugins with no node_modules. Also writes a `tsconfig.json` that
 * includes it when DIR has none, and otherwise prints the lines to add.
 */
import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PgtandemError } from "../../errors.ts";
import { runtime } from "../../runtime.ts";
import { type Command, noPositionals } from "../command.ts";

/** The file `types` writes. */
export const DECLARATION_FILE = "pgtandem.d.ts";

/** A tsconfig.json for a folder of migrations and plugins that import "pgtandem". */
export const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "bundler",
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    types: [],
  },
  include: [DECLARATION_FILE, "**/*.ts"],
};

/** `pgtandem types`. */
export const typesCommand: Command = {
  name: "types",
  summary: 'Write pgtandem.d.ts (module "pgtandem") so editors type-check migrations and plugins',
  usage: "types [--out DIR]",
  examples: [
    "pgtandem types                 # ./pgtandem.d.ts (and ./tsconfig.json if there is none)",
    "pgtandem types --out migrations  # migrations/pgtandem.d.ts (+ tsconfig.json): never migrations",
  ],
  async run(context) {
    noPositionals(context);
    const { io } = context;
    const declarations = runtime().declarations;
    if (!declarations) {
      throw new PgtandemError(
        "internal",
        "this build of pgtandem carries no type declarations: use a release binary " +
          "(scripts/build-binaries.ts) or run from the repository",
      );
    }
    const out = (context.args.flags.out as string | undefined) ?? ".";
    await mkdir(out, { recursive: true });
    const file = join(out, DECLARATION_FILE);
    await writeFile(file, await declarations());
    io.stdout.write(`Wrote ${file}\n`);
    const tsconfig = join(out, "tsconfig.json");
    const text = `${JSON.stringify(TSCONFIG, null, 2)}\n`;
    if (await access(tsconfig).then(() => true, () => false)) {
      io.stdout.write(
        `${tsconfig} exists: make sure it includes "${DECLARATION_FILE}", for example:\n${text}`,
      );
    } else {
      await writeFile(tsconfig, text);
      io.stdout.write(`Wrote ${tsconfig}\n`);
    }
    return 0;
  },
};
