/**
 * Runs the DSL's type tests (tests/dsl.types.ts) through tsc. They pass when everything compiles:
 * the correct uses type-check, and every `@ts-expect-error` line really is an error (tsc reports a
 * directive with nothing to suppress), so misuse that starts compiling fails this test.
 */
import { expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSC = fileURLToPath(new URL("../node_modules/.bin/tsc", import.meta.url));
const CONFIG = fileURLToPath(new URL("./dsl.types.tsconfig.json", import.meta.url));

/** tsc needs several seconds on a cold cache. */
const TIMEOUT_MS = 120_000;

test("misuse of the DSL fails to compile, correct use compiles", async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>(
    (resolve, reject) => {
      const child = spawn(TSC, ["--noEmit", "--pretty", "false", "-p", CONFIG], { cwd: ROOT });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, output }));
    },
  );
  // The output first, so a failure shows tsc's messages (e.g. an unused @ts-expect-error).
  expect(output).toBe("");
  expect(code).toBe(0);
}, TIMEOUT_MS);
