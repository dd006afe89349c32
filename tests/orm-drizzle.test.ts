/**
 * drizzle-orm (postgres.js driver) reading and writing through both version schemas while a
 * migration is active (tests/helpers/orm-shop.ts: a type change + rename and two added columns
 * with defaults), then after complete. Each version is a postgres.js pool whose `search_path` is
 * the version schema, and a drizzle schema of plain `pgTable`s, as docs/orm-clients.md shows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import {
  bigint,
  integer,
  numeric,
  pgSchema,
  pgTable,
  serial,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import type postgres from "postgres";
import {
  completeShop,
  NEW_VERSION,
  OLD_VERSION,
  startShop,
  versionSql,
} from "./helpers/orm-shop.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

/** The app's schema before the migration (01_shop). */
const v1 = {
  products: pgTable("products", {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sku: text("sku").notNull().unique(),
    name: text("name"),
    price: integer("price").notNull().default(0),
    qty: integer("qty").notNull().default(1),
    skuUpper: text("sku_upper").generatedAlwaysAs(sql`upper(sku)`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  }),
  tags: pgTable("tags", {
    id: serial("id").primaryKey(),
    label: text("label").notNull().unique(),
  }),
};

/** The app's schema after it (02_shop): price is euros, renamed; two added columns. */
const v2 = {
  products: pgTable("products", {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sku: text("sku").notNull().unique(),
    name: text("name"),
    priceEur: numeric("price_eur", { precision: 10, scale: 2 }).notNull().default("0"),
    qty: integer("qty").notNull().default(1),
    skuUpper: text("sku_upper").generatedAlwaysAs(sql`upper(sku)`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    currency: text("currency").notNull().default("EUR"),
  }),
  tags: pgTable("tags", {
    id: serial("id").primaryKey(),
    label: text("label").notNull().unique(),
    color: text("color").default("grey"),
  }),
};

let db: TestDatabase;
let oldPool: postgres.Sql;
let newPool: postgres.Sql;
let oldDb: ReturnType<typeof drizzle<typeof v1>>;
let newDb: ReturnType<typeof drizzle<typeof v2>>;

beforeAll(async () => {
  db = await testDatabase();
  await startShop(db);
  oldPool = versionSql(db, OLD_VERSION);
  newPool = versionSql(db, NEW_VERSION);
  oldDb = drizzle({ client: oldPool, schema: v1 });
  newDb = drizzle({ client: newPool, schema: v2 });
}, 60_000);

afterAll(async () => {
  await oldPool?.end({ timeout: 5 });
  await newPool?.end({ timeout: 5 });
  await db?.drop();
});

async function oldProduct(sku: string) {
  const [row] = await oldDb.select().from(v1.products).where(eq(v1.products.sku, sku));
  return row;
}

async function newProduct(sku: string) {
  const [row] = await newDb.select().from(v2.products).where(eq(v2.products.sku, sku));
  return row;
}

describe("drizzle-orm during the migration", () => {
  test("the backfilled row reads in both versions", async () => {
    expect(await oldProduct("seed")).toMatchObject({ price: 250, qty: 1, skuUpper: "SEED" });
    expect(await newProduct("seed")).toMatchObject({
      priceEur: "2.50",
      currency: "EUR",
      skuUpper: "SEED",
    });
  });

  test("insert … returning through the new version: identity, generated and every default", async () => {
    const [row] = await newDb.insert(v2.products).values({ sku: "n1", priceEur: "12.34" })
      .returning();
    expect(row).toMatchObject({
      sku: "n1",
      name: null,
      priceEur: "12.34",
      qty: 1,
      skuUpper: "N1",
      currency: "EUR",
    });
    expect(row!.id).toBeGreaterThan(1);
    expect(row!.createdAt).toBeInstanceOf(Date);
    expect(await oldProduct("n1")).toMatchObject({ id: row!.id, price: 1234, qty: 1 });
  });

  test("a multi-row insert sends DEFAULT for the missing values; both versions apply them", async () => {
    const query = newDb.insert(v2.products).values([
      { sku: "m1", currency: "USD" },
      { sku: "m2", qty: 3 },
    ]);
    // drizzle writes `default` for every value a row leaves out, identity key included.
    expect(query.toSQL().sql).toContain("(default, $1, default, default, default, default, $2)");
    const rows = await query.returning({
      sku: v2.products.sku,
      priceEur: v2.products.priceEur,
      qty: v2.products.qty,
      currency: v2.products.currency,
    });
    expect(rows).toEqual([
      { sku: "m1", priceEur: "0.00", qty: 1, currency: "USD" },
      { sku: "m2", priceEur: "0.00", qty: 3, currency: "EUR" },
    ]);

    const old = await oldDb.insert(v1.products).values([{ sku: "o1" }, { sku: "o2", price: 5 }])
      .returning({ id: v1.products.id, price: v1.products.price, qty: v1.products.qty });
    expect(old.map((r) => [r.price, r.qty])).toEqual([[0, 1], [5, 1]]);
    expect(await newProduct("o2")).toMatchObject({ priceEur: "0.05", currency: "EUR" });
  });

  test("identity and generated columns refuse explicit values through a view, as on the table", async () => {
    await expect(newPool`insert into products (sku, sku_upper) values ('g', 'G')`).rejects
      .toThrow('cannot insert a non-DEFAULT value into column "sku_upper"');
    await expect(oldPool`insert into products (id, sku) values (99, 'g')`).rejects
      .toThrow('cannot insert a non-DEFAULT value into column "id"');
  });

  test("insert through the old version: the new version sees it translated", async () => {
    const [row] = await oldDb.insert(v1.products).values({ sku: "o3", price: 999, qty: 2 })
      .returning();
    expect(row).toMatchObject({ price: 999, qty: 2, skuUpper: "O3" });
    expect(await newProduct("o3")).toMatchObject({
      id: row!.id,
      priceEur: "9.99",
      qty: 2,
      currency: "EUR",
    });
  });

  test("update and delete through either version", async () => {
    await newDb.insert(v2.products).values({ sku: "u1", priceEur: "1.00" });
    const [updated] = await newDb.update(v2.products).set({ priceEur: "7.50", name: "U" })
      .where(eq(v2.products.sku, "u1")).returning({ priceEur: v2.products.priceEur });
    expect(updated).toEqual({ priceEur: "7.50" });
    expect(await oldProduct("u1")).toMatchObject({ price: 750, name: "U" });

    await oldDb.update(v1.products).set({ price: 120 }).where(eq(v1.products.sku, "u1"));
    expect(await newProduct("u1")).toMatchObject({ priceEur: "1.20" });

    const deleted = await newDb.delete(v2.products).where(eq(v2.products.sku, "u1"))
      .returning({ sku: v2.products.sku });
    expect(deleted).toEqual([{ sku: "u1" }]);
    expect(await oldProduct("u1")).toBeUndefined();
    await oldDb.delete(v1.products).where(eq(v1.products.sku, "o1"));
    expect(await newProduct("o1")).toBeUndefined();
  });

  test("upsert (ON CONFLICT … DO UPDATE / DO NOTHING) through both versions", async () => {
    await newDb.insert(v2.products).values({ sku: "up", priceEur: "1.00" });
    const [first] = await newDb.insert(v2.products).values({ sku: "up", priceEur: "2.00" })
      .onConflictDoUpdate({
        target: v2.products.sku,
        set: { priceEur: sql`excluded.price_eur`, qty: sql`${v2.products.qty} + 1` },
      })
      .returning({ priceEur: v2.products.priceEur, qty: v2.products.qty });
    expect(first).toEqual({ priceEur: "2.00", qty: 2 });
    expect(await oldProduct("up")).toMatchObject({ price: 200, qty: 2 });

    await oldDb.insert(v1.products).values({ sku: "up", price: 300 })
      .onConflictDoUpdate({ target: v1.products.sku, set: { price: sql`excluded.price` } });
    expect(await newProduct("up")).toMatchObject({ priceEur: "3.00" });

    const none = await newDb.insert(v2.products).values({ sku: "up", priceEur: "9.00" })
      .onConflictDoNothing({ target: v2.products.sku }).returning();
    expect(none).toEqual([]);

    // On the identity key: GENERATED ALWAYS takes an explicit id only with OVERRIDING SYSTEM VALUE.
    const { id } = (await newProduct("up"))!;
    const [byId] = await newDb.insert(v2.products).overridingSystemValue()
      .values({ id, sku: "up-renamed", priceEur: "0" })
      .onConflictDoUpdate({ target: v2.products.id, set: { sku: sql`excluded.sku` } })
      .returning({ id: v2.products.id, sku: v2.products.sku, priceEur: v2.products.priceEur });
    expect(byId).toEqual({ id, sku: "up-renamed", priceEur: "3.00" });
    await newDb.update(v2.products).set({ sku: "up" }).where(eq(v2.products.id, id));

    // On the serial key of the other table, with the added column's default.
    const [tag] = await newDb.insert(v2.tags).values({ label: "t1" }).returning();
    expect(tag).toMatchObject({ label: "t1", color: "grey" });
    const [again] = await newDb.insert(v2.tags).values({ id: tag!.id, label: "t1b" })
      .onConflictDoUpdate({ target: v2.tags.id, set: { label: sql`excluded.label` } })
      .returning();
    expect(again).toEqual({ id: tag!.id, label: "t1b", color: "grey" });
  });

  test("transactions: a commit is seen by the other version, a rollback leaves nothing", async () => {
    await newDb.transaction(async (tx) => {
      const [row] = await tx.insert(v2.products).values({ sku: "tx1", priceEur: "4.00" })
        .returning({ id: v2.products.id });
      await tx.update(v2.products).set({ qty: 5 }).where(eq(v2.products.id, row!.id));
    });
    expect(await oldProduct("tx1")).toMatchObject({ price: 400, qty: 5 });

    await expect(
      oldDb.transaction(async (tx) => {
        await tx.insert(v1.products).values({ sku: "tx2", price: 1 });
        await tx.insert(v1.tags).values({ label: "tx2" });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await newProduct("tx2")).toBeUndefined();
    expect(await newDb.select().from(v2.tags).where(eq(v2.tags.label, "tx2"))).toEqual([]);
  });

  test("pgSchema alone is not a version: names qualified, search_path still public", async () => {
    // The sync triggers decide the version from the session's search_path; a session on
    // `public` writing to the new view by its qualified name counts as the OLD version, so the
    // new column is recomputed from the old one and the value written is lost.
    const qualified = pgSchema(NEW_VERSION).table("products", {
      sku: text("sku").notNull(),
      priceEur: numeric("price_eur", { precision: 10, scale: 2 }),
    });
    const plain = drizzle({ client: db.sql });
    await plain.insert(qualified).values({ sku: "q1", priceEur: "5.55" });
    expect(await newProduct("q1")).toMatchObject({ priceEur: "0.00" });
  });
});

describe("drizzle-orm after complete", () => {
  test("the new version's client keeps working; the data written through both is there", async () => {
    await completeShop(db);
    const [row] = await newDb.insert(v2.products).values({ sku: "after", priceEur: "0.10" })
      .returning();
    expect(row).toMatchObject({ qty: 1, currency: "EUR", skuUpper: "AFTER" });
    const all = await newDb.select({ sku: v2.products.sku, priceEur: v2.products.priceEur })
      .from(v2.products).orderBy(v2.products.id);
    expect(all).toEqual([
      { sku: "seed", priceEur: "2.50" },
      { sku: "n1", priceEur: "12.34" },
      { sku: "m1", priceEur: "0.00" },
      { sku: "m2", priceEur: "0.00" },
      { sku: "o2", priceEur: "0.05" },
      { sku: "o3", priceEur: "9.99" },
      { sku: "up", priceEur: "3.00" },
      { sku: "tx1", priceEur: "4.00" },
      { sku: "q1", priceEur: "0.00" },
      { sku: "after", priceEur: "0.10" },
    ]);
  });
});
