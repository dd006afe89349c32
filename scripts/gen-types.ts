/**
 * Generates `pgtandem.d.ts`: one self-contained declaration file for module "pgtandem", which
 * `pgtandem types` writes so editors type-check migrations and plugins with no node_modules.
 *
 * tsc does the work: lib/mod.ts and zod's TypeScript sources (zod ships them) are compiled with
 * `--declaration --emitDeclarationOnly --outFile` and `module: amd`, which puts every module's
 * declarations in one file as `declare module "lib/dsl/mod" { … }` blocks. A small rewrite then
 * moves those names under `pgtandem/internal/` (so they cannot clash with a user's own modules),
 * and a last block re-exports lib/mod.ts as "pgtandem". `noCheck` skips type checking: deno check
 * and the tests do that; here we only want declarations (about 6 s instead of 30 s).
 *
 *   bun scripts/gen-types.ts [--out FILE]      (default: print to stdout)
 *
 * @module
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { VERSION } from "../lib/version.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Prefix of the internal module names in the generated file. */
export const INTERNAL_PREFIX = "pgtandem/internal/";

/** The text of pgtandem.d.ts for the sources in this checkout. */
export async function generateDeclarations(): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "pgtandem-dts-"));
  try {
    // Copies outside node_modules: tsc emits declarations only for a program's own sources.
    await cp(join(ROOT, "lib"), join(work, "lib"), { recursive: true });
    await cp(join(ROOT, "node_modules", "zod", "src"), join(work, "zod"), { recursive: true });
    const outFile = join(work, "pgtandem.d.ts");
    const program = ts.createProgram([join(work, "lib", "mod.ts")], {
      declaration: true,
      emitDeclarationOnly: true,
      noCheck: true,
      outFile,
      module: ts.ModuleKind.AMD,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      allowImportingTsExtensions: true,
      strict: true,
      skipLibCheck: true,
      types: [],
      rootDir: work,
      baseUrl: work,
      paths: { zod: ["./zod/index.ts"] },
    });
    const result = program.emit();
    const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (result.emitSkipped || errors.length > 0) {
      const text = ts.formatDiagnostics(errors, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => work,
        getNewLine: () => "\n",
      });
      throw new Error(`tsc could not emit declarations:\n${text}`);
    }
    return bundle(await readFile(outFile, "utf8"));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Renames the internal modules and adds module "pgtandem". */
function bundle(emitted: string): string {
  const names = new Set([...emitted.matchAll(/^declare module "([^"]+)" \{/gm)].map((m) => m[1]!));
  if (!names.has("lib/mod")) throw new Error('tsc emitted no "lib/mod" module');
  const renamed = emitted.replace(
    /"([^"\n]+)"/g,
    (whole, name: string) => (names.has(name) ? `"${INTERNAL_PREFIX}${name}"` : whole),
  );
  return [
    `// Type declarations of module "pgtandem" ${VERSION}, written by "pgtandem types".`,
    "// Generated from pgtandem's sources (and zod's) with tsc; do not edit.",
    "// Include this file in your tsconfig.json; migrations and plugins then type-check with",
    '// `import { … } from "pgtandem"` and no node_modules.',
    "",
    renamed.trimEnd(),
    'declare module "pgtandem" {',
    `    export * from "${INTERNAL_PREFIX}lib/mod";`,
    "}",
    "",
  ].join("\n");
}

if (import.meta.main) {
  const index = process.argv.indexOf("--out");
  const text = await generateDeclarations();
  if (index === -1) process.stdout.write(text);
  else {
    const out = process.argv[index + 1];
    if (!out) throw new Error("--out needs a file name");
    await writeFile(out, text);
    console.error(`wrote ${out} (${text.length} characters)`);
  }
}
