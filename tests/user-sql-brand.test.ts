/**
 * User SQL travels as `UserSql` (lib/user-sql.ts): the type tests in tests/user-sql-brand.types.ts
 * must pass `deno check` (tsc checks them too, in tests/dsl-types.test.ts), and migrations whose
 * user SQL fills every branded slot still run start → rollback → start → complete, loaded from
 * YAML, from JSON and from a DSL module: the brand is a type only, so nothing changes at run time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as pgtandem from "../lib/mod.ts";
import { pgtandemModulePlugin } from "../lib/runtime.ts";
import { columnNames, inSchema, leftovers } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

// What main.ts does: serve "pgtandem" to migration modules.
Bun.plugin(pgtandemModulePlugin({ ...pgtandem }));

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));

/** deno check needs several seconds on a cold cache. */
const TIMEOUT_MS = 120_000;

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
});

afterAll(async () => {
  await db?.drop();
});

test("a plain string handed to a SQL builder does not compile (deno check)", async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>(
    (resolve, reject) => {
      const child = spawn(DENO, ["check", "tests/user-sql-brand.types.ts"], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: "1" },
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, output }));
    },
  );
  // An unused @ts-expect-error (a string that started to compile) is an error too.
  expect(output).not.toContain("error");
  expect(code).toBe(0);
}, TIMEOUT_MS);

/** `table` (id, name, price) with two rows, made by a completed migration. */
async function itemsTable(table: string): Promise<void> {
  await applyMigration(db, `setup_${table}`, {
    operations: [{
      create_table: {
        name: table,
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "name", type: "text" },
          { name: "price", type: "integer", default: "0" },
        ],
      },
    }],
  });
  await db.sql.unsafe(`insert into ${table} (name, price) values ('apple', 3), ('pear', 0)`);
}

/**
 * The checks after start and complete of a migration over `table` that adds `label` (up:
 * upper(name), default 'none'), retypes `price` to bigint (up ×100, down ÷100, check >= 0), adds
 * a partial index with storage parameters and creates `tags` (check, generated column, default,
 * exclusion constraint with a predicate).
 */
function checks(name: string, table: string, tags: string) {
  const version = `public_${name}`;
  return {
    afterStart: async () => {
      const rows = await db.sql.unsafe<{ name: string; label: string; price: string }[]>(
        `select name, label, price from "${version}".${table} order by id`,
      );
      expect(rows.map((r) => ({ name: r.name, label: r.label, price: r.price }))).toEqual([
        { name: "apple", label: "APPLE", price: "300" },
        { name: "pear", label: "PEAR", price: "0" },
      ]);
      // The check names the new column: a negative price is refused through the new version
      // (a client of it: the sync triggers tell the versions apart by search_path).
      await expect(
        inSchema(
          db.url,
          version,
          (sql) => sql.unsafe(`insert into ${table} (name, price) values ('x', -1)`),
        ),
      ).rejects.toThrow(/check constraint/);
      await db.sql.unsafe(`insert into "${version}".${tags} (name) values ('Hello')`);
      const [tag] = await db.sql.unsafe(`select slug, kind from "${version}".${tags}`);
      expect({ ...tag }).toEqual({ slug: "hello", kind: "plain" });
    },
    afterComplete: async () => {
      const [column] = await db.sql`
        select data_type from information_schema.columns
         where table_schema = 'public' and table_name = ${table} and column_name = 'price'`;
      expect(column?.data_type).toBe("bigint");
      const [index] = await db.sql`
        select indexdef from pg_indexes where schemaname = 'public' and tablename = ${table}
           and indexname = ${`${table}_priced_name`}`;
      expect(index?.indexdef).toContain("WITH (fillfactor='70')");
      expect(index?.indexdef).toContain("WHERE (price > 0)");
      await db.sql.unsafe(
        `insert into ${tags} (name, during) values ('a', '[2024-01-01,2024-02-01)')`,
      );
      await expect(
        db.sql.unsafe(`insert into ${tags} (name, during) values ('b', '[2024-01-15,2024-03-01)')`),
      ).rejects.toThrow(/exclusion constraint/);
      await expect(db.sql.unsafe(`insert into ${tags} (name) values ('')`)).rejects.toThrow(
        /check constraint/,
      );
      expect(await columnNames(db.sql, "public", table)).toEqual(["id", "name", "label", "price"]);
      expect(await leftovers(db.sql, "public")).toEqual([]);
    },
  };
}

describe("migrations run as before the brand", () => {
  test("YAML: start, rollback, start, complete", async () => {
    await itemsTable("y_items");
    const yaml = `operations:
  - add_column:
      table: y_items
      column: { name: label, type: text, default: "'none'" }
      up: upper(name)
  - alter_column:
      table: y_items
      column: price
      type: bigint
      up: price * 100
      down: price / 100
      check: { name: y_price_not_negative, constraint: price >= 0 }
  - create_index:
      name: y_items_priced_name
      table: y_items
      columns: [{ column: name }]
      predicate: price > 0
      storage_parameters: fillfactor = 70
  - create_table:
      name: y_tags
      columns:
        - { name: id, type: serial, pk: true }
        - name: name
          type: text
          check: { name: y_tags_name_not_empty, constraint: length(name) > 0 }
        - { name: slug, type: text, nullable: true, generated: { expression: lower(name) } }
        - { name: kind, type: text, default: "'plain'" }
        - { name: during, type: tsrange, nullable: true }
      constraints:
        - name: y_tags_no_overlap
          type: exclude
          exclude:
            index_method: gist
            elements: during WITH &&
            predicate: during IS NOT NULL
`;
    await runLifecycle(db, {
      name: "ub_yaml",
      extension: "yaml",
      migration: yaml,
      ...checks("ub_yaml", "y_items", "y_tags"),
    });
  });

  test("DSL: start, rollback, start, complete", async () => {
    await itemsTable("d_items");
    const module =
      `import { addColumn, alterColumn, createIndex, createTable, defineMigration, sql, t, table } from "pgtandem";

const items = table("d_items", ["id", "name", "price"]);

export default defineMigration({
  operations: [
    addColumn(items, "label", t.text().default(sql\`'none'\`), { up: sql\`upper(name)\` }),
    alterColumn(items, "price")
      .type(t.bigint(), { up: sql\`price * 100\`, down: sql\`price / 100\` })
      .check("d_price_not_negative", sql\`price >= 0\`),
    createIndex("d_items_priced_name", items, ["name"], {
      predicate: sql\`price > 0\`,
      storageParameters: { fillfactor: 70 },
    }),
    createTable("d_tags", {
      id: t.serial().primaryKey(),
      name: t.text().check("d_tags_name_not_empty", sql\`length(name) > 0\`),
      slug: t.text().nullable().generatedAs(sql\`lower(name)\`),
      kind: t.text().default(sql\`'plain'\`),
      during: t.raw("tsrange").nullable(),
    }).exclude("d_tags_no_overlap", {
      indexMethod: "gist",
      elements: sql\`during WITH &&\`,
      predicate: sql\`during IS NOT NULL\`,
    }),
  ],
});
`;
    await runLifecycle(db, {
      name: "ub_dsl",
      extension: "ts",
      migration: module,
      ...checks("ub_dsl", "d_items", "d_tags"),
    });
  });

  test("JSON: raw SQL up and down, start, rollback, start, complete", async () => {
    await runLifecycle(db, {
      name: "ub_raw",
      migration: {
        operations: [{
          sql: {
            up: "create table ub_raw_t (id int primary key, note text default 'x')",
            down: "drop table if exists ub_raw_t",
          },
        }],
      },
      afterRollback: async () => {
        expect(await columnNames(db.sql, "public", "ub_raw_t")).toEqual([]);
      },
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public", "ub_raw_t")).toEqual(["id", "note"]);
      },
    });
  });

  test("a migration file with an empty type is still refused before anything runs", async () => {
    const file = await migrationFile("ub_bad.json", {
      operations: [{
        add_column: { table: "y_items", column: { name: "bad", type: "" }, up: "1" },
      }],
    });
    const result = await cli(db.url, ["start", file]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("operations[0].add_column.column.type");
  });
});
