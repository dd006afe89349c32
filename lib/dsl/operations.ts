/**
 * Builders for the operation kinds that take their settings in one call: tables (rename, drop),
 * columns (add, drop, rename), indexes, raw SQL and replica identity. `createTable`,
 * `alterColumn` and the constraint operations chain and live in their own files.
 */
import { addColumnParams } from "../migration/params/add_column.ts";
import { createIndexParams } from "../migration/params/create_index.ts";
import { dropColumnParams } from "../migration/params/drop_column.ts";
import { dropIndexParams } from "../migration/params/drop_index.ts";
import { dropTableParams } from "../migration/params/drop_table.ts";
import { renameColumnParams } from "../migration/params/rename_column.ts";
import { renameTableParams } from "../migration/params/rename_table.ts";
import { setReplicaIdentityParams } from "../migration/params/set_replica_identity.ts";
import { sqlParams } from "../migration/params/sql.ts";
import { type Column, columnData, type ColumnFlag, type ValueKind } from "./column.ts";
import {
  defined,
  misuse,
  type NonEmpty,
  requireName,
  type Spelling,
  type StorageParameters,
  storageParametersText,
} from "./internal.ts";
import { type Operation, simpleOperation } from "./operation.ts";
import { optionalSqlText, type SqlExpression, sqlText } from "./sql.ts";
import type { IndexMethod } from "./table.ts";
import { checkColumns, tableInfo, type TableLike } from "./table-ref.ts";

/** Renames a table: `renameTable("customers", "clients")`. */
export function renameTable(from: TableLike, to: string): Operation<"rename_table"> {
  return simpleOperation("rename_table", renameTableParams, {
    from: tableInfo(from).name,
    to: requireName(to, "new table name"),
  });
}

/** Drops a table: `dropTable("products")`. */
export function dropTable(table: TableLike): Operation<"drop_table"> {
  return simpleOperation("drop_table", dropTableParams, { name: tableInfo(table).name });
}

/** Flags that let existing rows get a value without `up`. */
type Fills = "nullable" | "default" | "filled";

/**
 * The options argument of `addColumn`: required, with `up`, when the column is NOT NULL and has no
 * default (existing rows need a value); optional otherwise.
 */
export type AddColumnArgs<F extends ColumnFlag> = [Extract<F, Fills>] extends [never]
  ? [options: { readonly up: SqlExpression }]
  : [options?: { readonly up?: SqlExpression }];

/**
 * Adds a column: `addColumn("users", "bio", t.text().nullable())`.
 *
 * A NOT NULL column without a default needs `up`, the value for existing rows (and for rows
 * written through the old version): `addColumn("products", "category", t.text(), { up: sql\`…\` })`.
 * Primary key and generated columns cannot be added; use `createConstraint(...).primaryKey`.
 */
export function addColumn<K extends ValueKind, F extends Exclude<ColumnFlag, "pk" | "generated">>(
  table: TableLike,
  name: string,
  column: Column<K, F>,
  ...options: AddColumnArgs<F>
): Operation<"add_column"> {
  const [settings] = options;
  return simpleOperation("add_column", addColumnParams, {
    table: tableInfo(table).name,
    column: columnData(name, column),
    ...defined({ up: optionalSqlText(settings?.up, `up of column "${name}"`) }),
  });
}

/**
 * Drops a column: `dropColumn("fruits", "price", { down: sql\`0\` })`. `down` fills the column for
 * rows written through the new version while the old version still reads it.
 */
export function dropColumn<C extends string>(
  table: TableLike<C>,
  column: NoInfer<C>,
  options: { readonly down?: SqlExpression } = {},
): Operation<"drop_column"> {
  const info = tableInfo(table);
  checkColumns(info, [column], "dropColumn");
  return simpleOperation("drop_column", dropColumnParams, {
    table: info.name,
    column,
    ...defined({ down: optionalSqlText(options.down, `down of column "${column}"`) }),
  });
}

/** Renames a column: `renameColumn("employees", "role", "job_title")`. */
export function renameColumn<C extends string>(
  table: TableLike<C>,
  from: NoInfer<C>,
  to: string,
): Operation<"rename_column"> {
  const info = tableInfo(table);
  checkColumns(info, [from], "renameColumn");
  return simpleOperation("rename_column", renameColumnParams, {
    table: info.name,
    from,
    to: requireName(to, "new column name"),
  });
}

/** One column of an index with its settings; a plain column name means all defaults. */
export interface IndexColumn<C extends string> {
  /** The column to index. */
  readonly column: C;
  /** `sort`: ASC (default) or DESC. */
  readonly sort?: Spelling<"ASC" | "DESC">;
  /** `nulls`: where NULLs sort. */
  readonly nulls?: Spelling<"FIRST" | "LAST">;
  /** `collate`: collation for this column in the index. */
  readonly collate?: string;
  /** `opclass`: operator class, by name (`"int8_ops"`) or with parameters. */
  readonly opclass?: string | { readonly name?: string; readonly params?: readonly string[] };
}

/** Settings of `createIndex`. */
export interface CreateIndexOptions {
  /** `method`: index access method; default btree. */
  readonly method?: IndexMethod;
  /** `unique`: make it a unique index. */
  readonly unique?: boolean;
  /** `predicate`: a partial index over the rows matching this expression. */
  readonly predicate?: SqlExpression;
  /** `storage_parameters`, e.g. `{ fillfactor: 70 }`. */
  readonly storageParameters?: StorageParameters;
}

/**
 * Creates an index (concurrently): `createIndex("idx_users_email", users, ["email"])`.
 * Columns are names, or objects with settings: `{ column: "created_at", sort: "DESC" }`.
 */
export function createIndex<C extends string>(
  name: string,
  table: TableLike<C>,
  columns: NonEmpty<NoInfer<C> | IndexColumn<NoInfer<C>>>,
  options: CreateIndexOptions = {},
): Operation<"create_index"> {
  requireName(name, "index name");
  const info = tableInfo(table);
  if (!Array.isArray(columns) || columns.length === 0) {
    throw misuse(`index "${name}" needs at least one column`);
  }
  const fields = columns.map((c: string | IndexColumn<string>) => {
    if (typeof c === "string") return { column: c };
    const opclass = typeof c.opclass === "string" ? { name: c.opclass } : c.opclass;
    return defined({
      column: c.column,
      collate: c.collate,
      sort: c.sort,
      nulls: c.nulls,
      opclass: opclass && defined({ name: opclass.name, params: opclass.params }),
    });
  });
  checkColumns(info, fields.map((f) => f.column), `index "${name}"`);
  return simpleOperation("create_index", createIndexParams, {
    name,
    table: info.name,
    columns: fields,
    ...defined({
      method: options.method,
      unique: options.unique,
      predicate: optionalSqlText(options.predicate, `predicate of index "${name}"`),
      storage_parameters: storageParametersText(options.storageParameters),
    }),
  });
}

/** Drops an index (concurrently): `dropIndex("idx_fruits_name")`. */
export function dropIndex(name: string): Operation<"drop_index"> {
  return simpleOperation("drop_index", dropIndexParams, { name: requireName(name, "index name") });
}

/**
 * Settings of `rawSql`: `down` undoes `up` on rollback; or `onComplete: true` runs `up` when the
 * migration completes, and then there is no `down` (SQL run at complete is never rolled back).
 */
export type RawSqlOptions =
  | { readonly down?: SqlExpression; readonly onComplete?: false }
  | { readonly onComplete: true; readonly down?: never };

/**
 * Runs raw SQL (pgroll's `sql` operation): `rawSql(sql\`CREATE TYPE …\`, { down: sql\`DROP TYPE …\` })`.
 * The schema is re-read afterwards; a `rawSql` that runs at start must be alone in its migration.
 */
export function rawSql(up: SqlExpression, options: RawSqlOptions = {}): Operation<"sql"> {
  return simpleOperation("sql", sqlParams, {
    up: sqlText(up, "up of raw SQL"),
    ...defined({
      down: optionalSqlText(options.down, "down of raw SQL"),
      onComplete: options.onComplete,
    }),
  });
}

/** A replica identity: NOTHING, DEFAULT, FULL, or INDEX with the unique index to use. */
export type ReplicaIdentity =
  | { readonly type: Spelling<"NOTHING" | "DEFAULT" | "FULL"> }
  | { readonly type: Spelling<"INDEX">; readonly index: string };

/**
 * Sets a table's replica identity:
 * `setReplicaIdentity("fruits", { type: "INDEX", index: "fruits_pkey" })`.
 * @deprecated pgroll deprecates this operation; prefer `rawSql` with ALTER TABLE … REPLICA IDENTITY.
 */
export function setReplicaIdentity(
  table: TableLike,
  identity: ReplicaIdentity,
): Operation<"set_replica_identity"> {
  return simpleOperation("set_replica_identity", setReplicaIdentityParams, {
    table: tableInfo(table).name,
    identity: defined({
      type: identity.type,
      index: "index" in identity ? identity.index : undefined,
    }),
  });
}
