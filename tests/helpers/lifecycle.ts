/**
 * The lifecycle driver every operation test uses, as pgroll's: start → checks → rollback (the
 * schema must be exactly as before) → checks → start again → complete → checks.
 */
import { expect } from "bun:test";
import type { TestDatabase } from "./postgres.ts";
import { dumpSchema, schemaExists } from "./catalog.ts";
import { cliOk, migrationFile } from "./cli.ts";

export interface LifecycleCase {
  /** Migration name; also the file name (and so the version schema `public_<name>`). */
  name: string;
  /** The document (written as JSON), or a file's text in the format `extension` names. */
  migration: object | string;
  /** The file's extension: `json` (the default), `yaml` or `ts` (a DSL module). */
  extension?: "json" | "yaml" | "ts";
  afterStart?: () => Promise<void>;
  afterRollback?: () => Promise<void>;
  afterComplete?: () => Promise<void>;
  /** Extra CLI flags for start. */
  startArgs?: string[];
}

export async function runLifecycle(db: TestDatabase, c: LifecycleCase): Promise<void> {
  const file = await migrationFile(`${c.name}.${c.extension ?? "json"}`, c.migration);
  const before = await dumpSchema(db.sql, "public");
  await cliOk(db.url, ["start", file, ...(c.startArgs ?? [])]);
  expect(await schemaExists(db.sql, `public_${c.name}`)).toBe(true);
  await c.afterStart?.();

  await cliOk(db.url, ["rollback"]);
  expect(await schemaExists(db.sql, `public_${c.name}`)).toBe(false);
  expect(await dumpSchema(db.sql, "public")).toEqual(before);
  await c.afterRollback?.();

  await cliOk(db.url, ["start", file, ...(c.startArgs ?? [])]);
  await cliOk(db.url, ["complete"]);
  expect(await schemaExists(db.sql, `public_${c.name}`)).toBe(true);
  await c.afterComplete?.();
}

/** Starts and completes a migration, for setting up the schema a case needs. */
export async function applyMigration(db: TestDatabase, name: string, migration: object) {
  const file = await migrationFile(`${name}.json`, migration);
  await cliOk(db.url, ["start", file, "--complete"]);
}
