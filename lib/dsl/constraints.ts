/**
 * Constraint operations on existing tables. `createConstraint` rewrites every column it covers
 * into a new column while both versions run, so it needs `up` and `down` SQL for each of them;
 * the types list exactly the columns given, no more, no fewer:
 *
 * ```ts
 * createConstraint(tickets, "unique_zip_name").unique(["sellers_name", "sellers_zip"], {
 *   up: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
 *   down: { sellers_name: sql`sellers_name`, sellers_zip: sql`sellers_zip` },
 * })
 * ```
 */
import { createConstraintParams } from "../migration/params/create_constraint.ts";
import { dropConstraintParams } from "../migration/params/drop_constraint.ts";
import { dropMulticolumnConstraintParams } from "../migration/params/drop_multicolumn_constraint.ts";
import { renameConstraintParams } from "../migration/params/rename_constraint.ts";
import { defined, misuse, type NonEmpty, requireName } from "./internal.ts";
import { type Operation, simpleOperation } from "./operation.ts";
import { type TableForeignKeyOptions, tableReference } from "./references.ts";
import { optionalSqlText, type SqlExpression, sqlText } from "./sql.ts";
import { checkColumns, type TableInfo, tableInfo, type TableLike } from "./table-ref.ts";
import type { ColumnIn, SchemaShape, TableIn, UntypedSchema } from "./folder-schema.ts";

/** One SQL expression for each of the columns `Cols`. */
export type PerColumn<Cols extends string> = { readonly [K in Cols]: SqlExpression };

/** `up` and `down` for each of the columns `Cols`. */
export interface ColumnConversions<Cols extends string> {
  /** Per column: the new column's value from the old one, satisfying the constraint. */
  readonly up: PerColumn<Cols>;
  /** Per column: the old column's value from the new one. */
  readonly down: PerColumn<Cols>;
}

/** The kinds of constraint `createConstraint` adds, on the columns `C` of its table. */
export interface CreateConstraint<C extends string, S extends SchemaShape = UntypedSchema> {
  /** A unique constraint over `columns`. */
  unique<const Cols extends NonEmpty<C>>(
    columns: Cols,
    convert: ColumnConversions<Cols[number]>,
  ): Operation<"create_constraint">;
  /** A primary key over `columns` (the table must not have one). */
  primaryKey<const Cols extends NonEmpty<C>>(
    columns: Cols,
    convert: ColumnConversions<Cols[number]>,
  ): Operation<"create_constraint">;
  /**
   * A check constraint; `columns` are the ones rewritten so existing rows satisfy it, each with
   * its `up` and `down`.
   */
  check<const Cols extends readonly C[]>(
    expression: SqlExpression,
    columns: Cols,
    ...options: [Cols[number]] extends [never] ? [options?: { readonly noInherit?: boolean }]
      : [options: ColumnConversions<Cols[number]> & { readonly noInherit?: boolean }]
  ): Operation<"create_constraint">;
  /** A foreign key from `columns` to `referencedColumns` of `table`, in order. */
  foreignKey<const Cols extends NonEmpty<C>, T extends TableIn<S>>(
    columns: Cols,
    table: T,
    referencedColumns: NonEmpty<NoInfer<ColumnIn<S, T>>>,
    options: ColumnConversions<Cols[number]> & TableForeignKeyOptions<Cols[number]>,
  ): Operation<"create_constraint">;
}

/**
 * Adds a named constraint to an existing table without blocking writes; pick its kind next:
 * `createConstraint(tickets, "fk_sellers").foreignKey([...], sellers, [...], { up, down })`.
 */
export function createConstraint<C extends string>(
  table: TableLike<C>,
  name: string,
): CreateConstraint<C> {
  const info = tableInfo(table);
  requireName(name, "constraint name");
  const build = (
    type: string,
    columns: readonly string[],
    convert: Partial<ColumnConversions<string>> | undefined,
    fields: Record<string, unknown> = {},
  ): Operation<"create_constraint"> => {
    checkColumns(info, columns, `constraint "${name}"`);
    const perColumn = (direction: "up" | "down") => {
      const given = (convert?.[direction] ?? {}) as Record<string, SqlExpression>;
      const out: Record<string, string> = {};
      for (const column of columns) {
        if (!(column in given)) {
          throw misuse(
            `constraint "${name}": "${direction}" needs an entry for column "${column}"`,
          );
        }
      }
      for (const [column, expression] of Object.entries(given)) {
        if (!columns.includes(column)) {
          throw misuse(
            `constraint "${name}": "${direction}" has an entry for "${column}", which is not ` +
              `one of the constraint's columns`,
          );
        }
        out[column] = sqlText(expression, `${direction} of column "${column}"`);
      }
      return out;
    };
    return simpleOperation("create_constraint", createConstraintParams, {
      table: info.name,
      name,
      type,
      ...(columns.length > 0 ? { columns: [...columns] } : {}),
      ...fields,
      ...(columns.length > 0 ? { up: perColumn("up"), down: perColumn("down") } : {}),
    });
  };
  return Object.freeze({
    unique: (columns: readonly string[], convert: ColumnConversions<string>) =>
      build("unique", nonEmpty(columns, name), convert),
    primaryKey: (columns: readonly string[], convert: ColumnConversions<string>) =>
      build("primary_key", nonEmpty(columns, name), convert),
    check: (
      expression: SqlExpression,
      columns: readonly string[],
      options?: Partial<ColumnConversions<string>> & { readonly noInherit?: boolean },
    ) =>
      build(
        "check",
        columns,
        options,
        defined({
          check: sqlText(expression, `check constraint "${name}"`),
          no_inherit: options?.noInherit,
        }),
      ),
    foreignKey: (
      columns: readonly string[],
      target: TableLike,
      referencedColumns: readonly string[],
      options: ColumnConversions<string> & TableForeignKeyOptions<string>,
    ) => {
      nonEmpty(columns, name);
      if (referencedColumns.length !== columns.length) {
        throw misuse(
          `foreign key "${name}": ${columns.length} column(s) reference ` +
            `${referencedColumns.length} column(s); the lists must pair up`,
        );
      }
      const { up, down, ...settings } = options;
      return build("foreign_key", columns, { up, down }, {
        references: tableReference(name, tableInfo(target), referencedColumns, settings),
      });
    },
  }) as CreateConstraint<C>;
}

function nonEmpty(columns: readonly string[], name: string): readonly string[] {
  if (!Array.isArray(columns) || columns.length === 0) {
    throw misuse(`constraint "${name}" needs at least one column`);
  }
  return columns;
}

/** Optional SQL per column of table `C` (keys checked when the table is a reference). */
export type SomeColumns<C extends string> = { readonly [K in C]?: SqlExpression };

/**
 * Drops a constraint without blocking writes. `down` gives, per column of the constraint, the
 * old column a value that satisfies the constraint for rows written through the new version;
 * `up` (default: the value unchanged) computes the new column.
 */
export function dropMulticolumnConstraint<C extends string>(
  table: TableLike<C>,
  name: string,
  convert: { readonly up?: SomeColumns<NoInfer<C>>; readonly down: SomeColumns<NoInfer<C>> },
): Operation<"drop_multicolumn_constraint"> {
  const info = tableInfo(table);
  requireName(name, "constraint name");
  return simpleOperation("drop_multicolumn_constraint", dropMulticolumnConstraintParams, {
    table: info.name,
    name,
    ...defined({ up: convert.up && perColumnText(info, name, "up", convert.up) }),
    down: perColumnText(info, name, "down", convert.down),
  });
}

function perColumnText(
  info: TableInfo,
  name: string,
  direction: string,
  given: Readonly<Record<string, SqlExpression | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [column, expression] of Object.entries(given)) {
    if (expression === undefined) continue;
    checkColumns(info, [column], `constraint "${name}"`);
    out[column] = sqlText(expression, `${direction} of column "${column}"`);
  }
  return out;
}

/**
 * Drops a one-column constraint; `down` gives the old column a value that satisfies it.
 * @deprecated pgroll deprecates `drop_constraint`: use `dropMulticolumnConstraint`.
 */
export function dropConstraint(
  table: TableLike,
  name: string,
  convert: { readonly up?: SqlExpression; readonly down: SqlExpression },
): Operation<"drop_constraint"> {
  requireName(name, "constraint name");
  return simpleOperation("drop_constraint", dropConstraintParams, {
    table: tableInfo(table).name,
    name,
    ...defined({ up: optionalSqlText(convert.up, `up of dropping "${name}"`) }),
    down: sqlText(convert.down, `down of dropping "${name}"`),
  });
}

/** Renames a constraint: `renameConstraint("people", "name_length", "name_length_check")`. */
export function renameConstraint(
  table: TableLike,
  from: string,
  to: string,
): Operation<"rename_constraint"> {
  return simpleOperation("rename_constraint", renameConstraintParams, {
    table: tableInfo(table).name,
    from: requireName(from, "constraint name"),
    to: requireName(to, "new constraint name"),
  });
}
