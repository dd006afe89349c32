/**
 * The bad-input contract, asserted the same way everywhere: the command exits 1 with one line on
 * stderr (no stack trace without --verbose) matching `pattern`, and the database is exactly as
 * before — same schema dump, same migration history.
 */
import { expect } from "bun:test";
import { dumpSchema } from "./catalog.ts";
import { cli, type CliResult, migrationFile } from "./cli.ts";
import type { TestDatabase } from "./postgres.ts";

async function history(db: TestDatabase) {
  return await db.sql`select name, done from pgroll.migrations order by created_at`;
}

/** Runs `args` and expects the command to be refused without changing anything. */
export async function expectCliRejected(
  db: TestDatabase,
  args: string[],
  pattern: RegExp,
): Promise<CliResult> {
  const before = await dumpSchema(db.sql, "public");
  const historyBefore = await history(db);
  const result = await cli(db.url, args);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
  expect(await dumpSchema(db.sql, "public")).toEqual(before);
  expect(await history(db)).toEqual(historyBefore);
  return result;
}

/** Writes a migration file and expects `start` on it to be refused without changing anything. */
export async function expectStartRejected(
  db: TestDatabase,
  fileName: string,
  content: object | string,
  pattern: RegExp,
): Promise<CliResult> {
  return await expectCliRejected(db, ["start", await migrationFile(fileName, content)], pattern);
}
