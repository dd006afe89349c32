/**
 * The folder's schema as types (`pgtandem types DIR`, refreshed by `create`): replays the
 * folder's migrations through the engine's virtual schema — no database — and writes
 * `pgtandem-schema.d.ts`, a module augmentation of "pgtandem" that fills `FolderSchema`
 * (lib/dsl/folder-schema.ts): the tables and columns before each migration, after the last one,
 * and the params of the configured plugins' kinds. docs/typescript.md describes the design.
 */
import { readFile, writeFile } from "node:fs/promises";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { completedForm } from "../engine/phases.ts";
import { buildSteps } from "../operations/steps.ts";
import { PgtandemError, ValidationError } from "../errors.ts";
import { listMigrationFolder } from "../migration/folder.ts";
import { loadMigrationFile } from "../migration/loader.ts";
import type { ParsedOperation } from "../operations/operation.ts";
import type { Registry } from "../operations/registry.ts";
import { findConfig } from "../plugins/config.ts";
import type { VirtualSchema } from "../schema/model.ts";

/** The file `types` writes next to pgtandem.d.ts. */
export const SCHEMA_TYPES_FILE = "pgtandem-schema.d.ts";

/** The line of the file that names the folder it was generated from (relative to the file). */
const FOLDER_LINE = "// folder: ";

/** Table → column → SQL type. */
type Shape = Record<string, Record<string, string>>;

/** The replayed folder: each migration's schema before it, the last one's after, problems. */
export interface FolderReplay {
  before: { name: string; schema: Shape }[];
  latest: Shape;
  /** Migrations that failed to load or replay: the types after them may lack their changes. */
  warnings: string[];
}

/**
 * Replays the migrations of `dir` in order from an empty schema. A migration that does not load
 * is reported and skipped; one that does not apply to the replayed schema (say, it drops a table
 * made by raw SQL) keeps the operations that do apply. One broken file does not cost the types of
 * the others.
 */
export async function replayFolder(dir: string, registry: Registry): Promise<FolderReplay> {
  const entries = await listMigrationFolder(dir);
  const baseSchema = "public";
  let schema: VirtualSchema = { name: baseSchema, tables: [] };
  const before: FolderReplay["before"] = [];
  const warnings: string[] = [];
  for (const entry of entries) {
    before.push({ name: entry.name, schema: shapeOf(schema) });
    try {
      const loaded = await loadMigrationFile(entry.path, registry);
      schema = settled(replayMigration(loaded.operations, schema, entry.path, warnings));
    } catch (error) {
      if (!(error instanceof PgtandemError)) throw error;
      const message = error instanceof ValidationError
        ? error.describe().split("\n")[0]!
        : error.message;
      warnings.push(
        `${message.startsWith(entry.path) ? message : `${entry.path}: ${message}`}; ` +
          `the types skip this migration`,
      );
    }
  }
  return { before, latest: shapeOf(schema), warnings };
}

/**
 * The schema once the migration is complete: physical names are the virtual ones and nothing is
 * reserved until complete any more (the engine would read exactly this from the catalog).
 */
function settled(schema: VirtualSchema): VirtualSchema {
  const done = completedForm(schema);
  delete done.reservedRelationNames;
  for (const table of done.tables) {
    delete table.droppedConstraints;
    delete table.renamedConstraints;
  }
  return done;
}

/**
 * One migration's operations from `schema`, as start threads them. When the whole migration does
 * not apply (it names a table made by raw SQL, which the replay cannot see), each operation that
 * applies still does, and each one that does not is reported.
 */
function replayMigration(
  operations: readonly ParsedOperation[],
  schema: VirtualSchema,
  path: string,
  warnings: string[],
): VirtualSchema {
  const whole = buildSteps(operations, schema, schema.name, { validate: true });
  if (whole.issues.length === 0) return whole.steps.at(-1)?.after ?? schema;
  let current = schema;
  operations.forEach((operation, index) => {
    const one = buildSteps([operation], current, schema.name, { validate: true });
    const [issue] = one.issues;
    if (issue) {
      const where = ["operations", index, ...issue.path.slice(2)].join(".");
      warnings.push(
        `${path}: ${where}: ${issue.message} in the schema the migrations before it leave ` +
          `(tables made by raw SQL are unknown to the types); the types skip this operation`,
      );
    } else current = one.steps.at(-1)?.after ?? current;
  });
  return current;
}

function shapeOf(schema: VirtualSchema): Shape {
  const shape: Shape = {};
  for (const table of [...schema.tables].sort((a, b) => compare(a.name, b.name))) {
    shape[table.name] = Object.fromEntries(table.columns.map((c) => [c.name, c.type]));
  }
  return shape;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The text of pgtandem-schema.d.ts for `replay`, written in `outDir`; `plugins` are the plugin
 * files whose kinds `operation(kind, …)` types (TypeScript files only: their types are read
 * from the source with `typeof import(…)`).
 */
export function renderSchemaTypes(
  replay: FolderReplay,
  options: { dir: string; outDir: string; plugins: readonly string[] },
): string {
  // Shared aliases keep the file small: most migrations leave most tables as they were.
  const tables = new Map<string, string>();
  const schemas = new Map<string, string>();
  const aliases: string[] = [];
  const tableType = (columns: Record<string, string>): string => {
    const text = `{ ${
      Object.entries(columns).map(([c, type]) => `readonly ${key(c)}: ${JSON.stringify(type)};`)
        .join(" ")
    } }`;
    let alias = tables.get(text);
    if (!alias) {
      alias = `T${tables.size + 1}`;
      tables.set(text, alias);
      aliases.push(`type ${alias} = ${text};`);
    }
    return alias;
  };
  const schemaType = (shape: Shape): string => {
    const entries = Object.entries(shape).map(([t, columns]) =>
      `  readonly ${key(t)}: ${tableType(columns)};`
    );
    const text = entries.length === 0 ? "Record<never, never>" : `{\n${entries.join("\n")}\n}`;
    let alias = schemas.get(text);
    if (!alias) {
      alias = `S${schemas.size + 1}`;
      schemas.set(text, alias);
      aliases.push(`type ${alias} = ${text};`);
    }
    return alias;
  };
  const migrations = replay.before.map(({ name, schema }) =>
    `      readonly ${key(name)}: ${schemaType(schema)};`
  );
  const latest = schemaType(replay.latest);
  const imports = options.plugins
    .filter((p) => [".ts", ".mts"].includes(extname(p).toLowerCase()))
    .map((p) =>
      `PluginOperations<typeof import(${JSON.stringify(importPath(options.outDir, p))}).default>`
    );
  return [
    `// The schema of the migrations folder, written by "pgtandem types"; do not edit.`,
    "// Regenerate it when the folder changes (`pgtandem create` does when this file exists).",
    "// docs/typescript.md: `migration(name, …)` checks tables and columns against it.",
    `${FOLDER_LINE}${portable(relative(options.outDir, options.dir) || ".")}`,
    `import type { PluginOperations } from "pgtandem";`,
    "",
    ...aliases,
    "",
    `declare module "pgtandem" {`,
    "  interface FolderSchema {",
    "    /** Each migration of the folder: the tables and columns the migrations before it leave. */",
    "    readonly migrations: {",
    ...migrations,
    "    };",
    "    /** After the last migration: what a new migration sees. */",
    `    readonly latest: ${latest};`,
    "    /** The params of the configured plugins' operation kinds. */",
    `    readonly operations: ${
      imports.length === 0 ? "Record<never, never>" : imports.join(" &\n      ")
    };`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** An object key: bare when it is an identifier, quoted otherwise. */
function key(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

function portable(path: string): string {
  return path.split(sep).join("/");
}

function importPath(from: string, file: string): string {
  const path = portable(relative(resolve(from), resolve(file)));
  return path.startsWith(".") ? path : `./${path}`;
}

/**
 * Writes `outDir/pgtandem-schema.d.ts` for the folder `dir`; the plugins are those of the
 * folder's config file and `extraPlugins` (`--plugin`). Returns the file and the warnings.
 */
export async function writeSchemaTypes(
  dir: string,
  outDir: string,
  registry: Registry,
  extraPlugins: readonly string[] = [],
): Promise<{ file: string; warnings: string[] }> {
  const replay = await replayFolder(dir, registry);
  const config = await findConfig(dir);
  const plugins = [...extraPlugins.map((p) => resolve(p)), ...(config?.plugins ?? [])];
  const file = join(outDir, SCHEMA_TYPES_FILE);
  await writeFile(file, renderSchemaTypes(replay, { dir, outDir, plugins }));
  return { file, warnings: replay.warnings };
}

/**
 * The schema types files generated for folder `dir` in the places `types` writes them (the
 * current folder, the folder itself, its parent): `create` refreshes these.
 */
export async function schemaTypesFilesOf(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const outDir of new Set([".", dir, dirname(dir)].map((d) => resolve(d)))) {
    const file = join(outDir, SCHEMA_TYPES_FILE);
    const text = await readFile(file, "utf8").catch(() => undefined);
    const line = text?.split("\n").find((l) => l.startsWith(FOLDER_LINE));
    if (line && resolve(outDir, line.slice(FOLDER_LINE.length)) === resolve(dir)) found.push(file);
  }
  return found;
}
