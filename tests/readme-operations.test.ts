/**
 * docs/operations.md's "Operation examples", run as written: each YAML block is a migration (named by its
 * first-line comment), started, rolled back (the schema must be exactly as before), then started
 * and completed, in order, on one database.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { dumpSchema, leftovers } from "./helpers/catalog.ts";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const DOC = readFileSync(resolve(import.meta.dir, "..", "docs", "operations.md"), "utf8");
const start = DOC.indexOf("## Operation examples");
const next = DOC.indexOf("\n## ", start + 1);
const section = DOC.slice(start, next === -1 ? undefined : next);
const examples = [...section.matchAll(/^```yaml\n# (\S+\.yaml)[^\n]*\n([\s\S]*?)^```$/gm)].map((
  [, name, body],
) => ({ name: name!, body: body! }));

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

test("there is one example per operation kind", () => {
  const kinds = new Set(
    examples.flatMap((e) => [...e.body.matchAll(/^ {2}- (\w+):/gm)].map((m) => m[1])),
  );
  expect([...kinds].sort()).toEqual([
    "add_column",
    "alter_column",
    "create_constraint",
    "create_index",
    "create_table",
    "drop_column",
    "drop_constraint",
    "drop_index",
    "drop_multicolumn_constraint",
    "drop_table",
    "rename_column",
    "rename_constraint",
    "rename_table",
    "set_replica_identity",
    "sql",
  ]);
});

for (const example of examples) {
  test(example.name, async () => {
    const file = await migrationFile(example.name, example.body);
    const before = await dumpSchema(db.sql, "public");
    await cliOk(db.url, ["start", file]);
    await cliOk(db.url, ["rollback"]);
    expect(await dumpSchema(db.sql, "public")).toEqual(before);
    await cliOk(db.url, ["start", file, "--complete"]);
    expect(await leftovers(db.sql, "public")).toEqual([]);
  });
}
