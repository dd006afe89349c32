/**
 * User views over a rewritten column are recreated at complete, in dependency order, with their
 * owner, grants, comments, options, view column defaults and INSTEAD OF triggers, and follow
 * renames made by the same migration (docs/dependent-objects.md). Through the CLI.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { inSchema, leftovers } from "./helpers/catalog.ts";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectCliRejected } from "./helpers/reject.ts";

let db: TestDatabase;
let role: string;

beforeAll(async () => {
  db = await testDatabase();
  role = `viewer_${db.name}`;
  await db.sql.unsafe(`create role "${role}"`);
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "v01_setup", {
    operations: [{
      sql: {
        up: `
          create table orders (id integer primary key, amount integer not null, note text);
          insert into orders values (1, 5, 'small'), (2, 50, 'big'), (3, 500, 'huge');
          create view big_orders with (security_barrier = true) as
            select id, amount from orders where amount > 10 with local check option;
          alter view big_orders alter column amount set default 100;
          comment on view big_orders is 'orders above ten';
          comment on column big_orders.amount is 'in cents';
          grant select, insert on big_orders to "${role}";
          create view huge_orders as select id, amount * 2 as doubled from big_orders where amount > 100;
          create schema reporting;
          create view reporting.totals as select sum(amount) as total, count(*) as n from orders;
          create view order_log as select id, note, amount from orders;
          create function order_log_insert() returns trigger language plpgsql as $$
            begin insert into orders (id, amount, note) values (new.id, new.amount, new.note); return new; end $$;
          create trigger order_log_insert instead of insert on order_log
            for each row execute function order_log_insert();`,
      },
    }],
  });
});

afterAll(async () => {
  await db?.drop();
  await db?.sql.unsafe(`drop role if exists "${role}"`).catch(() => {});
});

async function viewColumnType(view: string, column: string): Promise<string> {
  const [row] = await db.sql`
    select format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
     where a.attrelid = ${view}::regclass and a.attname = ${column}`;
  return row!.type as string;
}

test("views over a rewritten column are recreated in the new shape, with everything they had", async () => {
  await runLifecycle(db, {
    name: "v02_bigint_amount",
    migration: {
      operations: [{
        alter_column: {
          table: "orders",
          column: "amount",
          type: "bigint",
          up: "amount",
          down: "amount",
        },
      }],
    },
    afterStart: async () => {
      await inSchema(db.url, "public_v02_bigint_amount", async (sql) => {
        await sql`insert into orders values (4, 5000, 'new')`;
      });
      // The old-side views still read the old column, kept in step by the down trigger.
      const rows = await db.sql`select id from huge_orders order by id`;
      expect(rows.map((r) => r.id)).toEqual([3, 4]);
      await db.sql`delete from orders where id = 4`;
    },
    afterComplete: async () => {
      expect(await viewColumnType("big_orders", "amount")).toBe("bigint");
      expect(await viewColumnType("huge_orders", "doubled")).toBe("bigint");
      expect((await db.sql`select id, doubled from huge_orders`).map((r) => ({ ...r }))).toEqual([
        { id: 3, doubled: "1000" },
      ]);
      expect((await db.sql`select total from reporting.totals`)[0]!.total).toBe("555");
      const [meta] = await db.sql`
        select c.reloptions, obj_description(c.oid, 'pg_class') as comment,
               col_description(c.oid, 2) as column_comment,
               has_table_privilege(${role}, c.oid, 'SELECT') as can_select,
               has_table_privilege(${role}, c.oid, 'INSERT') as can_insert,
               has_table_privilege(${role}, c.oid, 'DELETE') as can_delete
          from pg_class c where c.oid = 'big_orders'::regclass`;
      expect({ ...meta }).toEqual({
        reloptions: ["security_barrier=true", "check_option=local"],
        comment: "orders above ten",
        column_comment: "in cents",
        can_select: true,
        can_insert: true,
        can_delete: false,
      });
      // The check option and the view's column default survived.
      await db.sql`insert into big_orders (id) values (10)`;
      expect((await db.sql`select amount from orders where id = 10`)[0]!.amount).toBe("100");
      await expect(db.sql`insert into big_orders values (11, 1)`).rejects.toThrow(/check option/);
      // The INSTEAD OF trigger of a recreated view came back with it.
      await db.sql`insert into order_log values (12, 'via log', 7)`;
      expect((await db.sql`select note from orders where id = 12`)[0]!.note).toBe("via log");
      await db.sql`delete from orders where id in (10, 12)`;
      expect(await leftovers(db.sql, "public")).toEqual(["trigger order_log_insert"]);
    },
  });
});

test("a column rewritten and renamed in one migration: the views follow the new name", async () => {
  const file = await migrationFile("v03_rename.json", {
    operations: [
      { rename_column: { table: "orders", from: "amount", to: "cents" } },
      {
        alter_column: {
          table: "orders",
          column: "cents",
          type: "numeric(12,0)",
          up: "cents",
          down: "cents",
        },
      },
      { rename_table: { from: "orders", to: "purchases" } },
    ],
  });
  await cliOk(db.url, ["start", file]);
  await cliOk(db.url, ["complete"]);
  expect(await viewColumnType("big_orders", "amount")).toBe("numeric(12,0)");
  const [def] = await db.sql`select pg_get_viewdef('big_orders'::regclass) as def`;
  expect(def!.def).toMatch(/cents/);
  expect(def!.def).toMatch(/purchases/);
  expect((await db.sql`select id from huge_orders`).map((r) => r.id)).toEqual([3]);
  expect(await leftovers(db.sql, "public")).toEqual(["trigger order_log_insert"]);
});

test("a view created after start is found and recreated at complete", async () => {
  await applyMigration(db, "v04_notes", {
    operations: [{
      sql: {
        up:
          "create table notes (id integer primary key, body varchar(20)); insert into notes values (1, 'first')",
      },
    }],
  });
  const file = await migrationFile("v05_notes_text.json", {
    operations: [{
      alter_column: { table: "notes", column: "body", type: "text", up: "body", down: "body" },
    }],
  });
  await cliOk(db.url, ["start", file]);
  await db.sql`create view note_bodies as select body from notes`;
  await cliOk(db.url, ["complete"]);
  expect(await viewColumnType("note_bodies", "body")).toBe("text");
  expect((await db.sql`select body from note_bodies`).map((r) => r.body)).toEqual(["first"]);
});

test("a materialized view created after start: complete refuses with one line, changing nothing", async () => {
  const file = await migrationFile("v06_notes_varchar.json", {
    operations: [{
      alter_column: {
        table: "notes",
        column: "body",
        type: "varchar(50)",
        up: "body",
        down: "body",
      },
    }],
  });
  await cliOk(db.url, ["start", file]);
  await db.sql`create materialized view note_count as select count(body) as n from notes`;
  await expectCliRejected(
    db,
    ["complete"],
    /cannot complete migration "v06_notes_varchar": .*cannot change column "body" of table "notes": materialized view "note_count" uses it; drop the materialized view/,
  );
  await db.sql`drop materialized view note_count`;
  await cliOk(db.url, ["complete"]);
  expect(await viewColumnType("note_bodies", "body")).toBe("character varying(50)");
});
