/**
 * `plan`, the safety lint and `convert`. plan and lint run against real PostgreSQL (plan must
 * change nothing and print exactly what start then executes); convert needs no database.
 */
import { corpusUrl } from "./helpers/corpus.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import process from "node:process";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { runCli } from "../lib/cli/run.ts";
import { convertSql } from "../lib/convert/convert.ts";
import type { MigrationPlan } from "../lib/engine/explain.ts";
import type { LintFinding } from "../lib/lint/lint.ts";
import { parseMigration } from "../lib/migration/migration.ts";
import { builtinRegistry } from "../lib/operations/builtins.ts";
import { dumpSchema } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

type PlanJson = MigrationPlan & { lint: LintFinding[] };

let counter = 0;
/** A migration file with a unique name (so each gets its own version schema). */
function file(operations: object[]): Promise<string> {
  counter += 1;
  return migrationFile(`plc_${String(counter).padStart(3, "0")}.json`, { operations });
}

const sql = (up: string, extra: object = {}) => ({ sql: { up, ...extra } });

// ── convert (no database) ────────────────────────────────────────────────────────────────────

describe("convert", () => {
  const script = `
CREATE TABLE app.users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email varchar(255) NOT NULL UNIQUE,
  name text CHECK (length(name) > 0),
  created_at timestamp with time zone DEFAULT now(),
  team_id int REFERENCES teams (id) ON DELETE CASCADE,
  CONSTRAINT users_email_name UNIQUE (email, name)
);
ALTER TABLE users ADD COLUMN age int, ADD COLUMN nick text NOT NULL;
ALTER TABLE users DROP COLUMN legacy;
ALTER TABLE users ALTER COLUMN name SET NOT NULL;
ALTER TABLE users ALTER COLUMN nick DROP NOT NULL;
ALTER TABLE users ALTER COLUMN age SET DEFAULT 18 + 1, ALTER COLUMN name DROP DEFAULT;
ALTER TABLE users ALTER COLUMN age TYPE bigint;
ALTER TABLE users ALTER COLUMN age TYPE numeric(10, 2) USING round(age, 2);
ALTER TABLE users ADD CONSTRAINT users_email_uq UNIQUE (email);
ALTER TABLE users ADD CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES teams (id);
ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0 AND age < 200);
ALTER TABLE users DROP CONSTRAINT users_age_check;
ALTER TABLE users RENAME TO people;
ALTER TABLE people RENAME COLUMN nick TO nickname;
ALTER TABLE people RENAME CONSTRAINT users_email_uq TO people_email_uq;
CREATE INDEX people_name_idx ON people USING btree (name DESC NULLS LAST) WHERE age > 18;
DROP INDEX people_name_idx;
DROP TABLE old_stuff;
CREATE TYPE mood AS ENUM ('sad', 'ok');
ALTER TABLE people ADD COLUMN a int, ALTER COLUMN name SET STATISTICS 100;
`;

  test("maps each DDL statement to its operation, the rest to raw SQL", async () => {
    const { operations, placeholders } = await convertSql(script);
    const kinds = operations.map((op) => Object.keys(op)[0]);
    expect(kinds).toEqual([
      "create_table",
      "add_column",
      "add_column",
      "drop_column",
      "alter_column",
      "alter_column",
      "alter_column",
      "create_constraint",
      "create_constraint",
      "create_constraint",
      "drop_multicolumn_constraint",
      "rename_table",
      "rename_column",
      "rename_constraint",
      "create_index",
      "drop_index",
      "drop_table",
      "sql",
      "sql",
    ]);
    const body = (i: number) => Object.values(operations[i]!)[0] as Record<string, any>;
    expect(body(0)).toEqual({
      name: "app.users", // another schema than the one migrated: kept qualified
      columns: [
        {
          name: "id",
          type: "bigint",
          generated: { identity: { user_specified_values: "ALWAYS" } },
          pk: true,
          nullable: false,
        },
        { name: "email", type: "varchar(255)", unique: true, nullable: false },
        {
          name: "name",
          type: "text",
          check: { name: "users_name_check", constraint: "length(name) > 0" },
          nullable: true,
        },
        {
          name: "created_at",
          type: "timestamp with time zone",
          default: "now()",
          nullable: true,
        },
        {
          name: "team_id",
          type: "int",
          references: {
            name: "users_team_id_fkey",
            table: "teams",
            column: "id",
            on_delete: "CASCADE",
          },
          nullable: true,
        },
      ],
      constraints: [{ name: "users_email_name", type: "unique", columns: ["email", "name"] }],
    });
    expect(body(1)).toEqual({
      table: "users",
      column: { name: "age", type: "int", nullable: true },
    });
    expect(body(2).up).toContain("TODO:");
    expect(body(3)).toMatchObject({ table: "users", column: "legacy" });
    expect(body(4)).toMatchObject({ column: "name", nullable: false, down: "name" });
    expect(body(4).up).toMatch(/^COALESCE\(name, \/\* TODO: .* \*\/ NULL\)$/);
    expect(body(5)).toMatchObject({ column: "nick", nullable: true, up: "nick" });
    // Changes to one column merge into one alter_column (up composed, down in reverse order);
    // the old type of a type change is known from the file, so down casts back to it.
    expect(body(4)).toMatchObject({ default: null });
    expect(body(6)).toEqual({
      table: "users",
      column: "age",
      default: "18 + 1",
      type: "numeric(10, 2)",
      up: "round((age::bigint), 2)",
      down: "(age::bigint)::int",
    });
    expect(body(7)).toMatchObject({
      type: "unique",
      columns: ["email"],
      down: { email: "email" },
    });
    expect(body(8)).toMatchObject({
      type: "foreign_key",
      columns: ["team_id"],
      references: { table: "teams", columns: ["id"] },
    });
    expect(body(9)).toMatchObject({
      type: "check",
      check: "age >= 0 AND age < 200",
      columns: ["age"],
    });
    expect(body(10)).toMatchObject({ table: "users", name: "users_age_check" });
    expect(body(11)).toEqual({ from: "users", to: "people" });
    expect(body(12)).toEqual({ table: "people", from: "nick", to: "nickname" });
    expect(body(13)).toEqual({ table: "people", from: "users_email_uq", to: "people_email_uq" });
    expect(body(14)).toEqual({
      name: "people_name_idx",
      table: "people",
      columns: [{ column: "name", sort: "DESC", nulls: "LAST" }],
      predicate: "age > 18",
    });
    expect(body(15)).toEqual({ name: "people_name_idx" });
    expect(body(16)).toEqual({ name: "old_stuff" });
    expect(body(17)).toEqual({ up: "CREATE TYPE mood AS ENUM ('sad', 'ok')" });
    // One unsupported sub-command keeps the whole ALTER TABLE raw.
    expect(body(18)).toEqual({
      up: "ALTER TABLE people ADD COLUMN a int, ALTER COLUMN name SET STATISTICS 100",
    });
    // Every placeholder is listed, and each says TODO.
    expect(placeholders.length).toBeGreaterThanOrEqual(8);
    for (const p of placeholders) expect(p.text).toContain("TODO:");
  });

  test("writes YAML, JSON and TypeScript that load as the same migration", async () => {
    const path = await migrationFile("convert_input.sql", script);
    const yaml = await cliOk("postgres://unused", ["convert", path, "--yaml"]);
    expect(yaml.stderr).toMatch(
      /^Warning: \d+ placeholder\(s\) to review .*operations\[2\]\.add_column\.up/,
    );
    const json = await cliOk("postgres://unused", ["convert", path, "--json"]);
    expect(YAML.parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
    const ts = await cliOk("postgres://unused", ["convert", path]);
    expect(ts.stdout).toContain(
      "defineMigration, dropColumn, dropIndex, dropMulticolumnConstraint",
    );
    // The TypeScript module, imported, is the same canonical data.
    const module = fileURLToPath(new URL(`./.convert-${process.pid}.ts`, import.meta.url));
    await writeFile(module, ts.stdout);
    try {
      const loaded = (await import(module)).default;
      expect(JSON.parse(JSON.stringify(loaded))).toEqual(JSON.parse(json.stdout));
    } finally {
      await rm(module, { force: true });
    }
  });

  test("the converted operations pass every operation's params schema", async () => {
    const { operations } = await convertSql(script);
    const parsed = parseMigration("converted", "converted", { operations }, builtinRegistry());
    expect(parsed.operations).toHaveLength(operations.length);
  });

  test("unparsable SQL: one line with the parser's message and position, exit 1", async () => {
    const path = await migrationFile(
      "bad.sql",
      "CREATE TABLE a (id int);\nALTER TABLE a\n  DROP FOO BAR;",
    );
    const result = await cli("postgres://unused", ["convert", path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `Error: ${path}: syntax error at or near "BAR" at line 3, column 12\n`,
    );
  });
});

// ── plan and lint (real PostgreSQL) ─────────────────────────────────────────────────────────

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await cliOk(db.url, [
    "start",
    await file([
      {
        create_table: {
          name: "items",
          columns: [
            { name: "id", type: "serial", pk: true },
            { name: "name", type: "text", nullable: true },
            { name: "qty", type: "integer", default: "0" },
          ],
        },
      },
      { create_table: { name: "owners", columns: [{ name: "id", type: "serial", pk: true }] } },
      {
        create_table: {
          name: "big",
          columns: [{ name: "id", type: "serial", pk: true }, {
            name: "x",
            type: "integer",
            nullable: true,
          }],
        },
      },
      {
        create_index: { name: "items_existing_idx", table: "items", columns: [{ column: "qty" }] },
      },
    ]),
    "--complete",
  ]);
  await db.sql.unsafe(
    `insert into items (name, qty) select 'n' || g, g from generate_series(1, 50) g`,
  );
  await db.sql.unsafe(`insert into big (x) select g from generate_series(1, 20000) g`);
  // The inserting session reports its row counts to the statistics system later (PostgreSQL 15+
  // flushes them at most once a second): had that report come after ANALYZE, it would add the
  // rows to n_live_tup a second time and plan would estimate 100 rows. Wait for it first.
  for (;;) {
    const [row] = await db.sql`select count(*)::int as n from pg_stat_user_tables
      where relname in ('items', 'big') and n_live_tup > 0`;
    if (row!.n === 2) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await db.sql.unsafe(`analyze items; analyze big; analyze owners`);
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

async function planJson(operations: object[]): Promise<PlanJson> {
  const result = await cliOk(db.url, ["plan", await file(operations), "--json"]);
  return JSON.parse(result.stdout) as PlanJson;
}

async function rulesOf(operations: object[]): Promise<string[]> {
  return (await planJson(operations)).lint.map((f) => f.rule);
}

async function stateRows() {
  return await db
    .sql`select name, done, migration, parent from pgroll.migrations order by created_at`;
}

describe("plan", () => {
  const migration = [
    {
      add_column: {
        table: "items",
        column: { name: "code", type: "text", unique: true, nullable: true },
        up: "'c' || id",
      },
    },
    {
      alter_column: {
        table: "items",
        column: "qty",
        type: "bigint",
        up: "qty::bigint",
        down: "qty::integer",
      },
    },
    { create_index: { name: "items_name_idx", table: "items", columns: [{ column: "name" }] } },
  ];

  test("changes nothing, and start then runs exactly the statements it printed", async () => {
    const path = await file(migration);
    const before = { schema: await dumpSchema(db.sql, "public"), state: await stateRows() };
    const result = await cliOk(db.url, ["plan", path, "--json"]);
    const plan = JSON.parse(result.stdout) as PlanJson;
    expect({ schema: await dumpSchema(db.sql, "public"), state: await stateRows() }).toEqual(
      before,
    );
    const schemas = await db.sql`select nspname from pg_namespace where nspname like 'public_plc%'`;
    expect(schemas.map((r) => r.nspname)).not.toContain(`public_${plan.migration}`);

    // Locks refined from the parse tree.
    const all = plan.phases.flatMap((p) => p.statements);
    const find = (pattern: RegExp) => all.find((s) => pattern.test(s.sql))!;
    expect(find(/CREATE INDEX CONCURRENTLY "items_name_idx"/)).toMatchObject({
      lock: "SHARE UPDATE EXCLUSIVE",
      effect: "scan",
      concurrent: true,
      table: "items",
    });
    expect(find(/ADD COLUMN "_pgroll_new_code"/)).toMatchObject({
      lock: "ACCESS EXCLUSIVE",
      effect: "catalog",
    });
    expect(find(/VALIDATE CONSTRAINT/)).toMatchObject({ lock: "SHARE UPDATE EXCLUSIVE" });
    expect(plan.backfill).toEqual([{ table: "items", estimatedRows: 50 }]);
    const switchOver = plan.phases.find((p) =>
      p.command === "complete" && p.phase === "switch-over"
    )!;
    expect(switchOver.transaction).toBe("single");
    expect(switchOver.statements.length).toBeGreaterThan(0);

    // start --verbose logs each statement it executes as "  <sql>"; between them only the
    // engine's own one-line messages may appear.
    const started = await cliOk(db.url, ["start", path, "--verbose"]);
    const expected = plan.phases.filter((p) => p.command === "start").flatMap((p) => p.statements)
      .map((s) => s.sql);
    expect(expected.length).toBeGreaterThan(5);
    let rest = started.stderr;
    for (const statement of expected) {
      const at = rest.indexOf(`  ${statement}\n`);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(rest.slice(0, at)).toMatch(/^([^ \n][^\n]*\n)*$/);
      rest = rest.slice(at + statement.length + 3);
    }
    expect(rest).toMatch(/^([^ \n][^\n]*\n)*$/);
    await cliOk(db.url, ["rollback"]);
  });

  test("text output: aligned, colours only on a terminal and never with NO_COLOR", async () => {
    const path = await file(migration);
    const text = await cliOk(db.url, ["plan", path]);
    expect(text.stdout).toContain("ACCESS EXCLUSIVE");
    expect(text.stdout).toContain("SHARE UPDATE EXCLUSIVE");
    expect(text.stdout).toMatch(/backfill[\s\S]*items: ~50 rows/);
    expect(text.stdout).not.toContain("\x1b[");
    const run = async (env: Record<string, string>) => {
      let stdout = "";
      await runCli(["plan", path], {
        stdout: { write: (s: string) => (stdout += s), isTTY: true },
        stderr: { write: () => {}, isTTY: true },
        env: { PGROLL_PG_URL: db.url, ...env },
      });
      return stdout;
    };
    expect(await run({})).toContain("\x1b[");
    expect(await run({ NO_COLOR: "1" })).not.toContain("\x1b[");
  });

  test("a validation error is start's, on one line, exit 1", async () => {
    const path = await file([{ drop_column: { table: "items", column: "nope" } }]);
    const planned = await cli(db.url, ["plan", path]);
    const started = await cli(db.url, ["start", path]);
    expect(planned.code).toBe(1);
    expect(planned.stdout).toBe("");
    expect(planned.stderr).toBe(started.stderr);
    expect(planned.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("raw SQL: views are listed as rebuilt from the catalog", async () => {
    const plan = await planJson([
      sql("CREATE TABLE plan_raw (id int)", { down: "DROP TABLE plan_raw" }),
    ]);
    const views = plan.phases.find((p) => p.command === "start" && p.phase === "views")!;
    expect(views.note).toContain("catalog");
    expect(plan.phases[0]!.statements[0]).toMatchObject({ userSql: true, lock: "none" });
  });
});

describe("safety lint", () => {
  const cases: { rule: string; fires: object[]; clean: object[] }[] = [
    {
      rule: "access-exclusive-lock",
      fires: [sql("ALTER TABLE items REPLICA IDENTITY FULL")],
      clean: [sql("ALTER TABLE items ALTER COLUMN name SET STATISTICS 100")],
    },
    {
      rule: "set-not-null-without-check",
      fires: [sql("ALTER TABLE items ALTER COLUMN name SET NOT NULL")],
      clean: [
        sql(
          "ALTER TABLE items ADD CONSTRAINT name_nn CHECK (name IS NOT NULL) NOT VALID; " +
            "ALTER TABLE items VALIDATE CONSTRAINT name_nn; " +
            "ALTER TABLE items ALTER COLUMN name SET NOT NULL",
        ),
      ],
    },
    {
      rule: "create-index-without-concurrently",
      fires: [sql("CREATE INDEX items_name_i ON items (name)")],
      clean: [sql("CREATE INDEX CONCURRENTLY items_name_i ON items (name)")],
    },
    {
      rule: "drop-index-without-concurrently",
      fires: [sql("DROP INDEX items_existing_idx")],
      clean: [sql("DROP INDEX CONCURRENTLY items_existing_idx")],
    },
    {
      rule: "volatile-default",
      fires: [sql("ALTER TABLE items ADD COLUMN r float8 DEFAULT random()")],
      clean: [sql("ALTER TABLE items ADD COLUMN r float8 DEFAULT 1.5")],
    },
    {
      rule: "volatile-default",
      fires: [{
        add_column: {
          table: "items",
          column: { name: "token", type: "uuid", default: "gen_random_uuid()" },
        },
      }],
      clean: [{
        add_column: {
          table: "items",
          column: { name: "token", type: "uuid", default: "gen_random_uuid()" },
          up: "gen_random_uuid()",
        },
      }],
    },
    {
      rule: "alter-column-type",
      fires: [sql("ALTER TABLE items ALTER COLUMN qty TYPE bigint")],
      clean: [{
        alter_column: {
          table: "items",
          column: "qty",
          type: "bigint",
          up: "qty::bigint",
          down: "qty::integer",
        },
      }],
    },
    {
      rule: "constraint-without-not-valid",
      fires: [sql("ALTER TABLE items ADD CONSTRAINT qty_pos CHECK (qty >= 0)")],
      clean: [sql("ALTER TABLE items ADD CONSTRAINT qty_pos CHECK (qty >= 0) NOT VALID")],
    },
    {
      rule: "constraint-without-not-valid",
      fires: [sql("ALTER TABLE items ADD CONSTRAINT fk FOREIGN KEY (qty) REFERENCES owners (id)")],
      clean: [
        sql(
          "ALTER TABLE items ADD CONSTRAINT fk FOREIGN KEY (qty) REFERENCES owners (id) NOT VALID",
        ),
      ],
    },
    {
      rule: "unique-without-index",
      fires: [sql("ALTER TABLE items ADD CONSTRAINT items_name_key UNIQUE (name)")],
      clean: [
        sql("ALTER TABLE items ADD CONSTRAINT items_q_key UNIQUE USING INDEX items_existing_idx"),
      ],
    },
    {
      rule: "vacuum-full",
      fires: [sql("VACUUM FULL items")],
      clean: [sql("VACUUM items")],
    },
    {
      rule: "cluster",
      fires: [sql("CLUSTER items USING items_pkey")],
      clean: [sql("ANALYZE items")],
    },
    {
      rule: "lock-table",
      fires: [sql("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")],
      clean: [sql("SELECT 1")],
    },
    {
      rule: "drop-in-use",
      fires: [sql("ALTER TABLE items DROP COLUMN qty")],
      clean: [{ drop_column: { table: "items", column: "qty", down: "0" } }],
    },
    {
      rule: "drop-in-use",
      fires: [sql("DROP TABLE items")],
      clean: [sql("CREATE TABLE scratch (id int); DROP TABLE scratch")],
    },
    {
      rule: "unbounded-dml",
      fires: [sql("UPDATE big SET x = x + 1")],
      clean: [sql("UPDATE big SET x = x + 1 WHERE id < 100; DELETE FROM items")],
    },
    // sql-syntax: plan now refuses SQL that does not parse (tests/expression-check.test.ts).
  ];

  for (const c of cases) {
    test(`${c.rule}: fires, and not on the safe form`, async () => {
      const fired = await planJson(c.fires);
      const finding = fired.lint.find((f) => f.rule === c.rule);
      expect(finding).toBeDefined();
      expect(finding!.path.slice(0, 2)).toEqual(["operations", 0]);
      expect(finding!.safeAlternative.length).toBeGreaterThan(10);
      expect(["warning", "error"]).toContain(finding!.severity);
      expect(await rulesOf(c.clean)).not.toContain(c.rule);
    });
  }

  test("CREATE INDEX CONCURRENTLY and a new table are entirely clean", async () => {
    expect(await rulesOf([sql("CREATE INDEX CONCURRENTLY items_q2 ON items (qty)")])).toEqual([]);
    expect(
      await rulesOf([
        sql(
          "CREATE TABLE fresh (id int); CREATE INDEX fresh_i ON fresh (id); ALTER TABLE fresh ADD COLUMN r float8 DEFAULT random()",
        ),
      ]),
    ).toEqual([]);
  });

  test("validate reports findings: errors exit 1, warnings alone exit 0", async () => {
    const unsafe = await file([sql("ALTER TABLE items ALTER COLUMN qty TYPE bigint")]);
    const failed = await cli(db.url, ["validate", unsafe]);
    expect(failed.code).toBe(1);
    // A lint error makes the file invalid: never "valid" with exit 1 (issue 11, item 5).
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toContain(`${unsafe}: error alter-column-type: operations[0].sql.up: `);
    expect(failed.stderr).toMatch(/\n {2}safe alternative: use alter_column/);
    expect(failed.stderr).toContain(`${unsafe}: invalid: 1 lint error\n`);
    const json = JSON.parse((await cli(db.url, ["validate", unsafe, "--json"])).stdout);
    expect(json.valid).toBe(false);
    expect(json.lint[0]).toMatchObject({ rule: "alter-column-type", severity: "error" });

    const warning = await file([sql("ALTER TABLE items REPLICA IDENTITY FULL")]);
    const warned = await cli(db.url, ["validate", warning]);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toBe(`${warning}: valid\n`);
    expect(warned.stderr).toContain("warning access-exclusive-lock");
  });

  test("the text plan lists findings with their safe alternative", async () => {
    const path = await file([sql("CREATE INDEX items_name_i2 ON items (name)")]);
    const text = await cliOk(db.url, ["plan", path]);
    expect(text.stdout).toMatch(
      /error create-index-without-concurrently: operations\[0\]\.sql\.up: .*\n\s+safe alternative: .*CONCURRENTLY/,
    );
  });
});

// ── plan over pgroll's examples, each against the schema it targets ──────────────────────────

describe.skipIf(!corpusUrl)("plan over pgroll's examples", () => {
  const corpus = corpusUrl ?? new URL("file:///nonexistent/");
  const ledger = corpusUrl
    ? readFileSync(new URL(".ledger", corpus), "utf8").split("\n").map((l) => l.trim())
      .filter((l) => l !== "")
    : [];
  let corpusDb: TestDatabase;

  beforeAll(async () => {
    corpusDb = await testDatabase();
    await cliOk(corpusDb.url, ["init"]);
  }, 60_000);

  afterAll(async () => {
    await corpusDb?.drop();
  });

  for (const name of ledger) {
    test(name, async () => {
      const path = fileURLToPath(new URL(name, corpus));
      const planned = await cliOk(corpusDb.url, ["plan", path, "--json"]);
      const plan = JSON.parse(planned.stdout) as PlanJson;
      expect(plan.phases.map((p) => `${p.command}/${p.phase}`)).toContain("complete/switch-over");
      for (const s of plan.phases.flatMap((p) => p.statements)) {
        expect(s.sql.length).toBeGreaterThan(0);
        expect(s.lock).not.toBe("");
      }
      const text = await cliOk(corpusDb.url, ["plan", path]);
      expect(text.stdout).toContain(`Plan for migration "${plan.migration}"`);
      await cliOk(corpusDb.url, ["start", path, "--complete"]);
    });
  }
});
