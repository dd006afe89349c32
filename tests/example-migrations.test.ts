/**
 * The example migrations users copy (migrations/*.ts, written with the DSL and importing
 * "pgtandem"), in sequence on one database, each start → rollback (the schema must be exactly as
 * before) → start --complete, through the real CLI process (which serves the "pgtandem" module).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { dumpSchema, leftovers } from "./helpers/catalog.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const ROOT = resolve(import.meta.dir, "..");
const files = readdirSync(join(ROOT, "migrations")).filter((f) => f.endsWith(".ts")).sort();
let db: TestDatabase;

async function pgtandem(...args: string[]) {
  const child = Bun.spawn([process.execPath, join(ROOT, "main.ts"), ...args], {
    env: { ...process.env, PGROLL_PG_URL: db.url },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`pgtandem ${args.join(" ")} exited ${code}: ${stderr}`);
}

beforeAll(async () => {
  db = await testDatabase();
  await pgtandem("init");
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

test("the examples cover a sequence of at least ten migrations", () => {
  expect(files.length).toBeGreaterThanOrEqual(10);
});

for (const file of files) {
  test(file, async () => {
    const path = join(ROOT, "migrations", file);
    const before = await dumpSchema(db.sql, "public");
    await pgtandem("start", path);
    await pgtandem("rollback");
    expect(await dumpSchema(db.sql, "public")).toEqual(before);
    await pgtandem("start", path, "--complete");
    expect(await leftovers(db.sql, "public")).toEqual([]);
  });
}
