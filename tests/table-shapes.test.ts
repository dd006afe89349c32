/**
 * Operations on partitioned tables, end to end through the CLI: range partitions (one of them
 * sub-partitioned by hash) with rows in every leaf. Each case runs start → both versions read and
 * write → rollback (schema exactly as before) → start → complete, and checks the values in every
 * partition. Sub-changes PostgreSQL cannot do without blocking writes are refused at start.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dumpSchema, inSchema, leftovers } from "./helpers/catalog.ts";
import { runLifecycle } from "./helpers/lifecycle.ts";
import { initWithBaseline } from "./helpers/baseline.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectStartRejected } from "./helpers/reject.ts";

let db: TestDatabase;
let major: number;

/** Leaf partitions, each holding 100 of the 400 rows. */
const LEAVES = ["orders_2023", "orders_2024", "orders_2025_a", "orders_2025_b"];

beforeAll(async () => {
  db = await testDatabase();
  await db.sql.unsafe(`
    CREATE TABLE refs (code text PRIMARY KEY);
    INSERT INTO refs VALUES ('a'), ('b');
    CREATE TABLE orders (
      id int NOT NULL,
      created date NOT NULL,
      amount int,
      label text,
      PRIMARY KEY (id, created)
    ) PARTITION BY RANGE (created);
    CREATE TABLE orders_2023 PARTITION OF orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
    CREATE TABLE orders_2024 PARTITION OF orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
      PARTITION BY HASH (id);
    CREATE TABLE orders_2025_a PARTITION OF orders_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
    CREATE TABLE orders_2025_b PARTITION OF orders_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
    CREATE INDEX orders_amount_idx ON orders (amount);
    -- 100 rows in 2023, 100 in 2024, 200 in 2025 (split by hash)
    INSERT INTO orders
      SELECT g, date '2023-03-01' + ((g - 1) / 100) * 366, g, 'l' || g
      FROM generate_series(1, 300) g;
    INSERT INTO orders SELECT g, date '2025-06-01', g, 'l' || g FROM generate_series(301, 500) g;
    -- No primary key: the backfill walks each leaf's blocks.
    CREATE TABLE events (kind text NOT NULL, n int) PARTITION BY LIST (kind);
    CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');
    CREATE TABLE events_b PARTITION OF events FOR VALUES IN ('b');
    INSERT INTO events SELECT CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END, g
      FROM generate_series(1, 200) g;
  `);
  // The hash split is not exactly even: only "every leaf has rows" matters.
  const [row] = await db.sql`select current_setting('server_version_num')::int / 10000 as major`;
  major = Number(row!.major);
  await initWithBaseline(db);
});

afterAll(async () => {
  await db?.drop();
});

/** Rows per leaf partition, read from the base table (tableoid is physical). */
async function rowsPerLeaf(where = "true"): Promise<Record<string, number>> {
  const rows = await db.sql.unsafe(
    `select tableoid::regclass::text as leaf, count(*)::int as n from public.orders
     where ${where} group by 1 order by 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.leaf as string, r.n as number]));
}

/** Every leaf has rows and every row satisfies `where`. */
async function expectEveryLeaf(where: string): Promise<void> {
  const all = await rowsPerLeaf();
  expect(Object.keys(all).sort()).toEqual(LEAVES);
  expect(await rowsPerLeaf(`not coalesce(${where}, false)`)).toEqual({});
}

/** The version schema has one view, the parent's: partitions are not tables of a version. */
async function expectOnlyParentView(version: string): Promise<void> {
  const views = await db.sql`
    select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${version} and c.relkind = 'v' order by 1`;
  expect(views.map((v) => v.relname)).toEqual(["events", "orders", "refs"]);
}

/** Every index of the hierarchy is valid, and each leaf has a copy of each parent index. */
async function expectIndexesComplete(): Promise<void> {
  const invalid = await db.sql`
    select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and not i.indisvalid`;
  expect(invalid.map((r) => r.relname)).toEqual([]);
  const [parent] = await db.sql`
    select count(*)::int as n from pg_index where indrelid = 'public.orders'::regclass`;
  for (const leaf of LEAVES) {
    const [own] = await db.sql`
      select count(*)::int as n from pg_index where indrelid = ${`public.${leaf}`}::regclass`;
    expect({ leaf, n: own!.n }).toEqual({ leaf, n: parent!.n });
  }
}

describe("partitioned tables", () => {
  test("add_column with up: backfilled in every partition, written by both versions", async () => {
    await runLifecycle(db, {
      name: "p01_add_doubled",
      migration: {
        operations: [{
          add_column: {
            table: "orders",
            column: { name: "doubled", type: "bigint", nullable: false, default: "0" },
            up: "amount * 2",
          },
        }],
      },
      afterStart: async () => {
        await expectOnlyParentView("public_p01_add_doubled");
        await inSchema(
          db.url,
          "public",
          (sql) => sql`insert into orders (id, created, amount) values (1001, '2023-05-05', 7)`,
        );
        await inSchema(db.url, "public_p01_add_doubled", async (sql) => {
          await sql`insert into orders (id, created, amount, doubled)
            values (1002, '2025-05-05', 8, 99)`;
          const [old] = await sql`select doubled from orders where id = 1001`;
          expect(Number(old!.doubled)).toBe(14);
          const wrong = await sql`
            select id from orders where id < 1000 and doubled <> amount * 2`;
          expect(wrong).toEqual([]);
        });
        await db.sql`delete from orders where id > 1000`;
      },
      afterComplete: async () => {
        await expectEveryLeaf("doubled = amount * 2");
        expect(await leftovers(db.sql, "public")).toEqual([]);
      },
    });
  });

  test("alter_column type, NOT NULL and check on an indexed column, index rebuilt per partition", async () => {
    await runLifecycle(db, {
      name: "p02_alter_amount",
      migration: {
        operations: [{
          alter_column: {
            table: "orders",
            column: "amount",
            type: "bigint",
            nullable: false,
            check: { name: "amount_positive", constraint: "amount > 0" },
            up: "coalesce(amount, 1) * 10",
            down: "(amount / 10)::int",
          },
        }],
      },
      afterStart: async () => {
        await expectOnlyParentView("public_p02_alter_amount");
        await inSchema(
          db.url,
          "public_p01_add_doubled",
          (sql) => sql`insert into orders (id, created, amount) values (1001, '2024-05-05', 3)`,
        );
        await inSchema(db.url, "public_p02_alter_amount", async (sql) => {
          await sql`insert into orders (id, created, amount) values (1002, '2025-05-05', 50)`;
          const rows = await sql`select id, amount from orders where id > 1000 order by id`;
          expect(rows.map((r) => [r.id, Number(r.amount)])).toEqual([[1001, 30], [1002, 50]]);
        });
        await inSchema(db.url, "public_p01_add_doubled", async (sql) => {
          const [row] = await sql`select amount from orders where id = 1002`;
          expect(row!.amount).toBe(5);
        });
        await db.sql`delete from orders where id > 1000`;
      },
      afterComplete: async () => {
        await expectEveryLeaf("amount = id * 10");
        const [type] = await db.sql`
          select format_type(atttypid, atttypmod) as type from pg_attribute
          where attrelid = 'public.orders_2025_b'::regclass and attname = 'amount'`;
        expect(type!.type).toBe("bigint");
        await expectIndexesComplete();
        expect(await leftovers(db.sql, "public")).toEqual([]);
      },
    });
  });

  test("alter_column default and comment, drop_column with down", async () => {
    await runLifecycle(db, {
      name: "p03_drop_label",
      migration: {
        operations: [
          { alter_column: { table: "orders", column: "doubled", default: "5", comment: "x2" } },
          { drop_column: { table: "orders", column: "label", down: "'from new'" } },
        ],
      },
      afterStart: async () => {
        await expectOnlyParentView("public_p03_drop_label");
        await inSchema(db.url, "public_p03_drop_label", async (sql) => {
          const [row] = await sql`insert into orders (id, created, amount)
            values (1003, '2023-07-07', 10) returning *`;
          expect(Number(row!.doubled)).toBe(5);
          expect("label" in row!).toBe(false);
        });
        const [old] = await db.sql`select label from public_p02_alter_amount.orders
          where id = 1003`;
        expect(old!.label).toBe("from new");
        await db.sql`delete from orders where id > 1000`;
      },
      afterComplete: async () => {
        for (const leaf of LEAVES) {
          const cols = await db.sql`select attname from pg_attribute
            where attrelid = ${`public.${leaf}`}::regclass and attname = 'label'
              and not attisdropped`;
          expect(cols).toEqual([]);
        }
        await expectEveryLeaf("amount = id * 10");
      },
    });
  });

  test("create_index builds the index partition by partition", async () => {
    await runLifecycle(db, {
      name: "p04_index",
      migration: {
        operations: [{
          create_index: {
            table: "orders",
            name: "orders_doubled_idx",
            columns: [{ column: "doubled" }],
          },
        }],
      },
      afterStart: async () => {
        await expectIndexesComplete();
      },
      afterComplete: async () => {
        await expectIndexesComplete();
        const [row] = await db.sql`
          select count(*)::int as n from pg_inherits
          where inhparent = 'public.orders_doubled_idx'::regclass`;
        expect(row!.n).toBe(3); // two range partitions and the hash-partitioned one
      },
    });
  });

  test("drop_index of a partitioned index", async () => {
    await runLifecycle(db, {
      name: "p05_drop_index",
      migration: { operations: [{ drop_index: { name: "orders_doubled_idx" } }] },
      afterComplete: async () => {
        const [row] = await db.sql`select to_regclass('public.orders_doubled_idx') as idx`;
        expect(row!.idx).toBeNull();
        await expectIndexesComplete();
      },
    });
  });

  test("create_constraint check rewrites the column in every partition", async () => {
    await runLifecycle(db, {
      name: "p06_check",
      migration: {
        operations: [{
          create_constraint: {
            table: "orders",
            name: "doubled_even",
            type: "check",
            columns: ["doubled"],
            check: "doubled % 2 = 0",
            up: { doubled: "doubled - doubled % 2" },
            down: { doubled: "doubled" },
          },
        }],
      },
      afterStart: async () => {
        await inSchema(
          db.url,
          "public_p05_drop_index",
          (sql) =>
            sql`insert into orders (id, created, amount, doubled) values (1004, '2025-02-02', 1, 7)`,
        );
        await inSchema(db.url, "public_p06_check", async (sql) => {
          const [row] = await sql`select doubled from orders where id = 1004`;
          expect(Number(row!.doubled)).toBe(6);
        });
        await db.sql`delete from orders where id > 1000`;
      },
      afterComplete: async () => {
        await expectEveryLeaf("doubled % 2 = 0");
        await expectIndexesComplete();
      },
    });
  });

  test("add_column with up and rename_column on a partitioned table without a key", async () => {
    await runLifecycle(db, {
      name: "p10_events",
      migration: {
        operations: [
          {
            add_column: {
              table: "events",
              column: { name: "label", type: "text", nullable: true },
              up: "kind || n",
            },
          },
          { rename_column: { table: "events", from: "n", to: "seq" } },
        ],
      },
      afterStart: async () => {
        await expectOnlyParentView("public_p10_events");
        await inSchema(db.url, "public_p10_events", async (sql) => {
          const wrong = await sql`select seq from events where label is distinct from kind || seq`;
          expect(wrong).toEqual([]);
        });
      },
      afterComplete: async () => {
        const rows = await db.sql`
          select tableoid::regclass::text as leaf, count(*)::int as n,
            count(*) filter (where label = kind || seq)::int as right
          from events group by 1 order by 1`;
        expect(rows.map((r) => ({ ...r }))).toEqual([
          { leaf: "events_a", n: 100, right: 100 },
          { leaf: "events_b", n: 100, right: 100 },
        ]);
      },
    });
  });

  test("a unique column on a partitioned table is refused at start", async () => {
    await expectStartRejected(db, "p07_unique.json", {
      operations: [{
        add_column: {
          table: "orders",
          column: { name: "code", type: "text", nullable: true, unique: true },
        },
      }],
    }, /cannot build unique index "_pgroll_uniq_code" on partitioned table "orders"/);
  });

  test("a foreign key on a partitioned table: refused before PostgreSQL 18", async () => {
    const migration = {
      operations: [{
        add_column: {
          table: "orders",
          column: {
            name: "ref",
            type: "text",
            nullable: true,
            references: { name: "orders_ref_fk", table: "refs", column: "code" },
          },
        },
      }],
    };
    if (major < 18) {
      await expectStartRejected(
        db,
        "p08_fk.json",
        migration,
        /cannot add a foreign key to partitioned table "orders" on PostgreSQL 1\d: before PostgreSQL 18/,
      );
      return;
    }
    await runLifecycle(db, {
      name: "p08_fk",
      migration,
      afterComplete: async () => {
        const [fk] = await db.sql`select convalidated from pg_constraint
          where conname = 'orders_ref_fk' and conrelid = 'public.orders'::regclass`;
        expect(fk!.convalidated).toBe(true);
      },
    });
  });

  test("a partition is not a table of the schema: operations must name the parent", async () => {
    await expectStartRejected(db, "p09_partition.json", {
      operations: [{
        add_column: {
          table: "orders_2023",
          column: { name: "x", type: "int", nullable: true },
        },
      }],
    }, /"orders_2023"/);
  });

  test("the read_schema JSON still lists partitions, marked as such", async () => {
    const [row] = await db.sql`select pgroll.read_schema('public') as schema`;
    const tables = (row!.schema as { tables: Record<string, { partitionOf?: string }> }).tables;
    expect(tables.orders_2025_a?.partitionOf).toBe("orders_2025");
    expect(tables.orders_2025?.partitionOf).toBe("orders");
    expect(tables.orders && "partitionOf" in tables.orders).toBe(false);
    expect(Object.keys(await dumpSchema(db.sql, "public").then((d) => d.tables))).toContain(
      "orders_2023",
    );
  });
});
