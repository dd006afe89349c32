/**
 * The schema the ORM client tests (tests/orm-*.test.ts) read and write through: a shop whose
 * second migration is started but not completed, so both version schemas are live.
 *
 * - 01_shop: `products` (an identity key GENERATED ALWAYS, a unique `sku`, `price` in cents with a
 *   default, `qty` with a default, `sku_upper` GENERATED ALWAYS AS (upper(sku)) STORED,
 *   `created_at` DEFAULT now()) and `tags` (a serial key, a unique `label`).
 * - 02_shop: `price` becomes `numeric(10,2)` euros (up `price / 100.0`, down `(price * 100)::int`)
 *   and is renamed `price_eur`; `products` gains `currency` NOT NULL DEFAULT 'EUR' and `tags`
 *   gains `color` DEFAULT 'grey'.
 *
 * Every client connects with `search_path` set to its version schema (postgres.js's
 * `connection: { search_path }`): the sync triggers tell the versions apart by the writing
 * session's `current_schema()`, not by the view a statement names.
 */
import postgres from "postgres";
import { cliOk, migrationFile } from "./cli.ts";
import type { TestDatabase } from "./postgres.ts";

/** The two version schemas of the shop. */
export const OLD_VERSION = "public_01_shop";
export const NEW_VERSION = "public_02_shop";

const V1 = {
  operations: [
    {
      create_table: {
        name: "products",
        columns: [
          { name: "id", type: "bigint", pk: true, generated: { identity: {} } },
          { name: "sku", type: "text", unique: true },
          { name: "name", type: "text", nullable: true },
          { name: "price", type: "integer", default: "0" },
          { name: "qty", type: "integer", default: "1" },
          {
            name: "sku_upper",
            type: "text",
            nullable: true,
            generated: { expression: "upper(sku)" },
          },
          { name: "created_at", type: "timestamptz", default: "now()" },
        ],
      },
    },
    {
      create_table: {
        name: "tags",
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "label", type: "text", unique: true },
        ],
      },
    },
  ],
};

const V2 = {
  operations: [
    {
      alter_column: {
        table: "products",
        column: "price",
        type: "numeric(10,2)",
        up: "price / 100.0",
        down: "(price * 100)::integer",
      },
    },
    { rename_column: { table: "products", from: "price", to: "price_eur" } },
    {
      add_column: {
        table: "products",
        column: { name: "currency", type: "text", default: "'EUR'" },
      },
    },
    {
      add_column: {
        table: "tags",
        column: { name: "color", type: "text", nullable: true, default: "'grey'" },
      },
    },
  ],
};

/**
 * Completes 01_shop, writes one product and one tag through it (rows the backfill must carry to
 * the new version), then starts 02_shop: both versions are live when this returns.
 */
export async function startShop(db: TestDatabase): Promise<void> {
  await cliOk(db.url, ["init"]);
  await cliOk(db.url, ["start", await migrationFile("01_shop.json", V1), "--complete"]);
  await db.sql`insert into products (sku, name, price) values ('seed', 'Seed', 250)`;
  await db.sql`insert into tags (label) values ('seed')`;
  await cliOk(db.url, ["start", await migrationFile("02_shop.json", V2)]);
}

/** Completes 02_shop. */
export async function completeShop(db: TestDatabase): Promise<void> {
  await cliOk(db.url, ["complete"]);
}

/**
 * A postgres.js pool for one version: `search_path` is a startup parameter, so every connection
 * of the pool (and every transaction on it) uses that version.
 */
export function versionSql(db: TestDatabase, versionSchema: string): postgres.Sql {
  return postgres(db.url, {
    max: 2,
    idle_timeout: 1,
    onnotice: () => {},
    connection: { search_path: versionSchema, application_name: `orm-client-${versionSchema}` },
  });
}
