/**
 * The TypeScript DSL without a database: each of pgroll's example migrations, written with the
 * DSL, equals the YAML file exactly and parses with the built-in registry; builders are immutable
 * and their output frozen; misuse that the types cannot see fails at the offending call.
 */
import { corpusUrl } from "./helpers/corpus.ts";
import { describe, expect, test } from "bun:test";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { PgtandemError, ValidationError } from "../lib/errors.ts";
import { parseMigration } from "../lib/migration/migration.ts";
import { builtinRegistry } from "../lib/operations/builtins.ts";
import {
  addColumn,
  alterColumn,
  createConstraint,
  createIndex,
  createTable,
  type DefinedMigration,
  defineMigration,
  dropColumn,
  dropConstraint,
  dropIndex,
  dropMulticolumnConstraint,
  dropTable,
  isOperation,
  isSqlExpression,
  operation,
  operationData,
  rawSql,
  renameColumn,
  renameConstraint,
  renameTable,
  setReplicaIdentity,
  sql,
  t,
  table,
} from "../lib/mod.ts";

const registry = builtinRegistry();
const EXAMPLES = corpusUrl ?? new URL("file:///nonexistent/");
const MIGRATIONS = new URL("../migrations/", import.meta.url);

async function example(name: string): Promise<unknown> {
  return YAML.parse(await readFile(new URL(`${name}.yaml`, EXAMPLES), "utf8"));
}

// Tables made by earlier examples, declared once so later builders check the columns they name.
const fruits = table("fruits", ["id", "name", "price", "size"]);
const reviews = table("reviews", ["id", "username", "product", "review", "rating"]);
const posts = table("posts", ["id", "title", "user_id"]);
const tickets = table("tickets", ["ticket_id", "sellers_name", "sellers_zip", "ticket_type"]);
const sellers = table("sellers", ["name", "zip", "description", "rating"]);

const telephoneProviders = createTable("telephone_providers", {
  id: t.serial(),
  name: t.varchar(255),
  tax_id: t.varchar(255),
  headquarters: t.varchar(255),
})
  .primaryKey("provider_pk", ["id"])
  .unique("unique_tax_id", ["tax_id"])
  .check("name_must_be_present", sql`length(name) > 0`);

const tasks = createTable("tasks", {
  id: t.serial(),
  title: t.varchar(255).notNull(),
  description: t.varchar(255),
  deadline: t.time({ withTimeZone: true }),
});

/** Each pgroll example, written with the DSL. Keys are the example file names. */
const EXAMPLES_IN_DSL: Record<string, () => DefinedMigration> = {
  "01_create_tables": () =>
    defineMigration({
      operations: [
        createTable("customers", {
          id: t.integer().primaryKey(),
          name: t.varchar(255).unique(),
          credit_card: t.text().nullable(),
        }),
        createTable("bills", {
          id: t.integer().primaryKey(),
          date: t.time({ withTimeZone: true }),
          quantity: t.integer(),
        }),
        createTable("sellers", {
          name: t.varchar(255).primaryKey(),
          zip: t.integer().primaryKey(),
          description: t.varchar(255).nullable(),
        }),
      ],
    }),
  "02_create_another_table": () =>
    defineMigration({
      operations: [
        createTable("products", {
          id: t.serial().primaryKey(),
          name: t.varchar(255).unique(),
          price: t.decimal(10, 2),
        }),
      ],
    }),
  "03_add_column": () =>
    defineMigration({
      operations: [
        addColumn("products", "description", t.varchar(255).nullable(), { up: sql`UPPER(name)` }),
        addColumn("products", "stock", t.int().notNull().defaultValue(100)),
        addColumn("products", "category", t.varchar(255).notNull(), {
          up: sql`name || '-category'`,
        }),
      ],
    }),
  "04_rename_table": () => defineMigration({ operations: [renameTable("customers", "clients")] }),
  "05_sql": () =>
    defineMigration({
      operations: [
        rawSql(sql`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`, {
          down: sql`DROP TABLE users`,
        }),
      ],
    }),
  "06_add_column_to_sql_table": () =>
    defineMigration({
      operations: [
        addColumn("users", "description", t.varchar(255).nullable(), { up: sql`UPPER(name)` }),
      ],
    }),
  "07_drop_table": () => defineMigration({ operations: [dropTable("products")] }),
  "08_create_fruits_table": () =>
    defineMigration({
      operations: [
        createTable("fruits", {
          id: t.bigint().primaryKey().identity({ userSpecifiedValues: "BY DEFAULT" }),
          name: t.varchar(255).unique(),
          price: t.decimal(10, 2),
        }),
      ],
    }),
  "09_drop_column": () =>
    defineMigration({ operations: [dropColumn(fruits, "price", { down: sql`0` })] }),
  "10_create_index": () =>
    defineMigration({ operations: [createIndex("idx_fruits_name", fruits, ["name"])] }),
  "11_drop_index": () => defineMigration({ operations: [dropIndex("idx_fruits_name")] }),
  "12_create_employees_table": () =>
    defineMigration({
      operations: [
        createTable("employees", {
          id: t.serial().primaryKey(),
          role: t.varchar(255).comment("This is a comment for the role column"),
        }).comment("This is a comment for the employees table"),
      ],
    }),
  "13_rename_column": () =>
    defineMigration({ operations: [renameColumn("employees", "role", "job_title")] }),
  "14_add_reviews_table": () =>
    defineMigration({
      operations: [
        createTable("reviews", {
          id: t.serial().primaryKey(),
          username: t.text(),
          product: t.text(),
          review: t.text().nullable(),
        }),
      ],
    }),
  "15_set_column_unique": () =>
    defineMigration({
      operations: [
        alterColumn(reviews, "review").unique("reviews_review_unique", {
          up: sql`review || '-' || (random()*1000000)::integer`,
          down: sql`review`,
        }),
      ],
    }),
  "16_set_nullable": () =>
    defineMigration({
      operations: [
        alterColumn(reviews, "review").notNull({
          up: sql`SELECT CASE WHEN review IS NULL THEN product || ' is good' ELSE review END`,
          down: sql`review`,
        }),
      ],
    }),
  "17_add_rating_column": () =>
    defineMigration({
      operations: [addColumn(reviews, "rating", t.text().default(sql`0`))],
    }),
  "18_change_column_type": () =>
    defineMigration({
      operations: [
        alterColumn(reviews, "rating").type(t.integer(), {
          up: sql`CAST(rating AS integer)`,
          down: sql`CAST(rating AS text)`,
        }),
      ],
    }),
  "19_create_orders_table": () =>
    defineMigration({
      operations: [
        createTable("orders", {
          id: t.serial().primaryKey(),
          user_id: t.integer().references("fk_users_id", "users", "id"),
          quantity: t.int(),
        }),
      ],
    }),
  "20_create_posts_table": () =>
    defineMigration({
      operations: [
        createTable("posts", {
          id: t.serial().primaryKey(),
          title: t.varchar(255),
          user_id: t.integer().nullable(),
        }),
      ],
    }),
  "21_add_foreign_key_constraint": () =>
    defineMigration({
      operations: [
        alterColumn(posts, "user_id").references("fk_users_id", table("users", ["id"]), "id", {
          onDelete: "CASCADE",
          up:
            sql`SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END`,
          down: sql`user_id`,
        }),
      ],
    }),
  "22_add_check_constraint": () =>
    defineMigration({
      operations: [
        alterColumn(posts, "title").check("title_length", sql`length(title) > 3`, {
          up: sql`SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END`,
          down: sql`title`,
        }),
      ],
    }),
  "23_drop_check_constraint": () =>
    defineMigration({
      operations: [
        dropConstraint(posts, "title_length", {
          up: sql`title`,
          down: sql`SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END`,
        }),
      ],
    }),
  "24_drop_foreign_key_constraint": () =>
    defineMigration({
      operations: [
        dropConstraint(posts, "fk_users_id", {
          up: sql`user_id`,
          down:
            sql`SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END`,
        }),
      ],
    }),
  "25_add_table_with_check_constraint": () =>
    defineMigration({
      operations: [
        createTable("people", {
          id: t.integer().primaryKey(),
          name: t.varchar(255).check("name_length", sql`length(name) > 3`),
        }),
      ],
    }),
  "26_add_column_with_check_constraint": () =>
    defineMigration({
      operations: [
        addColumn("people", "age", t.integer().defaultValue(18).check("age_check", sql`age >= 18`)),
      ],
    }),
  "27_drop_unique_constraint": () =>
    defineMigration({
      operations: [
        dropConstraint(reviews, "reviews_review_unique", {
          up: sql`review`,
          down: sql`review || '-' || (random()*1000000)::integer`,
        }),
      ],
    }),
  "28_different_defaults": () =>
    defineMigration({
      operations: [
        createTable("items", {
          id: t.serial().primaryKey(),
          name: t.varchar(255).defaultValue("unnamed"),
          price: t.decimal(10, 2).default(sql`0.00`),
          created_at: t.timestamptz().default(sql`now()`),
        }),
      ],
    }),
  "29_set_replica_identity": () =>
    defineMigration({
      operations: [setReplicaIdentity(fruits, { type: "index", index: "fruits_pkey" })],
    }),
  "30_add_column_simple_up": () =>
    defineMigration({
      operations: [
        addColumn(
          "people",
          "description",
          t.varchar(255).notNull().comment("This is a comment for the description column"),
          { up: sql.literal("temporary-description") },
        ),
      ],
    }),
  "31_unset_not_null": () =>
    defineMigration({
      operations: [
        alterColumn(posts, "title").nullable({
          up: sql`title`,
          down: sql`SELECT CASE WHEN title IS NULL THEN 'placeholder title' ELSE title END`,
        }),
      ],
    }),
  "32_sql_on_complete": () =>
    defineMigration({
      operations: [
        rawSql(sql`ALTER TABLE people ADD COLUMN birth_date timestamp`, { onComplete: true }),
      ],
    }),
  "33_rename_check_constraint": () =>
    defineMigration({
      operations: [renameConstraint("people", "name_length", "name_length_check")],
    }),
  "34_create_events_table": () =>
    defineMigration({
      operations: [
        createTable("events", {
          id: t.serial().primaryKey(),
          name: t.varchar(255).nullable().defaultValue("<placeholder>").comment(
            "the name of the event",
          ),
        }),
      ],
    }),
  "35_alter_column_multiple": () =>
    defineMigration({
      operations: [
        alterColumn("events", "name")
          .type(t.text(), {
            up:
              sql`SELECT CASE WHEN name IS NULL OR LENGTH(name) <= 3 THEN 'placeholder' ELSE name END`,
            down: sql`event_name`,
          })
          .defaultValue("unknown event")
          .notNull()
          .comment("the full name of the event")
          .unique("events_event_name_unique")
          .check("event_name_length", sql`length(name) > 3`),
      ],
    }),
  "36_set_comment_to_null": () =>
    defineMigration({
      operations: [
        alterColumn("events", "name").dropComment({ up: sql`name`, down: sql`name` }),
      ],
    }),
  "37_create_partial_index": () =>
    defineMigration({
      operations: [
        createIndex("idx_fruits_id_gt_10", fruits, ["id"], { predicate: sql`id > ${10}` }),
      ],
    }),
  "38_create_hash_index_with_fillfactor": () =>
    defineMigration({
      operations: [
        createIndex("idx_fruits_name", fruits, ["name"], {
          method: "hash",
          storageParameters: { fillfactor: 70 },
        }),
      ],
    }),
  "39_add_column_with_multiple_pk_in_table": () =>
    defineMigration({ operations: [addColumn(sellers, "rating", t.int().defaultValue(10))] }),
  "40_create_enum_type": () =>
    defineMigration({
      operations: [rawSql(sql`CREATE TYPE fruit_size AS ENUM ('small', 'medium', 'large');`)],
    }),
  "41_add_enum_column": () =>
    defineMigration({
      operations: [addColumn(fruits, "size", t.raw("fruit_size").defaultValue("small"))],
    }),
  "42_create_unique_index": () =>
    defineMigration({
      operations: [createIndex("idx_fruits_unique_name", fruits, ["name"], { unique: true })],
    }),
  "43_create_tickets_table": () =>
    defineMigration({
      operations: [
        createTable("tickets", {
          ticket_id: t.serial().primaryKey(),
          sellers_name: t.varchar(255),
          sellers_zip: t.integer(),
          ticket_type: t.varchar(255).defaultValue("paper"),
        }),
      ],
    }),
  "44_add_table_unique_constraint": () =>
    defineMigration({
      operations: [
        createConstraint(tickets, "unique_zip_name").unique(["sellers_name", "sellers_zip"], {
          up: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
          down: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
        }),
      ],
    }),
  "45_add_table_check_constraint": () =>
    defineMigration({
      operations: [
        createConstraint(tickets, "check_zip_name").check(
          sql`sellers_name = 'alice' OR sellers_zip > 0`,
          ["sellers_name", "sellers_zip"],
          {
            up: {
              sellers_name: sql`sellers_name`,
              sellers_zip:
                sql`SELECT CASE WHEN sellers_name != 'alice' AND sellers_zip <= 0 THEN 123 WHEN sellers_name != 'alice' THEN sellers_zip ELSE sellers_zip END`,
            },
            down: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
          },
        ),
      ],
    }),
  "46_alter_column_drop_default": () =>
    defineMigration({
      operations: [
        alterColumn(tickets, "ticket_type").dropDefault({
          up: sql`ticket_type`,
          down: sql`ticket_type`,
        }),
      ],
    }),
  "47_add_table_foreign_key_constraint": () =>
    defineMigration({
      operations: [
        createConstraint(tickets, "fk_sellers").foreignKey(
          ["sellers_name", "sellers_zip"],
          sellers,
          ["name", "zip"],
          {
            up: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
            down: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
          },
        ),
      ],
    }),
  "48_drop_tickets_check": () =>
    defineMigration({
      operations: [
        dropMulticolumnConstraint(tickets, "check_zip_name", {
          up: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
          down: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
        }),
      ],
    }),
  "49_unset_not_null_on_indexed_column": () =>
    defineMigration({
      operations: [
        alterColumn(fruits, "name").nullable({
          up: sql`SELECT CASE WHEN name IS NULL THEN 'unknown fruit' ELSE name END`,
          down: sql`name`,
        }),
      ],
    }),
  "50_create_table_with_table_constraint": () =>
    defineMigration({ operations: [telephoneProviders] }),
  "51_create_table_with_table_foreign_key_constraint": () =>
    defineMigration({
      operations: [
        createTable("phonebook", {
          id: t.serial(),
          provider_id: t.serial(),
          name: t.varchar(255),
          city: t.varchar(255),
          phone: t.varchar(255),
        })
          .primaryKey("phonebook_pk", ["id"])
          .foreignKey("provider_fk", ["provider_id"], telephoneProviders, ["id"], {
            deferrable: false,
            onDelete: "CASCADE",
            onUpdate: "CASCADE",
            matchType: "SIMPLE",
          })
          .unique("unique_numbers", ["phone"], { includeColumns: ["name"] })
          .check("name_must_be_present", sql`length(name) > 0`),
      ],
    }),
  "52_create_table_with_exclusion_constraint": () =>
    defineMigration({
      operations: [
        createTable("library", {
          id: t.serial(),
          returned: t.timestamp(),
          title: t.text(),
          summary: t.text(),
        })
          .primaryKey("rooms_pk", ["id"])
          .exclude("forbid_duplicated_titles", {
            indexMethod: "btree",
            elements: sql`title WITH =`,
            predicate: sql`title IS NOT NULL`,
          }),
      ],
    }),
  "53_add_column_with_volatile_default": () =>
    defineMigration({
      operations: [
        addColumn("library", "value", t.int().default(sql`(random() * 1000)::int`), {
          up: sql`(random() * 1000)::int`,
        }),
      ],
    }),
  "54_create_index_with_opclass": () =>
    defineMigration({
      operations: [
        createIndex("idx_fruits_custom_opclass", fruits, [{ column: "id", opclass: "int8_ops" }]),
      ],
    }),
  "55_add_primary_key_constraint_to_table": () =>
    defineMigration({
      operations: [
        tasks,
        createConstraint(tasks, "tasks_pkey").primaryKey(["id"], {
          up: { id: sql`id` },
          down: { id: sql`id` },
        }),
      ],
    }),
  "56_with_version_schema": () =>
    defineMigration({
      versionSchema: "with_version_schema",
      operations: [
        createTable("products", {
          id: t.serial().primaryKey(),
          name: t.varchar(255).unique(),
        }),
      ],
    }),
};

describe("pgroll's examples written with the DSL", () => {
  for (const [name, build] of Object.entries(EXAMPLES_IN_DSL)) {
    test.skipIf(!corpusUrl)(name, async () => {
      const migration = build();
      expect(migration).toEqual(await example(name) as DefinedMigration);
      const parsed = parseMigration(`${name}.ts`, name, migration, registry);
      expect(parsed.operations.map((op) => op.kind)).toEqual(
        migration.operations.map((op) => Object.keys(op)[0] as string),
      );
    });
  }

  test.skipIf(!corpusUrl)("every example is covered", async () => {
    const files = (await readdir(fileURLToPath(EXAMPLES))).filter((f) => f.endsWith(".yaml"));
    expect(Object.keys(EXAMPLES_IN_DSL).sort()).toEqual(
      files.map((f) => f.replace(/\.yaml$/, "")).sort(),
    );
  });

  test("every built-in operation kind is covered", () => {
    const kinds = new Set(
      Object.values(EXAMPLES_IN_DSL).flatMap((build) =>
        build().operations.map((op) => Object.keys(op)[0])
      ),
    );
    expect([...kinds].sort()).toEqual(registry.kinds().sort());
  });
});

/** True when `value` and everything inside it is frozen. */
function deeplyFrozen(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(deeplyFrozen);
}

describe("immutability", () => {
  test("a column type reused gives independent columns", () => {
    const text = t.text();
    const nullable = text.nullable();
    const unique = text.unique();
    const migration = defineMigration({
      operations: [createTable("a", { plain: text, nullable, unique })],
    });
    expect(migration.operations[0]).toEqual({
      create_table: {
        name: "a",
        columns: [
          { name: "plain", type: "text" },
          { name: "nullable", type: "text", nullable: true },
          { name: "unique", type: "text", unique: true },
        ],
      },
    });
  });

  test("a table builder reused twice gives independent results", () => {
    const base = createTable("users", { id: t.serial(), email: t.text() });
    const withPk = base.primaryKey("users_pk", ["id"]);
    const withBoth = withPk.unique("users_email_key", ["email"]);
    expect(base.toJSON()).toEqual({
      create_table: {
        name: "users",
        columns: [{ name: "id", type: "serial" }, { name: "email", type: "text" }],
      },
    });
    expect(operationData(withPk).create_table?.constraints).toEqual([
      { name: "users_pk", type: "primary_key", columns: ["id"] },
    ]);
    expect((operationData(withBoth).create_table?.constraints as unknown[]).length).toBe(2);
  });

  test("an alterColumn start reused gives independent operations", () => {
    const start = alterColumn("events", "name");
    const a = start.comment("a");
    const b = start.dropDefault();
    expect(a.toJSON()).toEqual({ alter_column: { table: "events", column: "name", comment: "a" } });
    expect(b.toJSON()).toEqual({
      alter_column: { table: "events", column: "name", default: null },
    });
  });

  test("the same operation in two migrations gives equal, unshared data", () => {
    const op = createTable("a", { id: t.serial().primaryKey() });
    const one = defineMigration({ operations: [op] });
    const two = defineMigration({ operations: [op] });
    expect(one).toEqual(two);
    expect(one.operations[0]).not.toBe(two.operations[0]);
  });

  test("outputs, builders and expressions are frozen", () => {
    const migration = EXAMPLES_IN_DSL["51_create_table_with_table_foreign_key_constraint"]!();
    expect(deeplyFrozen(migration)).toBe(true);
    expect(() => (migration.operations as unknown[]).push({})).toThrow();
    expect(deeplyFrozen(telephoneProviders.toJSON())).toBe(true);
    expect(Object.isFrozen(telephoneProviders)).toBe(true);
    expect(Object.isFrozen(t.text())).toBe(true);
    expect(Object.isFrozen(sql`now()`)).toBe(true);
  });

  test("JSON.stringify of a builder and of a migration writes pgroll JSON", () => {
    const migration = EXAMPLES_IN_DSL["28_different_defaults"]!();
    expect(JSON.parse(JSON.stringify(migration))).toEqual(migration);
    expect(JSON.parse(JSON.stringify(dropIndex("i")))).toEqual({ drop_index: { name: "i" } });
  });
});

describe("sql", () => {
  test("template, function form, identifiers and literals", () => {
    expect(sql`now()`.text).toBe("now()");
    expect(sql("length(name) > 3").text).toBe("length(name) > 3");
    expect(sql`a = ${sql.literal("it's")} AND b = ${2} AND c IS ${null} AND d = ${true}`.text)
      .toBe("a = 'it''s' AND b = 2 AND c IS NULL AND d = true");
    expect(sql`${sql.ident("my table")}.${sql.ident("x")}`.text).toBe('"my table"."x"');
    expect(String(sql`x + 1`)).toBe("x + 1");
    expect(isSqlExpression(sql`x`)).toBe(true);
    expect(isSqlExpression("x")).toBe(false);
  });

  test("the brand is shared through Symbol.for (a plugin's own copy is recognised)", () => {
    const foreign = { [Symbol.for("pgtandem.sql")]: true, text: "now()" };
    expect(isSqlExpression(foreign)).toBe(true);
  });

  test("strings cannot be interpolated, and SQL cannot be empty", () => {
    const name = "x" as unknown as number;
    expect(() => sql`a = ${name}`).toThrow(/sql\.literal/);
    expect(() => sql``).toThrow(PgtandemError);
  });
});

describe("literal defaults", () => {
  const defaultOf = (column: Parameters<typeof addColumn>[2]) =>
    (addColumn("t", "c", column.nullable()).toJSON().add_column?.column as { default?: string })
      .default;

  test("are quoted for the column's kind", () => {
    expect(defaultOf(t.text().defaultValue("free"))).toBe("'free'");
    expect(defaultOf(t.text().defaultValue("it's"))).toBe("'it''s'");
    expect(defaultOf(t.integer().defaultValue(-1))).toBe("-1");
    expect(defaultOf(t.bigint().defaultValue(9007199254740993n))).toBe("9007199254740993");
    expect(defaultOf(t.boolean().defaultValue(false))).toBe("false");
    expect(defaultOf(t.jsonb().defaultValue({ a: [1, "x"] }))).toBe(`'{"a":[1,"x"]}'`);
    expect(defaultOf(t.text().array().defaultValue([]))).toBe("'{}'");
    expect(defaultOf(t.text().array().defaultValue(["a", 'b"c', null]))).toBe(
      `E'{"a","b\\\\"c",NULL}'`,
    );
    expect(defaultOf(t.raw("fruit_size").defaultValue("small"))).toBe("'small'");
  });

  test("a value of the wrong kind fails at the call", () => {
    const integer = t.integer() as unknown as { defaultValue(v: unknown): unknown };
    expect(() => integer.defaultValue("1")).toThrow(/does not fit type "integer"/);
  });
});

describe("misuse the types cannot see fails early", () => {
  test("a column the table reference does not declare", () => {
    const users = table("users", ["id"]) as unknown as typeof posts;
    expect(() => createIndex("i", users, ["title"])).toThrow(
      'index "i": table "users" has no column "title" (its columns: id)',
    );
  });

  test("a constraint over a column the created table does not have", () => {
    const users = createTable("users", { id: t.serial() }) as unknown as {
      primaryKey(name: string, columns: string[]): unknown;
    };
    expect(() => users.primaryKey("users_pk", ["nope"])).toThrow(/has no column "nope"/);
  });

  test("up given twice with different SQL", () => {
    expect(() =>
      alterColumn("a", "b").type(t.bigint(), { up: sql`b`, down: sql`b` }).notNull({ up: sql`0` })
    ).toThrow(/"up" is given twice/);
  });

  test("a type change without up/down", () => {
    const start = alterColumn("a", "b") as unknown as { type(t: unknown, c?: unknown): unknown };
    expect(() => start.type(t.bigint())).toThrow(
      'alterColumn "a.b": a type change needs "up" and "down"',
    );
  });

  test("a column type with settings where only a type fits", () => {
    const start = alterColumn("a", "b") as unknown as { type(t: unknown, c: unknown): unknown };
    expect(() => start.type(t.bigint().nullable(), { up: sql`b`, down: sql`b` })).toThrow(
      /bare type/,
    );
  });

  test("numbers as column names cannot keep their order", () => {
    expect(() => createTable("a", { 1: t.text(), b: t.text() })).toThrow(/is a number/);
  });

  test("out-of-range type arguments", () => {
    expect(() => t.varchar(0)).toThrow(/varchar length/);
    expect(() => t.numeric(5, 6)).toThrow(/numeric scale/);
  });
});

describe("defineMigration", () => {
  test("reports every schema problem at once, with paths", () => {
    let error: unknown;
    try {
      defineMigration({
        operations: [
          createTable("a", { id: t.serial().primaryKey() }).primaryKey("a_pk", ["id"]),
          createIndex("i", "a", ["id"], { method: "zzz" as "hash" }),
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([
      ["operations", 0, "create_table", "constraints", 0],
      ["operations", 1, "create_index", "method"],
    ]);
  });

  test("an optional name comes first; without it the output is pgroll's document", () => {
    const op = dropIndex("i");
    expect(defineMigration({ name: "03_x", versionSchema: "v3", operations: [op] })).toEqual({
      name: "03_x",
      version_schema: "v3",
      operations: [{ drop_index: { name: "i" } }],
    });
    expect(Object.keys(defineMigration({ operations: [op] }))).toEqual(["operations"]);
    expect(() => defineMigration({ name: "", operations: [op] })).toThrow(
      "defineMigration: name: must be a non-empty string",
    );
  });

  test("refuses values that are not operations", () => {
    const notAnOperation = { drop_table: { name: "x" } } as unknown as ReturnType<typeof dropTable>;
    expect(() => defineMigration({ operations: [notAnOperation] })).toThrow(
      /operations\[0\]: expected an operation built with the DSL/,
    );
  });

  test("accepts operations built by another copy of the DSL (Symbol.for brand)", () => {
    const foreign = {
      [Symbol.for("pgtandem.dsl.operation")]: () => ({ kind: "drop_index", body: { name: "i" } }),
      kind: "drop_index",
      toJSON: () => ({}),
    } as unknown as ReturnType<typeof dropIndex>;
    expect(defineMigration({ operations: [foreign] })).toEqual({
      operations: [{ drop_index: { name: "i" } }],
    });
  });

  test("operation(kind, params) carries plugin operations as they are", () => {
    const op = operation("acme:add_audit_columns", { table: "users" });
    expect(isOperation(op)).toBe(true);
    expect(defineMigration({ operations: [op] })).toEqual({
      operations: [{ "acme:add_audit_columns": { table: "users" } }],
    });
  });
});

describe("the example migrations in migrations/", () => {
  test("each default-exports a migration the built-in registry accepts", async () => {
    const files = (await readdir(fileURLToPath(MIGRATIONS))).filter((f) => f.endsWith(".ts"))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    const kinds = new Set<string>();
    for (const file of files) {
      const module = await import(new URL(file, MIGRATIONS).href) as { default: unknown };
      // As the loader does: a `name` inside (migration(name, …)) is taken out; it is the file's.
      const { name, ...document } = module.default as Record<string, unknown>;
      expect(name ?? file.replace(/\.ts$/, "")).toBe(file.replace(/\.ts$/, ""));
      const parsed = parseMigration(file, file.replace(/\.ts$/, ""), document, registry);
      for (const op of parsed.operations) kinds.add(op.kind);
      expect(deeplyFrozen(module.default)).toBe(true);
    }
    expect([...kinds].sort()).toEqual(registry.kinds().sort());
  });
});
