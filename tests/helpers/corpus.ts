/**
 * Where pgroll's example migrations are (Apache-2.0 data files, not part of this repository):
 * env `PGTANDEM_PGROLL_EXAMPLES`, else `../shared/pgroll-examples` beside the checkout when it
 * exists. When they are absent, the tests that read them skip and say so in one line, so `npm
 * test` passes on a plain clone; under `CI=true` their absence is a failure, so CI never passes
 * without them by accident.
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { pathToFileURL } from "node:url";

const configured = process.env.PGTANDEM_PGROLL_EXAMPLES;
const candidate = configured ??
  new URL("../../../shared/pgroll-examples/", import.meta.url).pathname;
const found = existsSync(candidate);

if (!found) {
  const where = configured ? `PGTANDEM_PGROLL_EXAMPLES=${configured}` : candidate;
  if (process.env.CI === "true") {
    throw new Error(`pgroll's example migrations are missing (${where}); CI needs them`);
  }
  console.error(`skipping the tests over pgroll's example migrations: ${where} does not exist`);
}

/** The examples folder as a file URL ending in "/", or undefined when absent. */
export const corpusUrl: URL | undefined = found
  ? pathToFileURL(candidate.endsWith("/") ? candidate : `${candidate}/`)
  : undefined;
