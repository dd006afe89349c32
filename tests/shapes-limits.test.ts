/**
 * Table shapes start refuses before any DDL: column changes on inheritance (INHERITS) parents and
 * on a child's inherited columns, and migrations that would exceed the 1600-column limit (dropped
 * columns included). What stays allowed is run end to end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { inSchema } from "./helpers/catalog.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { initWithBaseline } from "./helpers/baseline.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { migrationFile } from "./helpers/cli.ts";
import { expectCliRejected, expectStartRejected } from "./helpers/reject.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  const columns = Array.from({ length: 1598 }, (_, i) => `c${i + 1} int`).join(", ");
  await db.sql.unsafe(`
    CREATE TABLE animals (id int PRIMARY KEY, name text);
    CREATE TABLE dogs (bark text) INHERITS (animals);
    CREATE TABLE cats (lives int) INHERITS (animals);
    INSERT INTO animals SELECT g, 'a' || g FROM generate_series(1, 300) g;
    INSERT INTO dogs SELECT g, 'd' || g, 'woof' FROM generate_series(301, 600) g;
    INSERT INTO cats SELECT g, 'c' || g, 9 FROM generate_series(601, 900) g;
    -- 1599 columns in use, 9 of them dropped
    CREATE TABLE wide (id int PRIMARY KEY, ${columns});
    ALTER TABLE wide ${Array.from({ length: 9 }, (_, i) => `DROP COLUMN c${i + 1}`).join(", ")};
    INSERT INTO wide (id) SELECT generate_series(1, 10);
  `);
  await initWithBaseline(db);
});

afterAll(async () => {
  await db?.drop();
});

describe("table inheritance", () => {
  test("a column change on an inheritance parent is refused, naming its children", async () => {
    await expectStartRejected(db, "i01_parent.json", {
      operations: [{
        add_column: {
          table: "animals",
          column: { name: "legs", type: "int", nullable: false, default: "4" },
          up: "4",
        },
      }],
    }, /table "animals" has inheritance children \("public\.cats", "public\.dogs"\)/);
    await expectStartRejected(db, "i02_parent.json", {
      operations: [{ drop_column: { table: "animals", column: "name" } }],
    }, /table "animals" has inheritance children/);
  });

  test("validate and plan refuse it too, before start", async () => {
    const file = await migrationFile("i02b_parent.json", {
      operations: [{ drop_column: { table: "animals", column: "name" } }],
    });
    await expectCliRejected(db, ["validate", file], /table "animals" has inheritance children/);
    await expectCliRejected(db, ["plan", file], /table "animals" has inheritance children/);
  });

  test("a change of a child's inherited column is refused", async () => {
    await expectStartRejected(db, "i03_child.json", {
      operations: [{
        alter_column: {
          table: "dogs",
          column: "name",
          type: "varchar(50)",
          up: "name",
          down: "name",
        },
      }],
    }, /column "name" of table "dogs" is inherited from "public\.animals"/);
  });

  test("a child's own column and an index on the parent are migrated", async () => {
    await runLifecycle(db, {
      name: "i04_child_own",
      migration: {
        operations: [
          {
            alter_column: {
              table: "dogs",
              column: "bark",
              type: "varchar(10)",
              up: "upper(bark)",
              down: "lower(bark)",
            },
          },
          {
            create_index: {
              table: "animals",
              name: "animals_name_idx",
              columns: [{ column: "name" }],
            },
          },
        ],
      },
      afterStart: async () => {
        await inSchema(db.url, "public_i04_child_own", async (sql) => {
          const rows = await sql`select distinct bark from dogs`;
          expect(rows.map((r) => r.bark)).toEqual(["WOOF"]);
        });
      },
      afterComplete: async () => {
        const rows = await db.sql`select distinct bark from dogs`;
        expect(rows.map((r) => r.bark)).toEqual(["WOOF"]);
        const [count] = await db.sql`select count(*)::int as n from animals`;
        expect(count!.n).toBe(900);
      },
    });
  });
});

describe("the 1600-column limit", () => {
  test("start refuses when temporary columns and the marker would not fit", async () => {
    const result = await expectStartRejected(db, "w01_add.json", {
      operations: [{
        add_column: {
          table: "wide",
          column: { name: "extra", type: "int", nullable: false, default: "0" },
          up: "id",
        },
      }],
    }, /table "wide" uses 1599 of PostgreSQL's 1600 column slots .* needs 2 more/);
    expect(result.stderr).toContain("1 temporary");
    // Nothing was added: the slot count is what it was.
    const [slots] = await db.sql`select count(*)::int as n from pg_attribute
      where attrelid = 'public.wide'::regclass and attnum > 0`;
    expect(slots!.n).toBe(1599);
  });

  test("a change that fits still runs: the refused start used no slot up", async () => {
    // No rollback here: a rolled-back column keeps its slot too, and this one is the last.
    await applyMigration(db, "w02_add_plain", {
      operations: [{
        add_column: { table: "wide", column: { name: "extra", type: "int", nullable: true } },
      }],
    });
    const [slots] = await db.sql`select count(*)::int as n from pg_attribute
      where attrelid = 'public.wide'::regclass and attnum > 0`;
    expect(slots!.n).toBe(1600);
    const [row] = await db.sql`select count(*)::int as n from wide where extra is null`;
    expect(row!.n).toBe(10);
    await expectStartRejected(db, "w03_more.json", {
      operations: [{
        add_column: { table: "wide", column: { name: "more", type: "int", nullable: true } },
      }],
    }, /table "wide" uses 1600 of PostgreSQL's 1600 column slots .* needs 1 more \(1 temporary\)/);
  });
});
