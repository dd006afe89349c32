/**
 * create_index: the index is built with CREATE INDEX CONCURRENTLY at start, so writes go on while
 * it builds; both versions share it at once (an index changes no query's result). The engine
 * checks the build left a valid index and drops an invalid one, so a failed build (duplicates
 * under a unique index, say) leaves nothing behind. Complete has nothing to do; rollback drops
 * the index concurrently.
 */
import type { Issue } from "../errors.ts";
import { sqlAction } from "../plan/action.ts";
import {
  type CreateIndexParams,
  createIndexParams,
  type IndexField,
} from "../migration/params/create_index.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { findColumn, findTable, indexExists, knownTable } from "../schema/virtual.ts";
import { ident } from "../sql.ts";
import { engineSql, type UserSql } from "../user-sql.ts";
import { renameIdentifiers } from "../sql-rewrite.ts";
import { issue, nameLengthIssues, type Path, requireColumn, requireTable } from "./checks.ts";
import type { OperationDefinition } from "./operation.ts";

/**
 * What the built-in access methods can do (pg_am's amcanunique, amcanorder, amcanmulticol):
 * asking for more fails only once the build runs, so it is refused while validating.
 */
const METHOD_CAPABILITIES: Record<
  string,
  { unique: boolean; order: boolean; multicolumn: boolean }
> = {
  btree: { unique: true, order: true, multicolumn: true },
  hash: { unique: false, order: false, multicolumn: false },
  gist: { unique: false, order: false, multicolumn: true },
  spgist: { unique: false, order: false, multicolumn: false },
  gin: { unique: false, order: false, multicolumn: true },
  brin: { unique: false, order: false, multicolumn: true },
};

/** One part of a possibly qualified SQL name: a plain identifier or a double-quoted one. */
const NAME_PART = String.raw`(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*|"(?:[^"]|"")+")`;
const QUALIFIED_NAME = new RegExp(String.raw`^${NAME_PART}(?:\s*\.\s*${NAME_PART})*$`);

export const createIndex: OperationDefinition<CreateIndexParams> = {
  kind: "create_index",
  description: "Create an index concurrently",
  params: createIndexParams,

  validate(params, schema) {
    const issues = nameLengthIssues(params.name, ["name"]);
    const found = requireTable(schema, params.table, ["table"]);
    if (!found.table) return [...issues, ...found.issues];
    const table = found.table;
    issues.push(...relationNameFreeIssues(schema, params.name, ["name"]));
    params.columns.forEach((field, i) => {
      issues.push(...requireColumn(table, field.column, ["columns", i, "column"]));
      issues.push(...fieldIssues(field, ["columns", i]));
    });
    issues.push(...methodIssues(params));
    return issues;
  },

  start(params, { schema, baseSchema }) {
    const table = knownTable(schema, params.table);
    const sql = indexSql(params, table, baseSchema);
    const predicate = given(params.predicate);
    table.indexes[params.name] = {
      name: params.name,
      unique: params.unique ?? false,
      exclusion: false,
      columns: params.columns.map((c) => c.column),
      ...(predicate ? { predicate } : {}),
      method: params.method ?? "btree",
      // Shaped like pg_get_indexdef (physical names), as read_schema would report it.
      definition: sql.replace(" CONCURRENTLY ", " "),
    };
    markUniqueColumn(table, params);
    return {
      actions: [{
        kind: "concurrent_index",
        id: `create_index_concurrently_${table.physicalName}_${params.name}`,
        name: params.name,
        table: table.physicalName,
        sql,
        lock: "SHARE UPDATE EXCLUSIVE",
        transactional: false,
      }],
    };
  },

  complete() {
    return [];
  },

  rollback(params, { before, baseSchema }) {
    const physical = findTable(before, params.table)?.physicalName ?? params.table;
    return [
      sqlAction(
        `drop_index_${params.name}`,
        `DROP INDEX CONCURRENTLY IF EXISTS ${ident(baseSchema, params.name)}`,
        { table: physical, lock: "SHARE UPDATE EXCLUSIVE", transactional: false },
      ),
    ];
  },
};

/**
 * Is `name` free for a new index? Index names share the schema's relation namespace with tables,
 * and names this migration frees (a dropped index) stay taken until complete.
 */
export function relationNameFreeIssues(schema: VirtualSchema, name: string, path: Path): Issue[] {
  if (indexExists(schema, name)) return [issue(path, `index "${name}" already exists`)];
  if (schema.tables.some((t) => t.name === name || t.physicalName === name)) {
    return [issue(path, `name "${name}" is already used by table "${name}"`)];
  }
  if (schema.reservedRelationNames?.includes(name)) {
    return [issue(path, `name "${name}" is still in use until this migration completes`)];
  }
  return [];
}

function fieldIssues(field: IndexField, path: Path): Issue[] {
  const issues: Issue[] = [];
  const collate = given(field.collate);
  if (collate) issues.push(...sqlNameIssues(collate, [...path, "collate"]));
  const opclass = field.opclass;
  const opclassName = given(opclass?.name);
  if (opclassName) issues.push(...sqlNameIssues(opclassName, [...path, "opclass", "name"]));
  if (opclass?.params?.length && !opclassName) {
    issues.push(
      issue(
        [...path, "opclass", "params"],
        "operator class parameters need an operator class name",
      ),
    );
  }
  opclass?.params?.forEach((p, i) => {
    if (p.trim() === "") {
      issues.push(issue([...path, "opclass", "params", i], "parameter is empty"));
    }
  });
  return issues;
}

/** A collation or operator class name written with double quotes must be a valid SQL name. */
function sqlNameIssues(name: string, path: Path): Issue[] {
  if (!name.includes('"') || QUALIFIED_NAME.test(name)) return [];
  return [issue(path, `"${name}" is not a valid SQL name`)];
}

function methodIssues(params: CreateIndexParams): Issue[] {
  const method = params.method ?? "btree";
  const can = METHOD_CAPABILITIES[method];
  if (!can) return [issue(["method"], `unknown index method "${method}"`)];
  const issues: Issue[] = [];
  if (params.unique && !can.unique) {
    issues.push(issue(["unique"], `index method "${method}" does not support unique indexes`));
  }
  if (params.columns.length > 1 && !can.multicolumn) {
    issues.push(
      issue(["columns"], `index method "${method}" does not support multicolumn indexes`),
    );
  }
  if (!can.order) {
    params.columns.forEach((field, i) => {
      for (const key of ["sort", "nulls"] as const) {
        if (field[key] !== undefined) {
          issues.push(
            issue(["columns", i, key], `index method "${method}" does not support ordering`),
          );
        }
      }
    });
  }
  return issues;
}

/** The CREATE INDEX CONCURRENTLY statement, on physical names. */
function indexSql(params: CreateIndexParams, table: VirtualTable, baseSchema: string): string {
  const columns = params.columns.map((field) => columnSql(field, table)).join(", ");
  let sql = `CREATE ${params.unique ? "UNIQUE " : ""}INDEX CONCURRENTLY ${ident(params.name)} ON ${
    ident(baseSchema, table.physicalName)
  } USING ${params.method ?? "btree"} (${columns})`;
  const storage = givenSql(params.storage_parameters);
  if (storage) sql += ` WITH (${storage})`;
  const predicate = givenSql(params.predicate);
  if (predicate) sql += ` WHERE (${physicalPredicate(predicate, table)})`;
  return sql;
}

/** `column [COLLATE c] [opclass [(params)]] [ASC|DESC] [NULLS FIRST|LAST]`. */
function columnSql(field: IndexField, table: VirtualTable): string {
  const parts = [ident(findColumn(table, field.column)?.physicalName ?? field.column)];
  const collate = given(field.collate);
  if (collate) parts.push("COLLATE", sqlName(collate));
  const opclass = given(field.opclass?.name);
  if (opclass) {
    parts.push(sqlName(opclass));
    if (field.opclass?.params?.length) parts.push(`(${field.opclass.params.join(", ")})`);
  }
  if (field.sort !== undefined) parts.push(field.sort);
  if (field.nulls !== undefined) parts.push("NULLS", field.nulls);
  return parts.join(" ");
}

/**
 * A collation or operator class name is quoted like any identifier (`C` → `"C"`). pgroll pastes
 * these as SQL, so its files may carry names quoted already (`"C"`, `pg_catalog."C"`): a value
 * with a double quote is taken as written (validate has checked it is a SQL name).
 */
function sqlName(name: string): string {
  return name.includes('"') ? name : ident(name);
}

/** An optional text field, blank counting as absent (pgroll's files carry "" for "none"). */
function given(text: string | undefined): string | undefined {
  return text !== undefined && text.trim() !== "" ? text.trim() : undefined;
}

/** {@link given} for user SQL: trimmed, it is the user's SQL still. */
function givenSql(text: UserSql | undefined): UserSql | undefined {
  const trimmed = given(text);
  return trimmed === undefined ? undefined : engineSql(trimmed);
}

/** The user's predicate names columns by their virtual names; the index needs physical ones. */
function physicalPredicate(predicate: UserSql, table: VirtualTable): UserSql {
  const renames = new Map<string, string>();
  for (const column of table.columns) {
    if (column.name !== column.physicalName) renames.set(column.name, column.physicalName);
  }
  return renames.size === 0 ? predicate : renameIdentifiers(predicate, renames);
}

/** read_schema marks a column unique when a unique index covers exactly that column. */
function markUniqueColumn(table: VirtualTable, params: CreateIndexParams): void {
  const only = params.columns.length === 1 ? params.columns[0] : undefined;
  if (!params.unique || !only) return;
  const column = findColumn(table, only.column);
  if (column) column.unique = true;
}
