/**
 * Table references that carry their column names in the type, so builders that name a table's
 * columns (indexes, constraints, alter/drop/rename column, foreign keys) are checked by the
 * compiler. A table created in the same migration is its own reference (`createTable` returns one);
 * a table from an earlier migration is declared with `table("users", ["id", "email"])`. A plain
 * string works everywhere a reference does, with column names then unchecked.
 */
import { misuse, requireName } from "./internal.ts";

const TABLE_BRAND: unique symbol = Symbol.for("pgtandem.dsl.table");
/** Type-only key carrying the column names; never present at run time. */
declare const COLUMNS: unique symbol;

/** What a table reference knows at run time. */
export interface TableInfo {
  readonly name: string;
  /** The declared columns, or undefined when they were not declared (any name is accepted). */
  readonly columns: readonly string[] | undefined;
}

/** A table and, in its type, the names of its columns. */
export interface TableRef<C extends string = string> {
  readonly [TABLE_BRAND]: TableInfo;
  /** The table's name. */
  readonly name: string;
  readonly [COLUMNS]?: C;
}

/** A table given by reference (column names checked) or by name (unchecked). */
export type TableLike<C extends string = string> = string | TableRef<C>;

/** The column names a table argument allows: the reference's, or any string for a plain name. */
export type ColumnOf<T> = T extends TableRef<infer C> ? C : string;

/**
 * Declares a table that exists already (made by an earlier migration), so later builders check
 * the columns they name: `const users = table("users", ["id", "email", "name"])`.
 * Without `columns` the reference only names the table.
 */
export function table<const C extends string = string>(
  name: string,
  columns?: readonly C[],
): TableRef<C> {
  requireName(name, "table name");
  columns?.forEach((c) => requireName(c, `column name of table "${name}"`));
  return tableRef(name, columns);
}

/** Makes the run-time part of a reference; `createTable` builders mix it in too. */
export function tableRef<C extends string>(
  name: string,
  columns: readonly string[] | undefined,
): TableRef<C> {
  const info: TableInfo = Object.freeze({
    name,
    columns: columns === undefined ? undefined : Object.freeze([...columns]),
  });
  return Object.freeze({ [TABLE_BRAND]: info, name }) as TableRef<C>;
}

/** The brand key, for classes that are table references themselves. */
export const TABLE_REF: typeof TABLE_BRAND = TABLE_BRAND;

/** The run-time info of a table argument (plain name or reference by any copy of the module). */
export function tableInfo(value: unknown): TableInfo {
  if (typeof value === "string") {
    requireName(value, "table name");
    return { name: value, columns: undefined };
  }
  const info = typeof value === "object" && value !== null
    ? (value as Record<PropertyKey, unknown>)[TABLE_BRAND] as TableInfo | undefined
    : undefined;
  if (!info || typeof info.name !== "string") {
    throw misuse(
      `expected a table name or a table reference, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return info;
}

/**
 * Throws when a reference declares its columns and `names` has one it lacks: the types catch
 * this already, the check is for JavaScript callers and casts.
 */
export function checkColumns(info: TableInfo, names: readonly string[], what: string): void {
  for (const name of names) {
    requireName(name, `${what}: column name`);
    if (info.columns && !info.columns.includes(name)) {
      throw misuse(
        `${what}: table "${info.name}" has no column "${name}" (its columns: ${
          info.columns.join(", ")
        })`,
      );
    }
  }
}
