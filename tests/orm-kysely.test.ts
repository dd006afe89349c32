/**
 * kysely (with kysely-postgres-js, its postgres.js dialect) reading and writing through both
 * version schemas while a migration is active (tests/helpers/orm-shop.ts: a type change +
 * rename and two added columns with defaults), then after rollback: what the new version wrote
 * is kept, in the old shape. Each version is its own postgres.js pool with `search_path` set, as
 * docs/orm-clients.md shows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ColumnType, type Generated, type GeneratedAlways, Kysely, sql } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import { cliOk } from "./helpers/cli.ts";
import { NEW_VERSION, OLD_VERSION, startShop, versionSql } from "./helpers/orm-shop.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

/** bigint and numeric come back from postgres.js as strings. */
type Id = ColumnType<string, string | number | undefined, never>;

interface V1 {
  products: {
    id: Id;
    sku: string;
    name: string | null;
    price: Generated<number>;
    qty: Generated<number>;
    sku_upper: GeneratedAlways<string | null>;
    created_at: Generated<Date>;
  };
  tags: { id: Generated<number>; label: string };
}

interface V2 {
  products: Omit<V1["products"], "price"> & {
    price_eur: ColumnType<string, string | undefined, string>;
    currency: Generated<string>;
  };
  tags: V1["tags"] & { color: Generated<string | null> };
}

let db: TestDatabase;
let oldDb: Kysely<V1>;
let newDb: Kysely<V2>;

/** A Kysely instance on a postgres.js pool whose search_path is the version schema. */
function versionDb<T>(schema: string): Kysely<T> {
  return new Kysely<T>({ dialect: new PostgresJSDialect({ postgres: versionSql(db, schema) }) });
}

beforeAll(async () => {
  db = await testDatabase();
  await startShop(db);
  oldDb = versionDb<V1>(OLD_VERSION);
  newDb = versionDb<V2>(NEW_VERSION);
}, 60_000);

afterAll(async () => {
  await oldDb?.destroy();
  await newDb?.destroy();
  await db?.drop();
});

const oldRow = (sku: string) =>
  oldDb.selectFrom("products").selectAll().where("sku", "=", sku).executeTakeFirst();
const newRow = (sku: string) =>
  newDb.selectFrom("products").selectAll().where("sku", "=", sku).executeTakeFirst();

describe("kysely during the migration", () => {
  test("insertInto … returningAll through the new version gets every default", async () => {
    const row = await newDb.insertInto("products").values({ sku: "k1", price_eur: "3.21" })
      .returningAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      sku: "k1",
      price_eur: "3.21",
      qty: 1,
      currency: "EUR",
      sku_upper: "K1",
    });
    expect(row.created_at).toBeInstanceOf(Date);
    expect(await oldRow("k1")).toMatchObject({ id: row.id, price: 321 });
  });

  test("rows with different keys: kysely fills the gaps with DEFAULT", async () => {
    const query = newDb.insertInto("products").values([
      { sku: "k2", qty: 4 },
      { sku: "k3", price_eur: "1.50", currency: "CHF" },
    ]);
    expect(query.compile().sql).toBe(
      'insert into "products" ("sku", "qty", "price_eur", "currency") values ' +
        "($1, $2, default, default), ($3, default, $4, $5)",
    );
    const rows = await query.returning(["sku", "qty", "price_eur", "currency"]).execute();
    expect(rows).toEqual([
      { sku: "k2", qty: 4, price_eur: "0.00", currency: "EUR" },
      { sku: "k3", qty: 1, price_eur: "1.50", currency: "CHF" },
    ]);
    const tags = await newDb.insertInto("tags").values([{ label: "a" }, {
      label: "b",
      color: null,
    }])
      .returning(["label", "color"]).execute();
    expect(tags).toEqual([{ label: "a", color: "grey" }, { label: "b", color: null }]);
    const old = await oldDb.insertInto("tags").values({ label: "c" }).returningAll()
      .executeTakeFirstOrThrow();
    expect(await newDb.selectFrom("tags").selectAll().where("id", "=", old.id).execute())
      .toEqual([{ id: old.id, label: "c", color: "grey" }]);
  });

  test("updateTable and deleteFrom through both versions, with returning", async () => {
    const updated = await oldDb.updateTable("products").set({ price: 77, name: "K" })
      .where("sku", "=", "k2").returning(["price", "name"]).executeTakeFirst();
    expect(updated).toEqual({ price: 77, name: "K" });
    expect(await newRow("k2")).toMatchObject({ price_eur: "0.77", name: "K" });

    await newDb.updateTable("products").set((eb) => ({ qty: eb("qty", "+", 1) }))
      .where("sku", "=", "k2").execute();
    expect(await oldRow("k2")).toMatchObject({ qty: 5, price: 77 });

    const gone = await oldDb.deleteFrom("products").where("sku", "=", "k3").returning("sku")
      .execute();
    expect(gone).toEqual([{ sku: "k3" }]);
    expect(await newRow("k3")).toBeUndefined();
  });

  test("onConflict … doUpdateSet / doNothing through both versions", async () => {
    const first = await newDb.insertInto("products").values({ sku: "k1", price_eur: "8.00" })
      .onConflict((oc) =>
        oc.column("sku").doUpdateSet((eb) => ({ price_eur: eb.ref("excluded.price_eur") }))
      )
      .returning(["price_eur"]).executeTakeFirst();
    expect(first).toEqual({ price_eur: "8.00" });
    expect(await oldRow("k1")).toMatchObject({ price: 800 });

    await oldDb.insertInto("products").values({ sku: "k1", price: 900 })
      .onConflict((oc) =>
        oc.column("sku").doUpdateSet((eb) => ({ price: eb.ref("excluded.price") }))
          .where("products.price", "<", 900)
      )
      .execute();
    expect(await newRow("k1")).toMatchObject({ price_eur: "9.00" });

    const none = await newDb.insertInto("tags").values({ label: "a", color: "red" })
      .onConflict((oc) => oc.columns(["label"]).doNothing()).returningAll().execute();
    expect(none).toEqual([]);
  });

  test("ON CONFLICT ON CONSTRAINT names the table's constraint, which a view does not have", async () => {
    const byConstraint = newDb.insertInto("products").values({ sku: "k1" })
      .onConflict((oc) => oc.constraint("products_sku_key").doNothing());
    await expect(byConstraint.execute()).rejects.toThrow(
      'constraint "products_sku_key" for table "products" does not exist',
    );
  });

  test("a transaction writes through the new version and reads its own writes", async () => {
    const total = await newDb.transaction().execute(async (trx) => {
      await trx.insertInto("products").values([{ sku: "t1", price_eur: "1.00" }, {
        sku: "t2",
        price_eur: "2.00",
      }]).execute();
      await trx.updateTable("products").set({ currency: "USD" }).where("sku", "in", ["t1", "t2"])
        .execute();
      const { sum } = await trx.selectFrom("products")
        .select((eb) => eb.fn.sum<string>("price_eur").as("sum"))
        .where("currency", "=", "USD").executeTakeFirstOrThrow();
      return sum;
    });
    expect(total).toBe("3.00");
    expect((await oldRow("t2"))?.price).toBe(200);

    await expect(
      newDb.transaction().execute(async (trx) => {
        await trx.deleteFrom("products").where("sku", "=", "t1").execute();
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await oldRow("t1")).toBeDefined();
  });

  test("withSchema alone is not a version: a public session writing to the new view counts as old", async () => {
    const plain = new Kysely<V2>({
      dialect: new PostgresJSDialect({ postgres: versionSql(db, "public") }),
    });
    try {
      await plain.withSchema(NEW_VERSION).insertInto("products")
        .values({ sku: "ws", price_eur: "6.66" }).execute();
    } finally {
      await plain.destroy();
    }
    expect(await newRow("ws")).toMatchObject({ price_eur: "0.00" });
  });

  test("SET LOCAL search_path in a transaction selects the version for that transaction", async () => {
    const plain = new Kysely<V2>({
      dialect: new PostgresJSDialect({ postgres: versionSql(db, "public") }),
    });
    try {
      await plain.transaction().execute(async (trx) => {
        await sql`SELECT set_config('search_path', ${NEW_VERSION}, true)`.execute(trx);
        await trx.insertInto("products").values({ sku: "sl", price_eur: "4.44" }).execute();
      });
    } finally {
      await plain.destroy();
    }
    expect(await oldRow("sl")).toMatchObject({ price: 444 });
  });
});

describe("kysely after rollback", () => {
  test("what the new version wrote stays, in the old shape; the old client keeps working", async () => {
    await cliOk(db.url, ["rollback"]);
    await expect(newRow("k1")).rejects.toThrow('relation "products" does not exist');
    const rows = await oldDb.selectFrom("products").select(["sku", "price", "qty"])
      .orderBy("id").execute();
    expect(rows).toEqual([
      { sku: "seed", price: 250, qty: 1 },
      { sku: "k1", price: 900, qty: 1 },
      { sku: "k2", price: 77, qty: 5 },
      { sku: "t1", price: 100, qty: 1 },
      { sku: "t2", price: 200, qty: 1 },
      { sku: "ws", price: 0, qty: 1 },
      { sku: "sl", price: 444, qty: 1 },
    ]);
    const added = await oldDb.insertInto("products").values({ sku: "after" })
      .returning(["price", "qty"]).executeTakeFirst();
    expect(added).toEqual({ price: 0, qty: 1 });
  });
});
