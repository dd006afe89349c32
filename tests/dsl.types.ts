/**
 * Type tests of the DSL: compiled (tsc, deno check), never run. Each `@ts-expect-error` line is
 * misuse that must not compile; if one starts compiling, tsc reports the unused directive and
 * tests/dsl-types.test.ts fails. The lines without a directive are the correct uses next to them.
 */
import {
  addColumn,
  alterColumn,
  createConstraint,
  createIndex,
  createTable,
  defineMigration,
  dropColumn,
  dropMulticolumnConstraint,
  rawSql,
  renameColumn,
  setReplicaIdentity,
  sql,
  t,
  table,
} from "pgtandem";

/** Keeps a value "used" for the linter; the type tests are about compiling only. */
function use(..._values: unknown[]): void {}

const users = createTable("users", {
  id: t.serial().primaryKey(),
  email: t.text().unique(),
  name: t.varchar(255).nullable(),
});
const posts = table("posts", ["id", "title", "user_id"]);

// ── Column names are the table's own ──────────────────────────────────────────────────────────
const items = createTable("items", { id: t.serial(), sku: t.text(), owner: t.integer() });
use(items.primaryKey("items_pk", ["id"]));
// @ts-expect-error: "nope" is not a column of items
use(items.primaryKey("items_pk", ["nope"]));
// @ts-expect-error: a primary key covers at least one column
use(items.primaryKey("items_pk", []));
use(items.unique("items_sku_key", ["sku"], { includeColumns: ["id"] }));
// @ts-expect-error: "skew" is not a column of items
use(items.unique("items_sku_key", ["skew"]));
// @ts-expect-error: include columns are the table's own too
use(items.unique("items_sku_key", ["sku"], { includeColumns: ["price"] }));
use(items.foreignKey("items_owner_fkey", ["owner"], users, ["id"], { onDelete: "CASCADE" }));
// @ts-expect-error: "owner_id" is not a column of items
use(items.foreignKey("items_owner_fkey", ["owner_id"], users, ["id"]));
// @ts-expect-error: "uid" is not a column of the referenced table users
use(items.foreignKey("items_owner_fkey", ["owner"], users, ["uid"]));
use(items.foreignKey("items_owner_fkey", ["owner"], "users", ["anything"]));

use(createIndex("idx_users_email", users, ["email"]));
// @ts-expect-error: "mail" is not a column of users
use(createIndex("idx_users_email", users, ["mail"]));
// @ts-expect-error: nor in the long form
use(createIndex("idx_users_email", users, [{ column: "mail", sort: "DESC" }]));
use(createIndex("idx_posts_title", posts, [{ column: "title", sort: "desc", nulls: "LAST" }]));
// @ts-expect-error: an index covers at least one column
use(createIndex("idx_posts_none", posts, []));
use(createIndex("idx_any", "untyped_table", ["whatever"]));

use(alterColumn(posts, "title").comment("x"));
// @ts-expect-error: "titel" is not a column of posts
use(alterColumn(posts, "titel").comment("x"));
use(dropColumn(posts, "title"));
// @ts-expect-error: "titel" is not a column of posts
use(dropColumn(posts, "titel"));
// @ts-expect-error: "titel" is not a column of posts
use(renameColumn(posts, "titel", "headline"));
use(t.integer().references("posts_user_fkey", users, "id"));
// @ts-expect-error: "uid" is not a column of users
use(t.integer().references("posts_user_fkey", users, "uid"));

// ── create_constraint needs up and down for exactly its columns ────────────────────────────────
use(
  createConstraint(posts, "posts_title_key").unique(["title"], {
    up: { title: sql`title` },
    down: { title: sql`title` },
  }),
);
use(
  // @ts-expect-error: "down" is missing
  createConstraint(posts, "posts_title_key").unique(["title"], { up: { title: sql`title` } }),
);
use(
  createConstraint(posts, "posts_title_key").unique(["title", "user_id"], {
    // @ts-expect-error: no entry for "user_id"
    up: { title: sql`title` },
    down: { title: sql`title`, user_id: sql`user_id` },
  }),
);
use(
  createConstraint(posts, "posts_title_key").unique(["title"], {
    // @ts-expect-error: "id" is not one of the constraint's columns
    up: { title: sql`title`, id: sql`id` },
    down: { title: sql`title` },
  }),
);
// @ts-expect-error: "headline" is not a column of posts
use(createConstraint(posts, "c").primaryKey(["headline"], { up: {}, down: {} }));
use(createConstraint(posts, "posts_title_check").check(sql`length(title) > 0`, []));
use(
  // @ts-expect-error: listed columns need up/down
  createConstraint(posts, "posts_title_check").check(sql`length(title) > 0`, ["title"]),
);
use(
  createConstraint(posts, "posts_user_fkey").foreignKey(["user_id"], users, ["id"], {
    up: { user_id: sql`user_id` },
    down: { user_id: sql`user_id` },
    onDelete: "SET NULL",
    onDeleteSetColumns: ["user_id"],
  }),
);
use(
  createConstraint(posts, "posts_user_fkey").foreignKey(["user_id"], users, ["id"], {
    up: { user_id: sql`user_id` },
    down: { user_id: sql`user_id` },
    // @ts-expect-error: only the constraint's own columns may be set on delete
    onDeleteSetColumns: ["title"],
  }),
);
use(dropMulticolumnConstraint(posts, "posts_title_check", { down: { title: sql`title` } }));
use(
  // @ts-expect-error: "titel" is not a column of posts
  dropMulticolumnConstraint(posts, "posts_title_check", { down: { titel: sql`title` } }),
);

// ── alter_column: a type change needs up and down ──────────────────────────────────────────────
use(alterColumn("users", "age").type(t.bigint(), { up: sql`age`, down: sql`age` }));
// @ts-expect-error: no up/down
use(alterColumn("users", "age").type(t.bigint()));
// @ts-expect-error: no down
use(alterColumn("users", "age").type(t.bigint(), { up: sql`age` }));
// @ts-expect-error: a type, not a column with settings
use(alterColumn("users", "age").type(t.bigint().nullable(), { up: sql`age`, down: sql`age` }));
// @ts-expect-error: adding NOT NULL needs up to fill the NULLs
use(alterColumn("users", "name").notNull());
use(alterColumn("users", "name").notNull({ up: sql`COALESCE(name, '')` }));
use(
  alterColumn("users", "name")
    .type(t.text(), { up: sql`name`, down: sql`name` })
    .notNull(), // up given already
);
use(
  alterColumn("users", "name").check("c", sql`name <> ''`, { up: sql`name`, down: sql`name` })
    .notNull(),
);
// @ts-expect-error: a check needs down too (pgroll refuses a check without up and down)
use(alterColumn("users", "name").check("c", sql`name <> ''`, { up: sql`name` }));
// @ts-expect-error: a check needs up and down
use(alterColumn("users", "name").check("c", sql`name <> ''`));
use(
  alterColumn("users", "name").type(t.text(), { up: sql`name`, down: sql`name` })
    .check("c", sql`name <> ''`), // up and down given already
);
// @ts-expect-error: dropping NOT NULL needs down for the old version
use(alterColumn("users", "name").nullable());
use(alterColumn("users", "name").nullable({ down: sql`COALESCE(name, '')` }));
use(
  alterColumn("users", "email").references("fk", users, "id", {
    onDelete: "CASCADE",
    up: sql`email`,
    down: sql`email`,
  }),
);
// @ts-expect-error: a foreign key needs up and down
use(alterColumn("users", "email").references("fk", users, "id", { onDelete: "CASCADE" }));
// @ts-expect-error: an alterColumn with no change is not an operation
use(defineMigration({ operations: [alterColumn("users", "name")] }));

// ── add_column: NOT NULL without a default needs up ────────────────────────────────────────────
use(addColumn("users", "bio", t.text().nullable()));
use(addColumn("users", "plan", t.text().defaultValue("free")));
use(addColumn("users", "n", t.serial()));
use(addColumn("users", "slug", t.text(), { up: sql`lower(name)` }));
// @ts-expect-error: NOT NULL, no default, no up
use(addColumn("users", "slug", t.text()));
// @ts-expect-error: notNull() after nullable() is NOT NULL again
use(addColumn("users", "slug", t.text().nullable().notNull()));
// @ts-expect-error: up must be SQL
use(addColumn("users", "slug", t.text(), { up: "lower(name)" }));
// @ts-expect-error: primary key columns cannot be added (use createConstraint)
use(addColumn("users", "id2", t.integer().primaryKey().defaultValue(0)));

// ── SQL is marked as SQL ───────────────────────────────────────────────────────────────────────
use(t.timestamptz().default(sql`now()`));
// @ts-expect-error: a plain string where SQL is expected
use(t.timestamptz().default("now()"));
// @ts-expect-error: a plain string where SQL is expected
use(t.integer().check("positive", "n > 0"));
// @ts-expect-error: a plain string where SQL is expected
use(rawSql("DROP TABLE users"));
// @ts-expect-error: a plain string where SQL is expected
use(items.check("c", "length(sku) > 0"));
// @ts-expect-error: a plain string where SQL is expected
use(createIndex("i", users, ["email"], { predicate: "email IS NOT NULL" }));
const userInput = "x";
// @ts-expect-error: strings are not interpolated into SQL; say sql.literal or sql.ident
use(sql`name = ${userInput}`);
use(sql`name = ${sql.literal(userInput)} AND n > ${3}`);

// ── Literal defaults fit the type ──────────────────────────────────────────────────────────────
use(
  t.integer().defaultValue(0),
  t.jsonb().defaultValue({ a: [1] }),
  t.boolean().defaultValue(true),
);
// @ts-expect-error: a string default on an integer column
use(t.integer().defaultValue("0"));
// @ts-expect-error: a number default on a text column
use(t.text().defaultValue(0));
// @ts-expect-error: identity is for integer types
use(t.text().identity());

// ── Keywords are checked ───────────────────────────────────────────────────────────────────────
use(t.integer().references("fk", users, "id", { onDelete: "cascade", onUpdate: "NO ACTION" }));
// @ts-expect-error: not an ON DELETE action
use(t.integer().references("fk", users, "id", { onDelete: "DELETE" }));
// @ts-expect-error: not a MATCH type
use(t.integer().references("fk", users, "id", { matchType: "PARTLY" }));
// @ts-expect-error: not an index method
use(createIndex("i", users, ["email"], { method: "bitmap" }));
// @ts-expect-error: INDEX needs the index
use(setReplicaIdentity("users", { type: "INDEX" }));
use(setReplicaIdentity("users", { type: "FULL" }));

// ── Raw SQL at complete has no down ────────────────────────────────────────────────────────────
use(rawSql(sql`ANALYZE users`, { onComplete: true }));
// @ts-expect-error: SQL run at complete is never rolled back
use(rawSql(sql`CREATE INDEX i ON users (email)`, { onComplete: true, down: sql`DROP INDEX i` }));

// ── Migrations take operations only ────────────────────────────────────────────────────────────
use(defineMigration({ versionSchema: "v2", operations: [users] }));
// @ts-expect-error: plain data is not an operation (use operation(kind, params))
use(defineMigration({ operations: [{ drop_table: { name: "users" } }] }));
// @ts-expect-error: the output is read-only
defineMigration({ operations: [users] }).operations.push({});
use(defineMigration({ name: "01_users", operations: [users] }));
// @ts-expect-error: fields are camelCase in the DSL (version_schema in the output)
use(defineMigration({ version_schema: "v2", operations: [users] }));

// ── Type vocabulary ────────────────────────────────────────────────────────────────────────────
use(t.varchar(255), t.numeric(10, 2), t.text().array(), t.array(t.integer()), t.raw("fruit_size"));
// @ts-expect-error: lengths are numbers
use(t.varchar("255"));
// @ts-expect-error: not in the vocabulary: use t.raw("citext")
use(t.citext());
