/**
 * The layer check: every relative import in lib/ and main.ts must point to the same layer or a
 * lower one, in the order ARCHITECTURE.md writes down. Run by CI (`bun scripts/check-layers.ts`);
 * prints one line per offending import and exits 1.
 *
 * Why a script and not a convention: the order is what lets an operation or a plugin be read,
 * tested and planned without a database or the engine, and one convenient import is all it takes
 * to lose that.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import process from "node:process";

/**
 * Lowest first. A module may import its own layer and the layers before it. lib/migration/params
 * (the zod schemas of the built-in operations' params) is data the operations read, so it sits
 * below them while the loader (the rest of lib/migration) sits above.
 */
export const LAYERS: readonly (readonly string[])[] = [
  [
    "lib/errors.ts",
    "lib/sql.ts",
    "lib/user-sql.ts",
    "lib/naming.ts",
    "lib/sql-tokens.ts",
    "lib/sql-rewrite.ts",
    "lib/version.ts",
    "lib/runtime.ts",
  ],
  ["lib/schema", "lib/pg", "lib/plan", "lib/migration/params"],
  ["lib/operations"],
  ["lib/migration", "lib/dsl"],
  ["lib/plugins", "lib/convert"],
  ["lib/engine"],
  ["lib/lint"],
  ["lib/cli"],
  ["lib/mod.ts", "main.ts"],
];

/**
 * The layer index of a project file (the longest matching entry wins, so lib/migration/params
 * sits below lib/migration), or undefined for files outside the layered code.
 */
export function layerOf(file: string): number | undefined {
  let best: { layer: number; length: number } | undefined;
  LAYERS.forEach((members, layer) => {
    for (const member of members) {
      const matches = file === member || file.startsWith(`${member}/`);
      if (matches && (!best || member.length > best.length)) {
        best = { layer, length: member.length };
      }
    }
  });
  return best?.layer;
}

/** Relative import specifiers of a module (static, dynamic and `export … from`). */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** One line per import that points up the layer order. */
export async function layerViolations(root: string): Promise<string[]> {
  const files = ["main.ts", ...(await typescriptFiles(root, "lib"))];
  const problems: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from === undefined) continue;
    const source = await readFile(path.join(root, file), "utf8");
    for (const specifier of relativeImports(source)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const to = layerOf(target);
      if (to !== undefined && to > from) {
        problems.push(
          `${file} imports ${target}: ${describe(from)} must not import ${describe(to)}`,
        );
      }
    }
  }
  return problems;
}

function describe(layer: number): string {
  return LAYERS[layer]!.join(", ");
}

async function typescriptFiles(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await typescriptFiles(root, relative)));
    else if (entry.name.endsWith(".ts")) files.push(relative);
  }
  return files;
}

if (import.meta.main) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
  const problems = await layerViolations(root);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`layer check: ${problems.length} import(s) against ARCHITECTURE.md's order`);
    process.exit(1);
  }
  console.log("layer check: every import points down the layer order");
}
