/**
 * For tests that begin from tables made by hand: `init`, then a baseline of the schema as it is
 * (the CLI refuses to start a migration on tables without history).
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliOk } from "./cli.ts";
import type { TestDatabase } from "./postgres.ts";

/** Initialises the state store and records a baseline named `00_base` of schema public. */
export async function initWithBaseline(db: TestDatabase): Promise<void> {
  await cliOk(db.url, ["init"]);
  const dir = await mkdtemp(join(tmpdir(), "pgtandem-baseline-"));
  await cliOk(db.url, ["baseline", "00_base", dir, "--yes"]);
}
