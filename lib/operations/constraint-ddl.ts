/**
 * The online forms of constraint DDL, shared by every operation that adds constraints to a
 * column: NOT NULL through a NOT VALID check, validation at complete, and recording constraints
 * in the virtual schema so later operations of the migration see them.
 */
import { type Action, sqlAction } from "../plan/action.ts";
import type { VirtualTable } from "../schema/model.ts";
import { doBlock, ident, literal } from "../sql.ts";

/** `ALTER TABLE … ADD CONSTRAINT check CHECK (column IS NOT NULL) NOT VALID` */
export function addNotNullCheck(
  baseSchema: string,
  table: string,
  column: string,
  check: string,
): Action {
  return sqlAction(
    `add_not_null_check_${table}_${check}`,
    `ALTER TABLE ${ident(baseSchema, table)} ADD CONSTRAINT ${ident(check)} CHECK (${
      ident(column)
    } IS NOT NULL) NOT VALID`,
    { table },
  );
}

/** VALIDATE scans the table under SHARE UPDATE EXCLUSIVE: reads and writes go on. */
export function validateConstraint(baseSchema: string, table: string, name: string): Action {
  return sqlAction(
    `validate_${table}_${name}`,
    `ALTER TABLE ${ident(baseSchema, table)} VALIDATE CONSTRAINT ${ident(name)}`,
    { table, lock: "SHARE UPDATE EXCLUSIVE" },
  );
}

/**
 * Turns a NOT NULL check into a real NOT NULL: validate the check (the scan, without blocking
 * writes), then SET NOT NULL, which trusts the validated check and skips its own scan, and drop
 * the check in the same statement.
 */
export function notNullFromCheck(
  baseSchema: string,
  table: string,
  column: string,
  check: string,
): Action[] {
  return [
    validateConstraint(baseSchema, table, check),
    sqlAction(
      `set_not_null_${table}_${column}`,
      `ALTER TABLE ${ident(baseSchema, table)} ALTER COLUMN ${
        ident(column)
      } SET NOT NULL, DROP CONSTRAINT ${ident(check)}`,
      { table },
    ),
  ];
}

/** Records a CHECK constraint in the virtual schema. */
export function recordCheck(
  table: VirtualTable,
  name: string,
  columns: string[],
  definition: string,
  noInherit = false,
): void {
  table.checkConstraints[name] = { name, columns, definition, noInherit };
}

/** The reference fields shared by column-level and table-level foreign keys. */
interface ReferenceLike {
  table: string;
  match_type?: string | undefined;
  on_delete?: string | undefined;
  on_update?: string | undefined;
}

/** Records a foreign key in the virtual schema. */
export function recordForeignKey(
  table: VirtualTable,
  name: string,
  columns: string[],
  ref: ReferenceLike,
  referencedColumns: string[],
): void {
  table.foreignKeys[name] = {
    name,
    columns,
    referencedTable: ref.table,
    referencedColumns,
    matchType: ref.match_type ?? "SIMPLE",
    onDelete: ref.on_delete ?? "NO ACTION",
    onUpdate: ref.on_update ?? "NO ACTION",
  };
}

/**
 * PostgreSQL 18 records NOT NULL as a named constraint, named after the column when it was set:
 * a copy that became NOT NULL under its temporary name keeps `<table>__pgroll_new_<c>_not_null`
 * after the rename. Give it the name PostgreSQL would have given the final column. A no-op before
 * PostgreSQL 18, where NOT NULL has no constraint row.
 */
export function renameNotNullConstraint(
  baseSchema: string,
  table: string,
  column: string,
): Action {
  const qualified = ident(baseSchema, table);
  const wanted = `${table}_${column}_not_null`;
  return sqlAction(
    `rename_not_null_${table}_${column}`,
    doBlock(`
DECLARE current_name name;
BEGIN
  SELECT c.conname INTO current_name
    FROM pg_catalog.pg_constraint c
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
   WHERE c.conrelid = ${literal(qualified)}::regclass AND c.contype = 'n'
     AND a.attname = ${literal(column)};
  IF current_name IS NOT NULL AND current_name <> ${literal(wanted)} THEN
    EXECUTE format('ALTER TABLE %s RENAME CONSTRAINT %I TO %I', ${
      literal(qualified)
    }, current_name, ${literal(wanted)});
  END IF;
END`),
    { table },
  );
}
