/**
 * A table-driven replay of pgroll's operation test driver through our CLI: each case gets a fresh
 * database; all migrations but the last are started and completed; the last is started (or must
 * be refused without changing anything), then afterStart → rollback → afterRollback → start →
 * complete → afterComplete. The assertions read the catalog or write through a version schema
 * (`public_<migration>`), the observable behaviour pgroll's own tests check.
 *
 * ```ts
 * replayCases([{ name: "add a column", migrations: [...], afterStart: async (p) => {
 *   await p.mustInsert("02_add_column", "users", { name: "alice" });
 * } }]);
 * ```
 */
import { expect, test } from "bun:test";
import process from "node:process";
import postgres from "postgres";
import { dumpSchema, leftovers } from "./catalog.ts";
import { cliOk, migrationFile } from "./cli.ts";
import { serverVersion, type TestDatabase, testDatabase } from "./postgres.ts";
import { expectCliRejected } from "./reject.ts";

/** SQLSTATEs the replayed cases expect writes to fail with. */
export const sqlstate = {
  notNull: "23502",
  check: "23514",
  fk: "23503",
  unique: "23505",
  numericOutOfRange: "22003",
  undefinedTable: "42P01",
} as const;

/** One migration as pgroll's JSON format has it; `name` becomes the file name. */
export interface ReplayMigration {
  name: string;
  version_schema?: string;
  operations: object[];
}

function document(m: ReplayMigration): object {
  return m.version_schema === undefined
    ? { operations: m.operations }
    : { version_schema: m.version_schema, operations: m.operations };
}

export interface ReplayCase {
  name: string;
  minPgMajorVersion?: number;
  migrations: ReplayMigration[];
  /** The last migration must be refused at start (exit 1, one line, database unchanged). */
  wantStartErr?: boolean | RegExp;
  afterStart?: (p: Replay) => Promise<void>;
  afterRollback?: (p: Replay) => Promise<void>;
  afterComplete?: (p: Replay) => Promise<void>;
}

type Row = Record<string, unknown>;
type Rec = Record<string, string>;

/** The schema migrated: PGTANDEM_REPLAY_SCHEMA, like pgroll's PGROLL_TEST_SCHEMA; default public. */
const schema = process.env.PGTANDEM_REPLAY_SCHEMA || "public";
const version = (v: string) => `${schema}_${v}`;
const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const lit = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The name pgroll gives the new copy of a column while a migration is active. */
export const temporaryName = (column: string) => `_pgroll_new_${column}`;

/** The name of the copy of a constraint or index that belongs to a temporary column. */
export const duplicationName = (name: string) => `_pgroll_dup_${name}`;

/** The name of the sync trigger (and of its function) that writes `column` of `table`. */
export const syncTriggerName = (table: string, column: string) =>
  `_pgroll_trigger_${table}_${column}`;

/** Assertions bound to one case's database, named after pgroll's helpers. */
export class Replay {
  constructor(readonly db: TestDatabase, private readonly sql: postgres.Sql) {}

  /** Writes run with search_path set to the version, as a client of that version does. */
  private async useVersion(v: string) {
    await this.sql.unsafe(`SET search_path = ${q(version(v))}`);
  }

  async mustInsert(v: string, table: string, record: Rec) {
    await this.useVersion(v);
    await this.sql.unsafe(insertSql(v, table, record));
  }

  async mustNotInsert(v: string, table: string, record: Rec, code: string) {
    await this.useVersion(v);
    const error = await this.sql.unsafe(insertSql(v, table, record)).then(() => null, (e) => e);
    expect(error, `insert into ${version(v)}.${table} must fail with ${code}`).not.toBeNull();
    expect((error as { code?: string }).code).toBe(code);
  }

  async mustUpdate(v: string, table: string, column: string, value: string, record: Rec) {
    await this.useVersion(v);
    const set = Object.keys(record).sort().map((c) => `${c}=${record[c]}`).join(", ");
    await this.sql.unsafe(
      `UPDATE ${q(version(v))}.${q(table)} SET ${set} WHERE ${column}=${value}`,
    );
  }

  async mustDelete(v: string, table: string, record: Rec) {
    await this.sql.unsafe(deleteSql(v, table, record));
  }

  async mustNotDelete(v: string, table: string, record: Rec, code: string) {
    const error = await this.sql.unsafe(deleteSql(v, table, record)).then(() => null, (e) => e);
    expect(error, `delete from ${version(v)}.${table} must fail with ${code}`).not.toBeNull();
    expect((error as { code?: string }).code).toBe(code);
  }

  /** All rows of a table through a version schema. */
  async mustSelect(v: string, table: string): Promise<Row[]> {
    const rows = await this.sql.unsafe(`SELECT * FROM ${q(version(v))}.${q(table)}`);
    return rows.map((r) => ({ ...r }));
  }

  /** Exact equality, row order included, as pgroll's assert.Equal on a plain SELECT. */
  equal(expected: unknown, actual: unknown) {
    expect(actual).toEqual(expected);
  }

  async viewMustExist(v: string, view: string) {
    expect(
      await this.exists(`select 1 from pg_views where schemaname = $1 and viewname = $2`, [
        version(v),
        view,
      ]),
      `view ${version(v)}.${view}`,
    ).toBe(true);
  }

  async tableMustExist(table: string) {
    expect(await this.tableExists(table), `table ${table} must exist`).toBe(true);
  }

  async tableMustNotExist(table: string) {
    expect(await this.tableExists(table), `table ${table} must not exist`).toBe(false);
  }

  async columnMustExist(table: string, column: string) {
    expect(await this.columnExists(table, column), `column ${table}.${column} must exist`).toBe(
      true,
    );
  }

  async columnMustNotExist(table: string, column: string) {
    expect(await this.columnExists(table, column), `column ${table}.${column} must not exist`).toBe(
      false,
    );
  }

  async columnMustHaveType(table: string, column: string, type: string) {
    const [row] = await this.sql.unsafe(
      `select data_type from information_schema.columns
        where table_schema = $1 and table_name = $2 and column_name = $3`,
      [schema, table, column],
    );
    expect(row?.data_type, `type of ${table}.${column}`).toBe(type);
  }

  /** The type of a column of a version schema's view. */
  async viewColumnMustHaveType(v: string, view: string, column: string, type: string) {
    const [row] = await this.sql.unsafe(
      `select data_type from information_schema.columns
        where table_schema = $1 and table_name = $2 and column_name = $3`,
      [version(v), view, column],
    );
    expect(row?.data_type, `type of ${version(v)}.${view}.${column}`).toBe(type);
  }

  async columnMustHaveComment(table: string, column: string, comment: string | null) {
    const [row] = await this.sql.unsafe(
      `select col_description(c.oid, a.attnum) as comment from pg_attribute a
         join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2 and a.attname = $3`,
      [schema, table, column],
    );
    expect(row?.comment ?? null, `comment of ${table}.${column}`).toBe(comment);
  }

  async columnMustNotHaveComment(table: string, column: string) {
    await this.columnMustHaveComment(table, column, null);
  }

  async columnMustHaveDefault(table: string, column: string, value: string | null) {
    const [row] = await this.sql.unsafe(
      `select column_default from information_schema.columns
        where table_schema = $1 and table_name = $2 and column_name = $3`,
      [schema, table, column],
    );
    expect(row?.column_default ?? null, `default of ${table}.${column}`).toBe(value);
  }

  async columnMustBePK(table: string, column: string) {
    expect(
      await this.exists(
        `select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
          where i.indrelid = $1::regclass and i.indisprimary and a.attname = $2`,
        [`${q(schema)}.${q(table)}`, column],
      ),
      `${table}.${column} must be the primary key`,
    ).toBe(true);
  }

  async tableMustHaveColumnCount(table: string, n: number) {
    const [row] = await this.sql.unsafe(
      `select count(*)::int as n from information_schema.columns where table_schema = $1 and table_name = $2`,
      [schema, table],
    );
    expect(row?.n, `column count of ${table}`).toBe(n);
  }

  async functionMustNotExist(name: string) {
    expect(
      await this.exists(
        `select 1 from pg_proc where proname = $1 and pronamespace = $2::regnamespace`,
        [
          name,
          schema,
        ],
      ),
      `function ${name} must not exist`,
    ).toBe(false);
  }

  async triggerMustNotExist(table: string, name: string) {
    expect(
      await this.exists(`select 1 from pg_trigger where tgrelid = $1::regclass and tgname = $2`, [
        `${q(schema)}.${q(table)}`,
        name,
      ]),
      `trigger ${name} must not exist`,
    ).toBe(false);
  }

  async checkConstraintMustExist(table: string, name: string) {
    expect(await this.constraint(table, name, "c", "and not connoinherit"), `check ${name}`).toBe(
      true,
    );
  }

  async notInheritableCheckConstraintMustExist(table: string, name: string) {
    expect(await this.constraint(table, name, "c", "and connoinherit"), `check ${name}`).toBe(true);
  }

  async checkConstraintMustNotExist(table: string, name: string) {
    expect(await this.constraint(table, name, "c", "and not connoinherit"), `no check ${name}`)
      .toBe(
        false,
      );
  }

  async uniqueConstraintMustExist(table: string, name: string) {
    expect(await this.constraint(table, name, "u"), `unique ${name}`).toBe(true);
  }

  async primaryKeyConstraintMustExist(table: string, name: string) {
    expect(await this.constraint(table, name, "p"), `primary key ${name}`).toBe(true);
  }

  async validatedForeignKeyMustExist(table: string, name: string, onDelete = "a", onUpdate = "a") {
    const extra =
      `and convalidated and confdeltype = '${onDelete}' and confupdtype = '${onUpdate}'`;
    expect(await this.constraint(table, name, "f", extra), `validated foreign key ${name}`).toBe(
      true,
    );
  }

  async notValidatedForeignKeyMustExist(
    table: string,
    name: string,
    onDelete = "a",
    onUpdate = "a",
  ) {
    const extra =
      `and not convalidated and confdeltype = '${onDelete}' and confupdtype = '${onUpdate}'`;
    expect(await this.constraint(table, name, "f", extra), `not validated foreign key ${name}`)
      .toBe(
        true,
      );
  }

  async validatedForeignKeyMustExistWithReferentialAction(
    table: string,
    name: string,
    onDelete: string,
    onUpdate: string,
  ) {
    await this.validatedForeignKeyMustExist(table, name, action(onDelete), action(onUpdate));
  }

  async notValidatedForeignKeyMustExistWithReferentialAction(
    table: string,
    name: string,
    onDelete: string,
    onUpdate: string,
  ) {
    await this.notValidatedForeignKeyMustExist(table, name, action(onDelete), action(onUpdate));
  }

  /** No temporary column, trigger, function or backfill marker left for `columns` of `table`. */
  async tableMustBeCleanedUp(table: string, ...columns: string[]) {
    for (const column of columns) {
      await this.columnMustNotExist(table, temporaryName(column));
      await this.columnMustNotExist(table, "_pgroll_needs_backfill");
      for (const c of [column, temporaryName(column)]) {
        await this.functionMustNotExist(syncTriggerName(table, c));
        await this.triggerMustNotExist(table, syncTriggerName(table, c));
      }
    }
  }

  private async constraint(table: string, name: string, type: string, extra = "") {
    return await this.exists(
      `select 1 from pg_constraint where conrelid = $1::regclass and conname = $2 and contype = $3 ${extra}`,
      [`${q(schema)}.${q(table)}`, name, type],
    );
  }

  private async tableExists(table: string) {
    return await this.exists(`select 1 from pg_tables where schemaname = $1 and tablename = $2`, [
      schema,
      table,
    ]);
  }

  private async columnExists(table: string, column: string) {
    return await this.exists(
      `select 1 from information_schema.columns where table_schema = $1 and table_name = $2 and column_name = $3`,
      [schema, table, column],
    );
  }

  private async exists(query: string, params: string[]) {
    return (await this.sql.unsafe(query, params)).length > 0;
  }
}

/** pg_constraint's letter for a referential action. */
function action(name: string): string {
  return {
    "NO ACTION": "a",
    RESTRICT: "r",
    "SET NULL": "n",
    "SET DEFAULT": "d",
    CASCADE: "c",
  }[name] ?? "a";
}

function insertSql(v: string, table: string, record: Rec) {
  const cols = Object.keys(record).sort();
  const values = cols.map((c) => (record[c] === "NULL" ? "NULL" : lit(record[c]!)));
  return `INSERT INTO ${q(version(v))}.${q(table)} (${cols.join(", ")}) VALUES (${
    values.join(", ")
  })`;
}

function deleteSql(v: string, table: string, record: Rec) {
  const where = Object.keys(record).sort().map((c) => `${c} = ${lit(record[c]!)}`).join(" AND ");
  return `DELETE FROM ${q(version(v))}.${q(table)} WHERE ${where}`;
}

/** Registers one bun test per case; each runs in a database of its own. */
export function replayCases(cases: ReplayCase[]) {
  for (const c of cases) {
    test(c.name, async () => {
      if (c.minPgMajorVersion && (await serverVersion()) < c.minPgMajorVersion) return;
      const db = await testDatabase();
      // int8 as a number, as pgroll's tests see it, and one connection so no search_path leaks.
      const sql = postgres(db.url, {
        max: 1,
        onnotice: () => {},
        types: {
          bigint: {
            to: 20,
            from: [20],
            serialize: (x: number) => String(x),
            parse: (x: string) => Number(x),
          },
        },
      });
      try {
        await runCase(db, new Replay(db, sql), c);
      } finally {
        await sql.end({ timeout: 5 });
        await db.drop();
      }
    }, 120_000);
  }
}

async function runCase(db: TestDatabase, p: Replay, c: ReplayCase) {
  await cliOk(db.url, ["init"]);
  if (schema !== "public") await db.sql.unsafe(`create schema ${q(schema)}`);
  const on = ["--schema", schema];
  for (const m of c.migrations.slice(0, -1)) {
    const file = await migrationFile(`${m.name}.json`, document(m));
    await cliOk(db.url, ["start", file, "--complete", ...on]);
  }
  const last = c.migrations.at(-1)!;
  if (c.wantStartErr) {
    const pattern = c.wantStartErr === true ? /./ : c.wantStartErr;
    const file = await migrationFile(`${last.name}.json`, document(last));
    await expectCliRejected(db, ["start", file, ...on], pattern);
    return;
  }
  const file = await migrationFile(`${last.name}.json`, document(last));
  const before = await dumpSchema(db.sql, schema);
  await cliOk(db.url, ["start", file, ...on]);
  await c.afterStart?.(p);
  await cliOk(db.url, ["rollback", ...on]);
  // Beyond pgroll's checks: rollback leaves the schema exactly as it was.
  expect(await dumpSchema(db.sql, schema)).toEqual(before);
  await c.afterRollback?.(p);
  await cliOk(db.url, ["start", file, ...on]);
  await cliOk(db.url, ["complete", ...on]);
  // Beyond pgroll's checks: no temporary column, trigger, function or constraint anywhere.
  expect(await leftovers(db.sql, schema)).toEqual([]);
  await c.afterComplete?.(p);
}
