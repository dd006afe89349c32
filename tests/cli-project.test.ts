/**
 * The folder commands through the CLI against real PostgreSQL: migrate, latest, pull, baseline,
 * create, validate, update, analyze and status --history. Each test migrates a schema of its
 * own (PGROLL_SCHEMA), so the tests of this file share one database and one state store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { withSearchPath } from "../lib/cli/commands/latest.ts";
import { upgradeMigration } from "../lib/cli/commands/update.ts";
import { compareWithHistory, listMigrationFolder } from "../lib/migration/folder.ts";
import { formatMigration } from "../lib/migration/writer.ts";
import { dumpSchema, tableExists } from "./helpers/catalog.ts";
import { tempFolder as folder } from "./helpers/folder.ts";
import { cli, cliOk } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
});

afterAll(async () => {
  await db?.drop();
});

/** A fresh base schema for one test, and the CLI bound to it. */
async function project(schema: string) {
  await db.sql.unsafe(`create schema "${schema}"`);
  const env = { PGROLL_SCHEMA: schema };
  return {
    schema,
    run: (args: string[]) => cli(db.url, args, env),
    ok: (args: string[]) => cliOk(db.url, args, env),
    history: async () =>
      (await db.sql`select name, done, migration_type from pgroll.migrations
        where schema = ${schema} order by created_at, name`).map((r) => ({ ...r })),
    versionSchemas: async () =>
      (await db.sql`select nspname from pg_namespace where nspname like ${`${schema}\\_%`}
        order by nspname`).map((r) => r.nspname as string),
  };
}

const createTable = (name: string) => ({
  operations: [{
    create_table: {
      name,
      columns: [{ name: "id", type: "serial", pk: true }, {
        name: "name",
        type: "text",
        nullable: true,
      }],
    },
  }],
});

const addColumn = (table: string, column: string) => ({
  operations: [{
    add_column: { table, column: { name: column, type: "text", nullable: true } },
  }],
});

describe("migrate", () => {
  test("applies in file name order; all but the last are completed", async () => {
    const p = await project("m_basic");
    const dir = await folder({
      "02_add_email.yaml":
        "operations:\n  - add_column:\n      table: users\n      column: {name: email, type: text, nullable: true}\n",
      "01_users.json": createTable("users"),
      "03_add_phone.json": addColumn("users", "phone"),
      "README.md": "not a migration",
    });
    const result = await p.ok(["migrate", dir]);
    expect(result.stdout).toContain('Migration "01_users" started and completed');
    expect(result.stdout).toContain('Migration "02_add_email" started and completed');
    expect(result.stdout).toContain(
      'New version of the schema available under the postgres "m_basic_03_add_phone" schema',
    );
    expect(await p.history()).toEqual([
      { name: "01_users", done: true, migration_type: "pgroll" },
      { name: "02_add_email", done: true, migration_type: "pgroll" },
      { name: "03_add_phone", done: false, migration_type: "pgroll" },
    ]);

    // An active migration: pgroll's message, exit 0, nothing done.
    const again = await p.run(["migrate", dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^migration "03_add_phone" is active/);

    await p.ok(["complete"]);
    const upToDate = await p.ok(["migrate", dir]);
    expect(upToDate.stdout).toContain("Database is up to date; no migrations to apply");
    const json = JSON.parse((await p.ok(["migrate", dir, "--json"])).stdout);
    expect(json).toMatchObject({ schema: "m_basic", status: "up_to_date", applied: [] });
  });

  test("--complete completes the last one too; --json reports what was applied", async () => {
    const p = await project("m_complete");
    const dir = await folder({
      "01_a.json": createTable("a"),
      "02_b.json": addColumn("a", "b"),
    });
    const report = JSON.parse((await p.ok(["migrate", dir, "--complete", "--json"])).stdout);
    expect(report).toEqual({
      schema: "m_complete",
      status: "applied",
      applied: [
        { name: "01_a", completed: true, versionSchema: "m_complete_01_a" },
        { name: "02_b", completed: true, versionSchema: "m_complete_02_b" },
      ],
      removedVersionSchemas: ["m_complete_01_a"],
      activeMigration: null,
      databaseOnly: [],
    });
    expect(await p.versionSchemas()).toEqual(["m_complete_02_b"]);
  });

  test("the version the deployed app uses is removed only with a warning", async () => {
    const p = await project("m_versions");
    const dir = await folder({ "01_a.json": createTable("a") });
    await p.ok(["migrate", dir, "--complete"]);
    expect(await p.versionSchemas()).toEqual(["m_versions_01_a"]);

    // One new migration: both versions are served, nothing removed.
    await writeFile(join(dir, "02_b.json"), JSON.stringify(addColumn("a", "b")));
    const one = await p.ok(["migrate", dir]);
    expect(one.stderr).toBe("");
    expect(await p.versionSchemas()).toEqual(["m_versions_01_a", "m_versions_02_b"]);
    await p.ok(["complete"]);
    expect(await p.versionSchemas()).toEqual(["m_versions_02_b"]);

    // Two new migrations one by one (pgroll's way; the default is one group, see
    // tests/groups.test.ts): completing 03 retires 02 (the deployed version): said before and after.
    await writeFile(join(dir, "03_c.json"), JSON.stringify(addColumn("a", "c")));
    await writeFile(join(dir, "04_d.json"), JSON.stringify(addColumn("a", "d")));
    const two = await p.ok(["migrate", dir, "--one-by-one"]);
    expect(two.stderr).toMatch(
      /^Warning: applying 2 migrations completes "03_c", which removes version schema "m_versions_02_b", the latest before this run/,
    );
    expect(two.stdout).toContain(
      'Version schema "m_versions_02_b" removed (the latest version before this run)',
    );
    // 03_c serves the old side of the active 04_d; 02_b is gone.
    expect(await p.versionSchemas()).toEqual(["m_versions_03_c", "m_versions_04_d"]);
  });

  test("--expect-one refuses several unapplied migrations and changes nothing", async () => {
    const p = await project("m_expect");
    const dir = await folder({ "01_a.json": createTable("a"), "02_b.json": addColumn("a", "b") });
    const result = await p.run(["migrate", dir, "--expect-one"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/expected one migration to apply but found 2/);
    expect(await p.history()).toEqual([]);
    // One at a time it goes through.
    await rm(join(dir, "02_b.json"));
    await p.ok(["migrate", dir, "--expect-one", "--complete"]);
    expect((await p.history()).map((h) => h.name)).toEqual(["01_a"]);
  });

  test("history mismatch: clear error, nothing applied", async () => {
    const p = await project("m_mismatch");
    await p.ok(["migrate", await folder({ "01_a.json": createTable("a") }), "--complete"]);
    const dir = await folder({ "01_b.json": createTable("b"), "02_c.json": createTable("c") });
    const before = await dumpSchema(db.sql, "m_mismatch");
    const result = await p.run(["migrate", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^Error: remote migration "01_a" does not match local migration "01_b" .*nothing was applied/,
    );
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(await dumpSchema(db.sql, "m_mismatch")).toEqual(before);
    expect((await p.history()).map((h) => h.name)).toEqual(["01_a"]);
  });

  test("empty, missing and non-folder paths", async () => {
    const p = await project("m_paths");
    const empty = await folder({ "notes.txt": "x" });
    const a = await p.run(["migrate", empty]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/migrations folder ".*" has no migration files \(\.json, \.yaml/);
    const b = await p.run(["migrate", join(empty, "nope")]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/migrations folder ".*nope" does not exist/);
    const c = await p.run(["migrate", join(empty, "notes.txt")]);
    expect(c.stderr).toMatch(/is not a folder/);
    const d = await p.run(["migrate"]);
    expect(d.stderr).toMatch(/"migrate" needs a migrations folder/);
  });

  test("the same migration name in two formats is an error", async () => {
    const p = await project("m_dupes");
    const dir = await folder({ "01_a.json": createTable("a"), "01_a.yaml": "operations: []\n" });
    const result = await p.run(["migrate", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /defines a migration more than once: "01_a" \(01_a\.json, 01_a\.yaml\)/,
    );
  });

  test("one broken file among the unapplied: every problem listed, nothing applied", async () => {
    const p = await project("m_invalid");
    const dir = await folder({
      "01_a.json": createTable("a"),
      "02_bad.json": { operations: [{ create_table: { name: "t", columns: [{ name: "x" }] } }] },
      "03_bad.yaml": "operations:\n  - sql:\n      up: [unclosed\n",
    });
    const result = await p.run(["migrate", dir, "--complete"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /02_bad\.json: operations\[0\]\.create_table\.columns\[0\]\.type/,
    );
    expect(result.stderr).toMatch(/03_bad\.yaml: .*malformed YAML/);
    expect(result.stderr).toMatch(
      /Error: incompatible migration\(s\): 2 of 3 unapplied migration files are invalid \(02_bad\.json, 03_bad\.yaml\); nothing was applied/,
    );
    expect(await p.history()).toEqual([]);
    expect(await tableExists(db.sql, "m_invalid", "a")).toBe(false);
  });

  test("a later migration invalid against the schema the earlier ones leave: nothing applied", async () => {
    const p = await project("m_chain");
    const dir = await folder({
      "01_a.json": createTable("a"),
      "02_rename.json": { operations: [{ rename_table: { from: "a", to: "b" } }] },
      "03_bad.json": addColumn("a", "x"), // "a" no longer exists once 02 ran
    });
    const result = await p.run(["migrate", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /03_bad\.json: operations\[0\]\.add_column.*table "a" does not exist/,
    );
    expect(result.stderr).toMatch(
      /Error: migration "03_bad" is invalid against the schema the migrations before it leave/,
    );
    expect(await p.history()).toEqual([]);

    // Fixed, the chain validates and applies.
    await writeFile(join(dir, "03_bad.json"), JSON.stringify(addColumn("b", "x")));
    await p.ok(["migrate", dir, "--complete"]);
    expect((await p.history()).map((h) => h.name)).toEqual(["01_a", "02_rename", "03_bad"]);
  });

  test("a start failing mid-run: the error says what this run applied before it", async () => {
    const p = await project("m_partial");
    const dir = await folder({
      "01_a.json": createTable("a"),
      // Raw SQL is only checked by running it: the precheck cannot see this failure coming.
      "02_sql.json": { operations: [{ sql: { up: "select * from no_such_table" } }] },
      "03_b.json": addColumn("a", "b"),
    });
    const result = await p.run(["migrate", dir, "--json"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^Error: failed to run migration file ".*02_sql\.json" after this run applied "01_a": failed to start migration "02_sql", changes rolled back: .*no_such_table/,
    );
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: "applied",
      applied: [{ name: "01_a", completed: true }],
    });
    expect((await p.history()).map((h) => h.name)).toEqual(["01_a"]);
  });

  test("two concurrent runs: one applies, the other finds it applied", async () => {
    const p = await project("m_concurrent");
    const dir = await folder({
      "01_a.json": createTable("a"),
      "02_b.json": addColumn("a", "b"),
      "03_c.json": addColumn("a", "c"),
    });
    const results = await Promise.all([
      p.run(["migrate", dir, "--complete"]),
      p.run(["migrate", dir, "--complete"]),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const applied = results.filter((r) => r.stdout.includes("started and completed"));
    const upToDate = results.filter((r) => r.stdout.includes("Database is up to date"));
    expect(applied).toHaveLength(1);
    expect(upToDate).toHaveLength(1);
    expect(await p.history()).toEqual([
      { name: "01_a", done: true, migration_type: "pgroll" },
      { name: "02_b", done: true, migration_type: "pgroll" },
      { name: "03_c", done: true, migration_type: "pgroll" },
    ]);
  });

  test("concurrent runs leaving the last migration active", async () => {
    const p = await project("m_concurrent2");
    const dir = await folder({ "01_a.json": createTable("a"), "02_b.json": addColumn("a", "b") });
    const results = await Promise.all([p.run(["migrate", dir]), p.run(["migrate", dir])]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(results.filter((r) => /^migration "02_b" is active/.test(r.stdout))).toHaveLength(1);
    expect((await p.history()).map((h) => [h.name, h.done])).toEqual([
      ["01_a", true],
      ["02_b", false],
    ]);
  });

  test("not initialized", async () => {
    const dir = await folder({ "01_a.json": createTable("a") });
    const result = await cli(db.url, ["migrate", dir, "--pgroll-schema", "nowhere"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not initialized/);
  });
});

describe("baseline", () => {
  test("existing schema: migrate asks for a baseline; baseline then migrate", async () => {
    const p = await project("b_existing");
    await db.sql.unsafe(`create table b_existing.legacy (id int primary key, name text)`);
    const dir = await folder({ "01_add.json": addColumn("legacy", "email") });

    const needs = await p.run(["migrate", dir]);
    expect(needs.code).toBe(0);
    expect(needs.stdout).toMatch(/non-empty but has no migration history.*baseline/);
    expect(await p.history()).toEqual([]);

    // No terminal (tests) and CI: --yes is required, nothing written.
    const refused = await p.run(["baseline", "00_base", dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pass --yes to confirm/);
    expect(await readdir(dir)).toEqual(["01_add.json"]);

    const created = await p.ok(["baseline", "00_base", dir, "--yes"]);
    expect(created.stdout).toMatch(/Baseline "00_base" created for schema "b_existing"/);
    // 01_add sorts after the baseline: it will be applied, and baseline says so.
    expect(created.stderr).toMatch(/1 file\(s\) sort after "00_base".*01_add\.json/);
    const placeholder = await readFile(join(dir, "00_base.yaml"), "utf8");
    expect(placeholder).toMatch(
      /^operations:\n {2}- sql:\n {6}up: '-- Baseline of schema "b_existing"/,
    );
    expect(await p.history()).toEqual([
      { name: "00_base", done: true, migration_type: "baseline" },
    ]);

    const applied = await p.ok(["migrate", dir, "--complete"]);
    expect(applied.stdout).toContain('Migration "01_add" started and completed');
    expect((await p.history()).map((h) => h.name)).toEqual(["00_base", "01_add"]);
    expect(await db.sql`select email from b_existing.legacy`).toHaveLength(0);

    // status --history shows the baseline and what came after it.
    const status = JSON.parse((await p.ok(["status", "--history", "--json"])).stdout);
    expect(status).toMatchObject({
      schema: "b_existing",
      version: "01_add",
      status: "Complete",
      history: [
        { name: "00_base", type: "baseline", state: "done", versionSchema: null },
        {
          name: "01_add",
          type: "pgroll",
          state: "done",
          versionSchema: "b_existing_01_add",
          versionSchemaExists: true,
          beforeBaseline: false,
        },
      ],
    });
    const table = (await p.ok(["status", "--history"])).stdout;
    expect(table).toMatch(/NAME\s+TYPE\s+STATE\s+VERSION SCHEMA\s+CREATED/);
    expect(table).toMatch(/\(00_base\)\s+baseline\s+done\s+-/);
    // The default status output stays pgroll's document, key for key.
    expect(JSON.parse((await p.ok(["status"])).stdout)).toEqual({
      schema: "b_existing",
      version: "01_add",
      status: "Complete",
    });
  });

  test("refused while a migration is active; JSON placeholder with --json", async () => {
    const p = await project("b_active");
    const dir = await folder({ "01_a.json": createTable("a") });
    await p.ok(["migrate", dir]);
    const refused = await p.run(["baseline", "02_base", dir, "--yes"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /cannot create baseline while a migration is in progress: complete or roll back "01_a"/,
    );
    expect(await readdir(dir)).toEqual(["01_a.json"]);
    await p.ok(["complete"]);
    const created = JSON.parse((await p.ok(["baseline", "02_base", dir, "-y", "--json"])).stdout);
    expect(created).toMatchObject({
      schema: "b_active",
      baseline: "02_base",
      placeholderWritten: true,
      filesAfterBaseline: [],
    });
    expect(JSON.parse(await readFile(join(dir, "02_base.json"), "utf8")).operations[0].sql.up)
      .toMatch(/^-- Baseline/);
    // History after the baseline is empty, and every local file is at or before it.
    expect((await p.ok(["migrate", dir])).stdout).toContain("Database is up to date");
    // The same name again is refused by the database; the existing file is kept.
    const again = await p.run(["baseline", "02_base", dir, "--yes"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/"02_base" already exists/);
    expect(await readdir(dir)).toEqual(["01_a.json", "02_base.json"]);
  });

  test("CI=true needs --yes even on a terminal", async () => {
    const dir = await folder();
    const result = await cli(db.url, ["baseline", "v1", dir], { CI: "true" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pass --yes to confirm \(no prompt: CI is set\)/);
  });
});

describe("pull", () => {
  test("an inferred migration: migrate fails until pull brings it into the folder", async () => {
    const p = await project("p_inferred");
    const dir = await folder({ "01_a.json": createTable("a") });
    await p.ok(["migrate", dir, "--complete"]);
    // DDL run outside the tool, as pgroll's event trigger records it.
    await db.sql.unsafe(`create table p_inferred.foo (x int)`);
    await db.sql`insert into pgroll.migrations
      (schema, name, migration, parent, done, migration_type, resulting_schema)
      values ('p_inferred', '01_a_20250101000000000000',
        ${'{"version_schema": "sql_0a1b2c3d", "operations": [{"sql": {"up": "create table p_inferred.foo (x int)"}}]}'}::text::jsonb,
        '01_a', true, 'inferred', '{}'::jsonb)`;
    await writeFile(join(dir, "02_b.json"), JSON.stringify(addColumn("a", "b")));

    const mismatch = await p.run(["migrate", dir]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(
      /remote migration "01_a_20250101000000000000" does not match local migration "02_b".*records DDL run outside the tool: run "pgtandem pull DIR"/,
    );

    const pulled = await p.ok(["pull", dir]);
    expect(pulled.stdout).toBe(`Wrote ${join(dir, "01_a_20250101000000000000.yaml")}\n`);
    expect(await readFile(join(dir, "01_a_20250101000000000000.yaml"), "utf8")).toBe(
      "operations:\n  - sql:\n      up: create table p_inferred.foo (x int)\nversion_schema: sql_0a1b2c3d\n",
    );
    expect((await p.ok(["pull", dir])).stdout).toMatch(/^Nothing to pull/);

    const applied = await p.ok(["migrate", dir, "--complete"]);
    expect(applied.stdout).toContain('Migration "02_b" started and completed');
    expect((await p.history()).map((h) => h.name)).toEqual([
      "01_a",
      "01_a_20250101000000000000",
      "02_b",
    ]);
  });

  test("into a new folder as JSON; the result migrates a fresh schema identically", async () => {
    const p = await project("p_json");
    await p.ok(["migrate", await folder({ "01_a.json": createTable("a") }), "--complete"]);
    const target = join(await folder(), "nested", "migrations");
    const report = JSON.parse((await p.ok(["pull", target, "--json"])).stdout);
    expect(report.written).toEqual([
      { name: "01_a", path: join(target, "01_a.json"), type: "pgroll" },
    ]);
    const text = await readFile(join(target, "01_a.json"), "utf8");
    expect(JSON.parse(text)).toEqual(createTable("a"));
    expect(text).toStartWith('{\n  "operations": [\n');

    const q = await project("p_json_copy");
    await q.ok(["migrate", target, "--complete"]);
    const copy = JSON.stringify(await dumpSchema(db.sql, "p_json_copy"));
    expect(copy.replaceAll("p_json_copy", "p_json")).toBe(
      JSON.stringify(await dumpSchema(db.sql, "p_json")),
    );
  });
});

describe("latest", () => {
  test("schema, migration and url from the database and from a folder", async () => {
    const p = await project("l_latest");
    const none = await p.run(["latest", "schema"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no version schemas found for schema "l_latest"/);
    expect((await p.run(["latest", "migration"])).stderr).toMatch(/no migrations applied/);

    const dir = await folder({
      "01_a.json": createTable("a"),
      "02_b.json": { version_schema: "v2", ...addColumn("a", "b") },
    });
    expect((await p.ok(["latest", "schema", "--local", dir])).stdout).toBe("l_latest_v2\n");
    expect((await p.ok(["latest", "migration", "-l", dir])).stdout).toBe("02_b\n");
    await p.ok(["migrate", dir, "--complete"]);
    expect((await p.ok(["latest", "schema"])).stdout).toBe("l_latest_v2\n");
    expect((await p.ok(["latest", "migration"])).stdout).toBe("02_b\n");
    expect(JSON.parse((await p.ok(["latest", "schema", "--json"])).stdout)).toEqual({
      versionSchema: "l_latest_v2",
    });

    // url: the argument is printed (password included), with the search_path option added.
    const url = await p.ok([
      "latest",
      "url",
      "postgres://app:s3cret@db.example:5432/app?sslmode=require",
    ]);
    expect(url.stdout).toBe(
      "postgres://app:s3cret@db.example:5432/app?options=-c%20search_path%3Dl_latest_v2&sslmode=require\n",
    );
    // Without an argument: --postgres-url, which then reaches the database with the version.
    const own = (await p.ok(["latest", "url"])).stdout.trim();
    const viaVersion = (await import("postgres")).default(own, { max: 1 });
    try {
      const [row] = await viaVersion`select current_setting('search_path') as path`;
      expect(row!.path).toBe("l_latest_v2");
      expect(await viaVersion`select b from a`).toHaveLength(0);
    } finally {
      await viaVersion.end();
    }
  });

  test("bad usage and empty folders", async () => {
    const p = await project("l_usage");
    expect((await p.run(["latest"])).stderr).toMatch(
      /"latest" needs one of schema, migration, url/,
    );
    expect((await p.run(["latest", "version"])).stderr).toMatch(
      /unknown subcommand "latest version"/,
    );
    expect((await p.run(["latest", "schema", "extra"])).stderr).toMatch(/takes no arguments/);
    const empty = await p.run(["latest", "migration", "--local", await folder()]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no migration files found/);
    expect((await p.run(["latest", "schema", "--local", "/nonexistent/x"])).stderr).toMatch(
      /does not exist/,
    );
    expect((await p.run(["migrate", "x", "--local", "y"])).stderr).toMatch(
      /--local is not valid for command "migrate"/,
    );
  });

  test("connection strings: encoding, existing options, key=value, odd names", () => {
    expect(withSearchPath("postgres://u:p@h/db", "public_01")).toBe(
      "postgres://u:p@h/db?options=-c%20search_path%3Dpublic_01",
    );
    expect(withSearchPath("postgresql://h/db?sslmode=disable&application_name=my+app", "s_v"))
      .toBe(
        "postgresql://h/db?application_name=my%20app&options=-c%20search_path%3Ds_v&sslmode=disable",
      );
    expect(
      withSearchPath(
        "postgres://h/db?options=-c%20statement_timeout%3D5s%20-c%20search_path%3Dold",
        "s_v",
      ),
    ).toBe("postgres://h/db?options=-c%20statement_timeout%3D5s%20-c%20search_path%3Ds_v");
    expect(withSearchPath("postgres://h/db", "App Schema_v1")).toBe(
      "postgres://h/db?options=-c%20search_path%3D%22App%5C%20Schema_v1%22",
    );
    expect(withSearchPath("host=h dbname=app", "public_v1")).toBe(
      "host=h dbname=app options='-c search_path=public_v1'",
    );
    expect(() => withSearchPath("host=h options=-cx=1", "public_v1")).toThrow(
      /already sets options/,
    );
    expect(() => withSearchPath("nonsense", "public_v1")).toThrow(/expected a connection string/);
  });
});

describe("create", () => {
  test("TypeScript by default, YAML, JSON; never replaces a file", async () => {
    const dir = await folder();
    const ts = await cliOk(db.url, ["create", "--name", "01_users", "--dir", dir]);
    expect(ts.stdout).toBe(`Created ${join(dir, "01_users.ts")}\n`);
    const text = await readFile(join(dir, "01_users.ts"), "utf8");
    expect(text).toStartWith(
      'import { defineMigration } from "pgtandem";\n\nexport default defineMigration({\n  operations: [\n',
    );
    expect(text).toContain('// createTable("users", {');

    const empty = await cliOk(db.url, ["create", "02_empty", "--empty", "--dir", dir]);
    expect(empty.code).toBe(0);
    expect(await readFile(join(dir, "02_empty.ts"), "utf8")).toBe(
      'import { defineMigration } from "pgtandem";\n\nexport default defineMigration({\n  operations: [],\n});\n',
    );

    await cliOk(db.url, ["create", "-n", "03_yaml", "--yaml", "--dir", dir]);
    const yaml = await readFile(join(dir, "03_yaml.yaml"), "utf8");
    expect(yaml).toMatch(/^# Operations run in order/);
    expect(yaml).toEndWith("operations: []\n");

    const json = JSON.parse(
      (await cliOk(db.url, ["create", "-n", "04_json", "--json", "--dir", dir])).stdout,
    );
    expect(json).toEqual({ name: "04_json", file: join(dir, "04_json.json"), format: "json" });
    expect(await readFile(join(dir, "04_json.json"), "utf8")).toBe('{\n  "operations": []\n}\n');

    // The YAML and JSON scaffolds are valid migrations.
    const listed = await listMigrationFolder(dir);
    expect(listed.map((e) => e.fileName)).toEqual([
      "01_users.ts",
      "02_empty.ts",
      "03_yaml.yaml",
      "04_json.json",
    ]);
    for (const file of ["03_yaml.yaml", "04_json.json"]) {
      expect((await cli(db.url, ["validate", join(dir, file)])).code).toBe(0);
    }

    const clash = await cli(db.url, ["create", "-n", "03_yaml", "--json", "--dir", dir]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/a migration named "03_yaml" already exists/);
    expect((await cli(db.url, ["create", "--dir", dir])).stderr).toMatch(/needs a migration name/);
    expect((await cli(db.url, ["create", "x", "--ts", "--yaml"])).stderr).toMatch(/choose one/);
    expect((await cli(db.url, ["create", "a/b"])).stderr).toMatch(/cannot be used as a file name/);
    expect((await cli(db.url, ["create", "x".repeat(60)])).stderr).toMatch(/is too long/);
  });
});

describe('TypeScript migrations in a folder (through main.ts, which serves "pgtandem")', () => {
  test("a created scaffold and a DSL migration migrate, validate and give the latest version", async () => {
    await db.sql.unsafe(`create schema "ts_folder"`);
    const dir = await folder({
      "02_users.ts": [
        'import { createTable, defineMigration, t } from "pgtandem";',
        "",
        "export default defineMigration({",
        '  operations: [createTable("users", { id: t.serial().primaryKey(), email: t.text() })],',
        "});",
        "",
      ].join("\n"),
    });
    await cliOk(db.url, ["create", "01_scaffold", "--dir", dir]);
    const main = (args: string[]) =>
      spawnSync(process.execPath, ["main.ts", ...args], {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        env: { ...process.env, PGROLL_PG_URL: db.url, PGROLL_SCHEMA: "ts_folder" },
        encoding: "utf8",
      });
    const migrated = main(["migrate", dir, "--complete"]);
    expect(migrated.stderr).toBe("");
    expect(migrated.stdout).toContain('Migration "02_users" started and completed');
    expect(await tableExists(db.sql, "ts_folder", "users")).toBe(true);
    expect(main(["latest", "schema", "--local", dir]).stdout).toBe("ts_folder_02_users\n");
    const validated = main(["validate", join(dir, "02_users.ts")]);
    expect(validated.status).toBe(1);
    expect(validated.stderr).toMatch(/table "users" already exists/);
  });
});

describe("validate", () => {
  test("valid, invalid (every issue, one per line), against the active migration", async () => {
    const p = await project("v_validate");
    await p.ok(["migrate", await folder({ "01_a.json": createTable("a") }), "--complete"]);
    const dir = await folder({
      "02_ok.json": addColumn("a", "email"),
      "03_bad.json": {
        operations: [
          { add_column: { table: "nope", column: { name: "x", type: "text", nullable: true } } },
        ],
      },
      "04_broken.json": {
        operations: [{ create_table: { name: "t", columns: [{ name: "x" }], extra: 1 } }],
      },
    });
    const before = await dumpSchema(db.sql, "v_validate");
    const ok = await p.ok(["validate", join(dir, "02_ok.json")]);
    expect(ok.stdout).toBe(`${join(dir, "02_ok.json")}: valid\n`);

    const bad = await p.run(["validate", join(dir, "03_bad.json")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /03_bad\.json: operations\[0\]\.add_column.*table "nope" does not exist/,
    );

    const broken = await p.run(["validate", join(dir, "04_broken.json")]);
    expect(broken.code).toBe(1);
    const lines = broken.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.startsWith(join(dir, "04_broken.json")))).toBe(true);
    expect(broken.stderr).toMatch(/columns\[0\]\.type: required field is missing/);
    expect(broken.stderr).toMatch(/unknown field "extra"/);

    const json = JSON.parse((await p.run(["validate", join(dir, "03_bad.json"), "--json"])).stdout);
    expect(json.valid).toBe(false);
    expect(json.issues[0].path).toEqual(["operations", 0, "add_column", "table"]);

    const missing = await p.run(["validate", join(dir, "nope.json")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.json: file not found/);
    expect(await dumpSchema(db.sql, "v_validate")).toEqual(before);

    // While 02_ok is active, a migration is checked against the schema 02_ok leaves.
    await p.ok(["start", join(dir, "02_ok.json")]);
    await writeFile(
      join(dir, "05_next.json"),
      JSON.stringify({ operations: [{ drop_column: { table: "a", column: "email" } }] }),
    );
    const next = await p.ok(["validate", join(dir, "05_next.json")]);
    expect(next.stderr).toMatch(
      /migration "02_ok" is active; checked against the schema it leaves/,
    );
    const reapplied = await p.run(["validate", join(dir, "02_ok.json")]);
    expect(reapplied.stderr).toMatch(/migration "02_ok" is already in the history/);
    await p.ok(["rollback"]);
  });
});

describe("update", () => {
  test("old create_index formats are rewritten, keeping comments and format", async () => {
    const p = await project("u_update");
    const dir = await folder({
      "01_t.json": {
        operations: [{
          create_table: {
            name: "t",
            columns: [{ name: "id", type: "int", pk: true }, { name: "a", type: "int" }, {
              name: "b",
              type: "int",
            }],
          },
        }],
      },
      "02_list.yaml":
        "# index on a and b\noperations:\n  - create_index:\n      name: idx_ab\n      table: t\n      columns: [a, b] # old format\n",
      "03_map.json": {
        operations: [{
          create_index: { name: "idx_b", table: "t", columns: { b: { sort: "DESC" }, a: {} } },
        }],
      },
      "04_code.ts": "export default {};\n",
    });
    const result = await p.ok(["update", dir]);
    expect(result.stdout).toBe(
      [
        `Updated ${join(dir, "02_list.yaml")}`,
        "  operations[0].create_index.columns: list of column names → list of {column}",
        `Updated ${join(dir, "03_map.json")}`,
        "  operations[0].create_index.columns: map of column → settings → list of {column, …settings}",
        "",
      ].join("\n"),
    );
    const yaml = await readFile(join(dir, "02_list.yaml"), "utf8");
    expect(yaml).toStartWith("# index on a and b\noperations:\n");
    expect(yaml).toContain("- column: a");
    expect(
      JSON.parse(await readFile(join(dir, "03_map.json"), "utf8")).operations[0].create_index
        .columns,
    ).toEqual([{ column: "b", sort: "DESC" }, { column: "a" }]);
    expect((await p.ok(["update", dir])).stdout).toMatch(/are up to date/);

    // The updated files migrate (the .ts file is moved out: no TypeScript loader here).
    await rm(join(dir, "04_code.ts"));
    await p.ok(["migrate", dir, "--complete"]);
    const [index] = await db.sql`select indexdef from pg_indexes where indexname = 'idx_b'`;
    expect(index!.indexdef).toMatch(/\(b DESC, a\)/);
  });

  test("--yaml converts an updated JSON file; invalid files are reported", async () => {
    const dir = await folder({
      "01_idx.json": { operations: [{ create_index: { name: "i", table: "t", columns: ["a"] } }] },
      "02_bad.json": { operations: [{ nope: {} }] },
    });
    const result = await cli(db.url, ["update", dir, "--yaml"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`(now ${join(dir, "01_idx.yaml")})`);
    expect(result.stderr).toMatch(/02_bad\.json: operations\[0\]: unknown operation "nope"/);
    expect((await readdir(dir)).sort()).toEqual(["01_idx.yaml", "02_bad.json"]);
    expect(await readFile(join(dir, "01_idx.yaml"), "utf8")).toBe(
      "operations:\n  - create_index:\n      columns:\n        - column: a\n      name: i\n      table: t\n",
    );
  });

  test("upgradeMigration is idempotent and leaves current files alone", () => {
    const document = {
      operations: [{ create_index: { name: "i", table: "t", columns: ["a", { column: "b" }] } }],
    };
    expect(upgradeMigration(document)).toHaveLength(1);
    expect(document.operations[0]!.create_index.columns).toEqual([{ column: "a" }, {
      column: "b",
    }]);
    expect(upgradeMigration(document)).toEqual([]);
  });
});

describe("analyze and help", () => {
  test("analyze prints read_schema as JSON", async () => {
    const p = await project("a_analyze");
    await p.ok(["migrate", await folder({ "01_a.json": createTable("a") }), "--complete"]);
    const schema = JSON.parse((await p.ok(["analyze"])).stdout);
    expect(schema.name).toBe("a_analyze");
    expect(Object.keys(schema.tables)).toEqual(["a"]);
    expect(schema.tables.a.primaryKey).toEqual(["id"]);
  });

  test("every folder command has help with examples and exit codes", async () => {
    for (
      const command of [
        "migrate",
        "latest",
        "pull",
        "baseline",
        "create",
        "validate",
        "update",
        "analyze",
      ]
    ) {
      const help = await cliOk(db.url, [command, "--help"]);
      expect(help.stdout).toMatch(new RegExp(`^Usage: pgtandem ${command}`));
      expect(help.stdout).toMatch(/Examples:\n {2}pgtandem /);
      expect(help.stdout).toMatch(/Exit codes: 0/);
    }
    expect((await cliOk(db.url, ["migrate", "--help"])).stdout).toMatch(/--expect-one/);
    expect((await cliOk(db.url, ["latest", "--help"])).stdout).toMatch(/PASSWORD INCLUDED/);
  });
});

describe("folder listing (no database)", () => {
  test("byte order, top level only, every extension", async () => {
    const dir = await folder({
      "b.yml": "operations: []\n",
      "a_2.json": "{}",
      "a.json": "{}",
      "B.yaml": "operations: []\n",
      "c.ts": "",
      "d.txt": "",
    });
    await mkdir(join(dir, "sub.json"));
    await writeFile(join(dir, "sub.json", "x.json"), "{}");
    const entries = await listMigrationFolder(dir);
    expect(entries.map((e) => e.fileName)).toEqual([
      "B.yaml",
      "a.json",
      "a_2.json",
      "b.yml",
      "c.ts",
    ]);
    expect(entries.map((e) => e.name)).toEqual(["B", "a", "a_2", "b", "c"]);
  });

  test("compareWithHistory: baseline, pairwise, database ahead", () => {
    const entry = (name: string) => ({
      name,
      fileName: `${name}.json`,
      path: name,
      extension: ".json",
    });
    const files = ["00_base", "01", "02", "03"].map(entry);
    const h = (name: string) => ({ name, migrationType: "pgroll" });
    const result = compareWithHistory(files, [h("01")], "00_base");
    expect(result.beforeBaseline.map((e) => e.name)).toEqual(["00_base"]);
    expect(result.unapplied.map((e) => e.name)).toEqual(["02", "03"]);
    expect(
      compareWithHistory(files.slice(0, 2), [h("00_base"), h("01"), h("x")], undefined).remoteOnly,
    )
      .toEqual([h("x")]);
    expect(() => compareWithHistory(files, [h("01")], undefined)).toThrow(
      /remote migration "01" does not match local migration "00_base"/,
    );
  });

  test("YAML files are written like pgroll's: sorted keys, YAML 1.1 safe", () => {
    expect(
      formatMigration(
        { version_schema: "v", operations: [{ sql: { up: "select 1", down: "yes" } }] },
        "yaml",
      ),
    ).toBe('operations:\n  - sql:\n      down: "yes"\n      up: select 1\nversion_schema: v\n');
    expect(formatMigration({ operations: [], version_schema: "v" }, "json")).toBe(
      '{\n  "version_schema": "v",\n  "operations": []\n}\n',
    );
  });
});
