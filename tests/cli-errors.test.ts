/**
 * Bad input through the CLI: each case must print one clear line naming the file / operation /
 * field, exit 1, and leave the database exactly as it was (schema dump and migration history).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { schemaExists, tableExists } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectStartRejected } from "./helpers/reject.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "e01_base", {
    operations: [{
      create_table: {
        name: "accounts",
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "name", type: "text" },
        ],
      },
    }],
  });
});

afterAll(async () => {
  await db?.drop();
});

/** Runs `start` on the content and expects it refused, nothing changed. */
function expectRejected(fileName: string, content: object | string, pattern: RegExp) {
  return expectStartRejected(db, fileName, content, pattern);
}

describe("malformed files", () => {
  test("malformed JSON names the file and the line", async () => {
    await expectRejected("bad1.json", '{\n  "operations": [\n    { "sql": ', /bad1\.json.*line 3/);
  });

  test("malformed YAML names the file and the line", async () => {
    await expectRejected(
      "bad2.yaml",
      "operations:\n  - sql:\n      up: [unclosed\n",
      /bad2\.yaml.*line/,
    );
  });

  test("unknown operation", async () => {
    await expectRejected(
      "bad3.json",
      { operations: [{ create_tabel: { name: "x", columns: [] } }] },
      /bad3\.json: operations\[0\].*unknown operation "create_tabel"/,
    );
  });

  test("missing, extra and wrong-typed fields name the path", async () => {
    await expectRejected(
      "bad4.json",
      { operations: [{ create_table: { name: "t", columns: [{ name: "a" }] } }] },
      /operations\[0\]\.create_table\.columns\[0\]\.type/,
    );
    await expectRejected(
      "bad5.json",
      { operations: [{ drop_table: { name: "accounts", cascade: true } }] },
      /operations\[0\]\.drop_table.*cascade/,
    );
    await expectRejected(
      "bad6.json",
      { operations: [{ rename_table: { from: "accounts", to: 7 } }] },
      /operations\[0\]\.rename_table\.to/,
    );
  });
});

describe("invalid against the schema", () => {
  test("missing table", async () => {
    await expectRejected(
      "bad7.json",
      { operations: [{ drop_table: { name: "nope" } }] },
      /operations\[0\]\.drop_table\.name: table "nope" does not exist/,
    );
  });

  test("missing column", async () => {
    await expectRejected(
      "bad8.json",
      { operations: [{ rename_column: { table: "accounts", from: "nope", to: "x" } }] },
      /rename_column\.from: column "nope" does not exist in table "accounts"/,
    );
  });

  test("duplicate table and column", async () => {
    await expectRejected(
      "bad9.json",
      {
        operations: [{
          create_table: { name: "accounts", columns: [{ name: "id", type: "int" }] },
        }],
      },
      /table "accounts" already exists/,
    );
    await expectRejected(
      "bad10.json",
      {
        operations: [{
          add_column: { table: "accounts", column: { name: "name", type: "text", nullable: true } },
        }],
      },
      /column "name" already exists in table "accounts"/,
    );
  });

  test("an operation sees the schema the previous ones left", async () => {
    await expectRejected(
      "bad11.json",
      {
        operations: [
          { rename_table: { from: "accounts", to: "customers" } },
          { drop_table: { name: "accounts" } },
        ],
      },
      /operations\[1\]\.drop_table\.name: table "accounts" does not exist/,
    );
  });

  test("NOT NULL column without default or up", async () => {
    await expectRejected(
      "bad12.json",
      { operations: [{ add_column: { table: "accounts", column: { name: "c", type: "int" } } }] },
      /add_column\.up: .*"up" is required/,
    );
  });
});

describe("failures during start roll back everything", () => {
  test("a failing statement after earlier ones succeeded", async () => {
    const result = await expectRejected(
      "bad13.json",
      {
        operations: [
          { create_table: { name: "fresh", columns: [{ name: "id", type: "int", pk: true }] } },
          // Passes every check before start (a bad default would not: validate reads it now);
          // only the CREATE TABLE itself finds the generated expression volatile.
          {
            create_table: {
              name: "fresh2",
              columns: [
                { name: "id", type: "int", pk: true },
                { name: "g", type: "float8", generated: { expression: "random()" } },
              ],
            },
          },
        ],
      },
      /failed to start migration "bad13", changes rolled back: .*generation expression is not immutable/,
    );
    expect(result.code).toBe(1);
    expect(await tableExists(db.sql, "public", "fresh")).toBe(false);
    expect(await schemaExists(db.sql, "public_bad13")).toBe(false);
  });

  test("invalid SQL in raw sql", async () => {
    await expectRejected(
      "bad14.json",
      { operations: [{ sql: { up: "create tabel oops (id int)" } }] },
      /bad14\.json: operations\[0\]\.sql\.up: syntax error at or near "tabel"/,
    );
  });
});

describe("identifiers are quoted, never injected", () => {
  test("names with quotes, semicolons and spaces", async () => {
    const weird = `we"ird; drop table accounts; --`;
    const file = await migrationFile("e02_weird.json", {
      operations: [{
        create_table: {
          name: weird,
          columns: [{ name: `col "x"; y`, type: "int", pk: true }, {
            name: "Mixed Case",
            type: "text",
            nullable: true,
          }],
        },
      }],
    });
    await cliOk(db.url, ["start", file]);
    await cliOk(db.url, ["rollback"]);
    expect(await tableExists(db.sql, "public", "accounts")).toBe(true);
    await cliOk(db.url, ["start", file, "--complete"]);
    expect(await tableExists(db.sql, "public", weird)).toBe(true);
    expect(await tableExists(db.sql, "public", "accounts")).toBe(true);
    const columns = await db.sql`
      select attname from pg_attribute where attrelid = ${`public."we""ird; drop table accounts; --"`}::regclass and attnum > 0 order by attnum`;
    expect(columns.map((c) => c.attname)).toEqual([`col "x"; y`, "Mixed Case"]);
  });
});

describe("state", () => {
  test("a second start while one is active is refused", async () => {
    const first = await migrationFile("e03_first.json", {
      operations: [{ create_table: { name: "one", columns: [{ name: "id", type: "int" }] } }],
    });
    await cliOk(db.url, ["start", first]);
    try {
      await expectRejected(
        "e04_second.json",
        { operations: [{ create_table: { name: "two", columns: [{ name: "id", type: "int" }] } }] },
        /migration "e03_first" is already in progress/,
      );
    } finally {
      await cliOk(db.url, ["rollback"]);
    }
  });

  test("complete and rollback with nothing in progress", async () => {
    for (const command of ["complete", "rollback"]) {
      const result = await cli(db.url, [command]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/no migration is in progress in schema "public"/);
    }
  });

  test("commands before init say so", async () => {
    const result = await cli(db.url, ["status", "--pgroll-schema", "not_initialised"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not initialized/);
  });
});

describe("command line", () => {
  test("unknown command and flag", async () => {
    expect((await cli(db.url, ["frobnicate"])).stderr).toMatch(/unknown command "frobnicate"/);
    expect((await cli(db.url, ["status", "--nope"])).stderr).toMatch(/--nope/);
    expect((await cli(db.url, ["status", "--complete"])).stderr).toMatch(
      /--complete is not valid for command "status"/,
    );
  });

  test("flags before or after the command, env vars as fallback", async () => {
    const before = await cli("postgres://invalid@127.0.0.1:1/x", [
      "--postgres-url",
      db.url,
      "status",
    ]);
    expect(before.code).toBe(0);
    const after = await cli("postgres://invalid@127.0.0.1:1/x", [
      "status",
      "--postgres-url",
      db.url,
    ]);
    expect(after.code).toBe(0);
    const viaEnv = await cli(db.url, ["status"], { PGROLL_SCHEMA: "other" });
    expect(JSON.parse(viaEnv.stdout).schema).toBe("other");
  });

  test("the password of the connection URL is never printed", async () => {
    const result = await cli("postgres://someone:s3cret-pw@127.0.0.1:1/nodb", ["status"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot connect/);
    expect(result.stderr).not.toContain("s3cret-pw");
  });

  test("--verbose prints the stack trace", async () => {
    const result = await cli(db.url, ["complete", "--verbose"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  test("--version and --help", async () => {
    expect((await cli(db.url, ["--version"])).stdout).toMatch(/^pgtandem \d+\.\d+\.\d+/);
    const help = await cli(db.url, ["start", "--help"]);
    expect(help.stdout).toMatch(/--backfill-batch-size/);
  });
});
