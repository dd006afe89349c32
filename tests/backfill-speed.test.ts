/**
 * The backfill computes the new columns in its own UPDATE (with the up trigger kept out) instead
 * of through the trigger: what it writes must be exactly what the triggers write for a client.
 * Each case pauses the backfill between batches — a gate function in one up expression waits, for
 * one row of the second batch, on a lock the test holds — writes one row through the old version
 * (the up trigger) and one through the new version (the down trigger brings a row still in the
 * old shape into the new one), releases the lock, and completes; rows that held identical data
 * (one of them backfilled) must then be identical in every column. A client write made while the
 * backfill waited must survive it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { backfillAssignments } from "../lib/engine/triggers.ts";
import { versionSchemaName } from "../lib/naming.ts";
import { engineSql } from "../lib/user-sql.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  // Row GATE_ROW waits for the test's lock; every other row passes. Batches of BATCH rows put it
  // in the second batch, the rows clients write in later ones.
  await db.sql.unsafe(`create function bs_gate(id int) returns boolean language plpgsql as $$
    begin
      if id = ${GATE_ROW} then perform pg_advisory_xact_lock_shared(${GATE_LOCK}); end if;
      return true;
    end $$`);
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

/** Rows 1, 51 and 53 hold the same data: 1 is backfilled, 51 written old-side, 53 new-side. */
const SAME = "(1, 51, 53)";
const BATCH = 5;
const GATE_ROW = 8;
const GATE_LOCK = 4242;
/** `<expr>` behind the gate: the same value, but row GATE_ROW waits for the test's lock. */
const gated = (expression: string) => `CASE WHEN bs_gate(id) THEN ${expression} END`;

interface Case {
  name: string;
  table: string;
  /** The SQL creating the table and its rows (ids 1–200; rows SAME alike). */
  setup: string;
  operations: object[];
  /** A client UPDATE of row `id`, old side (names as the old version sees them). */
  oldWrite: (id: number) => string;
  /** A client UPDATE of row `id` through the new version's view. */
  newWrite: (id: number) => string;
  /** The client's values survived: a query that returns true. */
  wrote: string;
}

const CASES: Case[] = [
  {
    name: "alter_column with a type change and up",
    table: "stock",
    setup: `create table stock (id int primary key, qty text, note text);
      insert into stock select g, (g % 3 + 40)::text, 'n' from generate_series(1, 200) g;
      update stock set qty = '41' where id in ${SAME}`,
    operations: [{
      alter_column: {
        table: "stock",
        column: "qty",
        type: "integer",
        up: gated("CAST(qty AS integer) * 2"),
        down: "CAST(qty AS text)",
      },
    }],
    oldWrite: (id) => `update stock set qty = qty where id = ${id}`,
    newWrite: (id) => `update stock set note = note where id = ${id}`,
    wrote: `select (select qty from stock where id = 150) = 999`,
  },
  {
    name: "add_column with up",
    table: "people",
    setup: `create table people (id int primary key, first text, last text);
      insert into people select g, 'f' || g, 'l' || g from generate_series(1, 200) g;
      update people set first = 'ada', last = 'lovelace' where id in ${SAME}`,
    operations: [{
      add_column: {
        table: "people",
        column: { name: "full_name", type: "text", nullable: true },
        up: gated("first || ' ' || upper(last)"),
      },
    }],
    oldWrite: (id) => `update people set last = last where id = ${id}`,
    newWrite: (id) => `update people set first = first where id = ${id}`,
    wrote: `select (select full_name from people where id = 150) = 'x Y'`,
  },
  {
    name: "several columns changed by one migration",
    table: "orders",
    setup: `create table orders (id int primary key, email text, price numeric(10,2), code text);
      insert into orders select g, case when g % 2 = 0 then null else 'e' || g end, g * 1.5, 'c'
        from generate_series(1, 200) g;
      update orders set email = null, price = 12.75 where id in ${SAME}`,
    operations: [
      {
        alter_column: {
          table: "orders",
          column: "email",
          nullable: false,
          up: "SELECT CASE WHEN email IS NULL THEN 'unknown' ELSE lower(email) END",
          down: "email",
        },
      },
      {
        alter_column: {
          table: "orders",
          column: "price",
          type: "bigint",
          up: gated("round(price * 100)"),
          down: "price / 100",
        },
      },
      {
        add_column: {
          table: "orders",
          column: { name: "tag", type: "text", nullable: true },
          up: "code || ':' || length(code)",
        },
      },
    ],
    oldWrite: (id) => `update orders set code = code where id = ${id}`,
    newWrite: (id) => `update orders set code = code where id = ${id}`,
    wrote:
      `select (select (email, price, tag) = ('x@y', 999::bigint, 'z') from orders where id = 150)`,
  },
  {
    name: "a partitioned table",
    table: "events",
    setup: `create table events (id int, region text, payload text, primary key (id, region))
        partition by list (region);
      create table events_eu partition of events for values in ('eu');
      create table events_us (payload text, region text not null, id int not null);
      alter table events attach partition events_us for values in ('us');
      insert into events select g, case when g % 2 = 0 then 'eu' else 'us' end, 'p' || g
        from generate_series(1, 200) g;
      update events set payload = 'same' where id in ${SAME}`,
    operations: [{
      alter_column: {
        table: "events",
        column: "payload",
        type: "varchar(40)",
        up: gated("upper(payload) || '!'"),
        down: "lower(payload)",
      },
    }],
    oldWrite: (id) => `update events set payload = payload where id = ${id}`,
    newWrite: (id) => `update events set region = region where id = ${id}`,
    wrote: `select (select payload from events where id = 150) = 'client'`,
  },
];

describe("backfill and triggers write the same rows", () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const slug = c.table;
      await applyMigration(db, `bs_${slug}_01`, {
        operations: [{ sql: { up: c.setup, down: `drop table ${c.table}` } }],
      });
      const migration = `bs_${slug}_02`;
      const version = versionSchemaName("public", migration);
      const file = await migrationFile(`${migration}.json`, { operations: c.operations });

      // Hold the gate's lock: the second batch waits on it, rows of later batches still marked.
      const holder = postgres(db.url, { max: 1, onnotice: () => {} });
      const oldSide = postgres(db.url, {
        max: 1,
        onnotice: () => {},
        connection: { search_path: "public" },
      });
      const newSide = postgres(db.url, {
        max: 1,
        onnotice: () => {},
        connection: { search_path: version },
      });
      try {
        let release!: () => void;
        const released = new Promise<void>((r) => (release = r));
        let locked!: (pid: number) => void;
        const isLocked = new Promise<number>((r) => (locked = r));
        const holding = holder.begin(async (tx) => {
          const [me] = await tx.unsafe(
            `select pg_backend_pid() as pid, pg_advisory_xact_lock(${GATE_LOCK})`,
          );
          locked(me!.pid as number);
          await released;
        });
        const holderPid = await isLocked;
        const start = cli(db.url, [
          "start",
          file,
          "--backfill-batch-size",
          String(BATCH),
          "--verbose",
        ]);
        await waitForBackfillWait(holderPid);
        const [marked] = await db.sql.unsafe(
          `select count(*)::int as n from ${c.table} where id in ${SAME} and _pgroll_needs_backfill`,
        );
        expect(marked?.n).toBe(2); // row 1 was backfilled by the first batch; 51 and 53 wait

        await oldSide.unsafe(c.oldWrite(51));
        await newSide.unsafe(c.newWrite(53));
        // A client write the backfill must not undo: row 150 written through the new version.
        await newSide.unsafe(clientWrite(c));
        release();
        await holding;
        const started = await start;
        expect(started.code).toBe(0);
        expect(started.stderr).toContain("new columns computed by the batches");

        const [survived] = await newSide.unsafe(`${c.wrote} as ok`);
        expect(survived?.ok).toBe(true);

        await cliOk(db.url, ["complete"]);
        const rows = await db.sql.unsafe(
          `select to_jsonb(t) - 'id' as row from ${c.table} t where id in ${SAME} order by id`,
        );
        expect(rows).toHaveLength(3);
        expect(rows[1]!.row).toEqual(rows[0]!.row);
        expect(rows[2]!.row).toEqual(rows[0]!.row);
        const [after] = await newSide.unsafe(`${c.wrote} as ok`);
        expect(after?.ok).toBe(true);
      } finally {
        await holder.end();
        await oldSide.end();
        await newSide.end();
      }
    }, 120_000);
  }
});

/** The new-version UPDATE of row 150 that each case's `wrote` query checks for. */
function clientWrite(c: Case): string {
  switch (c.table) {
    case "stock":
      return `update stock set qty = 999 where id = 150`;
    case "people":
      return `update people set full_name = 'x Y' where id = 150`;
    case "orders":
      return `update orders set email = 'x@y', price = 999, tag = 'z' where id = 150`;
    default:
      return `update events set payload = 'client' where id = 150`;
  }
}

/** Resolves once a pgtandem session waits for a lock held by the session `holder`. */
async function waitForBackfillWait(holder: number): Promise<void> {
  for (;;) {
    const [waiting] = await db.sql`select count(*)::int as n from pg_stat_activity
      where application_name like 'pgtandem%' and ${holder}::int = any(pg_blocking_pids(pid))`;
    if ((waiting?.n ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the batch UPDATE's column binding", () => {
  const spec = (expression: string, columns: [string, string][], target = "_pgroll_new_x") => ({
    table: "t",
    direction: "up" as const,
    targetColumn: target,
    expression: engineSql(expression),
    columns: columns.map(([name, physicalName]) => ({ name, physicalName })),
  });
  const physical = new Set(["id", "x", "y", "_pgroll_new_x", "_pgroll_new_y"]);

  test("names bound under their own physical names are used in line", () => {
    expect(
      backfillAssignments([spec("SELECT lower(x)", [["x", "x"], ["id", "id"]])], physical, "r"),
    )
      .toBe(`"_pgroll_new_x" = (lower(x)\n    )`);
  });

  test("a renamed column is bound by a sub-select, as the start-time check binds it", () => {
    const set = backfillAssignments([spec("lower(z)", [["z", "y"]])], physical, "r");
    expect(set).toContain(`FROM (SELECT "r"."y" AS "z") AS pgtandem_expression_check`);
  });

  test("a name that is a column of the table but not bound is not used in line", () => {
    const set = backfillAssignments([spec("lower(x) || y", [["x", "x"]])], physical, "r");
    expect(set).toContain("SELECT (lower(x) || y");
  });

  test("a spec reading what an earlier one fills leaves the work to the trigger", () => {
    const first = spec("lower(x)", [["x", "x"]]);
    const second = spec("x || '!'", [["x", "_pgroll_new_x"]], "_pgroll_new_y");
    expect(backfillAssignments([first, second], physical, "r")).toBeUndefined();
    const independent = spec("y", [["y", "y"]], "_pgroll_new_y");
    expect(backfillAssignments([first, independent], physical, "r")).toContain(
      `"_pgroll_new_x" = (lower(x)`,
    );
  });
});
