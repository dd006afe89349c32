/**
 * Folder commands as a CI uses them (docs/folder-commands.md), through the CLI on real
 * PostgreSQL: `validate DIR` checks the unapplied files as the sequence migrate applies, which
 * files of a folder are migrations, and drift (applied files that changed or went missing). Each
 * test works in a schema of its own (PGROLL_SCHEMA), sharing one database and state store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";
import { stringify } from "yaml";
import { cli, cliOk } from "./helpers/cli.ts";
import { BUILD_TIMEOUT_MS, builtBinary, runBinary } from "./helpers/binary.ts";
import { tempFolder } from "./helpers/folder.ts";
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
    run: (args: string[]) => cli(db.url, args, env),
    ok: (args: string[]) => cliOk(db.url, args, env),
    history: async () =>
      (await db.sql`select name, done from pgroll.migrations
        where schema = ${schema} order by created_at, name`).map((r) => `${r.name}:${r.done}`),
  };
}

const createTable = (name: string) => ({
  operations: [{
    create_table: {
      name,
      columns: [
        { name: "id", type: "serial", pk: true },
        { name: "name", type: "text", nullable: true },
      ],
    },
  }],
});
const addColumn = (table: string, column: string, type = "text") => ({
  operations: [{ add_column: { table, column: { name: column, type, nullable: true } } }],
});

describe("validate DIR checks the unapplied files as a sequence", () => {
  test("each file against the schema the earlier ones leave; the broken third file is named", async () => {
    const p = await project("seq_a");
    const dir = await tempFolder({
      "01_users.json": createTable("users"),
      "02_email.json": addColumn("users", "email"),
      "03_typo.json": {
        operations: [{ alter_column: { table: "users", column: "emial", nullable: false } }],
      },
      "04_orders.json": createTable("orders"),
      "05_total.json": addColumn("orders", "total", "integer"),
    });
    const result = await p.run(["validate", dir]);
    expect(result.code).toBe(1);
    // Only the third file is wrong: 02 and 05 use tables created earlier in the folder.
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith(`${join(dir, "03_typo.json")}: operations[0].alter_column`);
    expect(lines[0]).toContain('"emial"');
    expect(await p.history()).toEqual([]);

    const json = JSON.parse((await p.run(["validate", dir, "--json"])).stdout);
    expect(json.valid).toBe(false);
    expect(json.mode).toBe("one-by-one");
    expect(json.migrations).toEqual(["01_users", "02_email", "03_typo", "04_orders", "05_total"]);
    expect(json.issues.map((i: { file: string }) => i.file)).toEqual([join(dir, "03_typo.json")]);

    // migrate refuses with the same finding, before the first file is applied.
    const migrate = await p.run(["migrate", dir]);
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toContain(`${join(dir, "03_typo.json")}: operations[0].alter_column`);
    expect(await p.history()).toEqual([]);

    await rm(join(dir, "03_typo.json"));
    const valid = await p.ok(["validate", dir]);
    expect(valid.stdout).toBe(
      `${dir}: valid (migrate applies "01_users", "02_email", "04_orders" and "05_total" one by one)\n`,
    );
  });

  test("the first file gets start's own checks against the live database", async () => {
    const p = await project("seq_b");
    await db.sql.unsafe(`create schema "seq_b_01_users"`);
    const dir = await tempFolder({
      "01_users.json": createTable("users"),
      "02_email.json": addColumn("users", "email"),
    });
    const result = await p.run(["validate", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${
        join(dir, "01_users.json")
      }: version_schema: schema "seq_b_01_users" already exists; choose another migration name or "version_schema"\n`,
    );
  });

  test("two files of the sequence cannot share a version schema", async () => {
    const p = await project("seq_c");
    const dir = await tempFolder({
      "01_a.json": { version_schema: "v", ...createTable("a") },
      "02_b.json": { version_schema: "v", ...addColumn("a", "b") },
    });
    const result = await p.run(["validate", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${
        join(dir, "02_b.json")
      }: version_schema: version schema "seq_c_v" is also the one of migration "01_a"\n`,
    );
  });
});

describe("plan DIR shows the whole sequence", () => {
  test("each file planned against the schema the earlier ones leave; none after raw SQL", async () => {
    const p = await project("seq_plan");
    const dir = await tempFolder({
      "01_users.json": createTable("users"),
      "02_email.json": addColumn("users", "email"),
      "03_raw.json": { operations: [{ sql: { up: "select 1", down: "select 1" } }] },
      "04_orders.json": createTable("orders"),
    });
    const json = JSON.parse((await p.ok(["plan", dir, "--json"])).stdout);
    expect(json.migrate).toBe("one-by-one");
    expect(json.sequence.map((s: { migration: string }) => s.migration)).toEqual([
      "01_users",
      "02_email",
      "03_raw",
    ]);
    expect(json.unplanned).toEqual(["04_orders"]);
    const second = json.sequence[1].phases.flatMap((ph: { statements: { sql: string }[] }) =>
      ph.statements.map((st) => st.sql)
    );
    expect(second.some((sql: string) => /ALTER TABLE .*"users".* ADD COLUMN/s.test(sql))).toBe(
      true,
    );
    // The second file's complete drops the first file's version schema.
    expect(second.some((sql: string) => sql.includes('"seq_plan_01_users"'))).toBe(true);

    const human = (await p.ok(["plan", dir])).stdout;
    expect(human).toContain(`Migration 2 of 4: "02_email" (${join(dir, "02_email.json")})`);
    expect(human).toContain('Not planned: "04_orders"');
    expect(await p.history()).toEqual([]);
  });
});

describe("which files of a folder are migrations", () => {
  test("project files, declarations, tests and _helpers are never taken for migrations", async () => {
    const p = await project("files_a");
    const dir = await tempFolder({
      "01_users.json": createTable("users"),
      "tsconfig.json": { compilerOptions: { strict: true } },
      "tsconfig.build.json": { extends: "./tsconfig.json" },
      "package.json": { name: "app" },
      "pgtandem.d.ts": 'declare module "pgtandem" {}\n',
      "types.d.ts": "export {};\n",
      "01_users.test.ts": "throw new Error('a test is not a migration');\n",
      "_helpers.ts": "throw new Error('a helper is not a migration');\n",
      "pgtandem.jsonc": "{}\n",
    });
    const validate = await p.ok(["validate", dir]);
    expect(validate.stdout).toBe(`${dir}: valid (migrate applies "01_users")\n`);
    const plan = await p.ok(["plan", dir, "--json"]);
    expect(JSON.parse(plan.stdout).migration).toBe("01_users");
    await p.ok(["migrate", dir, "--complete"]);
    expect(await p.history()).toEqual(["01_users:true"]);
    expect((await p.ok(["latest", "migration", "--local", dir])).stdout.trim()).toBe("01_users");
    expect(JSON.parse((await p.ok(["status", dir, "--json"])).stdout).drift).toEqual([]);
  });

  test("types --help and docs/typescript.md name the files types writes", async () => {
    const help = (await cliOk(db.url, ["types", "--help"])).stdout;
    const doc = await readFile(join(import.meta.dir, "..", "docs", "typescript.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Types for your editor: `pgtandem types`"));
    const written = section.slice(0, section.indexOf("\n## "));
    for (const name of ["pgtandem.d.ts", "pgtandem-schema.d.ts", "tsconfig.json"]) {
      expect(help).toContain(name);
      expect(written).toContain(`\`${name}\``);
    }
    expect(`${help}${written}`).not.toMatch(/tsconfig\.\w+\.json/);
  });

  test("create refuses a name whose file would not be read as a migration", async () => {
    const p = await project("files_b");
    const dir = await tempFolder({});
    const result = await p.run(["create", "--name", "tsconfig", "--yaml", "--dir", dir]);
    expect(result.code).toBe(0); // tsconfig.yaml is a migration file name
    const refused = await p.run(["create", "--name", "_shared", "--dir", dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"_shared.ts" would not be read as a migration');
  });
});

describe.skipIf(process.env.PGTANDEM_SKIP_BINARY === "1")(
  "the binary in an empty app folder",
  () => {
    test(
      "`types --out migrations` (the help's example) leaves migrate, validate and status working",
      async () => {
        await db.sql.unsafe(`create schema "bin_a"`);
        const work = await mkdtemp(join(tmpdir(), "pgtandem-folder-bin-"));
        const exe = join(work, "pgtandem");
        await copyFile(await builtBinary(), exe);
        const run = (...args: string[]) =>
          runBinary([exe, ...args], work, { PGROLL_PG_URL: db.url, PGROLL_SCHEMA: "bin_a" });
        const types = await run("types", "--out", "migrations");
        expect(types.stdout).toBe(
          "Wrote migrations/pgtandem.d.ts\nWrote migrations/tsconfig.json\n",
        );
        await writeFile(join(work, "migrations", "tsconfig.build.json"), "{}\n");
        await writeFile(
          join(work, "migrations", "01_users.ts"),
          `import { createTable, defineMigration, t } from "pgtandem";
import { nameColumn } from "./_columns.ts";

export default defineMigration({
  operations: [createTable("users", { id: t.serial().primaryKey(), ...nameColumn })],
});
`,
        );
        await writeFile(
          join(work, "migrations", "_columns.ts"),
          `import { t } from "pgtandem";\nexport const nameColumn = { name: t.text().nullable() };\n`,
        );
        await writeFile(join(work, "migrations", "01_users.test.ts"), "throw new Error('test');\n");
        await mkdir(join(work, "migrations", "lib"));
        await writeFile(join(work, "migrations", "lib", "00_not_scanned.json"), "{}\n");
        await writeFile(
          join(work, "migrations", "02_email.yaml"),
          "operations:\n  - add_column:\n      table: users\n      column: { name: email, type: text, nullable: true }\n",
        );
        expect((await readdir(join(work, "migrations"))).length).toBe(8);

        const validate = await run("validate", "migrations");
        expect(validate.stderr).toBe("");
        expect(validate.stdout).toBe(
          'migrations: valid (migrate applies "01_users" and "02_email" one by one)\n',
        );
        expect(validate.code).toBe(0);
        const migrate = await run("migrate", "migrations", "--complete");
        expect(migrate.stderr).toBe("");
        expect(migrate.code).toBe(0);
        expect(
          (await db
            .sql`select name from pgroll.migrations where schema = 'bin_a' order by created_at`)
            .map((r) => r.name),
        ).toEqual(["01_users", "02_email"]);
        const status = await run("status", "migrations", "--json");
        expect(JSON.parse(status.stdout)).toEqual({
          schema: "bin_a",
          version: "02_email",
          status: "Complete",
          drift: [],
        });
      },
      BUILD_TIMEOUT_MS,
    );
  },
);

describe("drift: applied migrations whose file changed", () => {
  test("re-formatting is not drift; an edit is, and migrate refuses past it", async () => {
    const p = await project("drift_a");
    const dir = await tempFolder({
      "01_users.json": createTable("users"),
      "02_email.json": addColumn("users", "email"),
    });
    await p.ok(["migrate", dir, "--complete"]);
    expect(await p.history()).toEqual(["01_users:true", "02_email:true"]);

    // JSON → YAML and JSON → a TS module with the same data: the canonical migration is unchanged.
    await rm(join(dir, "01_users.json"));
    await writeFile(join(dir, "01_users.yaml"), stringify(createTable("users")));
    await rm(join(dir, "02_email.json"));
    await writeFile(
      join(dir, "02_email.ts"),
      `export default { operations: [{ add_column: { column: { nullable: true, type: "text", name: "email" }, table: "users" } }] };\n`,
    );
    const upToDate = await p.ok(["migrate", dir]);
    expect(upToDate.stdout).toBe("Database is up to date; no migrations to apply\n");
    expect(JSON.parse((await p.ok(["status", dir, "--json"])).stdout).drift).toEqual([]);
    await p.ok(["validate", dir]);

    // An edit of an applied file (a TS module is cached by this process: edit the YAML one).
    const edited = join(dir, "01_users.yaml");
    const changed = createTable("users");
    changed.operations[0]!.create_table.columns[1]!.type = "varchar(200)";
    await writeFile(edited, stringify(changed));
    await writeFile(join(dir, "03_phone.json"), JSON.stringify(addColumn("users", "phone")));
    const refused = await p.run(["migrate", dir]);
    expect(refused.code).toBe(1);
    const lines = refused.stderr.trim().split("\n");
    expect(lines[0]).toBe(
      `${edited}: changed since it was applied (operations[0].create_table.columns[1].type differs from what the database recorded); restore it and put the change in a new migration`,
    );
    expect(lines[1]).toContain(
      `Error: 1 applied migration changed since it was applied (${edited})`,
    );
    expect(await p.history()).toEqual(["01_users:true", "02_email:true"]);

    const validate = await p.run(["validate", dir]);
    expect(validate.code).toBe(1);
    expect(validate.stderr).toStartWith(`${edited}: changed since it was applied`);

    const status = JSON.parse((await p.ok(["status", dir, "--json"])).stdout);
    expect(status.status).toBe("Complete");
    expect(status.drift).toEqual([{
      name: "01_users",
      file: edited,
      kind: "changed",
      message: lines[0],
    }]);

    // Told to, migrate goes on (and still says so).
    const allowed = await p.ok(["migrate", dir, "--allow-drift", "--complete"]);
    expect(allowed.stderr).toContain(`Warning: ${edited}: changed since it was applied`);
    expect(await p.history()).toEqual(["01_users:true", "02_email:true", "03_phone:true"]);
  });

  test("an applied file that no longer loads is drift", async () => {
    const p = await project("drift_c");
    const dir = await tempFolder({ "01_users.json": createTable("users") });
    await p.ok(["migrate", dir, "--complete"]);
    await writeFile(join(dir, "01_users.json"), '{ "operations": [ }');
    await writeFile(join(dir, "02_email.json"), JSON.stringify(addColumn("users", "email")));
    const refused = await p.run(["migrate", dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toStartWith(
      `${join(dir, "01_users.json")}: applied, but the file no longer loads (`,
    );
    expect(await p.history()).toEqual(["01_users:true"]);
    const json = JSON.parse((await p.run(["validate", dir, "--json"])).stdout);
    expect(json.valid).toBe(false);
    expect(json.drift.map((d: { kind: string }) => d.kind)).toEqual(["unreadable"]);
  });

  test("an applied file missing from the folder: status names it, migrate refuses", async () => {
    const p = await project("drift_b");
    const dir = await tempFolder({
      "01_users.json": createTable("users"),
      "02_email.json": addColumn("users", "email"),
      "03_phone.json": addColumn("users", "phone"),
    });
    await p.ok(["migrate", dir, "--complete"]);
    await rm(join(dir, "02_email.json"));
    const refused = await p.run(["migrate", dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'remote migration "02_email" does not match local migration "03_phone"',
    );
    const line = (await p.ok(["status", dir])).stderr;
    expect(line).toBe(
      `Drift: migration "02_email" is applied but the folder "${dir}" has no file for it; restore it ("pgtandem pull" writes the database's history)\n`,
    );
    const status = JSON.parse((await p.ok(["status", dir, "--json"])).stdout);
    expect(status.drift.map((d: { name: string; kind: string }) => [d.name, d.kind])).toEqual([[
      "02_email",
      "missing",
    ]]);

    // The folder behind the database (its last file gone): pgroll's "up to date", with a warning.
    await rename(join(dir, "03_phone.json"), join(dir, "02_email.json"));
    await writeFile(join(dir, "02_email.json"), JSON.stringify(addColumn("users", "email")));
    const behind = await p.ok(["migrate", dir]);
    expect(behind.stderr).toContain('the database has 1 migration(s) the folder lacks: "03_phone"');
  });
});
