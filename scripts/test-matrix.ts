/**
 * Runs the whole test suite (scripts/test.ts) once per supported PostgreSQL major, one after the
 * other, and prints a summary. Exits non-zero if any version failed. Extra arguments go to
 * `bun test`, e.g. `bun scripts/test-matrix.ts tests/embedded-postgres.test.ts`.
 *
 * Sequential on purpose: each run already uses the machine's cores for its test files, and
 * interleaved output from five runs would be unreadable.
 *
 * @module
 */
import { spawn } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { POSTGRES_VERSIONS } from "./embedded-postgres.ts";

const testScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "test.ts");
const results: { version: number; code: number; seconds: number }[] = [];

for (const version of POSTGRES_VERSIONS) {
  console.error(`\n=== PostgreSQL ${version} ===`);
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [testScript, ...process.argv.slice(2)], {
      stdio: "inherit",
      env: { ...process.env, PGTANDEM_PG_VERSION: String(version) },
    });
    child.on("error", () => resolve(1));
    child.on("exit", (code) => resolve(code ?? 1));
  });
  results.push({ version, code, seconds: (Date.now() - started) / 1000 });
}

console.log("\nPostgreSQL  result  time");
for (const { version, code, seconds } of results) {
  const result = code === 0 ? "pass" : `FAIL (exit ${code})`;
  console.log(`${String(version).padEnd(10)}  ${result.padEnd(6)}  ${seconds.toFixed(1)} s`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
