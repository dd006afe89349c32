/**
 * The safety lint reads what plugin operations will run: the operations an `expand` stands for
 * (linted as if written in the file) and the SQL a plugin operation that plans its own actions
 * runs at start. Through `plan --json` and `validate`, on real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import * as pgtandem from "../lib/mod.ts";
import { pgtandemModulePlugin } from "../lib/runtime.ts";

// What main.ts does for the CLI: serve "pgtandem" to the plugin file written below.
Bun.plugin(pgtandemModulePlugin({ ...pgtandem }));

let db: TestDatabase;
let plugin: string;

/** One kind of each sort, both doing what the lint warns about. */
const PLUGIN = `
import { definePlugin, ident, sqlAction, z } from "pgtandem";

export default definePlugin({
  name: "lintp",
  operations: {
    // Plans its own action: a blocking index build.
    "lintp:index": {
      description: "Index a column (without CONCURRENTLY).",
      params: z.object({ table: z.string(), column: z.string() }).strict(),
      start: ({ table, column }, { baseSchema }) => [
        sqlAction(
          "lintp_index_" + table,
          "CREATE INDEX lintp_idx ON " + ident(baseSchema, table) + " (" + ident(column) + ")",
          { table, lock: "SHARE" },
        ),
      ],
      complete: () => [],
      rollback: ({ table }, { baseSchema }) => [
        sqlAction("lintp_unindex_" + table, "DROP INDEX IF EXISTS " + ident(baseSchema, "lintp_idx"), {
          table,
          lock: "ACCESS EXCLUSIVE",
        }),
      ],
    },
    // Expands into raw SQL that scans the table under ACCESS EXCLUSIVE.
    "lintp:require": {
      description: "SET NOT NULL through raw SQL.",
      params: z.object({ table: z.string(), column: z.string() }).strict(),
      expand: ({ table, column }) => [{
        sql: {
          onComplete: true,
          up: "ALTER TABLE " + table + " ALTER COLUMN " + column + " SET NOT NULL",
        },
      }],
    },
    // Expands into built-in operations only: nothing to report.
    "lintp:note": {
      description: "Add a nullable note column.",
      params: z.object({ table: z.string() }).strict(),
      expand: ({ table }) => [{
        add_column: { table, column: { name: "note", type: "text", nullable: true } },
      }],
    },
  },
});
`;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "lp01_setup", {
    operations: [{
      create_table: {
        name: "things",
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "label", type: "text", nullable: true },
        ],
      },
    }],
  });
  const dir = await mkdtemp(join(tmpdir(), "pgtandem-lint-plugins-"));
  plugin = join(dir, "lintp.ts");
  await writeFile(plugin, PLUGIN);
});

afterAll(async () => {
  await db?.drop();
});

interface Finding {
  rule: string;
  severity: string;
  path: (string | number)[];
}

async function lintOf(name: string, operations: object[]): Promise<Finding[]> {
  const file = await migrationFile(`${name}.json`, { operations });
  const result = await cliOk(db.url, ["plan", file, "--plugin", plugin, "--json"]);
  return (JSON.parse(result.stdout) as { lint: Finding[] }).lint;
}

describe("the lint on plugin operations", () => {
  test("a plugin's own start action is linted like raw SQL, located by operation and action", async () => {
    const lint = await lintOf("lp02_index", [{
      "lintp:index": { table: "things", column: "label" },
    }]);
    expect(lint.map((f) => f.rule)).toContain("create-index-without-concurrently");
    const finding = lint.find((f) => f.rule === "create-index-without-concurrently")!;
    expect(finding.path).toEqual(["operations", 0, "lintp:index", "start", "lintp_index_things"]);
  });

  test("an expansion is linted as the operations it stands for", async () => {
    const lint = await lintOf("lp03_require", [
      { "lintp:note": { table: "things" } },
      { "lintp:require": { table: "things", column: "label" } },
    ]);
    const finding = lint.find((f) => f.rule === "set-not-null-without-check");
    expect(finding?.path).toEqual(["operations", 1, "lintp:require", "expansion", 0, "sql", "up"]);
    // lintp:note expands into a plain add_column: nothing is said about operation 0.
    expect(lint.filter((f) => f.path[1] === 0)).toEqual([]);
  });

  test("validate reports the same finding and nothing was changed", async () => {
    const file = await migrationFile("lp04_index.json", {
      operations: [{ "lintp:index": { table: "things", column: "label" } }],
    });
    const result = await cli(db.url, ["validate", file, "--plugin", plugin]);
    expect(result.stderr).toContain("create-index-without-concurrently");
    const [index] = await db.sql`select count(*)::int as n from pg_indexes
      where indexname = 'lintp_idx'`;
    expect(index!.n).toBe(0);
  });
});
