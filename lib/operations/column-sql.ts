/**
 * SQL for column definitions and table constraints, shared by create_table, add_column and the
 * constraint operations. Names are always quoted; `type`, `default`, `check`, generated
 * expressions and exclusion elements are user SQL and inserted verbatim.
 */
import type {
  ColumnDef,
  ForeignKeyReference,
  TableConstraint,
  TableForeignKeyReference,
} from "../migration/params/shared.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { findColumn, findTable } from "../schema/virtual.ts";
import { ident, identList } from "../sql.ts";
import type { UserSql } from "../user-sql.ts";

/** Serial pseudo-types: a column of one is filled from a sequence, existing rows included. */
const SERIAL_TYPES = new Set([
  "smallserial",
  "serial",
  "bigserial",
  "serial2",
  "serial4",
  "serial8",
]);

export function isSerialType(type: string): boolean {
  return SERIAL_TYPES.has(type.trim().toLowerCase());
}

export interface ColumnSqlOptions {
  /** Physical column name to create (a temporary name when adding to an existing table). */
  physicalName?: string;
  /** Leave out NOT NULL (it is added later through a validated check). */
  omitNotNull?: boolean;
  /** Leave out UNIQUE (built later with CREATE UNIQUE INDEX CONCURRENTLY). */
  omitUnique?: boolean;
  /** Leave out CHECK (added later as NOT VALID, then validated). */
  omitCheck?: boolean;
  /** Leave out DEFAULT. */
  omitDefault?: boolean;
  /** Leave out REFERENCES (added later as NOT VALID, then validated). */
  omitReferences?: boolean;
}

/** `"name" type [GENERATED …] [DEFAULT …] [NOT NULL] [UNIQUE] [REFERENCES …] [CHECK …]` */
export function columnSql(
  column: ColumnDef,
  schema: VirtualSchema,
  baseSchema: string,
  options: ColumnSqlOptions = {},
): string {
  const parts = [ident(options.physicalName ?? column.name), column.type];
  const identity = column.generated?.identity;
  if (column.generated?.expression !== undefined) {
    parts.push(`GENERATED ALWAYS AS (${column.generated.expression}) STORED`);
  } else if (identity) {
    // pgroll's schema defaults to ALWAYS; an absent value must not produce `GENERATED  AS`.
    const when = identity.user_specified_values ?? "ALWAYS";
    const sequence = identity.sequence_options ? ` (${identity.sequence_options})` : "";
    parts.push(`GENERATED ${when} AS IDENTITY${sequence}`);
  }
  if (column.default !== undefined && column.default !== null && !options.omitDefault) {
    parts.push(`DEFAULT ${column.default}`);
  }
  // Identity columns are NOT NULL by definition; saying it again is an error on some versions.
  if (column.nullable !== true && !column.pk && !identity && !options.omitNotNull) {
    parts.push("NOT NULL");
  }
  if (column.unique && !column.pk && !options.omitUnique) parts.push("UNIQUE");
  if (column.references && !options.omitReferences) {
    parts.push(`CONSTRAINT ${ident(column.references.name)}`);
    parts.push(columnReferenceSql(column.references, schema, baseSchema));
  }
  if (column.check && !options.omitCheck) {
    parts.push(
      `CONSTRAINT ${ident(column.check.name)} ${
        checkSql(column.check.constraint, column.check.no_inherit ?? false)
      }`,
    );
  }
  return parts.join(" ");
}

/**
 * Virtual → physical column names of `table` where they differ: a check names columns as the new
 * version sees them, but runs on the physical table (a column an earlier operation of the
 * migration renamed, or is rewriting into a copy).
 */
export function physicalColumnNames(table: VirtualTable): Map<string, string> {
  return new Map(
    table.columns.filter((c) => c.name !== c.physicalName).map((c) => [c.name, c.physicalName]),
  );
}

/** `CHECK (expr) [NO INHERIT]`; an expression already written as `CHECK (…)` is kept. */
export function checkSql(expression: UserSql, noInherit: boolean): string {
  const body = /^\s*check\s*\(/i.test(expression) ? expression.trim() : `CHECK (${expression})`;
  return noInherit ? `${body} NO INHERIT` : body;
}

/** Physical table and column names for a reference written with virtual names. */
export function physicalReference(
  schema: VirtualSchema,
  table: string,
  columns: readonly string[],
): { table: string; columns: string[] } {
  const target = findTable(schema, table);
  if (!target) return { table, columns: [...columns] };
  return {
    table: target.physicalName,
    columns: columns.map((c) => findColumn(target, c)?.physicalName ?? c),
  };
}

function columnReferenceSql(
  ref: ForeignKeyReference,
  schema: VirtualSchema,
  baseSchema: string,
): string {
  const target = physicalReference(schema, ref.table, [ref.column]);
  return [
    `REFERENCES ${ident(baseSchema, target.table)} (${identList(target.columns)})`,
    `MATCH ${(ref.match_type ?? "SIMPLE").toUpperCase()}`,
    `ON DELETE ${(ref.on_delete ?? "NO ACTION").toUpperCase()}`,
    `ON UPDATE ${(ref.on_update ?? "NO ACTION").toUpperCase()}`,
    deferrableSql(ref.deferrable, ref.initially_deferred),
  ].filter((p) => p !== "").join(" ");
}

export function deferrableSql(deferrable?: boolean, initiallyDeferred?: boolean): string {
  if (!deferrable) return "";
  return initiallyDeferred ? "DEFERRABLE INITIALLY DEFERRED" : "DEFERRABLE INITIALLY IMMEDIATE";
}

/** `FOREIGN KEY (cols) REFERENCES t (cols) MATCH … ON DELETE … ON UPDATE …` */
export function tableForeignKeySql(
  columns: readonly string[],
  ref: Pick<
    TableForeignKeyReference,
    "table" | "columns" | "match_type" | "on_delete" | "on_update" | "on_delete_set_columns"
  >,
  schema: VirtualSchema,
  baseSchema: string,
): string {
  const target = physicalReference(schema, ref.table, ref.columns);
  const setColumns = ref.on_delete_set_columns?.length
    ? ` (${identList(ref.on_delete_set_columns)})`
    : "";
  return [
    `FOREIGN KEY (${identList(columns)})`,
    `REFERENCES ${ident(baseSchema, target.table)} (${identList(target.columns)})`,
    `MATCH ${(ref.match_type ?? "SIMPLE").toUpperCase()}`,
    `ON DELETE ${(ref.on_delete ?? "NO ACTION").toUpperCase()}${setColumns}`,
    `ON UPDATE ${(ref.on_update ?? "NO ACTION").toUpperCase()}`,
  ].join(" ");
}

/** A table-level constraint of create_table. */
export function tableConstraintSql(
  constraint: TableConstraint,
  schema: VirtualSchema,
  baseSchema: string,
): string {
  const name = `CONSTRAINT ${ident(constraint.name)}`;
  const columns = constraint.columns ?? [];
  const deferrable = deferrableSql(constraint.deferrable, constraint.initially_deferred);
  const params = indexParametersSql(constraint.index_parameters);
  const join = (...parts: string[]) => parts.filter((p) => p !== "").join(" ");
  switch (constraint.type) {
    case "unique":
      return join(
        name,
        "UNIQUE",
        constraint.nulls_not_distinct ? "NULLS NOT DISTINCT" : "",
        `(${identList(columns)})`,
        params,
        deferrable,
      );
    case "primary_key":
      return join(name, `PRIMARY KEY (${identList(columns)})`, params, deferrable);
    case "check":
      return join(name, checkSql(constraint.check!, constraint.no_inherit ?? false));
    case "foreign_key":
      return join(
        name,
        tableForeignKeySql(columns, constraint.references!, schema, baseSchema),
        deferrable,
      );
    case "exclude": {
      const exclude = constraint.exclude!;
      const method = exclude.index_method ? `USING ${exclude.index_method} ` : "";
      const where = exclude.predicate ? `WHERE (${exclude.predicate})` : "";
      return join(name, `EXCLUDE ${method}(${exclude.elements ?? ""})`, params, where, deferrable);
    }
  }
}

/** `[INCLUDE (…)] [WITH (…)] [USING INDEX TABLESPACE …]` */
function indexParametersSql(params: TableConstraint["index_parameters"]): string {
  if (!params) return "";
  const parts: string[] = [];
  if (params.include_columns?.length) parts.push(`INCLUDE (${identList(params.include_columns)})`);
  if (params.storage_parameters) parts.push(`WITH (${params.storage_parameters})`);
  if (params.tablespace) parts.push(`USING INDEX TABLESPACE ${ident(params.tablespace)}`);
  return parts.join(" ");
}
