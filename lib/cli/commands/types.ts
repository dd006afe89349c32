/**
 * `types [DIR] [--out OUT]`: writes `pgtandem.d.ts`, the declarations of module "pgtandem"
 * (generated with tsc from lib/mod.ts when the binary is built, zod's types included), so editors
 * and `tsc` type-check migrations and plugins with no node_modules. With a migrations folder DIR
 * (default `./migrations` when it exists) it also writes `pgtandem-schema.d.ts`, the folder's
 * tables and columns before each migration and its plugins' kinds (../schema-types.ts). Also
 * writes a `tsconfig.json` that includes them when OUT has none, and otherwise prints the lines
 * to add.
 */
import { access, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PgtandemError } from "../../errors.ts";
import { runtime } from "../../runtime.ts";
import { type Command, type CommandContext, UsageError } from "../command.ts";
import { SCHEMA_TYPES_FILE, schemaTypesFilesOf, writeSchemaTypes } from "../schema-types.ts";

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
  include: [DECLARATION_FILE, SCHEMA_TYPES_FILE, "**/*.ts"],
};

/** `pgtandem types`. */
export const typesCommand: Command = {
  name: "types",
  summary:
    'Write pgtandem.d.ts (module "pgtandem") and the migrations folder\'s schema as types, so tsc checks migrations',
  usage: "types [DIR] [--out OUT]",
  migrationsPath: (args) => args.positionals[0] ?? DEFAULT_FOLDER,
  examples: [
    "pgtandem types                 # ./pgtandem.d.ts, ./pgtandem-schema.d.ts of ./migrations",
    "pgtandem types db/migrations --out db",
    "DIR: the migrations folder (default ./migrations when it exists); its tables and columns",
    'before each migration type migration("<name>", …) (see docs/typescript.md)',
  ],
  async run(context) {
    const { io } = context;
    const dir = await migrationsFolder(context);
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
    if (dir !== undefined) {
      const schema = await writeSchemaTypes(dir, out, context.registry, pluginFlags(context));
      for (const warning of schema.warnings) io.stderr.write(`Warning: ${warning}\n`);
      io.stdout.write(`Wrote ${schema.file} (the schema of ${dir})\n`);
    }
    const tsconfig = join(out, "tsconfig.json");
    const text = `${JSON.stringify(TSCONFIG, null, 2)}\n`;
    if (await access(tsconfig).then(() => true, () => false)) {
      io.stdout.write(
        `${tsconfig} exists: make sure it includes "${DECLARATION_FILE}" and "${SCHEMA_TYPES_FILE}", for example:\n${text}`,
      );
    } else {
      await writeFile(tsconfig, text);
      io.stdout.write(`Wrote ${tsconfig}\n`);
    }
    return 0;
  },
};

/** The folder `types` reads when given none. */
const DEFAULT_FOLDER = "migrations";

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** DIR, or ./migrations when it exists, or undefined (then only pgtandem.d.ts is written). */
async function migrationsFolder(context: CommandContext): Promise<string | undefined> {
  const { positionals } = context.args;
  if (positionals.length > 1) {
    throw new UsageError(`"types" takes one migrations folder, got "${positionals.join(" ")}"`);
  }
  const [dir] = positionals;
  if (dir === undefined) return (await isFolder(DEFAULT_FOLDER)) ? DEFAULT_FOLDER : undefined;
  if (!(await isFolder(dir))) {
    throw new PgtandemError("invalid_input", `migrations folder "${dir}" is not a folder`);
  }
  return dir;
}

function pluginFlags(context: CommandContext): string[] {
  const plugins = context.args.flags.plugin;
  return Array.isArray(plugins) ? plugins : typeof plugins === "string" ? [plugins] : [];
}

/**
 * After `create` added a migration to `dir`: rewrites the schema types generated for it, if
 * any (a new migration's own entry is the schema after the others). Returns the files written.
 */
export async function refreshSchemaTypes(
  context: CommandContext,
  dir: string,
): Promise<string[]> {
  const written: string[] = [];
  for (const file of await schemaTypesFilesOf(dir)) {
    const outDir = join(file, "..");
    try {
      const result = await writeSchemaTypes(dir, outDir, context.registry, pluginFlags(context));
      for (const warning of result.warnings) context.io.stderr.write(`Warning: ${warning}\n`);
      written.push(result.file);
    } catch (error) {
      // The migration was created; stale types must not fail the command.
      context.io.stderr.write(
        `Warning: could not refresh ${file}: ${(error as Error).message}; ` +
          `run "pgtandem types ${dir}"\n`,
      );
    }
  }
  return written;
}
