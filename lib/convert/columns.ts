/**
 * CREATE TABLE pieces → pgroll's column and constraint data. Each function returns undefined
 * when the SQL says something the operation cannot express faithfully; the statement then stays
 * raw SQL (nothing is ever silently dropped). Expressions and types keep the author's spelling:
 * they are cut from the source text at the offsets the parse tree gives.
 *
 * @module
 */
import {
  keywordAt,
  nodeOf,
  parenthesized,
  type PgNode,
  sourceSlice,
  type SqlToken,
  stringList,
} from "../pg/parser.ts";

/** The SQL text being converted and its tokens: what offsets in parse nodes point into. */
export interface Source {
  sql: string;
  tokens: SqlToken[];
}

type Data = Record<string, unknown>;

/** Keywords that end a type name inside a column definition or ALTER … TYPE. */
export const TYPE_END = new Set([
  "USING",
  "COLLATE",
  "NOT",
  "NULL",
  "DEFAULT",
  "CONSTRAINT",
  "CHECK",
  "REFERENCES",
  "UNIQUE",
  "PRIMARY",
  "GENERATED",
  "STORAGE",
  "COMPRESSION",
]);

/** Keywords that end a DEFAULT expression (the next column constraint). */
const DEFAULT_END = new Set([
  "NOT",
  "NULL",
  "CONSTRAINT",
  "CHECK",
  "REFERENCES",
  "UNIQUE",
  "PRIMARY",
  "GENERATED",
  "COLLATE",
  "DEFERRABLE",
  "INITIALLY",
]);

const ACTIONS: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};
const MATCH: Record<string, string> = { s: "SIMPLE", f: "FULL", p: "PARTIAL" };

/** `schema.table` when qualified, as pgroll writes it. */
export function relationName(relation: PgNode | undefined): string {
  if (!relation?.relname) return "";
  return relation.schemaname ? `${relation.schemaname}.${relation.relname}` : relation.relname;
}

/** The type of a column definition, as written. */
export function typeText(source: Source, typeName: PgNode | undefined): string | undefined {
  if (!typeName || typeof typeName.location !== "number") return undefined;
  return sourceSlice(source.sql, source.tokens, typeName.location, { stopWords: TYPE_END }) ||
    undefined;
}

/** The DEFAULT expression of a constraint node located at its DEFAULT keyword. */
export function defaultText(source: Source, constraint: PgNode): string | undefined {
  const found = keywordAt(source.tokens, constraint.location ?? 0, "DEFAULT");
  if (!found?.next) return undefined;
  return sourceSlice(source.sql, source.tokens, found.next.start, { stopWords: DEFAULT_END }) ||
    undefined;
}

/** A column definition → pgroll's Column; undefined when it must stay raw SQL. */
export function convertColumn(source: Source, table: string, column: PgNode): Data | undefined {
  if (column.collClause || column.storage || column.compression || column.storage_name) {
    return undefined;
  }
  const type = typeText(source, column.typeName);
  if (!type) return undefined;
  const name = column.colname as string;
  const out: Data = { name, type };
  let notNull = false;
  for (const raw of column.constraints ?? []) {
    const c = nodeOf(raw, "Constraint");
    if (!c) return undefined;
    const named = typeof c.conname === "string" && c.conname !== "";
    switch (c.contype) {
      case "CONSTR_NULL":
        if (named) return undefined;
        notNull = false;
        break;
      case "CONSTR_NOTNULL":
        if (named) return undefined;
        notNull = true;
        break;
      case "CONSTR_UNIQUE":
        if (named || c.nulls_not_distinct || c.including || c.options || c.indexspace) {
          return undefined;
        }
        out.unique = true;
        break;
      case "CONSTR_PRIMARY":
        if (named || c.options || c.indexspace) return undefined;
        out.pk = true;
        notNull = true;
        break;
      case "CONSTR_DEFAULT": {
        if (named) return undefined;
        const text = defaultText(source, c);
        if (text === undefined) return undefined;
        if (!/^null$/i.test(text)) out.default = text;
        break;
      }
      case "CONSTR_CHECK": {
        if (c.skip_validation) return undefined;
        const expression = parenthesized(source.sql, source.tokens, c.location ?? 0);
        if (!expression) return undefined;
        out.check = {
          name: named ? c.conname : `${bareName(table)}_${name}_check`,
          constraint: expression,
          ...(c.is_no_inherit ? { no_inherit: true } : {}),
        };
        break;
      }
      case "CONSTR_FOREIGN": {
        if (c.skip_validation || c.deferrable || c.initdeferred) return undefined;
        const columns = stringList(c.pk_attrs);
        if (columns.length !== 1) return undefined;
        out.references = {
          name: named ? c.conname : `${bareName(table)}_${name}_fkey`,
          table: relationName(c.pktable),
          column: columns[0],
          ...foreignKeyActions(c),
        };
        break;
      }
      case "CONSTR_GENERATED": {
        const expression = parenthesized(source.sql, source.tokens, c.location ?? 0);
        if (!expression) return undefined;
        out.generated = { expression };
        notNull = true;
        break;
      }
      case "CONSTR_IDENTITY": {
        const when = c.generated_when === "d" ? "BY DEFAULT" : "ALWAYS";
        const identity: Data = { user_specified_values: when };
        if (c.options) {
          const after = keywordAt(source.tokens, c.location ?? 0, "IDENTITY");
          const options = after ? parenthesized(source.sql, source.tokens, after.token.end) : "";
          if (!options) return undefined;
          identity.sequence_options = options;
        }
        out.generated = { identity };
        notNull = true;
        break;
      }
      case "CONSTR_ATTR_NOT_DEFERRABLE":
      case "CONSTR_ATTR_IMMEDIATE":
        break;
      default:
        return undefined;
    }
  }
  out.nullable = !notNull;
  return out;
}

/** on_delete / on_update / match_type, only when not the default. */
export function foreignKeyActions(c: PgNode): Data {
  const out: Data = {};
  const onDelete = ACTIONS[c.fk_del_action ?? "a"] ?? "NO ACTION";
  const onUpdate = ACTIONS[c.fk_upd_action ?? "a"] ?? "NO ACTION";
  const match = MATCH[c.fk_matchtype ?? "s"] ?? "SIMPLE";
  if (onDelete !== "NO ACTION") out.on_delete = onDelete;
  if (onUpdate !== "NO ACTION") out.on_update = onUpdate;
  if (match !== "SIMPLE") out.match_type = match;
  return out;
}

/** A table constraint of CREATE TABLE → pgroll's Constraint; undefined when it must stay raw. */
export function convertTableConstraint(
  source: Source,
  table: string,
  c: PgNode,
): Data | undefined {
  if (c.deferrable || c.initdeferred) return undefined;
  const columns = stringList(c.keys);
  const base = bareName(table);
  const name = (fallback: string): string => c.conname || fallback;
  switch (c.contype) {
    case "CONSTR_UNIQUE":
      if (c.including || c.options || c.indexspace) return undefined;
      return {
        name: name(`${base}_${columns.join("_")}_key`),
        type: "unique",
        columns,
        ...(c.nulls_not_distinct ? { nulls_not_distinct: true } : {}),
      };
    case "CONSTR_PRIMARY":
      if (c.including || c.options || c.indexspace) return undefined;
      return { name: name(`${base}_pkey`), type: "primary_key", columns };
    case "CONSTR_CHECK": {
      if (c.skip_validation) return undefined;
      const check = parenthesized(source.sql, source.tokens, c.location ?? 0);
      if (!check) return undefined;
      return {
        name: name(`${base}_check`),
        type: "check",
        check,
        ...(c.is_no_inherit ? { no_inherit: true } : {}),
      };
    }
    case "CONSTR_FOREIGN": {
      if (c.skip_validation) return undefined;
      const fkColumns = stringList(c.fk_attrs);
      return {
        name: name(`${base}_${fkColumns.join("_")}_fkey`),
        type: "foreign_key",
        columns: fkColumns,
        references: {
          table: relationName(c.pktable),
          columns: stringList(c.pk_attrs),
          ...foreignKeyActions(c),
        },
      };
    }
    default:
      return undefined;
  }
}

/** CREATE TABLE → create_table; undefined when the statement must stay raw SQL. */
export function convertCreateTable(source: Source, node: PgNode): Data | undefined {
  const relation = node.relation ?? {};
  if (
    relation.relpersistence !== "p" || node.inhRelations || node.partspec || node.partbound ||
    node.accessMethod || node.options || node.tablespacename || node.ofTypename ||
    (node.oncommit && node.oncommit !== "ONCOMMIT_NOOP") || node.if_not_exists
  ) {
    return undefined;
  }
  const table = relationName(relation);
  const columns: Data[] = [];
  const constraints: Data[] = [];
  for (const element of node.tableElts ?? []) {
    const column = nodeOf(element, "ColumnDef");
    const constraint = nodeOf(element, "Constraint");
    if (column) {
      const converted = convertColumn(source, table, column);
      if (!converted) return undefined;
      columns.push(converted);
    } else if (constraint) {
      const converted = convertTableConstraint(source, table, constraint);
      if (!converted) return undefined;
      constraints.push(converted);
    } else {
      return undefined; // LIKE …
    }
  }
  if (columns.length === 0) return undefined;
  return {
    create_table: { name: table, columns, ...(constraints.length > 0 ? { constraints } : {}) },
  };
}

function bareName(table: string): string {
  return table.split(".").at(-1) ?? table;
}
