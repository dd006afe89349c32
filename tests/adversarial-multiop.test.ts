/**
 * Adversarial cases: several operations on one table or column in one pgroll JSON migration,
 * with clients writing through the old and the new version between start and complete (and
 * while start's backfill runs). Every case runs start → writes through both versions → rollback
 * (schema exactly as before, every row in the old shape) → start → writes again → complete, then
 * checks the final schema and data, and that the old version schema is gone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
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
  /** The migration as YAML text instead (then `operations` is unused). */
  yaml?: string;
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
  const file = s.yaml
    ? await migrationFile(`${s.name}.yaml`, s.yaml)
    : await migrationFile(`${s.name}.json`, { operations: s.operations });
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

describe("several columns of one table rewritten in one migration", () => {
  // Regression: the second column's copy of a check or index over both columns named the first
  // column's OLD physical column, so complete dropped it with that column (silently).
  test("two alter_columns and a rename: checks and indexes over both columns survive", async () => {
    await run({
      name: "m17",
      setup: `create table spans (id int primary key, lo int, hi int, tag text,
                constraint spans_order check (lo <= hi),
                constraint spans_lo_hi_key unique (lo, hi));
              create unique index spans_tag_lo on spans (tag, lo) where lo > hi - 100;
              create index spans_width on spans ((hi - lo));
              insert into spans values (1, 1, 2, 'a'), (2, 3, 4, 'b');`,
      operations: [
        { rename_column: { table: "spans", from: "hi", to: "upper" } },
        {
          alter_column: { table: "spans", column: "lo", type: "bigint", up: "lo", down: "lo::int" },
        },
        {
          alter_column: {
            table: "spans",
            column: "upper",
            type: "bigint",
            up: "upper",
            down: "upper::int",
          },
        },
      ],
      writes: async (old, next, round) => {
        await old`insert into spans values (${10 + round}, ${10 + round}, ${20 + round}, 'o')`;
        await next`insert into spans (id, lo, upper, tag) values (${20 + round}, ${30 + round}, ${
          40 + round
        }, 'n')`;
        await expect(next`insert into spans (id, lo, upper) values (90, 5, 1)`).rejects.toThrow(
          /spans_order/,
        );
        await expect(next`insert into spans (id, lo, upper) values (91, 3, 4)`).rejects.toThrow(
          /duplicate key/,
        );
        await expect(next`insert into spans (id, lo, upper, tag) values (92, 3, 99, 'b')`).rejects
          .toThrow(/duplicate key/);
        await next`update spans set upper = 5 where id = 1`;
        expect(await rows(old, "select hi from spans where id = 1")).toEqual([{ hi: 5 }]);
        await next`delete from spans where id = ${20 + round}`;
        await next`insert into spans (id, lo, upper, tag) values (${20 + round}, ${30 + round}, ${
          40 + round
        }, 'n')`;
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, lo, hi from spans order by id")).toEqual([
          { id: 1, lo: 1, hi: 5 },
          { id: 2, lo: 3, hi: 4 },
          { id: 11, lo: 11, hi: 21 },
          { id: 21, lo: 31, hi: 41 },
        ]);
      },
      afterComplete: async () => {
        expect(await constraintDefs("spans")).toEqual([
          "CHECK ((lo <= upper))",
          "PRIMARY KEY (id)",
          "UNIQUE (lo, upper)",
        ]);
        const indexes = await db.sql`
          select indexname, indexdef from pg_indexes where tablename = 'spans' order by 1`;
        expect(indexes.map((i) => i.indexdef)).toEqual([
          "CREATE UNIQUE INDEX spans_lo_hi_key ON public.spans USING btree (lo, upper)",
          "CREATE UNIQUE INDEX spans_pkey ON public.spans USING btree (id)",
          "CREATE UNIQUE INDEX spans_tag_lo ON public.spans USING btree (tag, lo) WHERE (lo > (upper - 100))",
          "CREATE INDEX spans_width ON public.spans USING btree (((upper - lo)))",
        ]);
        await expect(db.sql`insert into spans (id, lo, upper) values (93, 9, 1)`).rejects.toThrow(
          /spans_order/,
        );
        expect(await rows(db.sql, "select id, lo, upper from spans order by id")).toEqual([
          { id: 1, lo: "1", upper: "5" },
          { id: 2, lo: "3", upper: "4" },
          { id: 11, lo: "11", upper: "21" },
          { id: 12, lo: "12", upper: "22" },
          { id: 21, lo: "31", upper: "41" },
          { id: 22, lo: "32", upper: "42" },
        ]);
      },
    });
  });
});

describe("alter, rename, alter, rename", () => {
  test("each column altered then renamed: the check and partial index over both follow", async () => {
    await run({
      name: "m27",
      setup:
        `create table bands (id int primary key, lo int, hi int, constraint bands_order check (lo <= hi));
              create index bands_open on bands (id) where lo < hi;
              insert into bands values (1, 1, 2), (2, 3, 3);`,
      operations: [
        {
          alter_column: { table: "bands", column: "lo", type: "bigint", up: "lo", down: "lo::int" },
        },
        { rename_column: { table: "bands", from: "lo", to: "low" } },
        {
          alter_column: { table: "bands", column: "hi", type: "bigint", up: "hi", down: "hi::int" },
        },
        { rename_column: { table: "bands", from: "hi", to: "high" } },
      ],
      writes: async (old, next, round) => {
        await next`insert into bands (id, low, high) values (${10 + round}, 1, 9)`;
        await old`insert into bands values (${20 + round}, 2, 8)`;
        await expect(next`insert into bands (id, low, high) values (99, 5, 1)`).rejects.toThrow(
          /bands_order/,
        );
        await next`update bands set high = 7 where id = 2`;
        expect(await rows(old, "select hi from bands where id = 2")).toEqual([{ hi: 7 }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, lo, hi from bands order by id")).toEqual([
          { id: 1, lo: 1, hi: 2 },
          { id: 2, lo: 3, hi: 7 },
          { id: 11, lo: 1, hi: 9 },
          { id: 21, lo: 2, hi: 8 },
        ]);
      },
      afterComplete: async () => {
        expect(await constraintDefs("bands")).toEqual([
          "CHECK ((low <= high))",
          "PRIMARY KEY (id)",
        ]);
        const [idx] = await db.sql`select indexdef from pg_indexes where indexname = 'bands_open'`;
        expect(idx!.indexdef).toContain("WHERE (low < high)");
        expect(await columnType("bands", "low")).toBe("bigint");
        expect(await columnType("bands", "high")).toBe("bigint");
      },
    });
  });
});

describe("a column changed, then dropped, in one migration", () => {
  // Regression: the down blocks ran in operation order, so the alter_column's down (old column
  // from the copy) ran before the drop_column's down filled the copy: new-side inserts failed on
  // the old column's NOT NULL and new-side updates left it stale.
  test("alter_column type then drop_column of the same column with down", async () => {
    await run({
      name: "m21",
      setup: `create table gauges (id int primary key, label text, reading int not null);
              insert into gauges values (1, 'a', 5), (2, 'b', 6);`,
      operations: [
        {
          alter_column: {
            table: "gauges",
            column: "reading",
            type: "bigint",
            up: "reading",
            down: "reading::int",
          },
        },
        { drop_column: { table: "gauges", column: "reading", down: "id * 10" } },
      ],
      writes: async (old, next, round) => {
        await next`insert into gauges (id, label) values (${10 + round}, 'new')`;
        await next`update gauges set label = 'A' where id = 1`;
        await old`insert into gauges values (${20 + round}, 'old', 7)`;
        await old`update gauges set reading = 66 where id = 2`;
        expect(
          await rows(
            old,
            `select id, reading from gauges where id in (1, 2, ${10 + round}) order by id`,
          ),
        )
          .toEqual([{ id: 1, reading: 10 }, { id: 2, reading: 66 }, {
            id: 10 + round,
            reading: 100 + 10 * round,
          }]);
        expect(await rows(next, "select * from gauges where id = 1")).toEqual([{
          id: 1,
          label: "A",
        }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, label, reading from gauges order by id")).toEqual([
          { id: 1, label: "A", reading: 10 },
          { id: 2, label: "b", reading: 66 },
          { id: 11, label: "new", reading: 110 },
          { id: 21, label: "old", reading: 7 },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("gauges", "reading")).toBeUndefined();
        expect(await rows(db.sql, "select * from gauges order by id")).toEqual([
          { id: 1, label: "A" },
          { id: 2, label: "b" },
          { id: 11, label: "new" },
          { id: 12, label: "new" },
          { id: 21, label: "old" },
          { id: 22, label: "old" },
        ]);
      },
    });
  });
});

describe("a dropped column's down reads a column a later operation rewrites", () => {
  // Regression: the drop's down ran before the alter's down had converted the copy back, so it
  // read the old column as it was before the write: NULL on insert, the previous value on update.
  test("drop_column a (down from b), then alter_column b type", async () => {
    await run({
      name: "m22",
      setup: `create table memos (id int primary key, summary text, words int);
              insert into memos values (1, 'w=2', 2);`,
      operations: [
        { drop_column: { table: "memos", column: "summary", down: "'w=' || words" } },
        {
          alter_column: {
            table: "memos",
            column: "words",
            type: "bigint",
            up: "words",
            down: "words::int",
          },
        },
      ],
      writes: async (old, next, round) => {
        await next`insert into memos (id, words) values (${10 + round}, ${round * 7})`;
        await next`update memos set words = words + 1 where id = 1`;
        await old`insert into memos values (${20 + round}, 'kept', 3)`;
        expect(
          await rows(
            old,
            `select id, summary, words from memos where id in (1, ${10 + round}) order by id`,
          ),
        )
          .toEqual([
            { id: 1, summary: `w=${2 + round}`, words: 2 + round },
            { id: 10 + round, summary: `w=${round * 7}`, words: round * 7 },
          ]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, summary, words from memos order by id")).toEqual([
          { id: 1, summary: "w=3", words: 3 },
          { id: 11, summary: "w=7", words: 7 },
          { id: 21, summary: "kept", words: 3 },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("memos", "words")).toBe("bigint");
        expect(await rows(db.sql, "select id, words from memos order by id")).toEqual([
          { id: 1, words: "4" },
          { id: 11, words: "7" },
          { id: 12, words: "14" },
          { id: 21, words: "3" },
          { id: 22, words: "3" },
        ]);
      },
    });
  });
});

describe("a table created in the same migration, then altered", () => {
  // Regression: rollback (and undoing a failed start) ran DROP DEFAULT on the old column, which
  // PostgreSQL refuses for an identity column: the migration could not be rolled back at all.
  test("create_table with an identity column, then a type change and a rename of it", async () => {
    await run({
      name: "m18",
      setup: `create table owners (id int primary key); insert into owners values (1);`,
      operations: [
        {
          create_table: {
            name: "counters",
            columns: [
              { name: "id", type: "int", pk: true },
              {
                name: "n",
                type: "int",
                generated: { identity: { user_specified_values: "ALWAYS" } },
              },
              {
                name: "owner_id",
                type: "int",
                nullable: true,
                references: { name: "counters_owner_fk", table: "owners", column: "id" },
              },
            ],
          },
        },
        { alter_column: { table: "counters", column: "n", type: "bigint", up: "n", down: "n" } },
        { rename_column: { table: "counters", from: "n", to: "seq" } },
      ],
      writes: async (old, next, round) => {
        await old`insert into owners values (${10 + round})`;
        const [a] =
          await next`insert into counters (id, owner_id) values (${round}, 1) returning seq`;
        const [b] = await next`insert into counters (id, owner_id) values (${10 + round}, ${
          10 + round
        }) returning seq`;
        expect(BigInt(b!.seq)).toBeGreaterThan(BigInt(a!.seq));
        await expect(next`insert into counters (id, seq) values (99, 1000)`).rejects.toThrow(
          /GENERATED ALWAYS|cannot insert/i,
        );
        await expect(old`select * from counters`).rejects.toThrow(/does not exist/);
      },
      afterRollback: async () => {
        expect(await db.sql`select 1 from pg_class where relname = 'counters'`).toHaveLength(0);
        expect(await rows(db.sql, "select id from owners order by id")).toEqual([{ id: 1 }, {
          id: 11,
        }]);
      },
      afterComplete: async () => {
        expect(await columnType("counters", "seq")).toBe("bigint not null");
        const [identity] = await db.sql`
          select attidentity from pg_attribute where attrelid = 'counters'::regclass and attname = 'seq'`;
        expect(identity!.attidentity).toBe("a");
        const [max] = await db.sql`select max(seq) as m from counters`;
        const [c] = await db.sql`insert into counters (id) values (50) returning seq`;
        expect(BigInt(c!.seq)).toBeGreaterThan(BigInt(max!.m));
        expect(await constraintDefs("counters")).toEqual([
          "FOREIGN KEY (owner_id) REFERENCES owners(id)",
          "PRIMARY KEY (id)",
        ]);
      },
    });
  });

  // A copy of a column of a table created in the migration would lose the table's primary key
  // or unnamed UNIQUE constraint at complete (they are not in the model; pgroll loses them too).
  test("a key column of a table created in the migration: refused, naming the column", async () => {
    await applyMigration(db, "m19_setup", {
      operations: [{ sql: { up: "create table m19_base (id int primary key)" } }],
    });
    const table = {
      create_table: {
        name: "badges",
        columns: [
          { name: "id", type: "int", pk: true },
          { name: "code", type: "text", nullable: true, unique: true },
        ],
      },
    };
    await expectStartRejected(
      db,
      "m19a.json",
      {
        operations: [
          table,
          { alter_column: { table: "badges", column: "id", type: "bigint", up: "id", down: "id" } },
        ],
      },
      /operations\[1\]\.alter_column\.column: column "id" is in the primary key of table "badges", which this migration creates/,
    );
    await expectStartRejected(
      db,
      "m19b.json",
      {
        operations: [
          table,
          {
            alter_column: {
              table: "badges",
              column: "code",
              type: "varchar(20)",
              up: "code",
              down: "code",
            },
          },
        ],
      },
      /operations\[1\]\.alter_column\.column: column "code" of table "badges" has a UNIQUE constraint this migration creates without a name/,
    );
    await expectStartRejected(
      db,
      "m19c.json",
      {
        operations: [
          table,
          { rename_table: { from: "badges", to: "medals" } },
          {
            create_constraint: {
              table: "medals",
              name: "medals_id_positive",
              type: "check",
              check: "id > 0",
              columns: ["id"],
              up: { id: "id" },
              down: { id: "id" },
            },
          },
        ],
      },
      /operations\[2\]\.create_constraint\.columns\[0\]: column "id" is in the primary key of table "medals", which this migration creates/,
    );
  });
});

describe("YAML", () => {
  test("rename_table, type + default + comment, drop_column with down, index: in YAML", async () => {
    await run({
      name: "m20",
      setup:
        `create table prices (id int primary key, cents text, legacy text not null default 'x');
              insert into prices values (1, '100', 'a'), (2, '250', 'b');`,
      operations: [],
      yaml: `operations:
  - rename_table:
      from: prices
      to: tariffs
  - alter_column:
      table: tariffs
      column: cents
      type: integer
      default: "0"
      comment: price in cents
      up: cents::integer
      down: cents::text
  - drop_column:
      table: tariffs
      column: legacy
      down: "'from new ' || id"
  - create_index:
      name: tariffs_cents_idx
      table: tariffs
      columns:
        - column: cents
          sort: DESC
`,
      writes: async (old, next, round) => {
        await old`insert into prices values (${10 + round}, '7', 'old')`;
        await next`insert into tariffs (id) values (${20 + round})`;
        await next`insert into tariffs (id, cents) values (${30 + round}, 5)
                   on conflict (id) do update set cents = excluded.cents`;
        await next`update tariffs set cents = cents * 2 where id = 2`;
        expect(
          await rows(
            old,
            `select id, cents, legacy from prices where id in (2, ${20 + round}) order by id`,
          ),
        )
          .toEqual([
            // As in pgroll, a new-side write (an update too) sets the dropped column from `down`.
            { id: 2, cents: String(250 * 2 ** round), legacy: "from new 2" },
            { id: 20 + round, cents: "0", legacy: `from new ${20 + round}` },
          ]);
        await old`delete from prices where id = 1`;
        expect(await rows(next, "select count(*)::int as n from tariffs where id = 1")).toEqual([{
          n: 0,
        }]);
        await old`insert into prices values (1, '100', 'a')`;
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, cents, legacy from prices order by id")).toEqual([
          { id: 1, cents: "100", legacy: "a" },
          { id: 2, cents: "500", legacy: "from new 2" },
          { id: 11, cents: "7", legacy: "old" },
          { id: 21, cents: "0", legacy: "from new 21" },
          { id: 31, cents: "5", legacy: "from new 31" },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("tariffs", "cents")).toBe("integer");
        expect(await columnType("tariffs", "legacy")).toBeUndefined();
        const [c] = await db.sql`
          select col_description('tariffs'::regclass, attnum) as comment,
                 pg_get_expr(d.adbin, d.adrelid) as def
            from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
           where attrelid = 'tariffs'::regclass and attname = 'cents'`;
        expect({ ...c }).toEqual({ comment: "price in cents", def: "0" });
        const [idx] = await db
          .sql`select indexdef from pg_indexes where indexname = 'tariffs_cents_idx'`;
        expect(idx!.indexdef).toContain("(cents DESC)");
        expect(await rows(db.sql, "select id, cents from tariffs order by id")).toEqual([
          { id: 1, cents: 100 },
          { id: 2, cents: 1000 },
          { id: 11, cents: 7 },
          { id: 12, cents: 7 },
          { id: 21, cents: 0 },
          { id: 22, cents: 0 },
          { id: 31, cents: 5 },
          { id: 32, cents: 5 },
        ]);
      },
    });
  });
});

describe("one column name added as unique to two tables", () => {
  // Regression: both add_columns built their temporary unique index under pgroll's name
  // `_pgroll_uniq_<column>`, which is schema-wide: the second one failed start.
  test("add_column code (unique) to two tables in one migration", async () => {
    await run({
      name: "m25",
      setup: `create table shops (id int primary key, name text);
              create table brands (id int primary key, name text);
              insert into shops values (1, 'Shop One'), (2, 'Shop Two');
              insert into brands values (1, 'Brand One');`,
      operations: [
        {
          add_column: {
            table: "shops",
            column: { name: "code", type: "text", nullable: true, unique: true },
            up: "lower(replace(name, ' ', '-'))",
          },
        },
        {
          add_column: {
            table: "brands",
            column: { name: "code", type: "text", nullable: true, unique: true },
            up: "lower(replace(name, ' ', '-'))",
          },
        },
      ],
      writes: async (old, next, round) => {
        await old`insert into shops values (${10 + round}, ${`Old ${round}`})`;
        await next`insert into brands (id, name, code) values (${
          10 + round
        }, 'b', ${`b-${round}`})`;
        // The same code in the other table is fine; in the same table it is not.
        await next`insert into shops (id, name, code) values (${20 + round}, 's', ${`b-${round}`})`;
        await expect(next`insert into shops (id, name, code) values (99, 'x', 'shop-one')`).rejects
          .toThrow(/duplicate key/);
        await expect(next`insert into brands (id, name, code) values (99, 'x', 'brand-one')`)
          .rejects.toThrow(/duplicate key/);
      },
      afterRollback: async () => {
        expect(await columnType("shops", "code")).toBeUndefined();
        expect(await columnType("brands", "code")).toBeUndefined();
      },
      afterComplete: async () => {
        expect(await constraintDefs("shops")).toContain("UNIQUE (code)");
        expect(await constraintDefs("brands")).toContain("UNIQUE (code)");
        expect(await rows(db.sql, "select id, code from shops order by id")).toEqual([
          { id: 1, code: "shop-one" },
          { id: 2, code: "shop-two" },
          { id: 11, code: "old-1" },
          { id: 12, code: "old-2" },
          { id: 21, code: "s" }, // rollback dropped its code: the second start derived it
          { id: 22, code: "b-2" },
        ]);
      },
    });
  });
});

describe("a renamed column named only in index predicates and expressions", () => {
  // Regression: complete looked for the renamed column's new name in the index definitions,
  // which still used the old one, so the copies kept their `_pgroll_dup_` names.
  test("rename_column then alter_column type: partial and expression indexes keep their names", async () => {
    await run({
      name: "m26",
      setup: `create table accounts (id int primary key, email text, st text);
              create unique index accounts_live_email on accounts (email) where st = 'on';
              create index accounts_st_len on accounts ((length(st)));
              insert into accounts values (1, 'a@x', 'on'), (2, 'a@x', 'off');`,
      operations: [
        { rename_column: { table: "accounts", from: "st", to: "status" } },
        {
          create_index: {
            name: "accounts_email_on",
            table: "accounts",
            columns: [{ column: "email" }],
            predicate: "status = 'on'",
          },
        },
        {
          alter_column: {
            table: "accounts",
            column: "status",
            type: "varchar(8)",
            up: "status",
            down: "status",
          },
        },
      ],
      writes: async (old, next, round) => {
        await next`insert into accounts (id, email, status) values (${10 + round}, 'b@x', 'off')`;
        await expect(next`insert into accounts (id, email, status) values (99, 'a@x', 'on')`)
          .rejects.toThrow(/duplicate key/);
        await old`insert into accounts values (${20 + round}, ${`c${round}@x`}, 'on')`;
        await expect(old`insert into accounts values (98, 'a@x', 'on')`).rejects.toThrow(
          /duplicate key/,
        );
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select count(*)::int as n from accounts")).toEqual([{ n: 4 }]);
      },
      afterComplete: async () => {
        const indexes = await db.sql`
          select indexname, indexdef from pg_indexes where tablename = 'accounts' order by 1`;
        expect(indexes.map((i) => i.indexname)).toEqual([
          "accounts_email_on",
          "accounts_live_email",
          "accounts_pkey",
          "accounts_st_len",
        ]);
        expect(indexes.find((i) => i.indexname === "accounts_live_email")!.indexdef).toContain(
          "WHERE ((status)::text = 'on'::text)",
        );
        await expect(db.sql`insert into accounts (id, email, status) values (97, 'a@x', 'on')`)
          .rejects.toThrow(/accounts_live_email/);
      },
    });
  });
});

describe("refusals", () => {
  // pgroll accepts a swap (its complete renames one by one); pgtandem's complete renames the
  // column the rename found at start, which the swap has renamed away, so it refuses cleanly.
  test("swapping two column names through a third: refused, naming the name in use", async () => {
    await applyMigration(db, "m29_setup", {
      operations: [{ sql: { up: "create table pairs (id int primary key, a text, b text)" } }],
    });
    await expectStartRejected(
      db,
      "m29.json",
      {
        operations: [
          { rename_column: { table: "pairs", from: "a", to: "tmp" } },
          { rename_column: { table: "pairs", from: "b", to: "a" } },
          { rename_column: { table: "pairs", from: "tmp", to: "b" } },
        ],
      },
      /operations\[1\]\.rename_column\.to: column name "a" is still in use in table "pairs" until complete/,
    );
  });

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
    // Regression: the generated column itself was copied as a plain column, so after complete
    // it was no longer computed (NULL for every new row).
    await expectStartRejected(
      db,
      "m06b.json",
      {
        operations: [
          { rename_column: { table: "lines", from: "qty", to: "quantity" } },
          {
            alter_column: {
              table: "lines",
              column: "total",
              type: "bigint",
              up: "total",
              down: "total::int",
            },
          },
        ],
      },
      /operations\[1\]\.alter_column: cannot change column "total" of table "lines": it is a generated column/,
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

describe("tables renamed, created and referenced in the same migration", () => {
  test("rename_table, then add_column, alter_column and create_index on the new name", async () => {
    await run({
      name: "m08",
      setup: `create table clients (id int primary key, nm text);
              insert into clients values (1, 'ann'), (2, null);`,
      operations: [
        { rename_table: { from: "clients", to: "customers" } },
        {
          add_column: {
            table: "customers",
            column: { name: "email", type: "text", nullable: true },
            up: "coalesce(nm, 'anon') || '@example.com'",
          },
        },
        {
          alter_column: {
            table: "customers",
            column: "nm",
            nullable: false,
            up: "coalesce(nm, '?')",
            down: "nm",
          },
        },
        { rename_column: { table: "customers", from: "nm", to: "full_name" } },
        {
          create_index: {
            name: "customers_email_idx",
            table: "customers",
            columns: [{ column: "email" }],
          },
        },
      ],
      writes: async (old, next, round) => {
        await old`insert into clients values (${10 + round}, null)`;
        await next`insert into customers (id, full_name, email) values (${
          20 + round
        }, 'new', 'n@x')`;
        await expect(next`insert into customers (id, full_name) values (98, null)`).rejects.toThrow(
          /null/i,
        );
        await old`update clients set nm = 'ANN' where id = 1`;
        expect(
          await rows(
            next,
            `select id, full_name, email from customers where id in (1, 2, ${
              10 + round
            }) order by id`,
          ),
        )
          .toEqual([
            { id: 1, full_name: "ANN", email: "ANN@example.com" },
            { id: 2, full_name: "?", email: "anon@example.com" },
            { id: 10 + round, full_name: "?", email: "anon@example.com" },
          ]);
        expect(await rows(old, `select nm from clients where id = ${20 + round}`)).toEqual([{
          nm: "new",
        }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, nm from clients order by id")).toEqual([
          { id: 1, nm: "ANN" },
          { id: 2, nm: null },
          { id: 11, nm: null },
          { id: 21, nm: "new" },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("customers", "full_name")).toBe("text not null");
        expect(await db.sql`select 1 from pg_class where relname = 'clients'`).toHaveLength(0);
        expect(await rows(db.sql, "select id, full_name, email from customers order by id"))
          .toEqual([
            { id: 1, full_name: "ANN", email: "ANN@example.com" },
            { id: 2, full_name: "?", email: "anon@example.com" },
            { id: 11, full_name: "?", email: "anon@example.com" },
            { id: 12, full_name: "?", email: "anon@example.com" },
            { id: 21, full_name: "new", email: "new@example.com" },
            { id: 22, full_name: "new", email: "n@x" },
          ]);
        const [idx] = await db
          .sql`select indexdef from pg_indexes where indexname = 'customers_email_idx'`;
        expect(idx!.indexdef).toContain("ON public.customers USING btree (email)");
      },
    });
  });

  test("create_table, a foreign key from an existing table to it, and a backfilled column", async () => {
    await run({
      name: "m09",
      setup: `create table shipments (id int primary key, region text);
              insert into shipments values (1, 'eu'), (2, 'us'), (3, null);`,
      operations: [
        {
          create_table: {
            name: "regions",
            columns: [
              { name: "id", type: "serial", pk: true },
              { name: "code", type: "text", unique: true },
            ],
          },
        },
        {
          add_column: {
            table: "shipments",
            column: {
              name: "region_id",
              type: "integer",
              nullable: true,
              references: {
                name: "shipments_region_fk",
                table: "regions",
                column: "id",
                on_delete: "SET NULL",
              },
            },
          },
        },
        {
          add_column: {
            table: "shipments",
            column: { name: "region_code", type: "text", nullable: false, default: "'??'" },
            up: "coalesce(upper(region), '??')",
          },
        },
      ],
      writes: async (old, next, round) => {
        const [r] = await next`insert into regions (code) values (${`r${round}`}) returning id`;
        await next`insert into shipments (id, region, region_id, region_code)
                   values (${20 + round}, 'eu', ${r!.id}, 'EU')`;
        await old`insert into shipments values (${10 + round}, 'jp')`;
        await old`update shipments set region = 'uk' where id = 3`;
        await expect(next`insert into shipments (id, region_id) values (99, 12345)`).rejects
          .toThrow(
            /shipments_region_fk/,
          );
        expect(
          await rows(
            next,
            `select id, region_code from shipments where id in (3, ${10 + round}) order by id`,
          ),
        )
          .toEqual([{ id: 3, region_code: "UK" }, { id: 10 + round, region_code: "JP" }]);
      },
      afterRollback: async () => {
        expect(await db.sql`select 1 from pg_class where relname = 'regions'`).toHaveLength(0);
        expect(await rows(db.sql, "select id, region from shipments order by id")).toEqual([
          { id: 1, region: "eu" },
          { id: 2, region: "us" },
          { id: 3, region: "uk" },
          { id: 11, region: "jp" },
          { id: 21, region: "eu" },
        ]);
      },
      afterComplete: async () => {
        expect(await constraintDefs("shipments")).toContain(
          "FOREIGN KEY (region_id) REFERENCES regions(id) ON DELETE SET NULL",
        );
        expect(await columnType("shipments", "region_code")).toBe("text not null");
        expect(
          await rows(
            db.sql,
            "select id, region_id is not null as linked, region_code from shipments order by id",
          ),
        )
          .toEqual([
            { id: 1, linked: false, region_code: "EU" },
            { id: 2, linked: false, region_code: "US" },
            { id: 3, linked: false, region_code: "UK" },
            { id: 11, linked: false, region_code: "JP" },
            { id: 12, linked: false, region_code: "JP" },
            { id: 21, linked: false, region_code: "EU" },
            { id: 22, linked: true, region_code: "EU" },
          ]);
        await db.sql`delete from regions`;
        expect(await rows(db.sql, "select count(region_id)::int as n from shipments")).toEqual([{
          n: 0,
        }]);
      },
    });
  });
});

describe("identity columns and partitioned tables", () => {
  test("int → bigint of GENERATED ALWAYS / BY DEFAULT identity keys, one referencing the other", async () => {
    await run({
      name: "m10",
      setup: `create table tickets (id int generated always as identity primary key, note text);
              create table replies (id int generated by default as identity primary key,
                ticket_id int references tickets (id), body text);
              insert into tickets (note) values ('a'), ('b');
              insert into replies (ticket_id, body) values (1, 'r1'), (2, 'r2');`,
      operations: [
        { alter_column: { table: "tickets", column: "id", type: "bigint", up: "id", down: "id" } },
        { rename_column: { table: "tickets", from: "note", to: "subject" } },
        { alter_column: { table: "replies", column: "id", type: "bigint", up: "id", down: "id" } },
        {
          alter_column: {
            table: "replies",
            column: "ticket_id",
            type: "bigint",
            up: "ticket_id",
            down: "ticket_id",
          },
        },
      ],
      writes: async (old, next) => {
        const [o] = await old`insert into tickets (note) values ('old') returning id`;
        const [n] = await next`insert into tickets (subject) values ('new') returning id`;
        expect(Number(n!.id)).toBeGreaterThan(Number(o!.id));
        await old`insert into replies (ticket_id, body) values (${n!.id}, 'old reply')`;
        await next`insert into replies (ticket_id, body) values (${o!.id}, 'new reply')`;
        await expect(next`insert into tickets (id, subject) values (1000, 'x')`).rejects.toThrow(
          /GENERATED ALWAYS|cannot insert/i,
        );
        await next`update tickets set subject = 'B' where id = 2`;
        expect(await rows(old, "select note from tickets where id = 2")).toEqual([{ note: "B" }]);
      },
      afterRollback: async () => {
        // Ids may skip values (a new-side insert draws from the sequence twice); none is reused.
        expect(await rows(db.sql, "select note from tickets order by id")).toEqual([
          { note: "a" },
          { note: "B" },
          { note: "old" },
          { note: "new" },
        ]);
        expect(
          await rows(
            db.sql,
            "select t.note, r.body from replies r join tickets t on t.id = r.ticket_id where r.id > 2 order by r.id",
          ),
        )
          .toEqual([{ note: "new", body: "old reply" }, { note: "old", body: "new reply" }]);
        const [max] = await db.sql`select max(id) as id from tickets`;
        const [t] = await db.sql`insert into tickets (note) values ('after rollback') returning id`;
        expect(t!.id).toBeGreaterThan(max!.id);
      },
      afterComplete: async () => {
        expect(await columnType("tickets", "id")).toBe("bigint not null");
        expect(await columnType("replies", "ticket_id")).toBe("bigint");
        const identity = await db.sql`
          select attrelid::regclass::text as t, attidentity from pg_attribute
           where attname = 'id' and attrelid in ('tickets'::regclass, 'replies'::regclass) order by 1`;
        expect(identity.map((r) => ({ ...r }))).toEqual([
          { t: "replies", attidentity: "d" },
          { t: "tickets", attidentity: "a" },
        ]);
        const [max] = await db.sql`
          select (select max(id) from tickets) as t, (select max(id) from replies) as r`;
        const [t] = await db.sql`insert into tickets (subject) values ('after') returning id`;
        const [r] = await db.sql`insert into replies (ticket_id, body) values (${
          t!.id
        }, 'x') returning id`;
        expect(BigInt(t!.id)).toBeGreaterThan(BigInt(max!.t));
        expect(BigInt(r!.id)).toBeGreaterThan(BigInt(max!.r));
        expect(
          await rows(
            db.sql,
            "select count(*)::int as n, count(distinct subject)::int as d from tickets",
          ),
        )
          .toEqual([{ n: 8, d: 6 }]);
        expect(
          await rows(
            db.sql,
            "select count(*)::int as n from replies r join tickets t on t.id = r.ticket_id",
          ),
        )
          .toEqual([{ n: 7 }]);
        expect(await constraintDefs("replies")).toContain(
          "FOREIGN KEY (ticket_id) REFERENCES tickets(id)",
        );
      },
    });
  });

  // Regression: complete dropped the identity guard under the table's new name, so the guard of
  // the old name stayed behind, and every insert after complete failed on the vanished copy.
  test("rename_table, then int → bigint of its GENERATED ALWAYS identity key and a rename of it", async () => {
    await run({
      name: "m23",
      setup: `create table tk (id int generated always as identity primary key, note text);
              create table tk_refs (id int primary key, tk_id int references tk (id));
              insert into tk (note) values ('a'), ('b');
              insert into tk_refs values (1, 1);`,
      operations: [
        { rename_table: { from: "tk", to: "tasks" } },
        { alter_column: { table: "tasks", column: "id", type: "bigint", up: "id", down: "id" } },
        { rename_column: { table: "tasks", from: "id", to: "task_id" } },
      ],
      writes: async (old, next, round) => {
        const [o] = await old`insert into tk (note) values (${`old ${round}`}) returning id`;
        const [n] =
          await next`insert into tasks (note) values (${`new ${round}`}) returning task_id`;
        expect(BigInt(n!.task_id)).toBeGreaterThan(BigInt(o!.id));
        await old`insert into tk_refs values (${10 + round}, ${n!.task_id})`;
        await expect(next`insert into tasks (task_id, note) values (1000, 'x')`).rejects.toThrow(
          /GENERATED ALWAYS|cannot insert/i,
        );
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select note from tk order by id")).toEqual([
          { note: "a" },
          { note: "b" },
          { note: "old 1" },
          { note: "new 1" },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("tasks", "task_id")).toBe("bigint not null");
        const [max] = await db.sql`select max(task_id) as m from tasks`;
        const [t] = await db.sql`insert into tasks (note) values ('after') returning task_id`;
        expect(BigInt(t!.task_id)).toBeGreaterThan(BigInt(max!.m));
        expect(await constraintDefs("tk_refs")).toContain(
          "FOREIGN KEY (tk_id) REFERENCES tasks(task_id)",
        );
        expect(
          await rows(
            db.sql,
            "select r.id, t.note from tk_refs r join tasks t on t.task_id = r.tk_id order by r.id",
          ),
        )
          .toEqual([{ id: 1, note: "a" }, { id: 11, note: "new 1" }, { id: 12, note: "new 2" }]);
      },
    });
  });

  test("range-partitioned table: rename_column then alter_column type and NOT NULL", async () => {
    await run({
      name: "m11",
      setup:
        `create table readings (id int not null, at date not null, v text, primary key (id, at))
                partition by range (at);
              create table readings_2024 partition of readings for values from ('2024-01-01') to ('2025-01-01');
              create table readings_2025 partition of readings for values from ('2025-01-01') to ('2026-01-01');
              insert into readings values (1, '2024-05-01', '1.5'), (2, '2025-05-01', null);`,
      operations: [
        { rename_column: { table: "readings", from: "v", to: "value" } },
        {
          alter_column: {
            table: "readings",
            column: "value",
            type: "numeric(6,2)",
            nullable: false,
            up: "coalesce(value::numeric, 0)",
            down: "value::text",
          },
        },
      ],
      writes: async (old, next, round) => {
        await old`insert into readings values (${10 + round}, '2024-02-01', '2.25')`;
        await next`insert into readings (id, at, value) values (${20 + round}, '2025-02-01', 3.5)`;
        await next`update readings set at = '2025-06-01' where id = 1`;
        await old`delete from readings where id = 2`;
        await old`insert into readings values (2, '2025-05-01', null)`;
        expect(
          await rows(
            next,
            "select id, at::text, value from readings where id in (1, 2) order by id",
          ),
        )
          .toEqual([{ id: 1, at: "2025-06-01", value: "1.50" }, {
            id: 2,
            at: "2025-05-01",
            value: "0.00",
          }]);
        expect(await rows(old, `select v from readings where id = ${20 + round}`)).toEqual([{
          v: "3.50",
        }]);
        await next`update readings set at = '2024-05-01' where id = 1`;
      },
      afterRollback: async () => {
        expect(
          await rows(
            db.sql,
            "select tableoid::regclass::text as p, id, v from readings order by id",
          ),
        )
          .toEqual([
            { p: "readings_2024", id: 1, v: "1.50" },
            { p: "readings_2025", id: 2, v: null },
            { p: "readings_2024", id: 11, v: "2.25" },
            { p: "readings_2025", id: 21, v: "3.50" },
          ]);
      },
      afterComplete: async () => {
        expect(await columnType("readings", "value")).toBe("numeric(6,2) not null");
        expect(await columnType("readings_2025", "value")).toBe("numeric(6,2) not null");
        expect(
          await rows(
            db.sql,
            "select tableoid::regclass::text as p, id, value from readings order by id",
          ),
        )
          .toEqual([
            { p: "readings_2024", id: 1, value: "1.50" },
            { p: "readings_2025", id: 2, value: "0.00" },
            { p: "readings_2024", id: 11, value: "2.25" },
            { p: "readings_2024", id: 12, value: "2.25" },
            { p: "readings_2025", id: 21, value: "3.50" },
            { p: "readings_2025", id: 22, value: "3.50" },
          ]);
      },
    });
  });
});

describe("long names, merged alters, reused names", () => {
  const T = `t${"x".repeat(58)}_tbl`; // 63 bytes
  const C = `c${"y".repeat(58)}_col`;
  const R = `r${"z".repeat(58)}_col`;

  test("63-byte table and column names: rename_column then type, check and unique", async () => {
    await run({
      name: "m12",
      setup: `create table "${T}" (id int primary key, "${C}" text);
              insert into "${T}" values (1, '1'), (2, '2');`,
      operations: [
        { rename_column: { table: T, from: C, to: R } },
        {
          alter_column: {
            table: T,
            column: R,
            type: "bigint",
            check: { name: `${R.slice(0, 57)}_check`, constraint: `"${R}" > 0` },
            up: `"${R}"::bigint`,
            down: `"${R}"::text`,
          },
        },
        {
          create_index: {
            name: `${T.slice(0, 50)}_r_idx`,
            table: T,
            columns: [{ column: R }],
            unique: true,
          },
        },
      ],
      writes: async (old, next, round) => {
        await old.unsafe(`insert into "${T}" values (${10 + round}, '${10 + round}')`);
        await next.unsafe(`insert into "${T}" (id, "${R}") values (${20 + round}, ${20 + round})`);
        await expect(next.unsafe(`insert into "${T}" (id, "${R}") values (99, 0)`)).rejects.toThrow(
          /check/,
        );
        await expect(next.unsafe(`insert into "${T}" (id, "${R}") values (98, 1)`)).rejects
          .toThrow(/duplicate key/);
        await next.unsafe(`update "${T}" set "${R}" = 5 where id = 2`);
        expect(await rows(old, `select "${C}" as v from "${T}" where id = 2`)).toEqual([{
          v: "5",
        }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, `select id, "${C}" as v from "${T}" order by id`)).toEqual([
          { id: 1, v: "1" },
          { id: 2, v: "5" },
          { id: 11, v: "11" },
          { id: 21, v: "21" },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType(T, R)).toBe("bigint");
        expect(await columnType(T, C)).toBeUndefined();
        expect(await rows(db.sql, `select id, "${R}" as v from "${T}" order by id`)).toEqual([
          { id: 1, v: "1" },
          { id: 2, v: "5" },
          { id: 11, v: "11" },
          { id: 12, v: "12" },
          { id: 21, v: "21" },
          { id: 22, v: "22" },
        ]);
        expect(await constraintDefs(T)).toContain(`CHECK ((${R} > 0))`);
        await expect(db.sql.unsafe(`insert into "${T}" (id, "${R}") values (97, 1)`)).rejects
          .toThrow(/duplicate key/);
      },
    });
  });

  // Regression: add_column's unique constraint was named `<table>_<column>_key` cut at 63
  // bytes, which for a 63-byte table is the table's own name: complete failed.
  test("63-byte names: rename_table, identity key to bigint, add_column unique", async () => {
    const from = `q${"q".repeat(62)}`;
    const to = `w${"w".repeat(62)}`;
    const id = `i${"d".repeat(62)}`;
    const added = `v${"v".repeat(62)}`;
    await run({
      name: "m28",
      setup:
        `create table "${from}" ("${id}" int generated by default as identity primary key, label text);
              insert into "${from}" (label) values ('a'), ('b');`,
      operations: [
        { rename_table: { from, to } },
        { alter_column: { table: to, column: id, type: "bigint", up: `"${id}"`, down: `"${id}"` } },
        {
          add_column: {
            table: to,
            column: { name: added, type: "text", nullable: true, unique: true },
            up: "upper(label)",
          },
        },
      ],
      writes: async (old, next, round) => {
        await old.unsafe(`insert into "${from}" (label) values ('o${round}')`);
        await next.unsafe(`insert into "${to}" (label, "${added}") values ('n', 'N${round}')`);
        await expect(next.unsafe(`insert into "${to}" (label, "${added}") values ('x', 'A')`))
          .rejects.toThrow(/duplicate key/);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, `select label from "${from}" order by 1`)).toEqual([
          { label: "a" },
          { label: "b" },
          { label: "n" },
          { label: "o1" },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType(to, id)).toBe("bigint not null");
        expect(await constraintDefs(to)).toContain(`UNIQUE (${added})`);
        const [name] = await db.sql`
          select conname from pg_constraint where conrelid = ${`public."${to}"`}::regclass
             and contype = 'u'`;
        expect(name!.conname).toBe(`${"w".repeat(29)}_${"v".repeat(29)}_key`);
        const [max] = await db.sql.unsafe(`select max("${id}") as m from "${to}"`);
        const [row] = await db.sql.unsafe(
          `insert into "${to}" (label) values ('z') returning "${id}" as id`,
        );
        expect(BigInt(row!.id)).toBeGreaterThan(BigInt(max!.m));
        expect(await rows(db.sql, `select "${added}" as v from "${to}" order by 1`)).toEqual([
          { v: "A" },
          { v: "B" },
          { v: "N" },
          { v: "N2" },
          { v: "O1" },
          { v: "O2" },
          { v: null },
        ]);
      },
    });
  });

  test("rename_column, then two alter_columns on it (check, then NOT NULL with a default)", async () => {
    await run({
      name: "m14",
      setup: `create table stock (id int primary key, qty int);
              insert into stock values (1, 5), (2, null), (3, -1);`,
      operations: [
        { rename_column: { table: "stock", from: "qty", to: "quantity" } },
        {
          alter_column: {
            table: "stock",
            column: "quantity",
            check: { name: "stock_quantity_nonneg", constraint: "quantity >= 0" },
            up: "greatest(quantity, 0)",
            down: "quantity",
          },
        },
        {
          alter_column: {
            table: "stock",
            column: "quantity",
            nullable: false,
            default: "0",
            up: "coalesce(quantity, 0)",
            down: "quantity",
          },
        },
      ],
      writes: async (old, next, round) => {
        await old`insert into stock values (${10 + round}, null)`;
        await old`insert into stock values (${20 + round}, -7)`;
        await next`insert into stock (id) values (${30 + round})`;
        await next`insert into stock (id, quantity) values (${40 + round}, 4)
                   on conflict (id) do update set quantity = excluded.quantity`;
        await next`insert into stock (id, quantity) values (1, 6)
                   on conflict (id) do update set quantity = excluded.quantity`;
        await expect(next`insert into stock (id, quantity) values (97, -1)`).rejects.toThrow(
          /stock_quantity_nonneg/,
        );
        expect(
          await rows(
            next,
            `select id, quantity from stock where id in (2, 3, ${10 + round}, ${20 + round}, ${
              30 + round
            }) order by id`,
          ),
        )
          .toEqual([
            { id: 2, quantity: 0 },
            { id: 3, quantity: 0 },
            { id: 10 + round, quantity: 0 },
            { id: 20 + round, quantity: 0 },
            { id: 30 + round, quantity: 0 },
          ]);
        expect(await rows(old, "select qty from stock where id = 1")).toEqual([{ qty: 6 }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, qty from stock order by id")).toEqual([
          { id: 1, qty: 6 },
          { id: 2, qty: null },
          { id: 3, qty: -1 },
          { id: 11, qty: null },
          { id: 21, qty: -7 },
          { id: 31, qty: 0 },
          { id: 41, qty: 4 },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("stock", "quantity")).toBe("integer not null");
        const [d] = await db.sql`select column_default from information_schema.columns
                                  where table_name = 'stock' and column_name = 'quantity'`;
        expect(d!.column_default).toBe("0");
        expect(await rows(db.sql, "select id, quantity from stock order by id")).toEqual([
          { id: 1, quantity: 6 },
          { id: 2, quantity: 0 },
          { id: 3, quantity: 0 },
          { id: 11, quantity: 0 },
          { id: 12, quantity: 0 },
          { id: 21, quantity: 0 },
          { id: 22, quantity: 0 },
          { id: 31, quantity: 0 },
          { id: 32, quantity: 0 },
          { id: 41, quantity: 4 },
          { id: 42, quantity: 4 },
        ]);
      },
    });
  });

  test("drop_column x, then rename_column y to x", async () => {
    await run({
      name: "m15",
      setup: `create table people (id int primary key, name text, full_name text);
              insert into people values (1, 'a', 'Ann A'), (2, 'b', null);`,
      operations: [
        { drop_column: { table: "people", column: "name", down: "split_part(full_name, ' ', 1)" } },
        { rename_column: { table: "people", from: "full_name", to: "name" } },
      ],
      writes: async (old, next, round) => {
        await old`insert into people values (${10 + round}, 'o', 'Old One')`;
        await next`insert into people (id, name) values (${20 + round}, 'New Two')`;
        expect(await rows(old, `select name, full_name from people where id = ${20 + round}`))
          .toEqual([{ name: "New", full_name: "New Two" }]);
        expect(
          await rows(next, `select name from people where id in (1, ${10 + round}) order by id`),
        )
          .toEqual([{ name: "Ann A" }, { name: "Old One" }]);
        await next`update people set name = 'Bob B' where id = 2`;
        expect(await rows(old, "select name, full_name from people where id = 2")).toEqual([{
          name: "Bob",
          full_name: "Bob B",
        }]);
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, name, full_name from people order by id")).toEqual([
          { id: 1, name: "a", full_name: "Ann A" },
          { id: 2, name: "Bob", full_name: "Bob B" },
          { id: 11, name: "o", full_name: "Old One" },
          { id: 21, name: "New", full_name: "New Two" },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("people", "full_name")).toBeUndefined();
        expect(await rows(db.sql, "select id, name from people order by id")).toEqual([
          { id: 1, name: "Ann A" },
          { id: 2, name: "Bob B" },
          { id: 11, name: "Old One" },
          { id: 12, name: "Old One" },
          { id: 21, name: "New Two" },
          { id: 22, name: "New Two" },
        ]);
      },
    });
  });

  test("rename_column and type change of a unique column another table's foreign key references", async () => {
    await run({
      name: "m16",
      setup: `create table skus (id int primary key, code varchar(8) not null unique);
              create table sku_orders (id int primary key,
                sku varchar(8) references skus (code) on update cascade);
              insert into skus values (1, 'A1'), (2, 'B2');
              insert into sku_orders values (1, 'A1');`,
      operations: [
        { rename_column: { table: "skus", from: "code", to: "sku_code" } },
        {
          alter_column: {
            table: "skus",
            column: "sku_code",
            type: "varchar(16)",
            up: "sku_code",
            down: "left(sku_code, 8)",
          },
        },
      ],
      writes: async (old, next, round) => {
        await next`insert into skus (id, sku_code) values (${10 + round}, ${`N${round}`})`;
        await old`insert into sku_orders values (${10 + round}, ${`N${round}`})`;
        await old`insert into skus values (${20 + round}, ${`O${round}`})`;
        await next`insert into sku_orders values (${20 + round}, ${`O${round}`})`;
        await expect(next`insert into skus (id, sku_code) values (99, 'A1')`).rejects.toThrow(
          /duplicate key/,
        );
        await expect(next`insert into sku_orders values (99, 'nope')`).rejects.toThrow(
          /foreign key/,
        );
      },
      afterRollback: async () => {
        expect(await rows(db.sql, "select id, code from skus order by id")).toEqual([
          { id: 1, code: "A1" },
          { id: 2, code: "B2" },
          { id: 11, code: "N1" },
          { id: 21, code: "O1" },
        ]);
      },
      afterComplete: async () => {
        expect(await columnType("skus", "sku_code")).toBe("character varying(16) not null");
        expect(await constraintDefs("sku_orders")).toContain(
          "FOREIGN KEY (sku) REFERENCES skus(sku_code) ON UPDATE CASCADE",
        );
        expect(await constraintDefs("skus")).toContain("UNIQUE (sku_code)");
        await db.sql`update skus set sku_code = 'A1X' where id = 1`;
        expect(await rows(db.sql, "select sku from sku_orders where id = 1")).toEqual([{
          sku: "A1X",
        }]);
      },
    });
  });
});

/**
 * A client writing through one version until stopped (at least `minimum` rounds), on ids of
 * its own plus its half of the pre-existing rows; `model` holds what every row must hold
 * (numbers; the old version writes them as text, and NULL).
 */
function writer(
  schema: string,
  side: "old" | "new",
  base: number,
  model: Map<number, number | null>,
  existing: number,
) {
  const sql = postgres(db.url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  const [table, column] = side === "old" ? ["ledger", "amount"] : ["ledger", "total"];
  const q = (text: string, params: unknown[]) => sql.unsafe(text, params as never[]);
  const value = (v: number | null) => (v === null ? null : side === "old" ? String(v) : v);
  const errors: string[] = [];
  let rounds = 0;
  let running = true;
  const done = (async () => {
    for (let i = 1; running || rounds < 30; i++) {
      try {
        const id = base + i;
        const v = side === "old" && i % 11 === 0 ? null : i;
        await q(`insert into ${table} (id, ${column}) values ($1, $2)`, [id, value(v)]);
        model.set(id, v);
        if (i % 3 === 0 && model.has(id - 1)) {
          await q(`update ${table} set ${column} = $2 where id = $1`, [id - 1, value(i * 10)]);
          model.set(id - 1, i * 10);
        }
        if (i % 5 === 0) {
          await q(`delete from ${table} where id = $1`, [id - 2]);
          model.delete(id - 2);
        }
        if (i % 7 === 0) {
          await q(
            `insert into ${table} (id, ${column}) values ($1, $2)
             on conflict (id) do update set ${column} = excluded.${column}`,
            [id - 3, value(i * 100)],
          );
          model.set(id - 3, i * 100);
        }
        // Its half of the rows that were there before: even ids for the old side, odd for new.
        const p = 2 * (i % (existing / 2)) + (side === "old" ? 2 : 1);
        await q(`update ${table} set ${column} = $2 where id = $1`, [p, value(i + 5000)]);
        model.set(p, i + 5000);
      } catch (error) {
        errors.push((error as Error).message);
        if (errors.length > 5) break;
      }
      rounds++;
    }
    await sql.end();
  })();
  return {
    errors,
    stop: async () => {
      running = false;
      await done;
      return rounds;
    },
  };
}

describe("clients writing through both versions while start and complete run", () => {
  test("rename + type + NOT NULL + check: inserts, updates, deletes and upserts lose nothing", async () => {
    const N = 6000;
    await applyMigration(db, "m13_setup", {
      operations: [{
        sql: {
          up: `create table ledger (id int primary key, amount text);
               insert into ledger select g, case when g % 10 = 0 then null else g::text end
                 from generate_series(1, ${N}) g;`,
        },
      }],
    });
    const model = new Map<number, number | null>();
    for (let g = 1; g <= N; g++) model.set(g, g % 10 === 0 ? null : g);
    const file = await migrationFile("m13.json", {
      operations: [
        { rename_column: { table: "ledger", from: "amount", to: "total" } },
        {
          alter_column: {
            table: "ledger",
            column: "total",
            type: "bigint",
            nullable: false,
            check: { name: "ledger_total_nonneg", constraint: "total >= 0" },
            up: "coalesce(total::bigint, 0)",
            down: "total::text",
          },
        },
      ],
    });
    const start = ["start", file, "--backfill-batch-size", "250"];
    const oldShape = async () => {
      const rowsNow = await db.sql`select id, amount from ledger order by id`;
      const expected = [...model.entries()].sort((a, b) => a[0] - b[0])
        .map(([id, v]) => ({ id, amount: v === null ? null : String(v) }));
      expect(rowsNow.map((r) => ({ ...r }))).toEqual(expected);
    };
    try {
      for (const round of [1, 2]) {
        const old = writer("public_m13_setup", "old", round * 1_000_000, model, N);
        await cliOk(db.url, start);
        const next = writer("public_m13", "new", round * 1_000_000 + 500_000, model, N);
        expect(await old.stop()).toBeGreaterThanOrEqual(30);
        expect(old.errors).toEqual([]);
        if (round === 1) {
          expect(await next.stop()).toBeGreaterThanOrEqual(30);
          expect(next.errors).toEqual([]);
          await cliOk(db.url, ["rollback"]);
          await oldShape();
        } else {
          // The old clients are gone; the new ones keep writing while complete runs.
          await cliOk(db.url, ["complete"]);
          expect(await next.stop()).toBeGreaterThanOrEqual(30);
          expect(next.errors).toEqual([]);
        }
      }
    } catch (error) {
      await cli(db.url, ["rollback"]);
      throw error;
    }
    expect(await columnType("ledger", "total")).toBe("bigint not null");
    expect(await schemaExists(db.sql, "public_m13_setup")).toBe(false);
    expect(await leftovers(db.sql, "public")).toEqual([]);
    const final = await db.sql`select id, total from ledger order by id`;
    const expected = [...model.entries()].sort((a, b) => a[0] - b[0])
      .map(([id, v]) => ({ id, total: String(v ?? 0) }));
    expect(final.map((r) => ({ ...r }))).toEqual(expected);
  });
});

describe("writes through both versions while start's backfill is held mid-table", () => {
  // The backfill is stopped at row 1000 deterministically: its `up` calls gate(), which waits for
  // an advisory lock the test holds. Rows after it are still in the old shape while the new
  // version already serves: new-side updates of those rows must start from the old values.
  test("rename + type, add_column from it, drop_column: every row right in both versions", async () => {
    await applyMigration(db, "m24_setup", {
      operations: [{
        sql: {
          up: `create table gated (id int primary key, b int not null, note text);
               insert into gated select g, g, 'n' || g from generate_series(1, 3000) g;
               create function gate(id int, v int) returns int language plpgsql as $f$
               begin
                 if id = 1000 then perform pg_advisory_xact_lock_shared(724241); end if;
                 return v;
               end $f$;`,
        },
      }],
    });
    const file = await migrationFile("m24.json", {
      operations: [
        { rename_column: { table: "gated", from: "b", to: "amount" } },
        {
          alter_column: {
            table: "gated",
            column: "amount",
            type: "bigint",
            up: "gate(id, amount)::bigint",
            down: "amount::int",
          },
        },
        {
          add_column: {
            table: "gated",
            column: { name: "c", type: "text", nullable: true },
            up: "'c' || amount",
          },
        },
        { drop_column: { table: "gated", column: "note", down: "'dn ' || id" } },
      ],
    });
    const start = ["start", file, "--backfill-batch-size", "100", "--lock-timeout", "0"];
    const holder = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await holder`select pg_advisory_lock(724241)`;
      const started = cliOk(db.url, start);
      // Wait until the backfill waits for the gate.
      for (;;) {
        const [w] = await db.sql`
          select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
           where l.locktype = 'advisory' and not l.granted and a.application_name like 'pgtandem%'`;
        if (w!.n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await inSchema(db.url, "public_m24", async (next) => {
        // A row the backfill has not reached reads NULL through the new version (as in pgroll),
        // so only absolute values are written to those; row 500 is filled already.
        await next`update gated set amount = 4242 where id = 2000`;
        await next`update gated set amount = amount + 1 where id = 500`;
        await next`update gated set c = 'custom' where id = 2100`;
        await next`insert into gated (id, amount, c) values (5000, 7, 'x')`;
        await next`delete from gated where id = 2200`;
        await next`insert into gated (id, amount) values (2300, 1)
                   on conflict (id) do update set amount = excluded.amount`;
      });
      await inSchema(db.url, "public_m24_setup", async (old) => {
        await old`update gated set b = 5 where id = 2400`;
        await old`delete from gated where id = 2500`;
        await old`insert into gated values (6000, 60, 'o')`;
      });
      await holder`select pg_advisory_unlock(724241)`;
      await started;
    } catch (error) {
      await holder`select pg_advisory_unlock_all()`;
      await cli(db.url, ["rollback"]);
      throw error;
    } finally {
      await holder.end();
    }
    const newShape = await inSchema(
      db.url,
      "public_m24",
      (next) =>
        rows(
          next,
          "select id, amount, c from gated where id in (1, 500, 1500, 2000, 2100, 2300, 2400, 5000, 6000) order by id",
        ),
    );
    expect(newShape).toEqual([
      { id: 1, amount: "1", c: "c1" },
      { id: 500, amount: "501", c: "c500" },
      { id: 1500, amount: "1500", c: "c1500" },
      { id: 2000, amount: "4242", c: "c2000" },
      { id: 2100, amount: "2100", c: "custom" },
      { id: 2300, amount: "1", c: "c2300" },
      { id: 2400, amount: "5", c: "c5" },
      { id: 5000, amount: "7", c: "x" },
      { id: 6000, amount: "60", c: "c60" },
    ]);
    // Every other row is filled from its old values.
    const wrong = await db.sql`
      select count(*)::int as n from public_m24.gated
       where id not in (500, 2000, 2100, 2300, 2400, 5000, 6000) and (amount <> id or c <> 'c' || id)`;
    expect(wrong[0]!.n).toBe(0);
    expect(await rows(db.sql, "select count(*)::int as n from gated")).toEqual([{ n: 3000 }]);

    await cliOk(db.url, ["rollback"]);
    expect(
      await rows(
        db.sql,
        "select id, b, note from gated where id in (500, 2000, 2100, 2300, 2400, 5000, 6000) order by id",
      ),
    )
      .toEqual([
        { id: 500, b: 501, note: "dn 500" },
        { id: 2000, b: 4242, note: "dn 2000" },
        { id: 2100, b: 2100, note: "dn 2100" },
        { id: 2300, b: 1, note: "dn 2300" },
        { id: 2400, b: 5, note: "n2400" },
        { id: 5000, b: 7, note: "dn 5000" },
        { id: 6000, b: 60, note: "o" },
      ]);
    expect(await leftovers(db.sql, "public")).toEqual([]);

    await cliOk(db.url, ["start", file, "--backfill-batch-size", "100"]);
    await cliOk(db.url, ["complete"]);
    expect(await leftovers(db.sql, "public")).toEqual([]);
    expect(await schemaExists(db.sql, "public_m24_setup")).toBe(false);
    expect(await columnType("gated", "note")).toBeUndefined();
    expect(await columnType("gated", "amount")).toBe("bigint not null");
    const final = await db.sql`
      select count(*)::int as n, count(*) filter (where c = 'c' || amount)::int as derived from gated`;
    // Rollback dropped c: the second start derived it again for every row.
    expect({ ...final[0] }).toEqual({ n: 3000, derived: 3000 });
    expect(
      await rows(db.sql, "select id, amount from gated where id in (500, 2000, 6000) order by id"),
    )
      .toEqual([{ id: 500, amount: "501" }, { id: 2000, amount: "4242" }, {
        id: 6000,
        amount: "60",
      }]);
  });
});
