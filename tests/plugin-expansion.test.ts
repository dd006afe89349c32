/**
 * A plugin operation that expands into built-in operations runs as those operations, and start
 * records them: complete and rollback replay what start ran, whatever the plugin does later (an
 * `expand` that depends on the environment, a plugin file changed or gone).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import * as pgtandem from "../lib/mod.ts";
import { pgtandemModulePlugin } from "../lib/runtime.ts";
import { columnNames, dumpSchema, leftovers } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

// What main.ts does: serve "pgtandem" to plugin files wherever they are.
Bun.plugin(pgtandemModulePlugin({ ...pgtandem }));

let db: TestDatabase;
let dir: string;

const PLUGIN_SOURCE = `import { definePlugin, z } from "pgtandem";
import process from "node:process";

const table = z.object({ table: z.string() }).strict();
export default definePlugin({
  name: "envx",
  operations: {
    // Expands differently depending on the environment: exactly what a plugin should not do.
    "envx:add": {
      params: table,
      expand: (p) => [{
        add_column: {
          table: p.table,
          column: { name: process.env.PGTANDEM_TEST_COLUMN ?? "unset", type: "text", nullable: true },
          up: "'filled'",
        },
      }],
    },
    // A chain inside one expansion: the steps compose like operations written in the file.
    "envx:add_renamed": {
      params: table,
      expand: (p) => [
        { add_column: { table: p.table, column: { name: "draft", type: "text", nullable: true }, up: "'d'" } },
        { rename_column: { table: p.table, from: "draft", to: "final" } },
      ],
    },
  },
});
`;

let plugin: string;

beforeAll(async () => {
  db = await testDatabase();
  dir = await mkdtemp(join(tmpdir(), "pgtandem-expansion-"));
  plugin = join(dir, "envx.ts");
  await writeFile(plugin, PLUGIN_SOURCE);
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "e01_items", {
    operations: [{
      create_table: {
        name: "items",
        columns: [{ name: "id", type: "serial", pk: true }, { name: "a", type: "text" }],
      },
    }],
  });
  await db.sql`insert into items (a) select 'x' || g from generate_series(1, 50) g`;
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
  delete process.env.PGTANDEM_TEST_COLUMN;
});

describe("recorded expansions", () => {
  test("complete replays what start expanded, and warns that the plugin now expands differently", async () => {
    const file = await migrationFile("e02_env.json", {
      operations: [{ "envx:add": { table: "items" } }],
    });
    process.env.PGTANDEM_TEST_COLUMN = "first";
    await cliOk(db.url, ["start", file, "--plugin", plugin]);
    process.env.PGTANDEM_TEST_COLUMN = "second";
    const completed = await cliOk(db.url, ["complete", "--plugin", plugin]);
    expect(completed.stderr).toMatch(/expand migration "e02_env" differently from its start/);
    expect(await columnNames(db.sql, "public", "items")).toEqual(["id", "a", "first"]);
    const [row] = await db.sql`select count(*)::int as n from items where first = 'filled'`;
    expect(row!.n).toBe(50);
    expect(await leftovers(db.sql, "public")).toEqual([]);
  });

  test("rollback works with the plugin file gone, leaving the schema as before", async () => {
    const before = await dumpSchema(db.sql, "public");
    const file = await migrationFile("e03_gone.json", {
      operations: [{ "envx:add": { table: "items" } }],
    });
    process.env.PGTANDEM_TEST_COLUMN = "third";
    const copy = join(dir, "envx_copy.ts");
    await writeFile(copy, PLUGIN_SOURCE);
    await cliOk(db.url, ["start", file, "--plugin", copy]);
    await rm(copy);
    await cliOk(db.url, ["rollback"]);
    expect(await dumpSchema(db.sql, "public")).toEqual(before);
    expect(await leftovers(db.sql, "public")).toEqual([]);
  });

  test("operations inside one expansion compose: add then rename", async () => {
    const file = await migrationFile("e04_chain.json", {
      operations: [{ "envx:add_renamed": { table: "items" } }],
    });
    await cliOk(db.url, ["start", file, "--plugin", plugin]);
    const result = await cli(db.url, ["complete"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(await columnNames(db.sql, "public", "items")).toEqual(["id", "a", "first", "final"]);
    const [row] = await db.sql`select count(*)::int as n from items where final = 'd'`;
    expect(row!.n).toBe(50);
  });
});
