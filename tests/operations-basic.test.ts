/**
 * Lifecycle tests on real PostgreSQL for the foundation's operations: create_table, drop_table,
 * rename_table, add_column (nullable / default forms), rename_column and raw sql. Each case runs
 * start → rollback → start → complete and checks both versions in between.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { columnNames, inSchema, schemaExists, tableExists } from "./helpers/catalog.ts";
import { cliOk } from "./helpers/cli.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "b01_users", {
    operations: [{
      create_table: {
        name: "users",
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "name", type: "text" },
          { name: "email", type: "varchar(255)", nullable: true, unique: true },
        ],
      },
    }],
  });
  await db.sql`insert into users (name, email) values ('alice', 'a@x'), ('bob', null)`;
});

afterAll(async () => {
  await db?.drop();
});

describe("create_table", () => {
  test("table with every column option and table constraints", async () => {
    await runLifecycle(db, {
      name: "b02_create_items",
      migration: {
        operations: [{
          create_table: {
            name: "items",
            comment: "things we sell",
            columns: [
              { name: "id", type: "bigint", generated: { identity: {} }, pk: true },
              { name: "sku", type: "text", unique: true, comment: "stock keeping unit" },
              {
                name: "price",
                type: "integer",
                default: "0",
                check: { name: "price_positive", constraint: "price >= 0" },
              },
              {
                name: "owner_id",
                type: "integer",
                nullable: true,
                references: {
                  name: "items_owner_fk",
                  table: "users",
                  column: "id",
                  on_delete: "set null",
                },
              },
              { name: "price_cents", type: "integer", generated: { expression: "price * 100" } },
            ],
            constraints: [
              { name: "sku_not_blank", type: "check", check: "length(sku) > 0" },
              { name: "owner_sku_unique", type: "unique", columns: ["owner_id", "sku"] },
            ],
          },
        }],
      },
      afterStart: async () => {
        // Only the new version has the table's view; the physical table exists already.
        expect(await tableExists(db.sql, "public_b02_create_items", "items")).toBe(true);
        expect(await tableExists(db.sql, "public_b01_users", "items")).toBe(false);
        await inSchema(db.url, "public_b02_create_items", async (sql) => {
          const [row] = await sql`insert into items (sku, owner_id) values ('A-1', 1) returning *`;
          expect(row).toMatchObject({ sku: "A-1", price: 0, price_cents: 0, owner_id: 1 });
          await expect(sql`insert into items (sku, price) values ('A-2', -1)`).rejects.toThrow(
            /price_positive/,
          );
          await expect(sql`insert into items (sku) values ('')`).rejects.toThrow(/sku_not_blank/);
        });
        // The old version keeps answering.
        await inSchema(db.url, "public_b01_users", async (sql) => {
          expect((await sql`select count(*)::int as n from users`)[0]!.n).toBe(2);
        });
      },
      afterRollback: async () => {
        expect(await tableExists(db.sql, "public", "items")).toBe(false);
      },
      afterComplete: async () => {
        expect(await schemaExists(db.sql, "public_b01_users")).toBe(false);
        const [comment] = await db.sql`select obj_description('items'::regclass, 'pg_class') as c`;
        expect(comment!.c).toBe("things we sell");
        const [fk] = await db.sql`
          select confdeltype from pg_constraint where conname = 'items_owner_fk'`;
        expect(fk!.confdeltype).toBe("n");
        const [col] = await db.sql`select col_description('items'::regclass, 2) as c`;
        expect(col!.c).toBe("stock keeping unit");
      },
    });
  });
});

describe("rename_table", () => {
  test("new version sees the new name, old version the old one", async () => {
    await db.sql`insert into items (sku) values ('R-1')`;
    await runLifecycle(db, {
      name: "b03_rename_items",
      migration: { operations: [{ rename_table: { from: "items", to: "products" } }] },
      afterStart: async () => {
        await inSchema(db.url, "public_b03_rename_items", async (sql) => {
          await sql`insert into products (sku) values ('new-side')`;
          expect((await sql`select sku from products order by id`).map((r) => r.sku)).toEqual([
            "R-1",
            "new-side",
          ]);
        });
        await inSchema(db.url, "public_b02_create_items", async (sql) => {
          await sql`insert into items (sku) values ('old-side')`;
          expect((await sql`select count(*)::int as n from items`)[0]!.n).toBe(3);
        });
        expect(await tableExists(db.sql, "public", "items")).toBe(true);
      },
      afterRollback: async () => {
        await db.sql`delete from items where sku in ('new-side', 'old-side')`;
      },
      afterComplete: async () => {
        expect(await tableExists(db.sql, "public", "items")).toBe(false);
        expect(await tableExists(db.sql, "public", "products")).toBe(true);
      },
    });
  });
});

describe("rename_column", () => {
  test("column renamed virtually, then physically", async () => {
    await runLifecycle(db, {
      name: "b04_rename_sku",
      migration: {
        operations: [{ rename_column: { table: "products", from: "sku", to: "code" } }],
      },
      afterStart: async () => {
        expect(await columnNames(db.sql, "public_b04_rename_sku", "products")).toContain("code");
        expect(await columnNames(db.sql, "public", "products")).toContain("sku");
        await inSchema(db.url, "public_b04_rename_sku", async (sql) => {
          await sql`insert into products (code) values ('C-9')`;
        });
        await inSchema(db.url, "public_b03_rename_items", async (sql) => {
          const rows = await sql`select sku from products where sku = 'C-9'`;
          expect(rows.length).toBe(1);
          await sql`delete from products where sku = 'C-9'`;
        });
      },
      afterComplete: async () => {
        const columns = await columnNames(db.sql, "public", "products");
        expect(columns).toContain("code");
        expect(columns).not.toContain("sku");
      },
    });
  });
});

describe("add_column", () => {
  test("nullable column", async () => {
    await runLifecycle(db, {
      name: "b05_add_phone",
      migration: {
        operations: [{
          add_column: { table: "users", column: { name: "phone", type: "text", nullable: true } },
        }],
      },
      afterStart: async () => {
        expect(await columnNames(db.sql, "public", "users")).toContain("_pgroll_new_phone");
        await inSchema(db.url, "public_b05_add_phone", async (sql) => {
          await sql`insert into users (name, phone) values ('carol', '555')`;
          expect((await sql`select phone from users where name = 'carol'`)[0]!.phone).toBe("555");
        });
        await inSchema(db.url, "public_b04_rename_sku", async (sql) => {
          await sql`insert into users (name) values ('dave')`;
          expect(await columnNames(sql, "public_b04_rename_sku", "users")).not.toContain("phone");
        });
      },
      afterRollback: async () => {
        await db.sql`delete from users where name in ('carol', 'dave')`;
      },
      afterComplete: async () => {
        const columns = await columnNames(db.sql, "public", "users");
        expect(columns).toContain("phone");
        expect(columns).not.toContain("_pgroll_new_phone");
      },
    });
  });

  test("NOT NULL column with a constant default, plus check, unique and foreign key", async () => {
    await runLifecycle(db, {
      name: "b06_add_score",
      migration: {
        operations: [
          {
            add_column: {
              table: "users",
              column: {
                name: "score",
                type: "integer",
                default: "10",
                check: { name: "score_range", constraint: "score between 0 and 100" },
              },
            },
          },
          {
            add_column: {
              table: "users",
              column: { name: "handle", type: "text", nullable: true, unique: true },
            },
          },
          {
            add_column: {
              table: "users",
              column: {
                name: "favourite_product",
                type: "integer",
                nullable: true,
                references: { name: "users_favourite_fk", table: "products", column: "id" },
              },
            },
          },
        ],
      },
      afterStart: async () => {
        await inSchema(db.url, "public_b06_add_score", async (sql) => {
          const rows = await sql`select name, score from users order by id`;
          expect(rows.every((r) => r.score === 10)).toBe(true);
          await expect(sql`insert into users (name, score) values ('x', 101)`).rejects.toThrow(
            /score_range/,
          );
          await sql`insert into users (name, handle) values ('erin', 'e')`;
          await expect(sql`insert into users (name, handle) values ('erin2', 'e')`).rejects.toThrow(
            /duplicate key/,
          );
          await expect(sql`insert into users (name, favourite_product) values ('f', 999999)`)
            .rejects
            .toThrow(/users_favourite_fk/);
        });
        // Old-version writes get the default.
        await inSchema(db.url, "public_b05_add_phone", async (sql) => {
          await sql`insert into users (name) values ('old-writer')`;
        });
        const [row] = await db
          .sql`select _pgroll_new_score as s from users where name = 'old-writer'`;
        expect(row!.s).toBe(10);
      },
      afterRollback: async () => {
        await db.sql`delete from users where name in ('erin', 'old-writer')`;
      },
      afterComplete: async () => {
        const [col] = await db.sql`
          select attnotnull from pg_attribute where attrelid = 'users'::regclass and attname = 'score'`;
        expect(col!.attnotnull).toBe(true);
        const constraints = await db.sql`
          select conname, convalidated from pg_constraint where conrelid = 'users'::regclass order by 1`;
        const byName = Object.fromEntries(constraints.map((c) => [c.conname, c.convalidated]));
        expect(byName).toMatchObject({
          score_range: true,
          users_favourite_fk: true,
          users_handle_key: true,
        });
      },
    });
  });

  test("a volatile default is refused before it can rewrite the table", async () => {
    const file = await (await import("./helpers/cli.ts")).migrationFile("b07_volatile.json", {
      operations: [{
        add_column: {
          table: "users",
          column: { name: "token", type: "double precision", default: "random()" },
        },
      }],
    });
    const { cli } = await import("./helpers/cli.ts");
    const result = await cli(db.url, ["start", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/volatile.*"up"/);
    expect(await columnNames(db.sql, "public", "users")).not.toContain("_pgroll_new_token");
    expect(await schemaExists(db.sql, "public_b07_volatile")).toBe(false);
  });
});

describe("drop_table", () => {
  test("table disappears from the new version, stays for the old until complete", async () => {
    await applyMigration(db, "b08_tmp_table", {
      operations: [{
        create_table: { name: "scratch", columns: [{ name: "id", type: "int", pk: true }] },
      }],
    });
    await db.sql`insert into scratch values (1)`;
    await runLifecycle(db, {
      name: "b09_drop_scratch",
      migration: { operations: [{ drop_table: { name: "scratch" } }] },
      afterStart: async () => {
        expect(await tableExists(db.sql, "public_b09_drop_scratch", "scratch")).toBe(false);
        expect(await tableExists(db.sql, "public", "_pgroll_del_scratch")).toBe(true);
        await inSchema(db.url, "public_b08_tmp_table", async (sql) => {
          expect((await sql`select id from scratch`).map((r) => r.id)).toEqual([1]);
        });
      },
      afterRollback: async () => {
        expect((await db.sql`select id from scratch`).map((r) => r.id)).toEqual([1]);
      },
      afterComplete: async () => {
        expect(await tableExists(db.sql, "public", "scratch")).toBe(false);
        expect(await tableExists(db.sql, "public", "_pgroll_del_scratch")).toBe(false);
      },
    });
  });
});

describe("sql", () => {
  test("up at start, down on rollback", async () => {
    await runLifecycle(db, {
      name: "b10_raw",
      migration: {
        operations: [{
          sql: {
            up:
              "create table raw_things (id int primary key, label text); insert into raw_things values (1, 'one')",
            down: "drop table if exists raw_things",
          },
        }],
      },
      afterStart: async () => {
        await inSchema(db.url, "public_b10_raw", async (sql) => {
          expect((await sql`select label from raw_things`)[0]!.label).toBe("one");
        });
      },
      afterComplete: async () => {
        expect(await tableExists(db.sql, "public_b10_raw", "raw_things")).toBe(true);
      },
    });
  });

  test("onComplete runs at complete and the views are rebuilt", async () => {
    await runLifecycle(db, {
      name: "b11_on_complete",
      migration: {
        operations: [
          { sql: { up: "alter table raw_things add column extra int", onComplete: true } },
        ],
      },
      afterStart: async () => {
        expect(await columnNames(db.sql, "public", "raw_things")).not.toContain("extra");
      },
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public_b11_on_complete", "raw_things")).toContain(
          "extra",
        );
      },
    });
  });
});

describe("status", () => {
  test("reports pgroll's JSON shape", async () => {
    const { stdout } = await cliOk(db.url, ["status"]);
    expect(JSON.parse(stdout)).toEqual({
      schema: "public",
      version: "b11_on_complete",
      status: "Complete",
    });
  });
});
