/**
 * `convert` on what a real client writes: drizzle-kit's `generate` output for a schema v1 → v2 (a
 * type change plus a new default on one column, a new NOT NULL column with a default, a new table
 * with a foreign key). The SQL is committed in tests/fixtures/drizzle/, and one test regenerates
 * it with drizzle-kit (no database, no TTY) to show it still matches. Converted with schema
 * knowledge (`--migrations DIR` or `--postgres-url`), the migration starts, rolls back and
 * completes on real PostgreSQL without an edit, as JSON and as TypeScript.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as pgtandem from "../lib/mod.ts";
import { pgtandemModulePlugin } from "../lib/runtime.ts";
import { dumpSchema } from "./helpers/catalog.ts";
import { cli, cliOk } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

// What main.ts does: serve "pgtandem" to migration files wherever they are.
Bun.plugin(pgtandemModulePlugin({ ...pgtandem }));

const ROOT = resolve(import.meta.dir, "..");
const FIXTURES = join(ROOT, "tests", "fixtures", "drizzle");
const V1 = join(FIXTURES, "0000_v1.sql");
const V2 = join(FIXTURES, "0001_v2.sql");

let dir: string;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pgtandem-drizzle-"));
});

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A database with pgtandem's state and drizzle's v1 schema applied (converted), with rows. */
async function databaseAtV1(folder: string): Promise<TestDatabase> {
  const db = await testDatabase();
  databases.push(db);
  await cliOk(db.url, ["init"]);
  await mkdir(folder, { recursive: true });
  const v1 = await cliOk(db.url, ["convert", V1, "--json"]);
  expect(v1.stderr).toBe("");
  const file = join(folder, "0000_v1.json");
  await writeFile(file, v1.stdout);
  await cliOk(db.url, ["start", "--complete", file]);
  await db.sql`insert into users (name, score) values ('ann', 5), ('bob', null)`;
  return db;
}

/** start → rollback (nothing left) → start --complete, then the v2 schema holds the old rows. */
async function runLifecycle(db: TestDatabase, file: string): Promise<void> {
  const before = await dumpSchema(db.sql, "public");
  await cliOk(db.url, ["start", file]);
  await cliOk(db.url, ["rollback"]);
  expect(await dumpSchema(db.sql, "public")).toEqual(before);
  await cliOk(db.url, ["start", "--complete", file]);
  expect([...await db.sql`select name, score, active from users order by id`]).toEqual([
    { name: "ann", score: "5", active: true },
    { name: "bob", score: null, active: true },
  ]);
  const [inserted] = await db.sql`insert into users (name) values ('cy') returning score, active`;
  expect(inserted).toEqual({ score: "0", active: true });
  await db.sql`insert into posts (author_id, title) values (1, 'hello')`;
  const refused = await db.sql`insert into posts (author_id, title) values (999, 'x')`.then(
    () => "",
    (error: { code?: string }) => error.code,
  );
  expect(refused).toBe("23503"); // foreign_key_violation
}

describe("drizzle-kit generate output", () => {
  test("drizzle-kit regenerates exactly the committed SQL (offline, no TTY)", async () => {
    const work = join(dir, "generate");
    await mkdir(work, { recursive: true });
    await symlink(join(ROOT, "node_modules"), join(work, "node_modules"));
    await writeFile(
      join(work, "drizzle.config.ts"),
      'export default { dialect: "postgresql", schema: "./schema.ts", out: "./out" };\n',
    );
    const generate = (name: string) => {
      const result = spawnSync(join(ROOT, "node_modules", ".bin", "drizzle-kit"), [
        "generate",
        "--name",
        name,
      ], { cwd: work, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
      expect(result.stderr + (result.status === 0 ? "" : result.stdout)).not.toContain("Error");
      expect(result.status).toBe(0);
    };
    await copyFile(join(FIXTURES, "schema-v1.ts"), join(work, "schema.ts"));
    generate("v1");
    await copyFile(join(FIXTURES, "schema-v2.ts"), join(work, "schema.ts"));
    generate("v2");
    for (const file of ["0000_v1.sql", "0001_v2.sql"]) {
      expect(await readFile(join(work, "out", file), "utf8")).toBe(
        await readFile(join(FIXTURES, file), "utf8"),
      );
    }
  });

  test("without schema knowledge: one alter_column for score, the foreign key in posts' create_table", async () => {
    const { stdout, stderr } = await cliOk("postgres://unused", ["convert", V2, "--json"]);
    const operations = JSON.parse(stdout).operations as Record<string, any>[];
    expect(operations.map((op) => Object.keys(op)[0])).toEqual([
      "create_table",
      "alter_column",
      "add_column",
    ]);
    expect(operations[0]!.create_table.constraints).toEqual([{
      name: "posts_author_id_users_id_fk",
      type: "foreign_key",
      columns: ["author_id"],
      // "public"."users": the schema migrated is public, so the name is the table's alone.
      references: { table: "users", columns: ["id"] },
    }]);
    expect(operations[1]!.alter_column).toMatchObject({
      table: "users",
      column: "score",
      type: "varchar(20)",
      default: "'0'",
      up: "score::varchar(20)",
    });
    // The old type is unknown from this file alone: down is the one placeholder left.
    expect(operations[1]!.alter_column.down).toContain("/* TODO:");
    expect(stderr).toBe(
      'Warning: 1 placeholder(s) to review (each contains "TODO:"): operations[1].alter_column.down\n',
    );
  });

  test("--migrations DIR: the JSON starts, rolls back and completes without an edit", async () => {
    const folder = join(dir, "json-migrations");
    const db = await databaseAtV1(folder);
    // The folder is replayed without a database: the URL given to the other commands is unused.
    const v2 = await cliOk("postgres://unused", ["convert", V2, "--json", "--migrations", folder]);
    expect(v2.stderr).toBe("");
    const operations = JSON.parse(v2.stdout).operations as Record<string, any>[];
    expect(operations[1]!.alter_column).toEqual({
      table: "users",
      column: "score",
      type: "varchar(20)",
      default: "'0'",
      up: "score::varchar(20)",
      down: "score::integer",
    });
    const file = join(dir, "0001_v2.json");
    await writeFile(file, v2.stdout);
    await runLifecycle(db, file);
  });

  test("--postgres-url: the TypeScript starts, rolls back and completes without an edit", async () => {
    const db = await databaseAtV1(join(dir, "ts-migrations"));
    const v2 = await cliOk(db.url, ["convert", V2, "--ts", "--postgres-url", db.url]);
    expect(v2.stderr).toBe("");
    expect(v2.stdout).toContain(
      'alterColumn("users", "score")\n      .type(t.varchar(20), { up: sql`score::varchar(20)`, down: sql`score::integer` })\n      .default(sql`\'0\'`)',
    );
    expect(v2.stdout).not.toContain("operation(");
    const file = join(dir, "0001_v2.ts");
    await writeFile(file, v2.stdout);
    await runLifecycle(db, file);
  });

  test("--postgres-url reads only: nothing is written, and an uninitialized database is refused", async () => {
    const db = await testDatabase();
    databases.push(db);
    const result = await cli(db.url, ["convert", V2, "--postgres-url", db.url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Error: .*init/);
    const schemas = await db.sql`select nspname from pg_namespace where nspname = 'pgroll'`;
    expect([...schemas]).toEqual([]);
  });
});
