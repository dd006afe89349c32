/**
 * pgroll's own operation test cases (pkg/migrations/op_*_test.go) for the table, constraint,
 * index, rename, raw SQL and replica identity operations, replayed through the CLI on real
 * PostgreSQL: every migration but the last is started and completed, then the last one goes
 * start → afterStart → rollback → afterRollback → start → complete → afterComplete, each case in
 * a fresh database. Assertions mirror the observable behaviour pgroll's cases check (views per
 * version, inserts through a version schema, constraints and indexes on the table, cleanup).
 */
import { describe, expect, test } from "bun:test";
import process from "node:process";
import type postgres from "postgres";
import { columnNames, inSchema, leftovers, schemaExists, tableExists } from "./helpers/catalog.ts";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { expectCliRejected } from "./helpers/reject.ts";
import { serverVersion, type TestDatabase, testDatabase } from "./helpers/postgres.ts";

/**
 * The schema migrated: public, or env PGTANDEM_REPLAY_SCHEMA (pgroll's suite runs in the schema
 * of PGROLL_TEST_SCHEMA too). Version schemas are `<schema>_<migration name>`.
 */
const S = process.env.PGTANDEM_REPLAY_SCHEMA ?? "public";
/** S as PostgreSQL prints it in definitions (quoted when it needs quotes). */
const QS = /^[a-z_][a-z0-9_]*$/.test(S) ? S : `"${S.replaceAll('"', '""')}"`;

interface Migration {
  name: string;
  operations: object[];
}

/** What a case's hooks get: the database and small assertions keyed like pgroll's helpers. */
class Ctx {
  constructor(readonly db: TestDatabase) {}
  get sql(): postgres.Sql {
    return this.db.sql;
  }
  /** Inserts `row` through version `version`'s view of `table`. */
  async insert(version: string, table: string, row: Record<string, string>) {
    await inSchema(
      this.db.url,
      `${S}_${version}`,
      (sql) => sql`insert into ${sql(table)} ${sql(row)}`,
    );
  }
  /** Expects an insert through `version` to fail with SQLSTATE `code`. */
  async notInsert(version: string, table: string, row: Record<string, string>, code: string) {
    const err = await this.insert(version, table, row).then(() => undefined, (e: unknown) => e);
    expect(err).toBeDefined();
    expect((err as { code?: string }).code).toBe(code);
  }
  /** Rows of `table` through version `version`, ordered by the first column. */
  async select(version: string, table: string) {
    const rows = await inSchema(
      this.db.url,
      `${S}_${version}`,
      (sql) => sql.unsafe(`select * from "${table.replaceAll('"', '""')}" order by 1`),
    );
    return rows.map((r) => ({ ...r }));
  }
  async view(version: string, view: string) {
    return await tableExists(this.sql, `${S}_${version}`, view);
  }
  async table(table: string) {
    return await tableExists(this.sql, S, table);
  }
  async columns(table: string, schema = S) {
    return await columnNames(this.sql, schema, table);
  }
  /** Constraint names of `table` of one type (c, f, u, p). */
  async constraints(table: string, type: string) {
    const rows = await this.sql<{ conname: string }[]>`
      select conname from pg_constraint where conrelid = ${`"${S}"."${table}"`}::regclass and contype = ${type}
       order by 1`;
    return rows.map((r) => r.conname);
  }
  async constraintValid(table: string, name: string) {
    const [row] = await this.sql`
      select convalidated from pg_constraint where conrelid = ${`"${S}"."${table}"`}::regclass and conname = ${name}`;
    return row?.convalidated as boolean | undefined;
  }
  async indexes(table: string) {
    const rows = await this.sql<{ relname: string }[]>`
      select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid
       where i.indrelid = ${`"${S}"."${table}"`}::regclass order by 1`;
    return rows.map((r) => r.relname);
  }
  async indexDef(name: string) {
    const [row] = await this.sql`select pg_get_indexdef(${`"${S}"."${name}"`}::regclass) as def`;
    return row!.def as string;
  }
  async schema(version: string) {
    return await schemaExists(this.sql, `${S}_${version}`);
  }
  async comment(table: string, column?: string) {
    const [row] = column === undefined
      ? await this.sql`select obj_description(${`"${S}"."${table}"`}::regclass, 'pg_class') as c`
      : await this.sql`
        select col_description(attrelid, attnum) as c from pg_attribute
         where attrelid = ${`"${S}"."${table}"`}::regclass and attname = ${column}`;
    return row?.c as string | null;
  }
  /** Nothing temporary left: no _pgroll_ columns, triggers or functions. */
  async cleanedUp() {
    expect(await leftovers(this.sql, S)).toEqual([]);
  }
}

interface Case {
  name: string;
  migrations: Migration[];
  /** Skip on servers older than this major version (as pgroll's minPgMajorVersion). */
  minPg?: number;
  /** The last migration's start must be refused with a message matching this. */
  startErr?: RegExp;
  afterStart?: (c: Ctx) => Promise<void>;
  afterRollback?: (c: Ctx) => Promise<void>;
  afterComplete?: (c: Ctx) => Promise<void>;
}

async function replay(c: Case) {
  if (c.minPg !== undefined && await serverVersion() < c.minPg) return;
  const db = await testDatabase();
  // Every command names the schema, as pgroll's suite does when PGROLL_TEST_SCHEMA is set.
  const run = (...args: string[]) => cliOk(db.url, [...args, "--schema", S]);
  try {
    if (S !== "public") await db.sql.unsafe(`create schema "${S}"`);
    await run("init");
    const ctx = new Ctx(db);
    const files: string[] = [];
    for (const m of c.migrations) {
      files.push(await migrationFile(`${m.name}.json`, { operations: m.operations }));
    }
    for (const file of files.slice(0, -1)) await run("start", file, "--complete");
    if (c.startErr) {
      await expectCliRejected(db, ["start", files.at(-1)!, "--schema", S], c.startErr);
      return;
    }
    await run("start", files.at(-1)!);
    await c.afterStart?.(ctx);
    await run("rollback");
    await c.afterRollback?.(ctx);
    await run("start", files.at(-1)!);
    await run("complete");
    await c.afterComplete?.(ctx);
  } finally {
    await db.drop();
  }
}

/** Registers pgroll's cases of one test function. */
function replayAll(title: string, cases: Case[]) {
  describe(title, () => {
    for (const c of cases) test(c.name, () => replay(c), 60_000);
  });
}

const NOT_NULL = "23502";
const UNIQUE = "23505";
const CHECK = "23514";
const FK = "23503";
const UNDEFINED_COLUMN = "42703";
const UNDEFINED_TABLE = "42P01";
const long = "x".repeat(64);

const col = (name: string, type: string, extra: object = {}) => ({ name, type, ...extra });
const createTable = (name: string, columns: object[], extra: object = {}) => ({
  create_table: { name, columns, ...extra },
});
const usersTable: Migration = {
  name: "01_add_table",
  operations: [
    createTable("users", [col("id", "serial", { pk: true }), col("name", "varchar(255)")]),
  ],
};

// ---- op_drop_index_test.go ----------------------------------------------------------------
for (const index of ["idx_users_name", "idx_USERS_name"]) {
  replayAll(`drop_index (${index})`, [{
    name: index === "idx_users_name" ? "drop index" : "drop index with a mixed case name",
    migrations: [
      usersTable,
      {
        name: "02_create_index",
        operations: [{
          create_index: { name: index, table: "users", columns: [{ column: "name" }] },
        }],
      },
      { name: "03_drop_index", operations: [{ drop_index: { name: index } }] },
    ],
    afterStart: async (c) => expect(await c.indexes("users")).toContain(index),
    afterComplete: async (c) => expect(await c.indexes("users")).not.toContain(index),
  }]);
}

// ---- op_rename_table_test.go --------------------------------------------------------------
const twoEmptyTables: Migration = {
  name: "01_create_table",
  operations: [createTable("test_table", []), createTable("other_table", [])],
};
replayAll("rename_table", [
  {
    name: "rename table",
    migrations: [
      {
        name: "01_create_table",
        operations: [createTable("test_table", [col("id", "serial"), col("name", "text")])],
      },
      {
        name: "02_rename_table",
        operations: [{ rename_table: { from: "test_table", to: "renamed_table" } }],
      },
    ],
    afterStart: async (c) => {
      expect(await c.view("01_create_table", "test_table")).toBe(true);
      expect(await c.view("02_rename_table", "renamed_table")).toBe(true);
      await c.insert("01_create_table", "test_table", { name: "foo" });
      await c.insert("02_rename_table", "renamed_table", { name: "bar" });
      const rows = [{ id: 1, name: "foo" }, { id: 2, name: "bar" }];
      expect(await c.select("01_create_table", "test_table")).toEqual(rows);
      expect(await c.select("02_rename_table", "renamed_table")).toEqual(rows);
    },
    afterComplete: async (c) => {
      expect(await c.view("02_rename_table", "test_table")).toBe(false);
      await c.insert("02_rename_table", "renamed_table", { name: "baz" });
      expect(await c.select("02_rename_table", "renamed_table")).toEqual([
        { id: 1, name: "foo" },
        { id: 2, name: "bar" },
        { id: 3, name: "baz" },
      ]);
    },
  },
  {
    name: "rename table validation: already exists",
    migrations: [twoEmptyTables, {
      name: "02_rename_table",
      operations: [{ rename_table: { from: "test_table", to: "other_table" } }],
    }],
    startErr: /other_table/,
  },
  {
    name: "rename table validation: invalid name",
    migrations: [twoEmptyTables, {
      name: "02_rename_table",
      operations: [{ rename_table: { from: "test_table", to: long } }],
    }],
    startErr: /63|long/,
  },
]);

// ---- op_rename_constraint_test.go ---------------------------------------------------------
const usersWithCheck = (checkName: string, column: string, expr: string): Migration => ({
  name: "01_add_table",
  operations: [createTable("users", [
    col("id", "serial", { pk: true }),
    col(column, "text", { check: { name: checkName, constraint: expr } }),
  ])],
});
const renameConstraint = (table: string, from: string, to: string): Migration => ({
  name: "02_rename_constraint",
  operations: [{ rename_constraint: { table, from, to } }],
});
const nameCheck = usersWithCheck("users_text_length_username", "name", 'LENGTH("name") <= 2048');
replayAll("rename_constraint", [
  {
    name: "rename constraint",
    migrations: [
      usersWithCheck("users_check", "username", 'LENGTH("username") > 2'),
      renameConstraint("users", "users_check", "users_check_username_length"),
    ],
    afterStart: async (c) => {
      expect(await c.constraints("users", "c")).toEqual(["users_check"]);
      await c.notInsert("02_rename_constraint", "users", { username: "a" }, CHECK);
    },
    afterRollback: async (c) => expect(await c.constraints("users", "c")).toEqual(["users_check"]),
    afterComplete: async (c) => {
      expect(await c.constraints("users", "c")).toEqual(["users_check_username_length"]);
      await c.notInsert("02_rename_constraint", "users", { username: "a" }, CHECK);
    },
  },
  {
    name: "the table must exist",
    migrations: [nameCheck, renameConstraint("doesntexist", "users_text_length_username", "x")],
    startErr: /doesntexist/,
  },
  {
    name: "the from constraint must exist",
    migrations: [nameCheck, renameConstraint("users", "doesntexist", "users_text_length_name")],
    startErr: /doesntexist/,
  },
  {
    name: "the to constraint must not exist",
    migrations: [
      nameCheck,
      renameConstraint("users", "users_text_length_username", "users_text_length_username"),
    ],
    startErr: /same as the old one/,
  },
  {
    name: "the new name must be valid",
    migrations: [nameCheck, renameConstraint("users", "users_text_length_username", long)],
    startErr: /63|long/,
  },
]);

// ---- op_raw_sql_test.go -------------------------------------------------------------------
const rawCreate = {
  sql: { up: "CREATE TABLE test_table (id serial, name text)", down: "DROP TABLE test_table" },
};
replayAll("sql", [
  {
    name: "raw SQL",
    migrations: [{ name: "01_create_table", operations: [rawCreate] }],
    afterStart: async (c) => {
      expect(await c.view("01_create_table", "test_table")).toBe(true);
      await c.insert("01_create_table", "test_table", { name: "foo" });
    },
    afterRollback: async (c) => expect(await c.table("test_table")).toBe(false),
    afterComplete: async (c) => await c.insert("01_create_table", "test_table", { name: "foo" }),
  },
  {
    name: "raw SQL with onComplete",
    migrations: [{
      name: "01_create_table",
      operations: [{
        sql: { onComplete: true, up: "CREATE TABLE test_table (id serial, name text)" },
      }],
    }],
    afterStart: async (c) => expect(await c.table("test_table")).toBe(false),
    afterComplete: async (c) => {
      expect(await c.table("test_table")).toBe(true);
      await c.insert("01_create_table", "test_table", { name: "foo" });
    },
  },
  {
    name: "raw SQL after a migration with onComplete",
    migrations: [{
      name: "01_create_table",
      operations: [
        createTable("test_table", [col("id", "serial"), col("name", "text")]),
        { sql: { onComplete: true, up: "ALTER TABLE test_table ADD COLUMN age int" } },
      ],
    }],
    afterStart: async (c) => {
      expect(await c.view("01_create_table", "test_table")).toBe(true);
      expect(await c.columns("test_table")).not.toContain("age");
    },
    afterRollback: async (c) => expect(await c.table("test_table")).toBe(false),
    afterComplete: async (c) => {
      expect(await c.columns("test_table")).toContain("age");
      await c.insert("01_create_table", "test_table", { name: "foo", age: "42" });
    },
  },
  {
    name: "migration on top of raw SQL",
    migrations: [
      { name: "01_create_table", operations: [rawCreate] },
      {
        name: "02_rename_table",
        operations: [{ rename_table: { from: "test_table", to: "test_table_renamed" } }],
      },
    ],
    afterStart: async (c) => {
      expect(await c.view("01_create_table", "test_table")).toBe(true);
      expect(await c.view("02_rename_table", "test_table_renamed")).toBe(true);
      await c.insert("01_create_table", "test_table", { name: "foo" });
      await c.insert("02_rename_table", "test_table_renamed", { name: "foo" });
    },
    afterComplete: async (c) => {
      expect(await c.view("02_rename_table", "test_table_renamed")).toBe(true);
      await c.insert("02_rename_table", "test_table_renamed", { name: "foo" });
    },
  },
  {
    name: "raw SQL migration can create table with a generated column",
    migrations: [{
      name: "01_create_table",
      operations: [{
        sql: {
          up:
            "CREATE TABLE test_table (id serial, name text, loud_name text GENERATED ALWAYS AS (upper(name)) STORED)",
          down: "DROP TABLE test_table",
        },
      }],
    }],
    afterComplete: async (c) => expect(await c.columns("test_table")).toContain("loud_name"),
  },
]);

// ---- op_set_replica_identity_test.go ------------------------------------------------------
const replicaIdentity = async (c: Ctx) => {
  const [row] = await c
    .sql`select relreplident from pg_class where oid = ${`"${S}".users`}::regclass`;
  return row!.relreplident as string;
};
const setIdentity = (table: string, identity: object): Migration => ({
  name: "02_set_replica_identity",
  operations: [{ set_replica_identity: { table, identity } }],
});
const usersUniqueName: Migration = {
  name: "01_add_table",
  operations: [
    createTable("users", [
      col("id", "serial", { pk: true }),
      col("name", "varchar(255)", { unique: true }),
    ]),
  ],
};
replayAll("set_replica_identity", [
  ...([["full", "f"], ["nothing", "n"], ["default", "d"]] as const).map(([type, code]) => ({
    name: `set replica identity to ${type.toUpperCase()}`,
    migrations: [usersTable, setIdentity("users", { type })],
    afterStart: async (c: Ctx) => expect(await replicaIdentity(c)).toBe(code),
  })),
  {
    name: "set replica identity to USING INDEX",
    migrations: [usersTable, setIdentity("users", { type: "index", index: "users_pkey" })],
    afterStart: async (c) => expect(await replicaIdentity(c)).toBe("i"),
  },
  {
    name: "table must exist",
    migrations: [usersUniqueName, setIdentity("doesntexist", { type: "default" })],
    startErr: /doesntexist/,
  },
  {
    name: "identity must be valid",
    migrations: [usersUniqueName, setIdentity("users", { type: "invalid_identity" })],
    startErr: /invalid_identity|identity/,
  },
  {
    name: "index name must be valid",
    migrations: [usersUniqueName, setIdentity("users", { type: "index", index: "invalid_index" })],
    startErr: /invalid_index/,
  },
]);

// ---- op_drop_column_test.go ---------------------------------------------------------------
replayAll("drop_column", [
  {
    name: "drop column",
    migrations: [
      {
        name: "01_add_table",
        operations: [createTable("users", [
          col("id", "serial", { pk: true }),
          col("name", "varchar(255)"),
          col("email", "varchar(255)"),
        ])],
      },
      {
        name: "02_drop_column",
        operations: [{ drop_column: { table: "users", column: "name", down: "UPPER(email)" } }],
      },
    ],
    afterStart: async (c) => {
      expect(await c.columns("users", `${S}_02_drop_column`)).not.toContain("name");
      expect(await c.columns("users")).toContain("name");
      await c.insert("02_drop_column", "users", { email: "foo@example.com" });
      expect(await c.select("01_add_table", "users")).toEqual([
        { id: 1, name: "FOO@EXAMPLE.COM", email: "foo@example.com" },
      ]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      expect(await c.columns("users")).not.toContain("name");
      await c.cleanedUp();
      await c.insert("02_drop_column", "users", { email: "bar@example.com" });
      expect(await c.select("02_drop_column", "users")).toEqual([
        { id: 1, email: "foo@example.com" },
        { id: 2, email: "bar@example.com" },
      ]);
    },
  },
  {
    name: "can drop a column with a reserved word as its name",
    migrations: [
      {
        name: "01_add_table",
        operations: [
          createTable("users", [col("id", "serial", { pk: true }), col("array", "int[]")]),
        ],
      },
      {
        name: "02_drop_column",
        operations: [{ drop_column: { table: "users", column: "array", down: "UPPER(email)" } }],
      },
    ],
    afterComplete: async (c) => expect(await c.columns("users")).toEqual(["id"]),
  },
  {
    name: "can drop a column in a table with a reserved word as its name",
    migrations: [
      {
        name: "01_add_table",
        operations: [
          createTable("array", [col("id", "serial", { pk: true }), col("name", "text")]),
        ],
      },
      {
        name: "02_drop_column",
        operations: [{ drop_column: { table: "array", column: "name", down: "UPPER(email)" } }],
      },
    ],
    afterComplete: async (c) => expect(await c.columns("array")).toEqual(["id"]),
  },
  {
    name: "rename table, drop column",
    migrations: [
      {
        name: "01_create_table",
        operations: [createTable("items", [
          col("id", "serial", { pk: true }),
          col("name", "varchar(255)"),
          col("description", "varchar(255)"),
        ])],
      },
      {
        name: "02_multi_operation",
        operations: [
          { rename_table: { from: "items", to: "products" } },
          { drop_column: { table: "products", column: "description", down: "'foo'" } },
        ],
      },
    ],
    afterStart: async (c) => {
      await c.insert("02_multi_operation", "products", { name: "apples" });
      await c.notInsert(
        "02_multi_operation",
        "products",
        { name: "apples", description: "green" },
        UNDEFINED_COLUMN,
      );
      await c.notInsert(
        "02_multi_operation",
        "items",
        { name: "bananas", description: "yellow" },
        UNDEFINED_TABLE,
      );
      expect(await c.select("01_create_table", "items")).toEqual([{
        id: 1,
        name: "apples",
        description: "foo",
      }]);
      expect(await c.select("02_multi_operation", "products")).toEqual([{ id: 1, name: "apples" }]);
    },
    afterRollback: async (c) => {
      await c.insert("01_create_table", "items", { name: "bananas", description: "yellow" });
      await c.cleanedUp();
    },
    afterComplete: async (c) => {
      expect(await c.table("products")).toBe(true);
      await c.insert("02_multi_operation", "products", { name: "carrots" });
      expect(await c.select("02_multi_operation", "products")).toEqual([
        { id: 1, name: "apples" },
        { id: 2, name: "bananas" },
        { id: 3, name: "carrots" },
      ]);
      await c.cleanedUp();
    },
  },
  {
    name: "add column, drop column",
    migrations: [
      {
        name: "01_create_table",
        operations: [
          createTable("items", [col("id", "serial", { pk: true }), col("name", "varchar(255)")]),
        ],
      },
      {
        name: "02_multi_operation",
        operations: [
          {
            add_column: {
              table: "items",
              column: col("description", "varchar(255)", { nullable: true }),
              up: "'foo'",
            },
          },
          { drop_column: { table: "items", column: "description" } },
        ],
      },
    ],
    afterStart: async (c) => {
      expect(await c.columns("items")).toContain("_pgroll_new_description");
      await c.notInsert(
        "02_multi_operation",
        "items",
        { name: "apples", description: "green" },
        UNDEFINED_COLUMN,
      );
      await c.insert("02_multi_operation", "items", { name: "apples" });
      expect(await c.select("01_create_table", "items")).toEqual([{ id: 1, name: "apples" }]);
      expect(await c.select("02_multi_operation", "items")).toEqual([{ id: 1, name: "apples" }]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.insert("02_multi_operation", "items", { name: "bananas" });
      await c.notInsert(
        "02_multi_operation",
        "items",
        { name: "carrots", description: "crunchy" },
        UNDEFINED_COLUMN,
      );
      expect(await c.select("02_multi_operation", "items")).toEqual([{ id: 1, name: "apples" }, {
        id: 2,
        name: "bananas",
      }]);
      await c.cleanedUp();
    },
  },
]);

// ---- op_drop_table_test.go ----------------------------------------------------------------
const itemsColumns = [col("id", "serial", { pk: true }), col("name", "varchar(255)")];
const itemsWithDescription = [...itemsColumns, col("description", "varchar(255)")];
const createItems: Migration = {
  name: "01_create_table",
  operations: [createTable("items", itemsColumns)],
};
const multi = (...operations: object[]): Migration => ({ name: "02_multi_operation", operations });
const multi01 = (...operations: object[]): Migration => ({
  name: "01_multi_operation",
  operations,
});
replayAll("drop_table", [
  {
    name: "drop table",
    migrations: [
      {
        name: "01_create_table",
        operations: [
          createTable("users", [
            col("id", "serial", { pk: true }),
            col("name", "varchar(255)", { unique: true }),
          ]),
        ],
      },
      { name: "02_drop_table", operations: [{ drop_table: { name: "users" } }] },
    ],
    afterStart: async (c) => {
      expect(await c.view("02_drop_table", "users")).toBe(false);
      expect(await c.table("_pgroll_del_users")).toBe(true);
    },
    afterComplete: async (c) => {
      expect(await c.table("users")).toBe(false);
      expect(await c.table("_pgroll_del_users")).toBe(false);
    },
  },
  {
    name: "create table, drop table",
    migrations: [multi01(createTable("items", itemsColumns), { drop_table: { name: "items" } })],
    afterStart: async (c) => {
      expect(await c.table("_pgroll_del_items")).toBe(true);
      expect(await c.view("01_multi_operation", "items")).toBe(false);
    },
    afterRollback: async (c) => expect(await c.table("items")).toBe(false),
    afterComplete: async (c) => {
      expect(await c.table("items")).toBe(false);
      expect(await c.view("01_multi_operation", "items")).toBe(false);
    },
  },
  {
    name: "create table, rename table, drop table",
    migrations: [multi01(
      createTable("items", itemsColumns),
      { rename_table: { from: "items", to: "products" } },
      { drop_table: { name: "products" } },
    )],
    afterStart: async (c) => {
      expect(await c.table("_pgroll_del_items")).toBe(true);
      expect(await c.view("01_multi_operation", "items")).toBe(false);
      expect(await c.view("01_multi_operation", "products")).toBe(false);
    },
    afterRollback: async (c) => expect(await c.table("items")).toBe(false),
    afterComplete: async (c) => {
      expect(await c.table("items")).toBe(false);
      expect(await c.view("01_multi_operation", "items")).toBe(false);
      expect(await c.view("01_multi_operation", "products")).toBe(false);
    },
  },
  {
    name: "create table, drop table, create table",
    migrations: [multi01(
      createTable("items", itemsColumns),
      { drop_table: { name: "items" } },
      createTable("items", itemsWithDescription),
    )],
    afterStart: async (c) =>
      await c.insert("01_multi_operation", "items", { name: "apples", description: "amazing" }),
    afterRollback: async (c) => {
      expect(await c.table("items")).toBe(false);
      expect(await c.table("_pgroll_del_items")).toBe(false);
    },
    afterComplete: async (c) =>
      await c.insert("01_multi_operation", "items", { name: "bananas", description: "brilliant" }),
  },
  {
    name: "drop table, create table",
    migrations: [
      createItems,
      multi({ drop_table: { name: "items" } }, createTable("items", itemsWithDescription)),
    ],
    afterStart: async (c) =>
      await c.insert("02_multi_operation", "items", { name: "apples", description: "amazing" }),
    afterRollback: async (c) => {
      await c.notInsert(
        "01_create_table",
        "items",
        { name: "apples", description: "amazing" },
        UNDEFINED_COLUMN,
      );
      await c.insert("01_create_table", "items", { name: "apples" });
      expect(await c.table("_pgroll_del_items")).toBe(false);
    },
    afterComplete: async (c) =>
      await c.insert("02_multi_operation", "items", { name: "bananas", description: "brilliant" }),
  },
  {
    name: "drop table, drop table fails to validate",
    migrations: [
      createItems,
      multi({ drop_table: { name: "items" } }, { drop_table: { name: "items" } }),
    ],
    startErr: /items/,
  },
  {
    name: "drop table, rename table fails to validate",
    migrations: [
      createItems,
      multi({ drop_table: { name: "items" } }, { rename_table: { from: "items", to: "products" } }),
    ],
    startErr: /items/,
  },
]);

// ---- op_rename_column_test.go -------------------------------------------------------------
const usersUsername: Migration = {
  name: "01_create_table",
  operations: [
    createTable("users", [col("id", "serial", { pk: true }), col("username", "varchar(255)")]),
  ],
};
const renameColumn = (
  table: string,
  from: string | undefined,
  to: string | undefined,
): Migration => ({
  name: "02_rename_column",
  operations: [{
    rename_column: {
      table,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    },
  }],
});
replayAll("rename_column", [
  {
    name: "rename column",
    migrations: [usersUsername, renameColumn("users", "username", "name")],
    afterStart: async (c) => {
      expect(await c.columns("users")).toContain("username");
      await c.insert("02_rename_column", "users", { name: "alice" });
      await c.insert("01_create_table", "users", { username: "bob" });
      expect(await c.select("02_rename_column", "users")).toEqual([{ id: 1, name: "alice" }, {
        id: 2,
        name: "bob",
      }]);
    },
    afterComplete: async (c) => {
      expect(await c.columns("users")).toContain("name");
      expect(await c.select("02_rename_column", "users")).toEqual([{ id: 1, name: "alice" }, {
        id: 2,
        name: "bob",
      }]);
    },
  },
  {
    name: "rename serial column",
    migrations: [
      {
        name: "01_create_table",
        operations: [
          createTable("orders", [
            col("order_id", "serial", { pk: true }),
            col("description", "varchar(255)"),
          ]),
        ],
      },
      {
        name: "02_rename_serial_column",
        operations: [{ rename_column: { table: "orders", from: "order_id", to: "id" } }],
      },
    ],
    afterStart: async (c) => {
      expect(await c.columns("orders")).toContain("order_id");
      await c.insert("02_rename_serial_column", "orders", { id: "1", description: "first order" });
      await c.insert("01_create_table", "orders", { order_id: "2", description: "second order" });
      expect(await c.select("02_rename_serial_column", "orders")).toEqual([
        { id: 1, description: "first order" },
        { id: 2, description: "second order" },
      ]);
    },
    afterComplete: async (c) => {
      expect(await c.columns("orders")).toContain("id");
      expect(await c.select("02_rename_serial_column", "orders")).toEqual([
        { id: 1, description: "first order" },
        { id: 2, description: "second order" },
      ]);
    },
  },
  {
    name: "add column, rename column",
    migrations: [
      createItems,
      multi(
        { add_column: { table: "items", column: col("description", "text", { nullable: true }) } },
        { rename_column: { table: "items", from: "description", to: "item_description" } },
      ),
    ],
    afterStart: async (c) => {
      await c.insert("02_multi_operation", "items", {
        name: "apples",
        item_description: "amazing",
      });
      await c.notInsert("02_multi_operation", "items", {
        name: "bananas",
        description: "brilliant",
      }, UNDEFINED_COLUMN);
      expect(await c.select("02_multi_operation", "items")).toEqual([{
        id: 1,
        name: "apples",
        item_description: "amazing",
      }]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.insert("02_multi_operation", "items", {
        name: "bananas",
        item_description: "brilliant",
      });
      expect(await c.select("02_multi_operation", "items")).toEqual([
        { id: 1, name: "apples", item_description: null },
        { id: 2, name: "bananas", item_description: "brilliant" },
      ]);
    },
  },
  {
    name: "rename table, rename column",
    migrations: [
      createItems,
      multi(
        { rename_table: { from: "items", to: "products" } },
        { rename_column: { table: "products", from: "name", to: "item_name" } },
      ),
    ],
    afterStart: async (c) => {
      await c.insert("01_create_table", "items", { name: "apples" });
      await c.insert("02_multi_operation", "products", { item_name: "bananas" });
      expect(await c.select("02_multi_operation", "products")).toEqual([
        { id: 1, item_name: "apples" },
        { id: 2, item_name: "bananas" },
      ]);
    },
    afterRollback: async (c) => await c.insert("01_create_table", "items", { name: "carrots" }),
    afterComplete: async (c) => {
      await c.insert("02_multi_operation", "products", { item_name: "durian" });
      expect(await c.select("02_multi_operation", "products")).toEqual([
        { id: 1, item_name: "apples" },
        { id: 2, item_name: "bananas" },
        { id: 3, item_name: "carrots" },
        { id: 4, item_name: "durian" },
      ]);
    },
  },
  {
    name: "rename column, drop column",
    migrations: [
      {
        name: "01_create_table",
        operations: [
          createTable("items", [
            col("id", "serial", { pk: true }),
            col("name", "varchar(255)", { nullable: true }),
          ]),
        ],
      },
      multi(
        { rename_column: { table: "items", from: "name", to: "item_name" } },
        { drop_column: { table: "items", column: "item_name" } },
      ),
    ],
    afterStart: async (c) => {
      await c.notInsert("02_multi_operation", "items", { item_name: "apples" }, UNDEFINED_COLUMN);
      await c.insert("01_create_table", "items", { name: "apples" });
    },
    afterRollback: async (c) => await c.insert("01_create_table", "items", { name: "bananas" }),
    afterComplete: async (c) =>
      await c.notInsert("02_multi_operation", "items", { item_name: "apples" }, UNDEFINED_COLUMN),
  },
  {
    name: "from field must be specified",
    migrations: [usersUsername, renameColumn("users", undefined, "name")],
    startErr: /from/,
  },
  {
    name: "to field must be specified",
    migrations: [usersUsername, renameColumn("users", "username", undefined)],
    startErr: /to/,
  },
  {
    name: "table must exist",
    migrations: [usersUsername, renameColumn("doesntexist", "username", "id")],
    startErr: /doesntexist/,
  },
  {
    name: "source column must exist",
    migrations: [usersUsername, renameColumn("users", "doesntexist", "id")],
    startErr: /doesntexist/,
  },
  {
    name: "target column must not exist",
    migrations: [usersUsername, renameColumn("users", "username", "id")],
    startErr: /"id"/,
  },
]);

// ---- op_create_index_test.go --------------------------------------------------------------
const usersNameYear: Migration = {
  name: "01_add_table",
  operations: [createTable("users", [
    col("id", "serial", { pk: true }),
    col("name", "varchar(255)"),
    col("registered_at_year", "integer"),
  ])],
};
const indexCase = (
  name: string,
  migrations: Migration[],
  index: string,
  table = "users",
  def?: string,
): Case => ({
  name,
  migrations,
  afterStart: async (c) => {
    expect(await c.indexes(table)).toContain(index);
    if (def) expect(await c.indexDef(index)).toBe(`CREATE INDEX ${index} ON ${QS}.${table} ${def}`);
  },
  afterRollback: async (c) => expect(await c.indexes(table)).not.toContain(index),
  afterComplete: async (c) => expect(await c.indexes(table)).toContain(index),
});
const createIndex = (name: string, params: object): Migration => ({
  name,
  operations: [{ create_index: params }],
});
const itemsNullableName: Migration = {
  name: "01_create_table",
  operations: [
    createTable("items", [
      col("id", "int", { pk: true }),
      col("name", "varchar(255)", { nullable: true }),
    ]),
  ],
};
replayAll("create_index", [
  ...["idx_users_name", "idx_USERS_name"].map((index) =>
    indexCase(index === "idx_users_name" ? "create index" : "create index with a mixed case name", [
      usersTable,
      createIndex("02_create_index", {
        name: index,
        table: "users",
        columns: [{ column: "name" }],
      }),
    ], index)
  ),
  indexCase(
    "create partial index",
    [
      usersNameYear,
      createIndex("02_create_index_for_new_users_after_2019", {
        name: "idx_users_name_after_2019",
        table: "users",
        columns: [{ column: "registered_at_year" }],
        predicate: "registered_at_year > 2019",
      }),
    ],
    "idx_users_name_after_2019",
    "users",
    "USING btree (registered_at_year) WHERE (registered_at_year > 2019)",
  ),
  indexCase(
    "create index with descending order",
    [
      usersTable,
      createIndex("02_create_index", {
        name: "idx_users_name",
        table: "users",
        columns: [{ column: "name", sort: "DESC" }],
      }),
    ],
    "idx_users_name",
    "users",
    "USING btree (name DESC)",
  ),
  {
    name: "invalid name",
    migrations: [
      usersNameYear,
      createIndex("02_create_index_with_invalid_name", {
        name: long,
        table: "users",
        columns: [{ column: "registered_at_year" }],
      }),
    ],
    startErr: /63|long/,
  },
  indexCase(
    "create hash index with option",
    [
      usersTable,
      createIndex("02_create_hash_index", {
        name: "idx_users_name_hash",
        table: "users",
        columns: [{ column: "name" }],
        method: "hash",
        storage_parameters: "fillfactor = 70",
      }),
    ],
    "idx_users_name_hash",
    "users",
    "USING hash (name) WITH (fillfactor='70')",
  ),
  indexCase(
    "create index on multiple columns",
    [
      {
        name: "01_add_table",
        operations: [
          createTable("users", [
            col("id", "serial", { pk: true }),
            col("name", "varchar(255)"),
            col("email", "varchar(255)"),
          ]),
        ],
      },
      createIndex("02_create_index", {
        name: "idx_users_name_email",
        table: "users",
        columns: [{ column: "name" }, { column: "email" }],
      }),
    ],
    "idx_users_name_email",
    "users",
    "USING btree (name, email)",
  ),
  {
    name: "rename table, create index",
    migrations: [
      itemsNullableName,
      multi(
        { rename_table: { from: "items", to: "products" } },
        {
          create_index: {
            table: "products",
            columns: [{ column: "name" }],
            name: "idx_products_name",
          },
        },
      ),
    ],
    afterStart: async (c) => expect(await c.indexes("items")).toContain("idx_products_name"),
    afterRollback: async (c) => expect(await c.indexes("items")).not.toContain("idx_products_name"),
    afterComplete: async (c) => expect(await c.indexes("products")).toContain("idx_products_name"),
  },
  {
    name: "rename table, rename column, create index",
    migrations: [
      itemsNullableName,
      multi(
        { rename_table: { from: "items", to: "products" } },
        { rename_column: { table: "products", from: "name", to: "item_name" } },
        {
          create_index: {
            table: "products",
            columns: [{ column: "item_name" }],
            name: "idx_products_item_name",
          },
        },
      ),
    ],
    afterStart: async (c) => expect(await c.indexes("items")).toContain("idx_products_item_name"),
    afterRollback: async (c) =>
      expect(await c.indexes("items")).not.toContain("idx_products_item_name"),
    afterComplete: async (c) =>
      expect(await c.indexes("products")).toContain("idx_products_item_name"),
  },
  {
    name: "create index on newly created table",
    migrations: [{
      name: "01_add_table",
      operations: [
        ...usersTable.operations,
        { create_index: { name: "idx_users_name", table: "users", columns: [{ column: "name" }] } },
      ],
    }],
    afterStart: async (c) => expect(await c.indexes("users")).toContain("idx_users_name"),
    afterRollback: async (c) => expect(await c.table("users")).toBe(false),
    afterComplete: async (c) => expect(await c.indexes("users")).toContain("idx_users_name"),
  },
  indexCase("create index on newly created column", [
    usersTable,
    {
      name: "02_add_column_and_index",
      operations: [
        {
          add_column: {
            table: "users",
            column: col("age", "integer", { nullable: true }),
            up: "18",
          },
        },
        { create_index: { name: "idx_users_age", table: "users", columns: [{ column: "age" }] } },
      ],
    },
  ], "idx_users_age"),
]);

// ---- op_drop_constraint_test.go (the check-constraint cases) ------------------------------
const lpad = "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END";
const postsWithCheck: Migration[] = [
  {
    name: "01_add_table",
    operations: [createTable("posts", [col("id", "serial", { pk: true }), col("title", "text")])],
  },
  {
    name: "02_add_check_constraint",
    operations: [{
      alter_column: {
        table: "posts",
        column: "title",
        check: { name: "check_title_length", constraint: "length(title) > 3" },
        up: lpad,
        down: "title",
      },
    }],
  },
];
replayAll("drop_constraint", [
  {
    name: "drop check constraint with default up sql",
    migrations: [...postsWithCheck, {
      name: "03_drop_check_constraint",
      operations: [{ drop_constraint: { table: "posts", name: "check_title_length", down: lpad } }],
    }],
    afterStart: async (c) => {
      expect(await c.columns("posts")).toContain("_pgroll_new_title");
      await c.insert("02_add_check_constraint", "posts", { title: "post by alice" });
      await c.notInsert("02_add_check_constraint", "posts", { title: "b" }, CHECK);
      expect(await c.select("03_drop_check_constraint", "posts")).toEqual([{
        id: 1,
        title: "post by alice",
      }]);
      await c.insert("03_drop_check_constraint", "posts", { title: "post by carl" });
      await c.insert("03_drop_check_constraint", "posts", { title: "d" });
      expect(await c.select("02_add_check_constraint", "posts")).toEqual([
        { id: 1, title: "post by alice" },
        { id: 3, title: "post by carl" },
        { id: 4, title: "---d" },
      ]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.insert("03_drop_check_constraint", "posts", { title: "e" });
      expect(await c.select("03_drop_check_constraint", "posts")).toEqual([
        { id: 1, title: "post by alice" },
        { id: 3, title: "post by carl" },
        { id: 4, title: "---d" },
        { id: 5, title: "e" },
      ]);
      await c.cleanedUp();
    },
  },
  {
    name: "drop check constraint with user-supplied up sql",
    migrations: [...postsWithCheck, {
      name: "03_drop_check_constraint",
      operations: [{
        drop_constraint: {
          table: "posts",
          name: "check_title_length",
          up: "title || '!'",
          down: lpad,
        },
      }],
    }],
    afterStart: async (c) => {
      await c.insert("02_add_check_constraint", "posts", { title: "post by alice" });
      expect(await c.select("03_drop_check_constraint", "posts")).toEqual([{
        id: 1,
        title: "post by alice!",
      }]);
    },
  },
]);

// ---- op_create_constraint_test.go (single-column unique and check) ------------------------
replayAll("create_constraint", [
  {
    name: "create unique constraint on single column",
    migrations: [usersTable, {
      name: "02_create_constraint",
      operations: [{
        create_constraint: {
          name: "unique_name",
          table: "users",
          type: "unique",
          columns: ["name"],
          up: { name: "name || random()" },
          down: { name: "name" },
        },
      }],
    }],
    afterStart: async (c) => {
      expect(await c.indexes("users")).toContain("unique_name");
      await c.insert("01_add_table", "users", { name: "alice" });
      await c.insert("01_add_table", "users", { name: "alice" });
      await c.insert("02_create_constraint", "users", { name: "bob" });
      await c.notInsert("02_create_constraint", "users", { name: "bob" }, UNIQUE);
    },
    afterRollback: async (c) => {
      expect(await c.indexes("users")).not.toContain("unique_name");
      await c.cleanedUp();
    },
    afterComplete: async (c) => {
      await c.cleanedUp();
      await c.insert("02_create_constraint", "users", { name: "carol" });
      await c.notInsert("02_create_constraint", "users", { name: "carol" }, UNIQUE);
    },
  },
  {
    name: "create check constraint on single column",
    migrations: [usersTable, {
      name: "02_create_constraint",
      operations: [{
        create_constraint: {
          name: "name_letters",
          table: "users",
          type: "check",
          check: "name ~ '^[a-zA-Z]+$'",
          columns: ["name"],
          up: { name: "regexp_replace(name, '\\d+', '', 'g')" },
          down: { name: "name" },
        },
      }],
    }],
    afterStart: async (c) => {
      expect(await c.columns("users")).toContain("_pgroll_new_name");
      expect(await c.constraints("users", "c")).toContain("name_letters");
      await c.insert("01_add_table", "users", { name: "alice11" });
      await c.insert("02_create_constraint", "users", { name: "bob" });
      await c.notInsert("02_create_constraint", "users", { name: "bob2" }, CHECK);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.cleanedUp();
      expect(await c.constraints("users", "c")).toContain("name_letters");
      await c.notInsert("02_create_constraint", "users", { name: "carol1" }, CHECK);
    },
  },
]);

// ---- op_drop_constraint_test.go (foreign key, unique, validation) -------------------------
const fkUp =
  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END";
const dropConstraint = (name: string, params: object): Migration => ({
  name,
  operations: [{ drop_constraint: params }],
});
const postsTitle = (extra: object) => ({
  name: "01_add_table",
  operations: [
    createTable("posts", [col("id", "serial", { pk: true }), col("title", "text", extra)]),
  ],
});
const dropTitleKey = dropConstraint("02_drop_unique_constraint", {
  table: "posts",
  name: "posts_title_key",
  up: "title",
  down: "title",
});
replayAll("drop_constraint (more)", [
  {
    name: "drop foreign key constraint",
    migrations: [
      {
        name: "01_add_tables",
        operations: [
          createTable("users", [col("id", "serial", { pk: true }), col("name", "text")]),
          createTable("posts", [
            col("id", "serial", { pk: true }),
            col("title", "text"),
            col("user_id", "integer", { nullable: true }),
          ]),
        ],
      },
      {
        name: "02_add_fk_constraint",
        operations: [{
          alter_column: {
            table: "posts",
            column: "user_id",
            references: { name: "fk_users_id", table: "users", column: "id" },
            up: fkUp,
            down: "user_id",
          },
        }],
      },
      dropConstraint("03_drop_fk_constraint", {
        table: "posts",
        name: "fk_users_id",
        up: "user_id",
        down: fkUp,
      }),
    ],
    afterStart: async (c) => {
      expect(await c.columns("posts")).toContain("_pgroll_new_user_id");
      await c.insert("03_drop_fk_constraint", "users", { name: "alice" });
      await c.insert("03_drop_fk_constraint", "users", { name: "bob" });
      await c.insert("03_drop_fk_constraint", "posts", { title: "post by alice", user_id: "1" });
      await c.insert("03_drop_fk_constraint", "posts", {
        title: "post by unknown user",
        user_id: "3",
      });
      expect(await c.select("02_add_fk_constraint", "posts")).toEqual([
        { id: 1, title: "post by alice", user_id: 1 },
        { id: 2, title: "post by unknown user", user_id: null },
      ]);
      await c.insert("02_add_fk_constraint", "posts", { title: "post by bob", user_id: "2" });
      await c.notInsert("02_add_fk_constraint", "posts", {
        title: "post by unknown user",
        user_id: "3",
      }, FK);
      expect(await c.select("03_drop_fk_constraint", "posts")).toEqual([
        { id: 1, title: "post by alice", user_id: 1 },
        { id: 2, title: "post by unknown user", user_id: 3 },
        { id: 3, title: "post by bob", user_id: 2 },
      ]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      expect(await c.columns("posts")).not.toContain("_pgroll_new_user_id");
      await c.insert("03_drop_fk_constraint", "posts", {
        title: "another post by an unknown user",
        user_id: "4",
      });
      expect(await c.select("03_drop_fk_constraint", "posts")).toEqual([
        { id: 1, title: "post by alice", user_id: 1 },
        { id: 2, title: "post by unknown user", user_id: null },
        { id: 3, title: "post by bob", user_id: 2 },
        { id: 5, title: "another post by an unknown user", user_id: 4 },
      ]);
      await c.cleanedUp();
    },
  },
  {
    name: "drop unique constraint",
    migrations: [
      {
        name: "01_add_tables",
        operations: [
          createTable("users", [
            col("id", "serial", { pk: true }),
            col("name", "text", { unique: true }),
          ]),
        ],
      },
      dropConstraint("02_drop_unique_constraint", {
        table: "users",
        name: "users_name_key",
        up: "name",
        down: "name || '-' || (random()*1000000)::integer",
      }),
    ],
    afterStart: async (c) => {
      expect(await c.columns("users")).toContain("_pgroll_new_name");
      await c.insert("01_add_tables", "users", { name: "alice" });
      await c.notInsert("01_add_tables", "users", { name: "alice" }, UNIQUE);
      await c.insert("02_drop_unique_constraint", "users", { name: "alice" });
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.cleanedUp();
      await c.insert("02_drop_unique_constraint", "users", { name: "alice" });
    },
  },
  {
    name: "drop unique constraint from serial column",
    migrations: [
      {
        name: "01_add_tables",
        operations: [
          createTable("users", [
            col("id", "serial", { pk: true }),
            col("secondary_id", "serial", { unique: true }),
          ]),
        ],
      },
      dropConstraint("02_drop_unique_constraint", {
        table: "users",
        name: "users_secondary_id_key",
        up: "secondary_id",
        down: "secondary_id",
      }),
    ],
    afterStart: async (c) => {
      expect(await c.columns("users")).toContain("_pgroll_new_secondary_id");
      await c.insert("01_add_tables", "users", { secondary_id: "1" });
      await c.notInsert("01_add_tables", "users", { secondary_id: "1" }, UNIQUE);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.cleanedUp();
      await c.insert("02_drop_unique_constraint", "users", { secondary_id: "1" });
    },
  },
  {
    name: "dropping a unique constraint preserves the column's default value",
    migrations: [
      {
        name: "01_add_table",
        operations: [createTable("users", [
          col("id", "serial", { pk: true }),
          col("name", "text", { unique: true, default: "'anonymous'" }),
        ])],
      },
      dropConstraint("02_drop_unique_constraint", {
        table: "users",
        name: "users_name_key",
        up: "name",
        down: "name || '-' || (random()*1000000)::integer",
      }),
    ],
    afterStart: async (c) => {
      await c.insert("02_drop_unique_constraint", "users", { id: "1" });
      expect(await c.select("02_drop_unique_constraint", "users")).toEqual([{
        id: 1,
        name: "anonymous",
      }]);
    },
    afterComplete: async (c) => {
      await inSchema(
        c.db.url,
        `${S}_02_drop_unique_constraint`,
        (sql) => sql`delete from users where id = 1`,
      );
      await c.insert("02_drop_unique_constraint", "users", { id: "2" });
      expect(await c.select("02_drop_unique_constraint", "users")).toEqual([{
        id: 2,
        name: "anonymous",
      }]);
    },
  },
  {
    name: "dropping a unique constraint preserves a foreign key constraint on the column",
    migrations: [
      {
        name: "01_add_departments_table",
        operations: [
          createTable("departments", [col("id", "serial", { pk: true }), col("name", "text")]),
        ],
      },
      {
        name: "02_add_employees_table",
        operations: [createTable("employees", [
          col("id", "serial", { pk: true }),
          col("name", "text"),
          col("department_id", "integer", {
            unique: true,
            references: { name: "fk_employee_department", table: "departments", column: "id" },
          }),
        ])],
      },
      dropConstraint("03_drop_unique_constraint", {
        table: "employees",
        name: "employees_department_id_key",
        up: "department_id",
        down: "department_id",
      }),
    ],
    afterStart: async (c) => {
      expect(await c.constraints("employees", "f")).toContain("_pgroll_dup_fk_employee_department");
      // Valid once start is done, as pgroll's: added NOT VALID, validated after the backfill
      // (VALIDATE does not block writes).
      expect(await c.constraintValid("employees", "_pgroll_dup_fk_employee_department")).toBe(
        true,
      );
    },
    afterComplete: async (c) => {
      expect(await c.constraints("employees", "f")).toEqual(["fk_employee_department"]);
      expect(await c.constraintValid("employees", "fk_employee_department")).toBe(true);
    },
  },
  {
    name: "dropping a unique constraint preserves a check constraint on the column",
    migrations: [
      postsTitle({ nullable: true, unique: true }),
      postsWithCheck[1]!,
      dropConstraint("03_drop_unique_constraint", {
        table: "posts",
        name: "posts_title_key",
        up: "title",
        down: "title",
      }),
    ],
    afterStart: async (c) =>
      await c.notInsert("03_drop_unique_constraint", "posts", { id: "1", title: "a" }, CHECK),
    afterComplete: async (c) =>
      await c.notInsert("03_drop_unique_constraint", "posts", { id: "2", title: "b" }, CHECK),
  },
  {
    name: "dropping a check constraint preserves a unique constraint on the column",
    migrations: [
      postsTitle({ nullable: true }),
      {
        name: "02_set_unique",
        operations: [{
          alter_column: {
            table: "posts",
            column: "title",
            unique: { name: "unique_title" },
            up: "title",
            down: "title",
          },
        }],
      },
      { ...postsWithCheck[1]!, name: "03_add_check_constraint" },
      dropConstraint("04_drop_check_constraint", {
        table: "posts",
        name: "check_title_length",
        up: "title",
        down: "title",
      }),
    ],
    afterStart: async (c) => {
      await c.insert("04_drop_check_constraint", "posts", { title: "post by alice" });
      await c.notInsert("04_drop_check_constraint", "posts", { title: "post by alice" }, UNIQUE);
    },
    afterComplete: async (c) => {
      expect(await c.constraints("posts", "u")).toContain("unique_title");
      await c.notInsert("04_drop_check_constraint", "posts", { title: "post by alice" }, UNIQUE);
      await c.insert("04_drop_check_constraint", "posts", { title: "post by bob" });
    },
  },
  {
    name: "dropping a unique constraint preserves column not null",
    migrations: [postsTitle({ unique: true }), dropTitleKey],
    afterStart: async (c) =>
      await c.notInsert("02_drop_unique_constraint", "posts", { id: "1" }, NOT_NULL),
    afterComplete: async (c) =>
      await c.notInsert("02_drop_unique_constraint", "posts", { id: "2" }, NOT_NULL),
  },
  {
    name: "dropping a unique constraint preserves any comment on the column",
    migrations: [postsTitle({ unique: true, comment: "the title of the post" }), dropTitleKey],
    afterStart: async (c) =>
      expect(await c.comment("posts", "_pgroll_new_title")).toBe("the title of the post"),
    afterComplete: async (c) =>
      expect(await c.comment("posts", "title")).toBe("the title of the post"),
  },
  ...([
    ["table must exist", {
      table: "doesntexist",
      name: "check_title_length",
      up: "title",
      down: lpad,
    }, /doesntexist/],
    [
      "constraint must exist",
      { table: "posts", name: "doesntexist", up: "title", down: lpad },
      /doesntexist/,
    ],
    ["name is mandatory", { table: "posts", up: "title", down: lpad }, /name/],
    ["down SQL is mandatory", { table: "posts", name: "check_title_length", up: "title" }, /down/],
  ] as const).map(([name, params, startErr]) => ({
    name,
    migrations: [...postsWithCheck, dropConstraint("03_drop_check_constraint", params)],
    startErr,
  })),
]);

// ---- op_drop_multicolumn_constraint_test.go -----------------------------------------------
const same = (...columns: string[]) => Object.fromEntries(columns.map((c) => [c, c]));
const dropMulti = (name: string, params: object): Migration => ({
  name,
  operations: [{ drop_multicolumn_constraint: params }],
});
const lpadName = (c: string) =>
  `SELECT CASE WHEN length(${c}) <= 3 THEN LPAD(${c}, 4, '-') ELSE ${c} END`;
const itemsWithNameCheck: Migration = {
  name: "01_create_table",
  operations: [createTable("items", [
    col("id", "int", { pk: true }),
    col("name", "varchar(255)", {
      nullable: true,
      check: { name: "check_name_length", constraint: "length(name) > 3" },
    }),
  ])],
};
replayAll("drop_multicolumn_constraint", [
  {
    name: "can drop a multi-column check constraint",
    migrations: [
      {
        name: "01_add_table",
        operations: [createTable("products", [
          col("id", "integer", { pk: true }),
          col("name", "text"),
          col("price", "integer"),
          col("discount", "integer"),
        ])],
      },
      {
        name: "02_create_check_constraint",
        operations: [{
          create_constraint: {
            table: "products",
            name: "products_check_price_discount",
            columns: ["price", "discount"],
            type: "check",
            check: "(discount = 0) OR (price > 0)",
            up: same("price", "discount"),
            down: same("price", "discount"),
          },
        }],
      },
      dropMulti("03_drop_check_constraint", {
        table: "products",
        name: "products_check_price_discount",
        up: same("price", "discount"),
        down: { price: "SELECT CASE price WHEN 0 THEN 100 ELSE 0 END", discount: "discount" },
      }),
    ],
    afterStart: async (c) => {
      await c.notInsert("02_create_check_constraint", "products", {
        id: "1",
        name: "apple",
        price: "0",
        discount: "1",
      }, CHECK);
      await c.insert("02_create_check_constraint", "products", {
        id: "1",
        name: "apple",
        price: "1",
        discount: "1",
      });
      await c.insert("03_drop_check_constraint", "products", {
        id: "2",
        name: "banana",
        price: "0",
        discount: "1",
      });
      expect(await c.select("03_drop_check_constraint", "products")).toEqual([
        { id: 1, name: "apple", price: 1, discount: 1 },
        { id: 2, name: "banana", price: 0, discount: 1 },
      ]);
      expect(await c.select("02_create_check_constraint", "products")).toEqual([
        { id: 1, name: "apple", price: 1, discount: 1 },
        { id: 2, name: "banana", price: 100, discount: 1 },
      ]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.insert("03_drop_check_constraint", "products", {
        id: "3",
        name: "carrot",
        price: "0",
        discount: "1",
      });
      expect(await c.select("03_drop_check_constraint", "products")).toEqual([
        { id: 1, name: "apple", price: 1, discount: 1 },
        { id: 2, name: "banana", price: 100, discount: 1 },
        { id: 3, name: "carrot", price: 0, discount: 1 },
      ]);
      await c.cleanedUp();
    },
  },
  {
    name: "can drop a multi-column unique constraint",
    migrations: [
      {
        name: "01_add_table",
        operations: [
          createTable("products", [
            col("id", "integer", { pk: true }),
            col("name", "text"),
            col("description", "text"),
          ]),
        ],
      },
      {
        name: "02_create_unique_constraint",
        operations: [{
          create_constraint: {
            table: "products",
            name: "products_unique_name_description",
            columns: ["name", "description"],
            type: "unique",
            up: same("name", "description"),
            down: same("name", "description"),
          },
        }],
      },
      dropMulti("03_drop_unique_constraint", {
        table: "products",
        name: "products_unique_name_description",
        up: same("name", "description"),
        down: { name: "name || '-foo'", description: "description" },
      }),
    ],
    afterStart: async (c) => {
      await c.insert("02_create_unique_constraint", "products", {
        id: "1",
        name: "apple",
        description: "red",
      });
      await c.notInsert("02_create_unique_constraint", "products", {
        id: "2",
        name: "apple",
        description: "red",
      }, UNIQUE);
      await c.insert("03_drop_unique_constraint", "products", {
        id: "2",
        name: "apple",
        description: "red",
      });
      expect(await c.select("03_drop_unique_constraint", "products")).toEqual([
        { id: 1, name: "apple", description: "red" },
        { id: 2, name: "apple", description: "red" },
      ]);
      expect(await c.select("02_create_unique_constraint", "products")).toEqual([
        { id: 1, name: "apple", description: "red" },
        { id: 2, name: "apple-foo", description: "red" },
      ]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.insert("03_drop_unique_constraint", "products", {
        id: "3",
        name: "apple",
        description: "red",
      });
      expect(await c.select("03_drop_unique_constraint", "products")).toEqual([
        { id: 1, name: "apple", description: "red" },
        { id: 2, name: "apple-foo", description: "red" },
        { id: 3, name: "apple", description: "red" },
      ]);
    },
  },
  {
    name: "can drop a multi-column foreign key constraint",
    migrations: [
      {
        name: "01_create_tables",
        operations: [
          createTable("users", [
            col("id", "serial", { pk: true }),
            col("name", "varchar(255)"),
            col("zip", "integer", { pk: true }),
          ]),
          createTable("reports", [
            col("id", "integer", { pk: true }),
            col("description", "varchar(255)"),
            col("user_id", "integer", { nullable: true }),
            col("user_zip", "integer", { nullable: true }),
          ]),
        ],
      },
      {
        name: "02_create_fk_constraint",
        operations: [{
          create_constraint: {
            name: "fk_users_reports",
            table: "reports",
            type: "foreign_key",
            columns: ["user_id", "user_zip"],
            references: { table: "users", columns: ["id", "zip"] },
            up: same("user_id", "user_zip"),
            down: same("user_id", "user_zip"),
          },
        }],
      },
      dropMulti("03_drop_fk_constraint", {
        table: "reports",
        name: "fk_users_reports",
        up: same("user_id", "user_zip"),
        down: { user_id: "1", user_zip: "user_zip" },
      }),
    ],
    afterStart: async (c) => {
      await c.insert("03_drop_fk_constraint", "users", { id: "1", name: "alice", zip: "12345" });
      await c.insert("02_create_fk_constraint", "reports", {
        id: "1",
        description: "awesome",
        user_id: "1",
        user_zip: "12345",
      });
      await c.notInsert(
        "02_create_fk_constraint",
        "reports",
        { id: "2", description: "awesome", user_id: "2", user_zip: "12345" },
        FK,
      );
      await c.insert("03_drop_fk_constraint", "reports", {
        id: "2",
        description: "better",
        user_id: "2",
        user_zip: "12345",
      });
      expect(await c.select("03_drop_fk_constraint", "reports")).toEqual([
        { id: 1, description: "awesome", user_id: 1, user_zip: 12345 },
        { id: 2, description: "better", user_id: 2, user_zip: 12345 },
      ]);
      expect(await c.select("02_create_fk_constraint", "reports")).toEqual([
        { id: 1, description: "awesome", user_id: 1, user_zip: 12345 },
        { id: 2, description: "better", user_id: 1, user_zip: 12345 },
      ]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.insert("03_drop_fk_constraint", "reports", {
        id: "3",
        description: "consistent",
        user_id: "2",
        user_zip: "12345",
      });
      expect(await c.select("03_drop_fk_constraint", "reports")).toEqual([
        { id: 1, description: "awesome", user_id: 1, user_zip: 12345 },
        { id: 2, description: "better", user_id: 1, user_zip: 12345 },
        { id: 3, description: "consistent", user_id: 2, user_zip: 12345 },
      ]);
    },
  },
  ...[["rename table, drop constraint", "name", []], [
    "rename table, rename column, drop constraint",
    "item_name",
    [{ rename_column: { table: "products", from: "name", to: "item_name" } }],
  ]].map(([name, column, extra]) => {
    const col = column as string;
    return {
      name: name as string,
      migrations: [
        itemsWithNameCheck,
        multi(
          { rename_table: { from: "items", to: "products" } },
          ...(extra as object[]),
          {
            drop_multicolumn_constraint: {
              table: "products",
              name: "check_name_length",
              down: { [col]: lpadName(col) },
              up: { [col]: col },
            },
          },
        ),
      ],
      afterStart: async (c: Ctx) => {
        await c.insert("02_multi_operation", "products", { id: "1", [col]: "a" });
        await c.notInsert("01_create_table", "items", { id: "2", name: "b" }, CHECK);
        await c.insert("01_create_table", "items", { id: "2", name: "bananas" });
        expect(await c.select("02_multi_operation", "products")).toEqual([
          { id: 1, [col]: "a" },
          { id: 2, [col]: "bananas" },
        ]);
        expect(await c.select("01_create_table", "items")).toEqual([
          { id: 1, name: "---a" },
          { id: 2, name: "bananas" },
        ]);
      },
      afterRollback: async (c: Ctx) => await c.cleanedUp(),
      afterComplete: async (c: Ctx) => {
        await c.insert("02_multi_operation", "products", { id: "3", [col]: "c" });
        expect(await c.select("02_multi_operation", "products")).toEqual([
          { id: 1, [col]: "---a" },
          { id: 2, [col]: "bananas" },
          { id: 3, [col]: "c" },
        ]);
        await c.cleanedUp();
      },
    };
  }),
  ...([
    ["table must exist", {
      table: "doesntexist",
      name: "check_title_length",
      up: same("title"),
      down: { title: lpad },
    }, /doesntexist/],
    ["constraint must exist", {
      table: "posts",
      name: "doesntexist",
      up: same("title"),
      down: { title: lpad },
    }, /doesntexist/],
    ["name is mandatory", { table: "posts", up: same("title"), down: { title: lpad } }, /name/],
    [
      "down SQL is mandatory",
      { table: "posts", name: "check_title_length", up: same("title") },
      /down/,
    ],
    [
      "down SQL must be present for all columns covered by the constraint",
      { table: "posts", name: "check_title_length", up: same("title"), down: {} },
      /title/,
    ],
    [
      "down SQL for columns not covered by the constraint is not allowed",
      {
        table: "posts",
        name: "check_title_length",
        down: { title: lpad, not_covered: "not_covered" },
      },
      /not_covered/,
    ],
    [
      "up SQL for columns not covered by the constraint is not allowed",
      {
        table: "posts",
        name: "check_title_length",
        up: same("not_covered"),
        down: { title: lpad },
      },
      /not_covered/,
    ],
  ] as const).map(([name, params, startErr]) => ({
    name,
    migrations: [...postsWithCheck, dropMulti("03_drop_check_constraint", params)],
    startErr,
  })),
]);

// ---- op_create_constraint_test.go (multi-column and multi-operation cases) ----------------
const createConstraint = (params: object, name = "02_create_constraint"): Migration => ({
  name,
  operations: [{ create_constraint: params }],
});
const usersNameEmail = (emailExtra: object = {}, extra: object = {}): Migration => ({
  name: "01_add_table",
  operations: [createTable("users", [
    col("id", "serial", { pk: true }),
    col("name", "varchar(255)"),
    col("email", "varchar(255)", emailExtra),
  ], extra)],
});
const usersAndReports: Migration = {
  name: "01_add_tables",
  operations: [
    createTable("users", [
      col("id", "serial", { pk: true }),
      col("zip", "integer", { pk: true }),
      col("name", "varchar(255)"),
      col("email", "varchar(255)"),
    ]),
    createTable("reports", [
      col("id", "serial", { pk: true }),
      col("users_id", "integer", { nullable: true }),
      col("users_zip", "integer", { nullable: true }),
      col("description", "varchar(255)"),
    ]),
  ],
};
const fkOnReports = (references: object) =>
  createConstraint({
    name: "fk_users",
    table: "reports",
    type: "foreign_key",
    columns: ["users_id", "users_zip"],
    references,
    up: { users_id: "1", users_zip: "12345" },
    down: same("users_id", "users_zip"),
  });
const fkCase = (name: string, references: object, onDelete: string): Case => ({
  name,
  migrations: [usersAndReports, fkOnReports(references)],
  afterStart: async (c) => {
    expect(await c.columns("reports")).toEqual(
      expect.arrayContaining(["_pgroll_new_users_id", "_pgroll_new_users_zip"]),
    );
    expect(await c.constraintValid("reports", "fk_users")).toBe(false);
    const [row] = await c.sql`select confdeltype from pg_constraint where conname = 'fk_users'`;
    expect(row!.confdeltype).toBe(onDelete);
    await c.insert("01_add_tables", "users", {
      name: "alice",
      email: "alice@example.com",
      zip: "12345",
    });
    await c.insert("01_add_tables", "reports", { description: "random report" });
    await c.insert("02_create_constraint", "reports", {
      description: "alice report",
      users_id: "1",
      users_zip: "12345",
    });
    await c.notInsert("02_create_constraint", "reports", {
      description: "no one report",
      users_id: "100",
      users_zip: "100",
    }, FK);
  },
  afterRollback: async (c) => {
    expect(await c.constraints("reports", "f")).toEqual([]);
    await c.cleanedUp();
  },
  afterComplete: async (c) => {
    expect(await c.constraintValid("reports", "fk_users")).toBe(true);
    await c.cleanedUp();
    await c.notInsert("02_create_constraint", "reports", {
      description: "no one report",
      users_id: "100",
      users_zip: "100",
    }, FK);
    expect(await c.select("02_create_constraint", "reports")).toEqual([
      { id: 1, description: "random report", users_id: 1, users_zip: 12345 },
      { id: 2, description: "alice report", users_id: 1, users_zip: 12345 },
    ]);
  },
});
const renamedItems = (
  ...ops: object[]
) => [itemsNullableName, multi({ rename_table: { from: "items", to: "products" } }, ...ops)];
const renameToItemName = { rename_column: { table: "products", from: "name", to: "item_name" } };
const checkCase = (name: string, column: string, extra: object[]): Case => ({
  name,
  migrations: renamedItems(...extra, {
    create_constraint: {
      table: "products",
      type: "check",
      name: `check_${column}`,
      check: `length(${column}) > 3`,
      columns: [column],
      up: {
        [column]: `CASE WHEN length(${column}) <= 3 THEN ${column} || '-xxx' ELSE ${column} END`,
      },
      down: same(column),
    },
  }),
  afterStart: async (c) => {
    await c.insert("02_multi_operation", "products", { id: "1", [column]: "apple" });
    await c.notInsert("02_multi_operation", "products", { id: "2", [column]: "abc" }, CHECK);
    await c.insert("01_create_table", "items", { id: "2", name: "abc" });
    expect(await c.select("02_multi_operation", "products")).toEqual([
      { id: 1, [column]: "apple" },
      { id: 2, [column]: "abc-xxx" },
    ]);
    expect(await c.select("01_create_table", "items")).toEqual([{ id: 1, name: "apple" }, {
      id: 2,
      name: "abc",
    }]);
  },
  afterRollback: async (c) => await c.cleanedUp(),
  afterComplete: async (c) => {
    await c.insert("02_multi_operation", "products", { id: "3", [column]: "banana" });
    await c.notInsert("02_multi_operation", "products", { id: "3", [column]: "abc" }, CHECK);
    expect(await c.select("02_multi_operation", "products")).toEqual([
      { id: 1, [column]: "apple" },
      { id: 2, [column]: "abc-xxx" },
      { id: 3, [column]: "banana" },
    ]);
    await c.cleanedUp();
  },
});
replayAll("create_constraint (more)", [
  {
    name: "create unique constraint on multiple columns",
    migrations: [
      usersNameEmail(),
      createConstraint({
        name: "unique_name_email",
        table: "users",
        type: "unique",
        columns: ["name", "email"],
        up: { name: "name || random()", email: "email || random()" },
        down: same("name", "email"),
      }),
    ],
    afterStart: async (c) => {
      expect(await c.indexes("users")).toContain("unique_name_email");
      await c.insert("01_add_table", "users", { name: "alice", email: "alice@alice.me" });
      await c.insert("01_add_table", "users", { name: "alice", email: "alice@alice.me" });
      await c.insert("02_create_constraint", "users", { name: "bob", email: "bob@bob.me" });
      await c.notInsert(
        "02_create_constraint",
        "users",
        { name: "bob", email: "bob@bob.me" },
        UNIQUE,
      );
    },
    afterRollback: async (c) => {
      expect(await c.indexes("users")).not.toContain("unique_name_email");
      await c.cleanedUp();
    },
    afterComplete: async (c) => {
      expect(await c.constraints("users", "u")).toContain("unique_name_email");
      await c.cleanedUp();
    },
  },
  {
    name: "create check constraint on multiple columns",
    migrations: [
      usersNameEmail(),
      createConstraint({
        name: "check_name_email",
        table: "users",
        type: "check",
        check: "name != email",
        columns: ["name", "email"],
        up: {
          name: "name",
          email: "SELECT CASE WHEN email ~ '@' THEN email ELSE email || '@example.com' END",
        },
        down: same("name", "email"),
      }),
    ],
    afterStart: async (c) => {
      expect(await c.columns("users")).toEqual(
        expect.arrayContaining(["_pgroll_new_name", "_pgroll_new_email"]),
      );
      expect(await c.constraints("users", "c")).toContain("check_name_email");
      await c.insert("01_add_table", "users", { name: "alice", email: "alice" });
      await c.insert("02_create_constraint", "users", { name: "bob", email: "bob@bob.me" });
      await c.notInsert("02_create_constraint", "users", { name: "bob", email: "bob" }, CHECK);
    },
    afterRollback: async (c) => {
      expect(await c.constraints("users", "c")).not.toContain("check_name_email");
      await c.cleanedUp();
    },
    afterComplete: async (c) => {
      await c.cleanedUp();
      await c.notInsert("02_create_constraint", "users", { name: "carol", email: "carol" }, CHECK);
      expect(await c.select("02_create_constraint", "users")).toEqual([
        { id: 1, name: "alice", email: "alice@example.com" },
        { id: 2, name: "bob", email: "bob@bob.me" },
      ]);
    },
  },
  fkCase("create foreign key constraint on multiple columns", {
    table: "users",
    columns: ["id", "zip"],
  }, "a"),
  fkCase(
    "create foreign key constraint on multiple columns with on delete",
    { table: "users", columns: ["id", "zip"], on_delete: "SET NULL" },
    "n",
  ),
  {
    name: "create unique constraint on a unique column and another column",
    migrations: [
      usersNameEmail({ nullable: true }, {
        constraints: [{ name: "unique_name", type: "unique", columns: ["name"] }],
      }),
      createConstraint({
        name: "unique_name_email",
        table: "users",
        type: "unique",
        columns: ["email", "name"],
        up: { name: "name || random()", email: "email || random()" },
        down: same("name", "email"),
      }),
    ],
    afterStart: async (c) => {
      expect(await c.indexes("users")).toEqual(
        expect.arrayContaining(["unique_name", "unique_name_email"]),
      );
      await c.insert("01_add_table", "users", { name: "alice", email: "email" });
      await c.insert("01_add_table", "users", { name: "bob", email: "email" });
      await c.insert("02_create_constraint", "users", { name: "cat", email: "email" });
      await c.notInsert("02_create_constraint", "users", { name: "cat", email: "email" }, UNIQUE);
    },
    afterRollback: async (c) => {
      expect(await c.indexes("users")).not.toContain("unique_name_email");
      await c.cleanedUp();
    },
    afterComplete: async (c) => {
      await c.cleanedUp();
      await c.insert("02_create_constraint", "users", { name: "carol" });
      await c.notInsert("02_create_constraint", "users", { name: "carol" }, UNIQUE);
    },
  },
  {
    name: "create primary key constraint on multiple columns",
    migrations: [
      {
        name: "01_add_table",
        operations: [
          createTable("users", [
            col("id1", "uuid"),
            col("id2", "uuid"),
            col("name", "varchar(255)"),
          ]),
        ],
      },
      createConstraint({
        name: "id_pkey",
        table: "users",
        type: "primary_key",
        columns: ["id1", "id2"],
        up: { id1: "gen_random_uuid()", id2: "gen_random_uuid()" },
        down: same("id1", "id2"),
      }),
    ],
    afterStart: async (c) => {
      expect(await c.indexes("users")).toContain("id_pkey");
      const [a, b, d] = ["1", "2", "3", "4"].map((n) => `00000000-0000-0000-0000-00000000000${n}`);
      await c.insert("01_add_table", "users", { id1: a!, id2: b!, name: "alice" });
      await c.insert("01_add_table", "users", { id1: a!, id2: b!, name: "bob" });
      const e = "00000000-0000-0000-0000-000000000004";
      await c.insert("02_create_constraint", "users", { id1: d!, id2: e, name: "alice" });
      await c.notInsert("02_create_constraint", "users", { id1: d!, id2: e, name: "bob" }, UNIQUE);
    },
    afterRollback: async (c) => {
      expect(await c.indexes("users")).not.toContain("id_pkey");
      await c.cleanedUp();
    },
    afterComplete: async (c) => expect(await c.constraints("users", "p")).toEqual(["id_pkey"]),
  },
  checkCase("rename table, create check constraint", "name", []),
  checkCase("rename table, rename column, create check constraint", "item_name", [
    renameToItemName,
  ]),
  {
    name: "rename table, rename column, create unique constraint",
    migrations: renamedItems(renameToItemName, {
      create_constraint: {
        table: "products",
        type: "unique",
        name: "unique_item_name",
        columns: ["item_name"],
        up: same("item_name"),
        down: same("item_name"),
      },
    }),
    afterStart: async (c) => {
      await c.insert("02_multi_operation", "products", { id: "1", item_name: "apple" });
      await c.insert("02_multi_operation", "products", { id: "2", item_name: "banana" });
      await c.notInsert("02_multi_operation", "products", { id: "3", item_name: "apple" }, UNIQUE);
      expect(await c.select("01_create_table", "items")).toEqual([{ id: 1, name: "apple" }, {
        id: 2,
        name: "banana",
      }]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.insert("02_multi_operation", "products", { id: "3", item_name: "carrot" });
      await c.notInsert("02_multi_operation", "products", { id: "4", item_name: "carrot" }, UNIQUE);
      expect(await c.select("02_multi_operation", "products")).toEqual([
        { id: 1, item_name: "apple" },
        { id: 2, item_name: "banana" },
        { id: 3, item_name: "carrot" },
      ]);
      await c.cleanedUp();
    },
  },
  {
    name: "rename table, rename column, create foreign key constraint",
    migrations: [
      {
        name: "01_create_tables",
        operations: [
          createTable("users", [
            col("id", "int", { pk: true }),
            col("name", "varchar(255)", { nullable: true }),
          ]),
          createTable("items", [
            col("id", "int", { pk: true }),
            col("name", "varchar(255)", { nullable: true }),
            col("owner", "int", { nullable: true }),
          ]),
        ],
      },
      multi(
        { rename_table: { from: "items", to: "products" } },
        { rename_column: { table: "products", from: "owner", to: "owner_id" } },
        {
          create_constraint: {
            table: "products",
            type: "foreign_key",
            name: "fk_item_owner",
            columns: ["owner_id"],
            references: { table: "users", columns: ["id"] },
            up: {
              owner_id:
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = owner_id) THEN owner_id ELSE NULL END",
            },
            down: same("owner_id"),
          },
        },
      ),
    ],
    afterStart: async (c) => {
      await c.insert("02_multi_operation", "users", { id: "1", name: "alice" });
      await c.insert("02_multi_operation", "products", { id: "1", name: "apple", owner_id: "1" });
      await c.notInsert("02_multi_operation", "products", {
        id: "2",
        name: "banana",
        owner_id: "2",
      }, FK);
      await c.insert("01_create_tables", "items", { id: "2", name: "banana", owner: "2" });
      expect(await c.select("02_multi_operation", "products")).toEqual([
        { id: 1, name: "apple", owner_id: 1 },
        { id: 2, name: "banana", owner_id: null },
      ]);
      expect(await c.select("01_create_tables", "items")).toEqual([
        { id: 1, name: "apple", owner: 1 },
        { id: 2, name: "banana", owner: 2 },
      ]);
    },
    afterRollback: async (c) => await c.cleanedUp(),
    afterComplete: async (c) => {
      await c.insert("02_multi_operation", "products", { id: "3", name: "carrot", owner_id: "1" });
      await c.notInsert("02_multi_operation", "products", {
        id: "4",
        name: "durian",
        owner_id: "2",
      }, FK);
      expect(await c.select("02_multi_operation", "products")).toEqual([
        { id: 1, name: "apple", owner_id: 1 },
        { id: 2, name: "banana", owner_id: null },
        { id: 3, name: "carrot", owner_id: 1 },
      ]);
      await c.cleanedUp();
    },
  },
]);

// ---- op_create_constraint_test.go (same-migration table, validation, serial column) -------
const defaultOf = async (c: Ctx, table: string, column: string) => {
  const [row] = await c.sql`
    select pg_get_expr(d.adbin, d.adrelid) as def from pg_attrdef d
      join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
     where d.adrelid = ${`"${S}"."${table}"`}::regclass and a.attname = ${column}`;
  return row?.def as string | undefined;
};
const usersName = usersTable;
replayAll("create_constraint (validation)", [
  {
    name: "create table with comment and default on column, add unique constraint",
    migrations: [{
      name: "01_create_table",
      operations: [
        createTable("items", [
          col("id", "int", { pk: true }),
          col("name", "text", { default: "'Pixel'", comment: "my important comment" }),
        ]),
        {
          create_constraint: {
            table: "items",
            type: "unique",
            name: "unique_item_name",
            columns: ["name"],
            up: same("name"),
            down: same("name"),
          },
        },
      ],
    }],
    afterStart: async (c) => {
      expect(await c.comment("items", "name")).toBe("my important comment");
      expect(await defaultOf(c, "items", "name")).toBe("'Pixel'::text");
      await c.insert("01_create_table", "items", { id: "1", name: "apple" });
      await c.insert("01_create_table", "items", { id: "2", name: "banana" });
      await c.notInsert("01_create_table", "items", { id: "3", name: "apple" }, UNIQUE);
      expect(await c.select("01_create_table", "items")).toEqual([{ id: 1, name: "apple" }, {
        id: 2,
        name: "banana",
      }]);
    },
    afterComplete: async (c) => {
      expect(await c.comment("items", "name")).toBe("my important comment");
      expect(await defaultOf(c, "items", "name")).toBe("'Pixel'::text");
      await c.insert("01_create_table", "items", { id: "3", name: "carrot" });
      await c.notInsert("01_create_table", "items", { id: "4", name: "carrot" }, UNIQUE);
      expect(await c.select("01_create_table", "items")).toEqual([{ id: 3, name: "carrot" }]);
    },
  },
  {
    name: "invalid constraint name",
    migrations: [
      usersNameYear,
      createConstraint({
        name: long,
        table: "users",
        columns: ["registered_at_year"],
        type: "unique",
      }, "02_create_constraint_with_invalid_name"),
    ],
    startErr: /x{64}|missing an entry/, // refused; our first issue is the missing up/down
  },
  {
    name: "missing migration for constraint creation",
    migrations: [
      usersName,
      createConstraint(
        {
          name: "unique_name",
          table: "users",
          columns: ["name"],
          type: "unique",
          up: {},
          down: same("name"),
        },
        "02_create_constraint_with_missing_migration",
      ),
    ],
    startErr: /name/,
  },
  {
    name: "expression of check constraint is missing",
    migrations: [
      usersName,
      createConstraint(
        {
          name: "check_name",
          table: "users",
          columns: ["name"],
          type: "check",
          up: same("name"),
          down: same("name"),
        },
        "02_create_constraint_with_missing_migration",
      ),
    ],
    startErr: /check/,
  },
  {
    name: "missing referenced table for foreign key constraint creation",
    migrations: [
      usersName,
      createConstraint(
        {
          name: "fk_missing_table",
          table: "users",
          columns: ["name"],
          type: "foreign_key",
          references: { table: "missing_table", columns: ["id"] },
          up: same("name"),
          down: same("name"),
        },
        "02_create_constraint_with_missing_referenced_table",
      ),
    ],
    startErr: /missing_table/,
  },
  {
    name: "create unique constraint on serial column",
    migrations: [
      {
        name: "01_add_table",
        operations: [
          createTable("users", [col("email", "text", { pk: true }), col("id", "serial")]),
        ],
      },
      createConstraint({
        name: "unique_id",
        table: "users",
        type: "unique",
        columns: ["id"],
        up: same("id"),
        down: same("id"),
      }),
    ],
    afterStart: async (c) => expect(await c.indexes("users")).toContain("unique_id"),
    afterRollback: async (c) => expect(await c.indexes("users")).not.toContain("unique_id"),
    afterComplete: async (c) => {
      await c.cleanedUp();
      await c.insert("02_create_constraint", "users", { email: "alice@xata.io", id: "1" });
      await c.notInsert("02_create_constraint", "users", { email: "bob@xata.io", id: "1" }, UNIQUE);
    },
  },
]);

// ---- op_create_table_test.go --------------------------------------------------------------
const EXCLUSION = "23P01";
const deleteThrough = async (
  c: Ctx,
  version: string,
  table: string,
  where: Record<string, string>,
) => {
  const [[column, value]] = Object.entries(where) as [[string, string]];
  await inSchema(
    c.db.url,
    `${S}_${version}`,
    (sql) => sql`delete from ${sql(table)} where ${sql(column)} = ${value}`,
  );
};
const sqlstate = (p: Promise<unknown>) => p.then(() => undefined, (e: { code?: string }) => e.code);
const fkAction = async (c: Ctx, table: string, name: string) => {
  const [row] = await c.sql`
    select confdeltype as del, confupdtype as upd, convalidated as valid, condeferrable as deferrable,
           condeferred as deferred
      from pg_constraint where conrelid = ${`"${S}"."${table}"`}::regclass and conname = ${name}`;
  return row ? { ...row } : undefined;
};
const usersUniqueName01: Migration = {
  name: "01_create_table",
  operations: [
    createTable("users", [
      col("id", "serial", { pk: true }),
      col("name", "varchar(255)", { unique: true }),
    ]),
  ],
};
const ordersWithFk = (reference: object): Migration => ({
  name: "02_create_table_with_fk",
  operations: [createTable("orders", [
    col("id", "serial", { pk: true }),
    col("user_id", "integer", {
      references: { column: "id", name: "fk_users_id", table: "users", ...reference },
    }),
    col("quantity", "integer"),
  ])],
});
const ordersFkCase = (name: string, reference: object, del: string, upd: string): Case => {
  const cascade = del === "c";
  const checks = async (c: Ctx, user: string, ok: string, bad: string, version: string) => {
    expect(await fkAction(c, "orders", "fk_users_id")).toMatchObject({ del, upd, valid: true });
    await c.insert(version, "users", { name: user });
    await c.insert("02_create_table_with_fk", "orders", { user_id: ok, quantity: `${ok}00` });
    await c.notInsert(
      "02_create_table_with_fk",
      "orders",
      { user_id: bad, quantity: `${bad}00` },
      FK,
    );
    const deleted = sqlstate(deleteThrough(c, "02_create_table_with_fk", "users", { name: user }));
    expect(await deleted).toBe(cascade ? undefined : FK);
    if (cascade) expect(await c.select("02_create_table_with_fk", "orders")).toEqual([]);
  };
  return {
    name,
    migrations: [usersUniqueName01, ordersWithFk(reference)],
    afterStart: (c) => checks(c, "alice", "1", "2", "01_create_table"),
    afterComplete: (c) => checks(c, "bob", "2", "3", "02_create_table_with_fk"),
  };
};
const checkedUsers = (
  name: string,
  columnExtra: object,
  extra: object,
  expectation: (c: Ctx) => Promise<void>,
) => ({
  name,
  migrations: [{
    name: "01_create_table",
    operations: [
      createTable(
        "users",
        [col("id", "serial", { pk: true }), col("name", "text", columnExtra)],
        extra,
      ),
    ],
  }],
  afterStart: async (c: Ctx) => {
    await expectation(c);
    await c.insert("01_create_table", "users", { name: "alice" });
    await c.notInsert("01_create_table", "users", { name: "b" }, CHECK);
  },
  afterComplete: async (c: Ctx) => {
    await expectation(c);
    await c.insert("01_create_table", "users", { name: "bobby" });
    await c.notInsert("01_create_table", "users", { name: "c" }, CHECK);
  },
});
const ownersTable = (pk: string[]): Migration => ({
  name: "01_create_referenced_table",
  operations: [createTable("owners", [col("id", "int"), col("name", "text"), col("city", "text")], {
    constraints: [{ name: "pk_owners", type: "primary_key", columns: pk }],
  })],
});
const table1 = (
  extra: object,
  columns: object[] = [
    col("id", "serial", { pk: true }),
    col("name", "varchar(255)", { unique: true }),
  ],
) => ({
  name: "01_create_table",
  operations: [createTable("table1", columns, extra)],
});
replayAll("create_table", [
  {
    name: "create table",
    migrations: [usersUniqueName01],
    afterStart: async (c) => {
      expect(await c.view("01_create_table", "users")).toBe(true);
      await c.insert("01_create_table", "users", { name: "Alice" });
      expect(await c.select("01_create_table", "users")).toEqual([{ id: 1, name: "Alice" }]);
    },
    afterRollback: async (c) => expect(await c.table("users")).toBe(false),
    afterComplete: async (c) => {
      expect(await c.view("01_create_table", "users")).toBe(true);
      await c.insert("01_create_table", "users", { name: "Alice" });
      expect(await c.select("01_create_table", "users")).toEqual([{ id: 1, name: "Alice" }]);
    },
  },
  {
    name: "create table with composite key",
    migrations: [{
      name: "01_create_table",
      operations: [createTable("users", [
        col("id", "serial", { pk: true }),
        col("rand", "varchar(255)", { pk: true }),
        col("name", "varchar(255)", { unique: true }),
      ])],
    }],
    afterStart: async (c) => {
      await c.insert("01_create_table", "users", { rand: "123", name: "Alice" });
      await c.notInsert(
        "01_create_table",
        "users",
        { id: "1", rand: "123", name: "Malice" },
        UNIQUE,
      );
      expect(await c.select("01_create_table", "users")).toEqual([{
        id: 1,
        rand: "123",
        name: "Alice",
      }]);
    },
    afterRollback: async (c) => expect(await c.table("users")).toBe(false),
    afterComplete: async (c) => {
      const [pk] = await c
        .sql`select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = ${`"${S}".users`}::regclass and contype = 'p'`;
      expect(pk!.def).toBe("PRIMARY KEY (id, rand)");
      await c.insert("01_create_table", "users", { rand: "123", name: "Alice" });
      await c.notInsert(
        "01_create_table",
        "users",
        { id: "1", rand: "123", name: "Malice" },
        UNIQUE,
      );
      expect(await c.select("01_create_table", "users")).toEqual([{
        id: 1,
        rand: "123",
        name: "Alice",
      }]);
    },
  },
  ordersFkCase("create table with foreign key with default ON DELETE NO ACTION", {}, "a", "a"),
  ordersFkCase(
    "create table with foreign key with ON DELETE CASCADE",
    { on_delete: "CASCADE" },
    "c",
    "a",
  ),
  ordersFkCase(
    "create table with foreign key with default ON UPDATE and ON UPDATE CASADE",
    { on_delete: "CASCADE", on_update: "CASCADE" },
    "c",
    "c",
  ),
  checkedUsers(
    "create table with a check constraint on column",
    { check: { name: "check_name_length", constraint: "length(name) > 3", no_inherit: true } },
    {},
    async (c) => {
      const [row] = await c
        .sql`select connoinherit from pg_constraint where conname = 'check_name_length'`;
      expect(row!.connoinherit).toBe(true);
    },
  ),
  checkedUsers(
    "create table with a table check constraint",
    {},
    { constraints: [{ name: "check_name_length", type: "check", check: "length(name) > 3" }] },
    async (c) => expect(await c.constraints("users", "c")).toEqual(["check_name_length"]),
  ),
  {
    name: "create table with column and table comments",
    migrations: [{
      name: "01_create_table",
      operations: [createTable("users", [
        col("id", "serial", { pk: true }),
        col("name", "varchar(255)", { unique: true, comment: "the username" }),
      ], { comment: "the users table" })],
    }],
    afterStart: async (c) => {
      expect(await c.comment("users")).toBe("the users table");
      expect(await c.comment("users", "name")).toBe("the username");
    },
    afterComplete: async (c) => {
      expect(await c.comment("users")).toBe("the users table");
      expect(await c.comment("users", "name")).toBe("the username");
    },
  },
  {
    name: "create table with a unique table constraint",
    migrations: [{
      name: "01_create_table",
      operations: [createTable("users", [col("id", "serial", { pk: true }), col("name", "text")], {
        constraints: [{ name: "unique_name", type: "unique", columns: ["name"] }],
      })],
    }],
    afterStart: async (c) => {
      expect(await c.constraints("users", "u")).toEqual(["unique_name"]);
      await c.insert("01_create_table", "users", { name: "alice" });
      await c.notInsert("01_create_table", "users", { name: "alice" }, UNIQUE);
    },
    afterComplete: async (c) => {
      expect(await c.constraints("users", "u")).toEqual(["unique_name"]);
      await c.insert("01_create_table", "users", { name: "bobby" });
      await c.notInsert("01_create_table", "users", { name: "bobby" }, UNIQUE);
    },
  },
  {
    name: "create table with composite primary key and migrate it to test backfilling",
    migrations: [
      {
        name: "01_create_table",
        operations: [createTable("users", [
          col("id", "uuid", { pk: true }),
          col("name", "text", { pk: true }),
          col("city", "text", { nullable: true }),
        ])],
      },
      createConstraint({
        name: "nowhere_forbidden",
        table: "users",
        columns: ["city"],
        type: "check",
        check: "city != 'nowhere'",
        up: { city: "'chicago'" },
        down: same("city"),
      }, "02_add_constraint"),
    ],
    afterStart: async (c) => {
      const id = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;
      await c.insert("01_create_table", "users", { id: id(1), name: "alice", city: "new york" });
      await c.insert("01_create_table", "users", { id: id(2), name: "bob", city: "new york" });
      await c.insert("01_create_table", "users", { id: id(3), name: "carol" });
      expect(await c.select("01_create_table", "users")).toEqual([
        { id: id(1), name: "alice", city: "new york" },
        { id: id(2), name: "bob", city: "new york" },
        { id: id(3), name: "carol", city: null },
      ]);
    },
    afterComplete: async (c) => {
      const id = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;
      expect(await c.select("02_add_constraint", "users")).toEqual([
        { id: id(1), name: "alice", city: "chicago" },
        { id: id(2), name: "bob", city: "chicago" },
        { id: id(3), name: "carol", city: "chicago" },
      ]);
    },
  },
  {
    name: "create table with primary key constraint",
    migrations: [{
      name: "01_create_table",
      operations: [createTable("users", [col("id", "int"), col("name", "text")], {
        constraints: [{ name: "pk_users", type: "primary_key", columns: ["id"] }],
      })],
    }],
    afterStart: async (c) => {
      expect(await c.constraints("users", "p")).toEqual(["pk_users"]);
      await c.insert("01_create_table", "users", { id: "1", name: "alice" });
      await c.notInsert("01_create_table", "users", { id: "1", name: "b" }, UNIQUE);
    },
    afterComplete: async (c) => {
      expect(await c.constraints("users", "p")).toEqual(["pk_users"]);
      await c.insert("01_create_table", "users", { id: "2", name: "bobby" });
      await c.notInsert("01_create_table", "users", { id: "2", name: "c" }, UNIQUE);
    },
  },
  {
    name: "create table with foreign key constraint",
    migrations: [ownersTable(["id"]), {
      name: "02_create_referencing_table",
      operations: [
        createTable("pets", [col("id", "int"), col("owner_id", "int"), col("name", "text")], {
          constraints: [{
            name: "fk_owners",
            type: "foreign_key",
            columns: ["owner_id"],
            references: { table: "owners", columns: ["id"], on_delete: "CASCADE" },
          }],
        }),
      ],
    }],
    afterStart: async (c) => {
      expect(await fkAction(c, "pets", "fk_owners")).toMatchObject({
        deferrable: false,
        deferred: false,
      });
      await c.insert("01_create_referenced_table", "owners", {
        id: "1",
        name: "alice",
        city: "new york",
      });
      await c.insert("02_create_referencing_table", "pets", {
        id: "1",
        owner_id: "1",
        name: "good boy",
      });
      await c.notInsert("02_create_referencing_table", "pets", {
        id: "1",
        owner_id: "0",
        name: "spider pig",
      }, FK);
    },
    afterComplete: async (c) => {
      expect(await fkAction(c, "pets", "fk_owners")).toMatchObject({
        deferrable: false,
        deferred: false,
      });
      await c.insert("02_create_referencing_table", "pets", {
        id: "1",
        owner_id: "1",
        name: "cutie pie",
      });
      await c.notInsert("02_create_referencing_table", "pets", {
        id: "2",
        owner_id: "0",
        name: "bobby",
      }, FK);
      await deleteThrough(c, "02_create_referencing_table", "owners", { id: "1" });
      expect(await c.select("02_create_referencing_table", "pets")).toEqual([]);
    },
  },
  {
    name: "create table with multi-column foreign key constraint",
    minPg: 15, // ON DELETE SET DEFAULT (columns)
    migrations: [ownersTable(["id", "city"]), {
      name: "02_create_referencing_table",
      operations: [createTable("pets", [
        col("id", "int", { pk: true }),
        col("owner_id", "int", { nullable: true }),
        col("owner_city_id", "text", { default: "'chicago'" }),
        col("name", "text"),
      ], {
        constraints: [{
          name: "fk_owners",
          type: "foreign_key",
          columns: ["owner_id", "owner_city_id"],
          deferrable: true,
          references: {
            table: "owners",
            columns: ["id", "city"],
            on_delete: "SET DEFAULT",
            on_delete_set_columns: ["owner_id", "owner_city_id"],
          },
        }],
      })],
    }],
    afterStart: async (c) => {
      expect(await fkAction(c, "pets", "fk_owners")).toMatchObject({
        deferrable: true,
        deferred: false,
      });
      await c.insert("01_create_referenced_table", "owners", {
        id: "1",
        name: "alice",
        city: "new york",
      });
      await c.insert("02_create_referencing_table", "pets", {
        id: "1",
        owner_id: "1",
        owner_city_id: "new york",
        name: "good boy",
      });
      await c.notInsert(
        "02_create_referencing_table",
        "pets",
        { id: "2", owner_id: "0", owner_city_id: "sacramento", name: "spider pig" },
        FK,
      );
    },
    afterComplete: async (c) => {
      expect(await fkAction(c, "pets", "fk_owners")).toMatchObject({
        deferrable: true,
        deferred: false,
      });
      await c.insert("02_create_referencing_table", "pets", {
        id: "1",
        owner_id: "1",
        owner_city_id: "new york",
        name: "cutie pie",
      });
      await c.notInsert(
        "02_create_referencing_table",
        "pets",
        { id: "2", owner_id: "0", owner_city_id: "sacramento", name: "bobby" },
        FK,
      );
      await deleteThrough(c, "02_create_referencing_table", "owners", { id: "1" });
      expect(await c.select("02_create_referencing_table", "pets")).toEqual([
        { id: 1, owner_id: null, owner_city_id: "chicago", name: "cutie pie" },
      ]);
    },
  },
  {
    name: "create table with a simple exclude constraint mimicking unique constraint",
    migrations: [{
      name: "01_create_table",
      operations: [createTable("users", [col("id", "int"), col("name", "text")], {
        constraints: [{
          name: "exclude_id",
          type: "exclude",
          exclude: { index_method: "btree", elements: "id WITH =" },
        }],
      })],
    }],
    afterStart: async (c) => {
      expect(await c.constraints("users", "x")).toEqual(["exclude_id"]);
      await c.insert("01_create_table", "users", { id: "1", name: "alice" });
      await c.notInsert("01_create_table", "users", { id: "1", name: "b" }, EXCLUSION);
    },
    afterComplete: async (c) => {
      expect(await c.constraints("users", "x")).toEqual(["exclude_id"]);
      await c.insert("01_create_table", "users", { id: "1", name: "alice" });
      await c.notInsert("01_create_table", "users", { id: "1", name: "b" }, EXCLUSION);
    },
  },
  {
    name: "create table with a generated column doesn't break subsequent migrations",
    migrations: [
      {
        name: "01_create_table",
        operations: [createTable("users", [
          col("id", "int"),
          col("name", "text"),
          col("loud_name", "text", { generated: { expression: "UPPER(name)" } }),
        ])],
      },
      { name: "02_no_op", operations: [{ sql: { up: "SELECT 1" } }] },
    ],
    afterStart: async (c) => {
      await c.insert("01_create_table", "users", { id: "1", name: "alice" });
      await c.insert("02_no_op", "users", { id: "2", name: "bob" });
      expect(await c.select("01_create_table", "users")).toEqual([
        { id: 1, name: "alice", loud_name: "ALICE" },
        { id: 2, name: "bob", loud_name: "BOB" },
      ]);
    },
    afterComplete: async (c) => {
      await c.insert("02_no_op", "users", { id: "3", name: "carl" });
      expect(await c.select("02_no_op", "users")).toEqual([
        { id: 1, name: "alice", loud_name: "ALICE" },
        { id: 2, name: "bob", loud_name: "BOB" },
        { id: 3, name: "carl", loud_name: "CARL" },
      ]);
    },
  },
  {
    name: "foreign key validity",
    migrations: [
      usersUniqueName01,
      ordersWithFk({ name: "fk_users_doesntexist", column: "doesntexist" }),
    ],
    startErr: /doesntexist/,
  },
  {
    name: "invalid name",
    migrations: [{
      name: "01_create_table",
      operations: [createTable(long, [col("id", "serial", { pk: true })])],
    }],
    startErr: /x{64}/,
  },
  {
    name: "column definition missing a name",
    migrations: [table1({}, [col("id", "serial", { pk: true }), { type: "varchar(255)" }])],
    startErr: /name/,
  },
  {
    name: "column definition missing a type",
    migrations: [table1({}, [col("id", "serial", { pk: true }), { name: "name" }])],
    startErr: /type/,
  },
  {
    name: "invalid column name",
    migrations: [
      table1({}, [col("id", "serial", { pk: true }), col(long, "varchar(255)", { unique: true })]),
    ],
    startErr: /x{64}/,
  },
  {
    name: "missing column list in unique constraint",
    migrations: [table1({ constraints: [{ name: "unique_name", type: "unique" }] })],
    startErr: /columns/,
  },
  {
    name: "check constraint missing expression",
    migrations: [table1({ constraints: [{ name: "check_name", type: "check" }] })],
    startErr: /check/,
  },
  {
    name: "multiple primary key definitions",
    migrations: [
      table1({ constraints: [{ name: "my_pk", type: "primary_key", columns: ["id"] }] }),
    ],
    startErr: /primary key/,
  },
  {
    name: "create table with a name matching a name used in a previous operation",
    migrations: [
      createItems,
      multi(
        { rename_table: { from: "items", to: "products" } },
        createTable("products", [col("id", "serial", { pk: true })]),
      ),
    ],
    startErr: /products/,
  },
]);
