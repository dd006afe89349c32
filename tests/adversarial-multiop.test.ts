/**
 * Adversarial cases: several operations on one table or column in one pgroll JSON migration,
 * with clients writing through the old and the new version between start and complete (and
 * while start's backfill runs). Every case runs start → writes through both versions → rollback
 * (schema exactly as before, every row in the old shape) → start → writes again → complete, then
 * checks the final schema and data, and that the old version schema is gone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { dumpSchema, inSchema, leftovers, schemaExists } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectStartRejected } from "./helpers/reject.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
});

afterAll(async () => {
  await db?.drop();
});

interface Scenario {
  /** Prefix of the migration names: `<name>_setup` makes the tables, `<name>` is the case. */
  name: string;
  /** SQL that makes the tables, run as a completed `sql` migration. */
  setup: string;
  operations: object[];
  /** Writes through the old and the new version; runs after each start. */
  writes: (old: postgres.Sql, next: postgres.Sql, round: 1 | 2) => Promise<void>;
  /** Checks after rollback (public is back to its old shape). */
  afterRollback: () => Promise<void>;
  /** Checks after complete. */
  afterComplete: () => Promise<void>;
  startArgs?: string[];
}

/** start → writes → rollback → checks → start → writes → complete → checks. */
async function run(s: Scenario) {
  try {
    await lifecycle(s);
  } catch (error) {
    // Leave no active migration behind for the next case.
    await cli(db.url, ["rollback"]);
    throw error;
  }
}

async function lifecycle(s: Scenario) {
  await applyMigration(db, `${s.name}_setup`, { operations: [{ sql: { up: s.setup } }] });
  const oldSchema = `public_${s.name}_setup`;
  const newSchema = `public_${s.name}`;
  const file = await migrationFile(`${s.name}.json`, { operations: s.operations });
  const before = await dumpSchema(db.sql, "public");
  const both = (round: 1 | 2) =>
    inSchema(
      db.url,
      oldSchema,
      (old) => inSchema(db.url, newSchema, (next) => s.writes(old, next, round)),
    );

  await cliOk(db.url, ["start", file, ...(s.startArgs ?? [])]);
  await both(1);
  await cliOk(db.url, ["rollback"]);
  expect(await schemaExists(db.sql, newSchema)).toBe(false);
  expect(await dumpSchema(db.sql, "public")).toEqual(before);
  expect(await leftovers(db.sql, "public")).toEqual([]);
  await s.afterRollback();

  await cliOk(db.url, ["start", file, ...(s.startArgs ?? [])]);
  await both(2);
  await cliOk(db.url, ["complete"]);
  expect(await schemaExists(db.sql, oldSchema)).toBe(false);
  expect(await schemaExists(db.sql, newSchema)).toBe(true);
  expect(await leftovers(db.sql, "public")).toEqual([]);
  await s.afterComplete();
}

async function columnType(table: string, column: string): Promise<string | undefined> {
  const [row] = await db.sql`
    select format_type(a.atttypid, a.atttypmod) as type, a.attnotnull from pg_attribute a
     where a.attrelid = ${`public."${table}"`}::regclass and a.attname = ${column}
       and not a.attisdropped`;
  return row ? `${row.type}${row.attnotnull ? " not null" : ""}` : undefined;
}

async function constraintDefs(table: string): Promise<string[]> {
  const rows = await db.sql`
    select pg_get_constraintdef(oid) as def from pg_constraint
     where conrelid = ${`public."${table}"`}::regclass and contype <> 'n' order by 1`;
  return rows.map((r) => r.def as string);
}

async function rows(sql: postgres.Sql, query: string) {
  return (await sql.unsafe(query)).map((r) => ({ ...r }));
}

describe("several operations on one column", () => {
  test("rename_column then alter_column type + NOT NULL + check on the renamed column", async () => {
    await run({
      name: "m01",
      setup: `create table acct (id int primary key, bal text);
              insert into acct values (1, '10'), (2, null), (3, '30');`,
      operations: [
        { rename_column: { table: "acct", from: "bal", to: "balance" } },
        {
          alter_column: {
            table: "acct",
            column: "balance",
            type: "integer",
            nullable: false,
            check: { name: "acct_balance_pos", constraint: "balance >= 0" },
            up: "coalesce(balance::integer, 0)",
            down: "balance::text",
          },
        },
      ],
      writes: async (old, next, round) => {
        await old`insert into acct values (${10 + round}, '7')`;
        await old`update acct set bal = '11' where id = 1`;
        await next`insert into acct (id, balance) values (${20 + round}, 5)`;
        await next`update acct set balance = balance + 1 where id = 3`;
        await next`insert into acct (id, balance) values (3, 100)
                   on conflict (id) do update set balance = excluded.balance`;
        await expect(next`insert into acct (id, balance) values (99, -1)`).rejects.toThrow(
          /acct_balance_pos/,
        );
        expect(await rows(next, "select id, balance from acct where id = 2")).toEqual([{
          id: 2,
          balance: 0,
        }]);
        expect(await rows(old, "select bal from acct where id = 3")).toEqual([{ bal: "100" }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, bal from acct order by id")).toEqual([
          { id: 1, bal: "11" },
          { id: 2, bal: null },
          { id: 3, bal: "100" },
          { id: 11, bal: "7" },
          { id: 21, bal: "5" },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("acct", "balance")).toBe("integer not null");
        expect(await columnType("acct", "bal")).toBeUndefined();
        expect(await constraintDefs("acct")).toContain("CHECK ((balance >= 0))");
        expect(await rows(db.sql, "select id, balance from acct order by id")).toEqual([
          { id: 1, balance: 11 },
          { id: 2, balance: 0 },
          { id: 3, balance: 100 },
          { id: 11, balance: 7 },
          { id: 12, balance: 7 },
          { id: 21, balance: 5 },
          { id: 22, balance: 5 },
        ]);
      },
    });
  });

  test("rename_column then unique and a foreign key on the renamed column", async () => {
    await run({
      name: "m02",
      setup: `create table teams (id int primary key);
              insert into teams values (1), (2);
              create table players (id int primary key, tm int);
              insert into players values (1, 1), (2, 2);`,
      operations: [
        { rename_column: { table: "players", from: "tm", to: "team_id" } },
        {
          alter_column: {
            table: "players",
            column: "team_id",
            references: {
              name: "players_team_fk",
              table: "teams",
              column: "id",
              on_delete: "CASCADE",
            },
            up: "team_id",
            down: "team_id",
          },
        },
        {
          alter_column: {
            table: "players",
            column: "team_id",
            unique: { name: "players_team_uniq" },
            up: "team_id",
            down: "team_id",
          },
        },
      ],
      writes: async (old, next, round) => {
        await old`insert into teams values (${10 + round})`;
        await next`insert into players (id, team_id) values (${10 + round}, ${10 + round})`;
        await expect(next`insert into players (id, team_id) values (50, 1)`).rejects.toThrow(
          /players_team_uniq/,
        );
        await expect(next`insert into players (id, team_id) values (51, 77)`).rejects.toThrow(
          /players_team_fk/,
        );
        await old`update players set tm = 2 where id = 2`;
        expect(await rows(next, "select team_id from players where id = 2")).toEqual([{
          team_id: 2,
        }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, tm from players order by id")).toEqual([
          { id: 1, tm: 1 },
          { id: 2, tm: 2 },
          { id: 11, tm: 11 },
        ]);
      },
      afterComplete: async () => {
        const defs = await constraintDefs("players");
        expect(defs).toContain("FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE");
        expect(defs).toContain("UNIQUE (team_id)");
        await db.sql`delete from teams where id = 12`;
        expect(await rows(db.sql, "select id, team_id from players order by id")).toEqual([
          { id: 1, team_id: 1 },
          { id: 2, team_id: 2 },
          { id: 11, team_id: 11 },
        ]);
      },
    });
  });

  test("add_column (unique, with up), then create_index on it", async () => {
    await run({
      name: "m03",
      setup: `create table items (id int primary key, name text not null);
              insert into items select g, 'n' || g from generate_series(1, 50) g;`,
      operations: [
        {
          add_column: {
            table: "items",
            column: { name: "slug", type: "text", nullable: true, unique: true },
            up: "lower(name) || '-' || id",
          },
        },
        { create_index: { name: "items_slug_idx", table: "items", columns: [{ column: "slug" }] } },
      ],
      writes: async (old, next, round) => {
        await old`insert into items (id, name) values (${100 + round}, 'Old')`;
        await next`insert into items (id, name, slug) values (${
          200 + round
        }, 'New', ${`new-${round}`})`;
        await expect(next`insert into items (id, name, slug) values (300, 'x', 'n5-5')`).rejects
          .toThrow(/unique/);
        await old`update items set name = 'Renamed' where id = 1`;
        expect(
          await rows(next, `select slug from items where id in (1, ${100 + round}) order by id`),
        )
          .toEqual([{ slug: "renamed-1" }, { slug: `old-${100 + round}` }]);
      },
      afterRollback: async () => {
        expect(await columnType("items", "slug")).toBeUndefined();
        expect(await rows(db.sql, "select count(*)::int as n from items")).toEqual([{ n: 52 }]);
      },
      afterComplete: async () => {
        expect(await constraintDefs("items")).toContain("UNIQUE (slug)");
        const idx = await db
          .sql`select indexdef from pg_indexes where indexname = 'items_slug_idx'`;
        expect(idx[0]?.indexdef).toMatch(/\(slug\)/);
        expect(await rows(db.sql, "select count(*)::int as n from items where slug is null"))
          .toEqual([{ n: 0 }]);
        expect(await rows(db.sql, "select slug from items where id in (2, 202) order by id"))
          .toEqual([{ slug: "n2-2" }, { slug: "new-2" }]);
      },
    });
  });
});

describe("refusals", () => {
  test("add_column then alter_column on the added column: one line naming it, nothing changed", async () => {
    await applyMigration(db, "m04_setup", {
      operations: [{ sql: { up: "create table gadgets (id int primary key, name text)" } }],
    });
    await expectStartRejected(
      db,
      "m04.json",
      {
        operations: [
          {
            add_column: {
              table: "gadgets",
              column: { name: "code", type: "text", nullable: true },
              up: "upper(name)",
            },
          },
          {
            alter_column: {
              table: "gadgets",
              column: "code",
              unique: { name: "gadgets_code_key" },
              up: "code",
              down: "code",
            },
          },
        ],
      },
      /operations\[1\]\.alter_column\.column: column "code" is added by an earlier add_column of this migration.*add_column's column definition/,
    );
  });
});

describe("dependents of the changed column", () => {
  test("int → bigint of a key other tables' foreign keys reference, with a view on it", async () => {
    await run({
      name: "m05",
      setup: `create table parents (id int primary key, name text);
              create table kids (id int primary key,
                parent_id int not null references parents (id) on delete cascade);
              create view parent_names as select id, name from parents where id > 0;
              insert into parents values (1, 'a'), (2, 'b');
              insert into kids values (1, 1), (2, 2);`,
      operations: [
        { alter_column: { table: "parents", column: "id", type: "bigint", up: "id", down: "id" } },
        { rename_column: { table: "parents", from: "name", to: "label" } },
      ],
      writes: async (old, next, round) => {
        await old`insert into parents values (${10 + round}, 'old')`;
        await next`insert into parents (id, label) values (${20 + round}, 'new')`;
        await old`insert into kids values (${20 + round}, ${20 + round})`;
        await next`insert into kids values (${10 + round}, ${10 + round})`;
        await expect(next`insert into kids values (99, 99)`).rejects.toThrow(/foreign key/);
        await next`update parents set label = 'B' where id = 2`;
        expect(await rows(old, "select name from public.parent_names where id = 2")).toEqual([{
          name: "B",
        }]);
        await next`insert into parents (id, label) values (${30 + round}, 'gone')`;
        await old`insert into kids values (${30 + round}, ${30 + round})`;
        await next`delete from parents where id = ${30 + round}`;
        expect(await rows(old, `select count(*)::int as n from kids where id = ${30 + round}`))
          .toEqual([{ n: 0 }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, name from parents order by id")).toEqual([
          { id: 1, name: "a" },
          { id: 2, name: "B" },
          { id: 11, name: "old" },
          { id: 21, name: "new" },
        ]);
        expect(await rows(db.sql, "select id, parent_id from kids order by id")).toEqual([
          { id: 1, parent_id: 1 },
          { id: 2, parent_id: 2 },
          { id: 11, parent_id: 11 },
          { id: 21, parent_id: 21 },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("parents", "id")).toBe("bigint not null");
        expect(await constraintDefs("kids")).toContain(
          "FOREIGN KEY (parent_id) REFERENCES parents(id) ON DELETE CASCADE",
        );
        expect(await rows(db.sql, "select id, name from parent_names order by id")).toEqual([
          { id: "1", name: "a" },
          { id: "2", name: "B" },
          { id: "11", name: "old" },
          { id: "12", name: "old" },
          { id: "21", name: "new" },
          { id: "22", name: "new" },
        ]);
        await db.sql`delete from parents where id = 12`;
        expect(await rows(db.sql, "select id from kids order by id")).toEqual([
          { id: 1 },
          { id: 2 },
          { id: 11 },
          { id: 21 },
          { id: 22 },
        ]);
      },
    });
  });

  test("type change of a column a STORED generated column is computed from: refused", async () => {
    // PostgreSQL drops a generated column along with a column it is computed from, so pgroll's
    // complete would lose it: refused at start, naming both columns.
    await applyMigration(db, "m06_setup", {
      operations: [{
        sql: {
          up: `create table lines (id int primary key, price int not null, qty int not null,
                 total int generated always as (price * qty) stored);
               insert into lines (id, price, qty) values (1, 2, 3);`,
        },
      }],
    });
    await expectStartRejected(
      db,
      "m06.json",
      {
        operations: [
          { rename_column: { table: "lines", from: "qty", to: "quantity" } },
          {
            alter_column: {
              table: "lines",
              column: "price",
              type: "bigint",
              up: "price",
              down: "price::int",
            },
          },
        ],
      },
      /operations\[1\]\.alter_column: cannot change column "price" of table "lines": generated column "total"/,
    );
    expect(await rows(db.sql, "select total from lines")).toEqual([{ total: 6 }]);
  });

  test("drop_column of a column a view uses: refused, naming the view", async () => {
    await applyMigration(db, "m07v_setup", {
      operations: [{
        sql: {
          up: `create table notes (id int primary key, body text, hidden boolean);
               create view shown_notes as select id, body from notes where not hidden;`,
        },
      }],
    });
    await expectStartRejected(
      db,
      "m07v.json",
      {
        operations: [
          { rename_column: { table: "notes", from: "body", to: "text" } },
          { drop_column: { table: "notes", column: "hidden", down: "false" } },
        ],
      },
      /operations\[1\]\.drop_column: cannot drop column "hidden" of table "notes": view "shown_notes" uses it/,
    );
  });

  test("drop_column of a column a partial index uses, with a view on the other columns", async () => {
    await run({
      name: "m07",
      setup:
        `create table docs (id int primary key, title text, archived boolean not null default false);
              create index docs_live_idx on docs (title) where not archived;
              create view all_docs as select id, title from docs;
              insert into docs values (1, 'one', false), (2, 'two', true);`,
      operations: [{ drop_column: { table: "docs", column: "archived", down: "false" } }],
      writes: async (old, next, round) => {
        await next`insert into docs (id, title) values (${10 + round}, 'new')`;
        await old`insert into docs values (${20 + round}, 'old', true)`;
        expect(await rows(old, `select archived from docs where id = ${10 + round}`)).toEqual([{
          archived: false,
        }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, archived from docs order by id")).toEqual([
          { id: 1, archived: false },
          { id: 2, archived: true },
          { id: 11, archived: false },
          { id: 21, archived: true },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("docs", "archived")).toBeUndefined();
        // PostgreSQL drops the partial index with the column; the view stays.
        expect(await db.sql`select 1 from pg_class where relname = 'docs_live_idx'`).toHaveLength(
          0,
        );
        expect(await rows(db.sql, "select count(*)::int as n from all_docs")).toEqual([{ n: 6 }]);
        expect(await rows(db.sql, "select count(*)::int as n from docs")).toEqual([{ n: 6 }]);
      },
    });
  });
});
