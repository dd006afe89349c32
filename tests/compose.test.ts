/**
 * Operations of one migration compose: every complete and rollback action is computed from the
 * schema as the earlier operations of the migration leave it. The named chains users write, then
 * every ordered pair of operations that touch the same table or column, each through the full
 * lifecycle: start → both versions read and write → rollback (schema and data exactly as before)
 * → start → complete (the final shape, nothing temporary left).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { columnNames, dumpSchema, inSchema, leftovers, tableRows } from "./helpers/catalog.ts";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { expectCliRejected, expectStartRejected } from "./helpers/reject.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
});

afterAll(async () => {
  await db?.drop();
});

let tableCount = 0;

/** A fresh table `<prefix>_<n>` with 20 rows: id serial, a integer, b text. */
async function freshTable(prefix: string): Promise<string> {
  const table = `${prefix}_${++tableCount}`;
  await applyMigration(db, `setup_${table}`, {
    operations: [{
      create_table: {
        name: table,
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "a", type: "integer", nullable: true },
          { name: "b", type: "text", nullable: true },
        ],
      },
    }],
  });
  await db.sql.unsafe(
    `insert into "${table}" (a, b) select g, 'b' || g from generate_series(1, 20) g`,
  );
  return table;
}

/** Runs the lifecycle and checks rollback restored the rows and complete left nothing behind. */
async function compose(
  name: string,
  table: string,
  operations: object[],
  checks: {
    afterStart?: (newVersion: string, oldVersion: string) => Promise<void>;
    afterComplete?: () => Promise<void>;
  },
) {
  const [latest] = await db.sql<{ name: string }[]>`
    select name from pgroll.migrations where done order by created_at desc limit 1`;
  const oldVersion = `public_${latest!.name}`;
  const rowsBefore = await tableRows(db.sql, "public", table);
  await runLifecycle(db, {
    name,
    migration: { operations },
    afterStart: () => checks.afterStart?.(`public_${name}`, oldVersion) ?? Promise.resolve(),
    afterRollback: async () => {
      expect(await tableRows(db.sql, "public", table)).toEqual(rowsBefore);
      expect(await leftovers(db.sql, "public")).toEqual([]);
    },
    afterComplete: async () => {
      expect(await leftovers(db.sql, "public")).toEqual([]);
      await checks.afterComplete?.();
    },
  });
}

describe("chains on one object", () => {
  test("alter_column type, then rename_column of the same column", async () => {
    const t = await freshTable("chain");
    await compose("chain_alter_rename", t, [
      {
        alter_column: {
          table: t,
          column: "a",
          type: "bigint",
          up: "a * 1000",
          down: "a / 1000",
        },
      },
      { rename_column: { table: t, from: "a", to: "a_milli" } },
    ], {
      afterStart: async (newV, oldV) => {
        await inSchema(db.url, newV, async (sql) => {
          expect((await sql.unsafe(`select a_milli from "${t}" where id = 3`))[0]!.a_milli)
            .toBe("3000");
          await sql.unsafe(`insert into "${t}" (a_milli, b) values (7000, 'new')`);
        });
        await inSchema(db.url, oldV, async (sql) => {
          expect((await sql.unsafe(`select a from "${t}" where b = 'new'`))[0]!.a).toBe(7);
        });
        await db.sql.unsafe(`delete from "${t}" where b = 'new'`);
      },
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public", t)).toEqual(["id", "b", "a_milli"]);
        const [row] = await db.sql.unsafe(`select a_milli from "${t}" where id = 3`);
        expect(row!.a_milli).toBe("3000");
      },
    });
  });

  test("rename_column a → c → d", async () => {
    const t = await freshTable("chain");
    await compose("chain_rename_twice", t, [
      { rename_column: { table: t, from: "a", to: "c" } },
      { rename_column: { table: t, from: "c", to: "d" } },
    ], {
      afterStart: async (newV) => {
        await inSchema(db.url, newV, async (sql) => {
          expect((await sql.unsafe(`select d from "${t}" where id = 4`))[0]!.d).toBe(4);
        });
      },
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public", t)).toEqual(["id", "d", "b"]);
      },
    });
  });

  test("add_column, then rename it", async () => {
    const t = await freshTable("chain");
    await compose("chain_add_rename", t, [
      {
        add_column: {
          table: t,
          column: { name: "description", type: "text", nullable: true },
          up: "'row ' || id",
        },
      },
      { rename_column: { table: t, from: "description", to: "details" } },
    ], {
      afterStart: async (newV) => {
        await inSchema(db.url, newV, async (sql) => {
          expect((await sql.unsafe(`select details from "${t}" where id = 5`))[0]!.details)
            .toBe("row 5");
        });
      },
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public", t)).toEqual(["id", "a", "b", "details"]);
        const [row] = await db.sql.unsafe(`select details from "${t}" where id = 5`);
        expect(row!.details).toBe("row 5");
      },
    });
  });

  test("rename_column, then drop_column of the new name", async () => {
    const t = await freshTable("chain");
    await compose("chain_rename_drop", t, [
      { rename_column: { table: t, from: "a", to: "c" } },
      { drop_column: { table: t, column: "c", down: "0" } },
    ], {
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public", t)).toEqual(["id", "b"]);
      },
    });
  });

  test("rename_table twice", async () => {
    const t = await freshTable("things");
    await compose("chain_rename_table_twice", t, [
      { rename_table: { from: t, to: `${t}_stuff` } },
      { rename_table: { from: `${t}_stuff`, to: `${t}_objects` } },
    ], {
      afterStart: async (newV) => {
        await inSchema(db.url, newV, async (sql) => {
          expect(await sql.unsafe(`select count(*)::int as n from "${t}_objects"`))
            .toEqual([{ n: 20 }]);
        });
      },
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public", `${t}_objects`)).toEqual(["id", "a", "b"]);
        expect(await columnNames(db.sql, "public", `${t}_stuff`)).toEqual([]);
        expect(await columnNames(db.sql, "public", t)).toEqual([]);
      },
    });
  });

  test("add_column, then drop it", async () => {
    const t = await freshTable("chain");
    await compose("chain_add_drop", t, [
      { add_column: { table: t, column: { name: "tmp", type: "text", nullable: true } } },
      { drop_column: { table: t, column: "tmp" } },
    ], {
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public", t)).toEqual(["id", "a", "b"]);
      },
    });
  });

  test("rename_table, then alter_column on the new name, then drop the table's old column", async () => {
    const t = await freshTable("chain");
    await compose("chain_table_column", t, [
      { rename_table: { from: t, to: `${t}_r` } },
      {
        alter_column: {
          table: `${t}_r`,
          column: "b",
          nullable: false,
          up: "coalesce(b, 'none')",
          down: "b",
        },
      },
      { drop_column: { table: `${t}_r`, column: "a" } },
    ], {
      afterComplete: async () => {
        expect(await columnNames(db.sql, "public", `${t}_r`)).toEqual(["id", "b"]);
        const [column] = await db.sql<{ attnotnull: boolean }[]>`
          select attnotnull from pg_attribute
           where attrelid = ${`public."${t}_r"`}::regclass and attname = 'b'`;
        expect(column!.attnotnull).toBe(true);
      },
    });
  });
});

describe("one column altered twice in one migration", () => {
  test("a check, then NOT NULL (pgroll's case): up applies both, in order", async () => {
    const t = await freshTable("twice");
    await db.sql.unsafe(`update "${t}" set b = case when id = 1 then 'alice' else null end`);
    await db.sql.unsafe(`delete from "${t}" where id > 2`);
    await compose("twice_check_not_null", t, [
      {
        alter_column: {
          table: t,
          column: "b",
          up: "INITCAP(b)",
          down: "b",
          check: { name: `${t}_capitalised`, constraint: "b ~ '^[A-Z].*'" },
        },
      },
      {
        alter_column: {
          table: t,
          column: "b",
          up: "SELECT CASE WHEN b IS NULL THEN 'Jane' ELSE b END",
          down: "b",
          nullable: false,
        },
      },
    ], {
      afterStart: async (newV, oldV) => {
        await inSchema(db.url, oldV, async (sql) => {
          await sql.unsafe(`insert into "${t}" (id, b) values (3, 'carl'), (4, null)`);
        });
        await inSchema(db.url, newV, async (sql) => {
          const rows = await sql.unsafe(`select id, b from "${t}" order by id`);
          expect(rows.map((r) => [r.id, r.b])).toEqual([
            [1, "Alice"],
            [2, "Jane"],
            [3, "Carl"],
            [4, "Jane"],
          ]);
          await expect(sql.unsafe(`insert into "${t}" (id, b) values (5, 'bob')`)).rejects
            .toThrow(/check constraint/);
          await expect(sql.unsafe(`insert into "${t}" (id) values (6)`)).rejects
            .toThrow(/check constraint|null value/);
          await sql.unsafe(`insert into "${t}" (id, b) values (7, 'Dora')`);
        });
        await inSchema(db.url, oldV, async (sql) => {
          const rows = await sql.unsafe(`select b from "${t}" where id = 7`);
          expect(rows[0]!.b).toBe("Dora");
        });
        await db.sql.unsafe(`delete from "${t}" where id > 2`);
      },
      afterComplete: async () => {
        const rows = await db.sql.unsafe(`select id, b from "${t}" order by id`);
        expect(rows.map((r) => [r.id, r.b])).toEqual([[1, "Alice"], [2, "Jane"]]);
        await expect(db.sql.unsafe(`insert into "${t}" (id, b) values (8, 'eve')`)).rejects
          .toThrow(/check constraint/);
        await expect(db.sql.unsafe(`insert into "${t}" (id) values (9)`)).rejects
          .toThrow(/null value/);
      },
    });
  });

  test("plan shows the merged operation: one copy, the composed up, renames in order", async () => {
    const t = await freshTable("twice");
    const file = await migrationFile("twice_plan.json", {
      operations: [
        { alter_column: { table: t, column: "a", type: "bigint", up: "a * 10", down: "a / 10" } },
        {
          alter_column: { table: t, column: "a", nullable: false, up: "coalesce(a, 0)", down: "a" },
        },
        { rename_column: { table: t, from: "a", to: "a2" } },
      ],
    });
    const result = await cliOk(db.url, ["plan", file, "--json"]);
    const plan = JSON.parse(result.stdout) as {
      phases: { command: string; phase: string; statements: { sql: string }[] }[];
    };
    const all = plan.phases.flatMap((p) => p.statements.map((s) => s.sql)).join("\n");
    expect(all.match(/ADD COLUMN IF NOT EXISTS "_pgroll_new_a"/g)).toHaveLength(1);
    expect(all).toContain("coalesce((a * 10), 0)");
    const switchOver = plan.phases.find((p) =>
      p.command === "complete" && p.phase === "switch-over"
    )!
      .statements.map((s) => s.sql).join("\n");
    expect(switchOver.indexOf('RENAME COLUMN "_pgroll_new_a" TO "a"')).toBeGreaterThan(-1);
    expect(switchOver.indexOf('RENAME COLUMN "a" TO "a2"')).toBeGreaterThan(
      switchOver.indexOf('RENAME COLUMN "_pgroll_new_a" TO "a"'),
    );
  });

  test("type twice: the second type wins, values go through both ups and both downs", async () => {
    const t = await freshTable("twice");
    await compose("twice_type", t, [
      { alter_column: { table: t, column: "a", type: "bigint", up: "a * 10", down: "a / 10" } },
      {
        alter_column: {
          table: t,
          column: "a",
          type: "numeric(20,1)",
          up: "a + 0.5",
          down: "floor(a)::bigint",
        },
      },
    ], {
      afterStart: async (newV, oldV) => {
        await inSchema(db.url, newV, async (sql) => {
          const rows = await sql.unsafe(`select a from "${t}" where id = 2`);
          expect(rows[0]!.a).toBe("20.5");
          await sql.unsafe(`insert into "${t}" (a, b) values (70.5, 'new')`);
        });
        await inSchema(db.url, oldV, async (sql) => {
          const rows = await sql.unsafe(`select a from "${t}" where b = 'new'`);
          expect(rows[0]!.a).toBe(7);
        });
        await db.sql.unsafe(`delete from "${t}" where b = 'new'`);
      },
      afterComplete: async () => {
        const [row] = await db.sql<{ type: string }[]>`
          select format_type(atttypid, atttypmod) as type from pg_attribute
           where attrelid = ${`public."${t}"`}::regclass and attname = 'a'`;
        expect(row!.type).toBe("numeric(20,1)");
      },
    });
  });

  test("a column being filled by an earlier add_column cannot be altered in the same migration", async () => {
    const t = await freshTable("twice");
    await expectStartRejected(
      db,
      "twice_add_alter.json",
      {
        operations: [
          { add_column: { table: t, column: { name: "c", type: "text", nullable: true } } },
          { alter_column: { table: t, column: "c", type: "varchar(10)", up: "c", down: "c" } },
        ],
      },
      /operations\[1\]\.alter_column\.column: column "c" is added by an earlier add_column of this migration, which is still filling it; put this change in that add_column's column definition/,
    );
  });
});

/**
 * Every ordered pair of these operations, on a fresh table, in one migration. Each operation
 * is written against the names the previous one leaves.
 */
interface Names {
  table: string;
  /** Column `a` as the migration sees it so far; undefined once dropped. */
  a: string | undefined;
}

interface PairOperation {
  label: string;
  /** The operation, or undefined when it cannot follow (its column is gone). */
  build(names: Names): { operation: object; names: Names } | undefined;
}

let extraCount = 0;

const pairOperations: PairOperation[] = [
  {
    label: "rename_column",
    build: (n) =>
      n.a === undefined ? undefined : {
        operation: { rename_column: { table: n.table, from: n.a, to: `${n.a}_r` } },
        names: { ...n, a: `${n.a}_r` },
      },
  },
  {
    label: "alter_type",
    build: (n) =>
      n.a === undefined ? undefined : {
        operation: {
          alter_column: {
            table: n.table,
            column: n.a,
            type: "bigint",
            up: `"${n.a}"`,
            down: `"${n.a}"`,
          },
        },
        names: n,
      },
  },
  {
    label: "drop_column",
    build: (n) =>
      n.a === undefined ? undefined : {
        operation: { drop_column: { table: n.table, column: n.a, down: "0" } },
        names: { ...n, a: undefined },
      },
  },
  {
    label: "add_column",
    build: (n) => ({
      operation: {
        add_column: {
          table: n.table,
          column: { name: `extra_${++extraCount}`, type: "text", nullable: true },
          up: "'e'",
        },
      },
      names: n,
    }),
  },
  {
    label: "rename_table",
    build: (n) => ({
      operation: { rename_table: { from: n.table, to: `${n.table}_t` } },
      names: { ...n, table: `${n.table}_t` },
    }),
  },
  {
    label: "create_index",
    build: (n) =>
      n.a === undefined ? undefined : {
        operation: {
          create_index: {
            name: `${n.table}_idx_${++extraCount}`,
            table: n.table,
            columns: [{ column: n.a }],
          },
        },
        names: n,
      },
  },
];

describe("every pair of operations on one table and column", () => {
  for (const first of pairOperations) {
    for (const second of pairOperations) {
      test(`${first.label} then ${second.label}`, async () => {
        const t = await freshTable("pair");
        const one = first.build({ table: t, a: "a" })!;
        const two = second.build(one.names);
        if (!two) {
          // Nothing to follow with: the first operation removed what the second needs.
          expect(first.label).toBe("drop_column");
          return;
        }
        const final = two.names;
        const name = `pair_${tableCount}`;
        await compose(name, t, [one.operation, two.operation], {
          afterStart: async (newV, oldV) => {
            // Both versions write; each sees the other's rows.
            await inSchema(db.url, oldV, async (sql) => {
              await sql.unsafe(`insert into "${t}" (a, b) values (100, 'old side')`);
            });
            await inSchema(db.url, newV, async (sql) => {
              const columns = final.a === undefined ? "b" : `"${final.a}", b`;
              const values = final.a === undefined ? "'new side'" : "200, 'new side'";
              await sql.unsafe(`insert into "${final.table}" (${columns}) values (${values})`);
              const rows = await sql.unsafe(`select count(*)::int as n from "${final.table}"`);
              expect(rows[0]!.n).toBe(22);
            });
            await inSchema(db.url, oldV, async (sql) => {
              const rows = await sql.unsafe(`select a from "${t}" where b = 'new side'`);
              expect(rows).toHaveLength(1);
            });
            await db.sql.unsafe(`delete from "${t}" where b in ('old side', 'new side')`);
          },
          afterComplete: async () => {
            const columns = await columnNames(db.sql, "public", final.table);
            if (final.a === undefined) expect(columns).not.toContain("a");
            else expect(columns).toContain(final.a);
            const rows = await db.sql.unsafe(
              `select count(*)::int as n from "${final.table}"`,
            );
            expect(rows[0]!.n).toBe(20);
            if (final.table !== t) {
              expect(await columnNames(db.sql, "public", t)).toEqual([]);
            }
            expect(await dumpSchema(db.sql, `public_${name}`)).toBeDefined();
          },
        });
      });
    }
  }
});

describe("rollback removes what the operation added", () => {
  test("an alter_column check that names no column goes with rollback", async () => {
    const t = await freshTable("own");
    // runLifecycle asserts the schema dump after rollback equals the one before start.
    await compose("own_check_true", t, [{
      alter_column: {
        table: t,
        column: "b",
        up: "b",
        down: "b",
        check: { name: `${t}_always`, constraint: "true" },
      },
    }], {
      afterComplete: async () => {
        const rows = await db.sql`select conname from pg_constraint
          where conrelid = ${`public."${t}"`}::regclass and contype = 'c'`;
        expect(rows.map((r) => r.conname)).toContain(`${t}_always`);
      },
    });
  });
});

describe("foreign keys on backfilled columns", () => {
  test("valid once start is done; a backfilled value that breaks one fails start, undone", async () => {
    const t = await freshTable("fkb");
    const good = await migrationFile("fkb_good.json", {
      operations: [{
        add_column: {
          table: t,
          column: {
            name: "parent",
            type: "integer",
            nullable: true,
            references: { name: `${t}_parent_fk`, table: t, column: "id" },
          },
          up: "id",
        },
      }],
    });
    await cliOk(db.url, ["start", good]);
    const [valid] = await db.sql`select convalidated from pg_constraint
      where conname = ${`${t}_parent_fk`}`;
    expect(valid!.convalidated).toBe(true);
    await cliOk(db.url, ["rollback"]);

    const bad = await migrationFile("fkb_bad.json", {
      operations: [{
        add_column: {
          table: t,
          column: {
            name: "parent",
            type: "integer",
            nullable: true,
            references: { name: `${t}_parent_fk`, table: t, column: "id" },
          },
          up: "id + 1000",
        },
      }],
    });
    // --json: no progress lines, so stderr holds the one error line.
    await expectCliRejected(db, ["start", bad, "--json"], /violates foreign key constraint/);
  });
});
