/**
 * pgroll's own 56 example migrations, in the order of their ledger, on one database: for each,
 * `start` then `rollback` must leave the user schema exactly as before (raw SQL without `down` is
 * exempt, as in pgroll), then `start --complete` applies it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { dumpSchema } from "./helpers/catalog.ts";
import { cliOk } from "./helpers/cli.ts";
import { corpusUrl } from "./helpers/corpus.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const corpus = corpusUrl ?? new URL("file:///nonexistent/");
const ledger = corpusUrl
  ? readFileSync(new URL(".ledger", corpus), "utf8").split("\n").map((l) => l.trim())
    .filter((l) => l !== "")
  : [];

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

/** Raw SQL without `down` cannot be rolled back; pgroll exempts it from the rollback check. */
function irreversible(file: string): boolean {
  const doc = YAML.parse(readFileSync(new URL(file, corpus), "utf8")) as {
    operations: Record<string, { down?: string; onComplete?: boolean }>[];
  };
  return doc.operations.some((op) => op.sql !== undefined && !op.sql.down && !op.sql.onComplete);
}

test.skipIf(!corpusUrl)("the ledger lists 56 migrations", () => {
  expect(ledger).toHaveLength(56);
});

for (const file of ledger) {
  test(file, async () => {
    const path = fileURLToPath(new URL(file, corpus));
    const before = await dumpSchema(db.sql, "public");
    await cliOk(db.url, ["start", path]);
    await cliOk(db.url, ["rollback"]);
    if (!irreversible(file)) {
      expect(await dumpSchema(db.sql, "public")).toEqual(before);
    } else {
      // Undo what the irreversible SQL did by hand is impossible in general: apply it again
      // below only if the rollback left the schema as before, which raw SQL without down cannot.
      await resetIrreversible(file);
    }
    await cliOk(db.url, ["start", path, "--complete"]);
  });
}

/**
 * The irreversible raw SQL files of the corpus create objects that the second start would
 * create again; drop them so it can (this is what a user would do by hand).
 */
async function resetIrreversible(file: string): Promise<void> {
  const doc = YAML.parse(readFileSync(new URL(file, corpus), "utf8")) as {
    operations: { sql?: { up: string } }[];
  };
  for (const op of doc.operations) {
    const match = /create\s+(table|type)\s+(\w+)/i.exec(op.sql?.up ?? "");
    if (match) await db.sql.unsafe(`drop ${match[1]} if exists "${match[2]}" cascade`);
  }
}
