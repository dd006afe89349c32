/**
 * Foreign key settings shared by column references (`column.references`, `alterColumn`) and table
 * constraints (`createTable(...).foreignKey`, `createConstraint(...).foreignKey`), and their
 * translation to pgroll's fields.
 */
import { defined, type Spelling } from "./internal.ts";
import { checkColumns, type TableInfo } from "./table-ref.ts";

/** ON DELETE / ON UPDATE action, in canonical or lower case. */
export type ForeignKeyAction = Spelling<
  "NO ACTION" | "RESTRICT" | "CASCADE" | "SET NULL" | "SET DEFAULT"
>;

/** MATCH type of a foreign key, in canonical or lower case. */
export type ForeignKeyMatchType = Spelling<"SIMPLE" | "FULL" | "PARTIAL">;

/** What happens on delete and update of the referenced row; all default to pgroll's defaults. */
export interface ForeignKeyActions {
  /** `on_delete`; default NO ACTION. */
  readonly onDelete?: ForeignKeyAction;
  /** `on_update`; default NO ACTION. */
  readonly onUpdate?: ForeignKeyAction;
  /** `match_type`; default SIMPLE. */
  readonly matchType?: ForeignKeyMatchType;
}

/** Settings of a foreign key declared on one column. */
export interface ColumnReferenceOptions extends ForeignKeyActions {
  /** `deferrable`: make the constraint DEFERRABLE. */
  readonly deferrable?: boolean;
  /** `initially_deferred`: check at commit rather than per statement. */
  readonly initiallyDeferred?: boolean;
}

/** Settings of a foreign key over a list of the table's own columns `C`. */
export interface TableForeignKeyOptions<C extends string> extends ForeignKeyActions {
  /** `on_delete_set_columns`: with SET NULL / SET DEFAULT, only these of the key's columns. */
  readonly onDeleteSetColumns?: readonly C[];
}

/** pgroll's `references` of a column (ForeignKeyReference). */
export function columnReference(
  name: string,
  target: TableInfo,
  column: string,
  options: ColumnReferenceOptions = {},
): Record<string, unknown> {
  checkColumns(target, [column], `foreign key "${name}"`);
  return defined({
    name,
    table: target.name,
    column,
    match_type: options.matchType,
    on_delete: options.onDelete,
    on_update: options.onUpdate,
    deferrable: options.deferrable,
    initially_deferred: options.initiallyDeferred,
  });
}

/** pgroll's `references` of a table constraint (TableForeignKeyReference). */
export function tableReference(
  name: string,
  target: TableInfo,
  columns: readonly string[],
  options: TableForeignKeyOptions<string> = {},
): Record<string, unknown> {
  checkColumns(target, columns, `foreign key "${name}"`);
  return defined({
    table: target.name,
    columns: [...columns],
    match_type: options.matchType,
    on_delete: options.onDelete,
    on_update: options.onUpdate,
    on_delete_set_columns: options.onDeleteSetColumns && [...options.onDeleteSetColumns],
  });
}
