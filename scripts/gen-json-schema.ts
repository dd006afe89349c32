/**
 * Writes schema/migration.schema.json from the built-in registry's zod schemas.
 * `--check` writes nothing and exits 1 if the committed file is out of date (CI drift check).
 *
 *   bun scripts/gen-json-schema.ts [--check]
 */
import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { migrationJsonSchema } from "../lib/migration/json-schema.ts";
import { builtinRegistry } from "../lib/operations/builtins.ts";

const target = fileURLToPath(new URL("../schema/migration.schema.json", import.meta.url));
const expected = JSON.stringify(migrationJsonSchema(builtinRegistry()), null, 2) + "\n";

if (process.argv.includes("--check")) {
  const actual = await readFile(target, "utf8").catch(() => undefined);
  if (actual !== expected) {
    console.error(
      `${target} is ${actual === undefined ? "missing" : "out of date"}: ` +
        "the operation schemas changed; run `bun scripts/gen-json-schema.ts` and commit the result",
    );
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  await writeFile(target, expected);
  console.log(`wrote ${target}`);
}
