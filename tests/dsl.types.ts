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
  migration,
  type MigrationScope,
  type Operation,
  type PluginOperationParamsIn,
  type PluginOperations,
  rawSql,
  renameColumn,
  type SchemaBeforeIn,
  setReplicaIdentity,
  sql,
  t,
  table,
} from "pgtandem";
import audit from "../plugins/audit.ts";
import softDelete from "../plugins/soft_delete.ts";

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

// ── The folder's schema as types (pgtandem types; docs/typescript.md) ─────────────────────────
// What `pgtandem types` generates, written out (tests/schema-types.test.ts checks the real file):
// 05 drops users.legacy, 06 adds users.bio; a name the folder does not know sees `latest`.
interface Folder {
  readonly migrations: {
    readonly "01_users": Record<never, never>;
    readonly "05_drop_legacy": {
      readonly users: { readonly id: "integer"; readonly email: "text"; readonly legacy: "text" };
    };
    readonly "06_add_bio": {
      readonly users: { readonly id: "integer"; readonly email: "text" };
      readonly posts: { readonly id: "integer"; readonly user_id: "integer" };
    };
  };
  readonly latest: {
    readonly users: { readonly id: "integer"; readonly email: "text"; readonly bio: "text" };
    readonly posts: { readonly id: "integer"; readonly user_id: "integer" };
  };
  readonly operations: PluginOperations<typeof audit>;
}
/** The builders `migration(name, …)` hands to its callback, for the folder above. */
declare function scope<N extends string>(name: N): MigrationScope<SchemaBeforeIn<Folder, N>>;

const m05 = scope("05_drop_legacy");
use(m05.dropColumn("users", "legacy"));
const m06 = scope("06_add_bio");
use(m06.alterColumn("users", "email").comment("x"));
// @ts-expect-error: "legacy" was dropped in 05, so 06 does not know it
use(m06.alterColumn("users", "legacy").comment("x"));
// @ts-expect-error: "emial" is not a column of users
use(m06.alterColumn("users", "emial").comment("x"));
// @ts-expect-error: "bio" comes with 06 itself: the migrations before it do not have it
use(m06.dropColumn("users", "bio"));
// @ts-expect-error: "emial" is not a column of users
use(m06.renameColumn("users", "emial", "mail"));
use(m06.createIndex("idx_users_email", "users", ["email", { column: "id", sort: "DESC" }]));
// @ts-expect-error: "mail" is not a column of users
use(m06.createIndex("idx_users_email", "users", ["mail"]));
// @ts-expect-error: a table the folder does not know
use(m06.dropTable("usres"));
// @ts-expect-error: nor as a column's table
use(m06.addColumn("usres", "bio", t.text().nullable()));
use(m06.addColumn("users", "bio", t.text().nullable()));
use(
  m06.createConstraint("posts", "posts_user_fkey").foreignKey(["user_id"], "users", ["id"], {
    up: { user_id: sql`user_id` },
    down: { user_id: sql`user_id` },
  }),
);
use(
  // @ts-expect-error: "uid" is not a column of the referenced table users
  m06.createConstraint("posts", "posts_user_fkey").foreignKey(["user_id"], "users", ["uid"], {
    up: { user_id: sql`user_id` },
    down: { user_id: sql`user_id` },
  }),
);
// @ts-expect-error: "author_id" is not a column of posts
use(m06.createConstraint("posts", "c").unique(["author_id"], { up: {}, down: {} }));
use(
  m06.createTable("comments", { id: t.serial(), user_id: t.integer() })
    .foreignKey("comments_user_fkey", ["user_id"], "users", ["id"]),
);
// @ts-expect-error: "uid" is not a column of the referenced table users
use(m06.createTable("c", { u: t.integer() }).foreignKey("fk", ["u"], "users", ["uid"]));
use(
  m06.alterColumn("posts", "user_id").references("fk", "users", "id", {
    up: sql`user_id`,
    down: sql`user_id`,
  }),
);
use(
  // @ts-expect-error: "uid" is not a column of users
  m06.alterColumn("posts", "user_id").references("fk", "users", "uid", {
    up: sql`user_id`,
    down: sql`user_id`,
  }),
);
use(m06.dropMulticolumnConstraint("posts", "c", { down: { user_id: sql`user_id` } }));
// @ts-expect-error: "title" is not a column of posts
use(m06.dropMulticolumnConstraint("posts", "c", { down: { title: sql`title` } }));
// table("users") is typed with no column list; a column's foreign key checks through it.
use(t.integer().references("fk", m06.table("users"), "id"));
// @ts-expect-error: "uid" is not a column of users
use(t.integer().references("fk", m06.table("users"), "uid"));
// @ts-expect-error: table(name) without columns is for tables the folder knows
use(m06.table("legacy_table"));
// Hand-listed references keep working, for any table.
use(m06.alterColumn(m06.table("legacy_table", ["a", "b"]), "a").comment("x"));
// @ts-expect-error: "c" is not in the hand-written list
use(m06.alterColumn(m06.table("legacy_table", ["a", "b"]), "c").comment("x"));
// The escape hatch: a table the folder does not know (made by raw SQL, by another tool).
use(m06.alterColumn(m06.untyped("legacy_table"), "anything").comment("x"));
use(m06.dropTable(m06.untyped("legacy_table")));
// A migration the file does not list yet (just created) sees the schema after the last one.
use(scope("07_new").alterColumn("users", "bio").comment("x"));
// @ts-expect-error: "legacy" is gone after 05 for every later migration
use(scope("07_new").dropColumn("users", "legacy"));
// No generated types: every table and column is accepted, as with the plain builders.
declare const untypedScope: MigrationScope<SchemaBeforeIn<Record<never, never>, "06_add_bio">>;
use(untypedScope.alterColumn("any_table", "any_column").comment("x"));

// migration(): in this compilation nothing is generated, so its builders accept any name.
use(migration("08_x", ({ alterColumn }) => [alterColumn("t", "c").comment("x")]));
use(
  migration(
    "08_x",
    ({ dropColumn }) => ({ versionSchema: "v8", operations: [dropColumn("t", "c")] }),
  ),
);
// @ts-expect-error: build returns operations built with the DSL
use(migration("08_x", () => [{ drop_table: { name: "t" } }]));

// ── Typed plugin operations ───────────────────────────────────────────────────────────────────
const stamped: Operation<"audit:add_timestamps"> = audit.addTimestamps({ table: "users" });
use(stamped, audit.addTimestamps({ table: "users", created_at: "born_at" }));
// @ts-expect-error: a misspelt param ("tabel")
use(audit.addTimestamps({ tabel: "users" }));
// @ts-expect-error: "table" is required
use(audit.dropTimestamps({}));
// @ts-expect-error: a kind the plugin does not have
use(audit.addTimestamp({ table: "users" }));
use(softDelete.enable({ table: "users", index_columns: ["email"] }));
// @ts-expect-error: index_columns is a list of columns
use(softDelete.enable({ table: "users", index_columns: "email" }));
// `operation(kind, params)` takes the params `pgtandem types` found for the folder's plugins:
type FolderOperations = PluginOperationParamsIn<Folder>;
const params: FolderOperations["audit:add_timestamps"] = { table: "users" };
// @ts-expect-error: not a param of audit:add_timestamps
const wrong: FolderOperations["audit:add_timestamps"] = { table: "users", column: "x" };
use(params, wrong);
