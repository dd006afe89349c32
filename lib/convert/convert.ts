/**
 * `convert`: SQL DDL → migration operations, following pgroll's mapping (sql2pgroll) with
 * PostgreSQL's own parser. Every statement becomes operations, or, when an operation cannot say
 * exactly what the SQL says, a raw `sql` operation holding that statement (a multi-command ALTER
 * TABLE with one unsupported sub-command stays raw as a whole).
 *
 * SQL alone does not say how to move data between the old and the new shape. Where that is
 * needed we fill in what the SQL implies (`USING` is the up of a type change; an identity `down`
 * when the old side has no constraint) and otherwise write a placeholder that contains `TODO:`.
 * Every placeholder is listed in `placeholders` so the CLI can warn about each.
 *
 * @module
 */
import { isPlaceholder, TODO_DATA_MIGRATION, todoComment } from "../operations/placeholders.ts";
import type { VirtualSchema } from "../schema/model.ts";
import {
  findNodes,
  keywordAt,
  loadSqlParser,
  nodeOf,
  parenthesized,
  type ParsedStatement,
  type PgNode,
  sourceSlice,
  stringList,
} from "../pg/parser.ts";
import {
  convertColumn,
  convertCreateTable,
  foreignKeyActions,
  relationName,
  type Source,
  typeText,
} from "./columns.ts";
import { builtinCastExists } from "./casts.ts";
import { columnExpression } from "./expressions.ts";
import { PLACEHOLDER_COLUMN, refineOperations } from "./refine.ts";

export { PLACEHOLDER_COLUMN, TODO_DATA_MIGRATION };

type Data = Record<string, unknown>;

export interface Placeholder {
  /** Where, e.g. `["operations", 2, "alter_column", "down"]`. */
  path: (string | number)[];
  /** The placeholder text written there. */
  text: string;
}

export interface Conversion {
  operations: Data[];
  placeholders: Placeholder[];
}

/** What `convert` may know besides the SQL. */
export interface ConvertOptions {
  /**
   * The schema the converted migration will meet (a migrations folder replayed, or the
   * database's): old column types give a type change its `down`.
   */
  schema?: VirtualSchema;
  /** The schema migrated (default: the schema's name, else public): `public.t` becomes `t`. */
  schemaName?: string;
  /** Is there a cast from `from` to `to`? Default: a rule for the built-in types. */
  castExists?: (from: string, to: string) => Promise<boolean>;
}

/**
 * Converts a SQL script. Throws SqlSyntaxError (message with line and column) when PostgreSQL's
 * parser rejects it, and SqlParserUnavailableError when the parser cannot be loaded.
 */
export async function convertSql(sql: string, options: ConvertOptions = {}): Promise<Conversion> {
  const parser = await loadSqlParser();
  const statements = parser.parse(sql);
  const source: Source = { sql, tokens: statements.length > 0 ? parser.scan(sql) : [] };
  const operations: Data[] = [];
  for (const statement of statements) {
    operations.push(...(convertStatement(source, statement) ?? [{ sql: { up: statement.text } }]));
  }
  const refined = await refineOperations(operations, {
    ...(options.schema ? { schema: options.schema } : {}),
    schemaName: options.schemaName ?? options.schema?.name ?? "public",
    castExists: options.castExists ?? ((from, to) => Promise.resolve(builtinCastExists(from, to))),
  });
  return { operations: refined, placeholders: findPlaceholders(refined) };
}

function convertStatement(source: Source, statement: ParsedStatement): Data[] | undefined {
  const { node } = statement;
  switch (statement.kind) {
    case "CreateStmt": {
      const op = convertCreateTable(source, node);
      return op ? [op] : undefined;
    }
    case "AlterTableStmt":
      return convertAlterTable(source, node);
    case "RenameStmt":
      return convertRename(node);
    case "DropStmt":
      return convertDrop(node);
    case "IndexStmt":
      return convertCreateIndex(source, node);
    default:
      return undefined;
  }
}

function convertAlterTable(source: Source, node: PgNode): Data[] | undefined {
  if (node.objtype !== "OBJECT_TABLE" || node.missing_ok || node.relation?.inh === false) {
    return undefined;
  }
  const table = relationName(node.relation);
  const ops: Data[] = [];
  for (const raw of node.cmds ?? []) {
    const cmd = nodeOf(raw, "AlterTableCmd");
    const op = cmd ? convertAlterCommand(source, table, cmd) : undefined;
    if (!op) return undefined;
    ops.push(op);
  }
  return ops.length > 0 ? ops : undefined;
}

function convertAlterCommand(source: Source, table: string, cmd: PgNode): Data | undefined {
  const column = cmd.name as string;
  const col = columnExpression(column ?? "");
  switch (cmd.subtype) {
    case "AT_SetNotNull":
      return {
        alter_column: {
          table,
          column,
          nullable: false,
          up: `COALESCE(${col}, ${todoComment(`value for rows where ${col} is NULL`)} NULL)`,
          down: col,
        },
      };
    case "AT_DropNotNull":
      return {
        alter_column: {
          table,
          column,
          nullable: true,
          up: col,
          down: `COALESCE(${col}, ${
            todoComment(`value for the old version when ${col} is NULL`)
          } NULL)`,
        },
      };
    case "AT_AlterColumnType": {
      const def = nodeOf(cmd.def, "ColumnDef") ?? {};
      if (def.collClause) return undefined;
      const type = typeText(source, def.typeName);
      if (!type) return undefined;
      const using = def.raw_default ? usingText(source, def.typeName.location) : undefined;
      if (def.raw_default && !using) return undefined;
      return {
        alter_column: {
          table,
          column,
          type,
          up: using ?? `${col}::${type}`,
          down: `${todoComment(`convert back to the old type of ${col}`)} ${col}`,
        },
      };
    }
    case "AT_ColumnDefault": {
      let value: string | null = null;
      if (cmd.def) {
        const text = defaultOfCommand(source, cmd);
        if (text === null) return undefined;
        value = text === "" ? null : text;
      }
      return { alter_column: { table, column, default: value, up: col, down: col } };
    }
    case "AT_AddColumn": {
      if (cmd.missing_ok) return undefined;
      const def = nodeOf(cmd.def, "ColumnDef");
      const converted = def ? convertColumn(source, table, def) : undefined;
      if (!converted || converted.pk || converted.generated) return undefined;
      const needsUp = converted.nullable === false && converted.default === undefined &&
        !/serial/i.test(String(converted.type));
      return {
        add_column: { table, column: converted, ...(needsUp ? { up: TODO_DATA_MIGRATION } : {}) },
      };
    }
    case "AT_DropColumn":
      if (cmd.missing_ok || cmd.behavior === "DROP_CASCADE") return undefined;
      return { drop_column: { table, column, down: TODO_DATA_MIGRATION } };
    case "AT_AddConstraint":
      return convertAddConstraint(source, table, nodeOf(cmd.def, "Constraint") ?? {});
    case "AT_DropConstraint":
      if (cmd.behavior === "DROP_CASCADE") return undefined;
      return {
        drop_multicolumn_constraint: {
          table,
          name: column,
          up: { [PLACEHOLDER_COLUMN]: TODO_DATA_MIGRATION },
          down: { [PLACEHOLDER_COLUMN]: TODO_DATA_MIGRATION },
        },
      };
    default:
      return undefined;
  }
}

/**
 * `ALTER COLUMN c SET DEFAULT expr`: the expression after the command's DEFAULT keyword; "" for
 * `DEFAULT NULL`; null when it cannot be found.
 */
function defaultOfCommand(source: Source, cmd: PgNode): string | null {
  const start = firstLocation(cmd.def);
  if (start === undefined) return null;
  // The DEFAULT keyword precedes the expression; find the last one before its first node.
  const keyword = [...source.tokens].reverse().find((t) =>
    t.start < start && t.text.toUpperCase() === "DEFAULT"
  );
  if (!keyword) return null;
  const next = source.tokens.find((t) => t.start >= keyword.end);
  if (!next) return null;
  const text = sourceSlice(source.sql, source.tokens, next.start);
  // SET DEFAULT NULL is how SQL drops a default too.
  return text === "" ? null : /^null$/i.test(text) ? "" : text;
}

/** The smallest `location` in a parse subtree. */
function firstLocation(node: unknown): number | undefined {
  let min: number | undefined;
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      for (const [key, v] of Object.entries(value as PgNode)) {
        if (key === "location" && typeof v === "number" && v >= 0) {
          min = min === undefined ? v : Math.min(min, v);
        } else walk(v);
      }
    }
  };
  walk(node);
  return min;
}

/** The expression after USING in `ALTER COLUMN c TYPE t USING expr`. */
function usingText(source: Source, typeLocation: number): string | undefined {
  const found = keywordAt(source.tokens, typeLocation, "USING");
  if (!found?.next) return undefined;
  return sourceSlice(source.sql, source.tokens, found.next.start) || undefined;
}

function convertAddConstraint(source: Source, table: string, c: PgNode): Data | undefined {
  if (c.skip_validation || c.deferrable || c.initdeferred || !c.conname) return undefined;
  const todoUp = (columns: string[]) =>
    Object.fromEntries(columns.map((column) => [column, TODO_DATA_MIGRATION]));
  // The old version has no such constraint: its values are the new ones, unchanged.
  const identityDown = (columns: string[]) =>
    Object.fromEntries(columns.map((column) => [column, columnExpression(column)]));
  const base = { table, name: c.conname as string };
  switch (c.contype) {
    case "CONSTR_UNIQUE":
    case "CONSTR_PRIMARY": {
      if (c.indexname || c.including || c.options || c.indexspace || c.nulls_not_distinct) {
        return undefined;
      }
      const columns = stringList(c.keys);
      return {
        create_constraint: {
          ...base,
          type: c.contype === "CONSTR_UNIQUE" ? "unique" : "primary_key",
          columns,
          up: todoUp(columns),
          down: identityDown(columns),
        },
      };
    }
    case "CONSTR_FOREIGN": {
      const columns = stringList(c.fk_attrs);
      return {
        create_constraint: {
          ...base,
          type: "foreign_key",
          columns,
          references: {
            table: relationName(c.pktable),
            columns: stringList(c.pk_attrs),
            ...foreignKeyActions(c),
          },
          up: todoUp(columns),
          down: identityDown(columns),
        },
      };
    }
    case "CONSTR_CHECK": {
      const check = parenthesizedAfter(source, c.location ?? 0, "CHECK");
      if (!check) return undefined;
      // The columns the check reads (pgroll writes a placeholder column instead).
      const refs = findNodes(c.raw_expr, "ColumnRef").map((r) => stringList(r.fields).at(-1))
        .filter((n): n is string => n !== undefined);
      const columns = refs.length > 0 ? [...new Set(refs)] : [PLACEHOLDER_COLUMN];
      return {
        create_constraint: {
          ...base,
          type: "check",
          check,
          ...(c.is_no_inherit ? { no_inherit: true } : {}),
          columns,
          up: todoUp(columns),
          down: refs.length > 0 ? identityDown(columns) : todoUp(columns),
        },
      };
    }
    default:
      return undefined;
  }
}

function parenthesizedAfter(source: Source, from: number, keyword: string): string {
  const found = keywordAt(source.tokens, from, keyword);
  return found ? parenthesized(source.sql, source.tokens, found.token.end) : "";
}

function convertRename(node: PgNode): Data[] | undefined {
  if (node.missing_ok) return undefined;
  const table = relationName(node.relation);
  switch (node.renameType) {
    case "OBJECT_TABLE":
      return [{ rename_table: { from: table, to: node.newname } }];
    case "OBJECT_COLUMN":
      if (node.relationType !== "OBJECT_TABLE") return undefined;
      return [{ rename_column: { table, from: node.subname, to: node.newname } }];
    case "OBJECT_TABCONSTRAINT":
      return [{ rename_constraint: { table, from: node.subname, to: node.newname } }];
    default:
      return undefined;
  }
}

function convertDrop(node: PgNode): Data[] | undefined {
  if (node.behavior === "DROP_CASCADE" || node.missing_ok) return undefined;
  const names = (node.objects ?? []).map((o: unknown) => stringList(nodeOf(o, "List")?.items));
  if (names.some((n: string[]) => n.length === 0)) return undefined;
  const qualified = (parts: string[]) => parts.join(".");
  if (node.removeType === "OBJECT_TABLE") {
    return names.map((parts: string[]) => ({ drop_table: { name: qualified(parts) } }));
  }
  if (node.removeType === "OBJECT_INDEX" && names.length === 1) {
    return [{ drop_index: { name: qualified(names[0]) } }];
  }
  return undefined;
}

const SORT: Record<string, string> = { SORTBY_ASC: "ASC", SORTBY_DESC: "DESC" };
const NULLS: Record<string, string> = {
  SORTBY_NULLS_FIRST: "FIRST",
  SORTBY_NULLS_LAST: "LAST",
};
const METHODS = new Set(["btree", "hash", "gist", "spgist", "gin", "brin"]);

function convertCreateIndex(source: Source, node: PgNode): Data[] | undefined {
  if (
    !node.idxname || node.tableSpace || node.indexIncludingParams || node.options ||
    node.nulls_not_distinct || node.relation?.inh === false || node.if_not_exists ||
    !METHODS.has(node.accessMethod ?? "btree")
  ) {
    return undefined;
  }
  const columns: Data[] = [];
  for (const raw of node.indexParams ?? []) {
    const elem = nodeOf(raw, "IndexElem");
    if (!elem?.name || elem.expr || elem.opclassopts) return undefined;
    const field: Data = { column: elem.name };
    const collation = stringList(elem.collation);
    if (collation.length > 0) field.collate = collation.join(".");
    const opclass = stringList(elem.opclass);
    if (opclass.length > 0) field.opclass = { name: opclass.join(".") };
    if (SORT[elem.ordering]) field.sort = SORT[elem.ordering];
    if (NULLS[elem.nulls_ordering]) field.nulls = NULLS[elem.nulls_ordering];
    columns.push(field);
  }
  const body: Data = { name: node.idxname, table: relationName(node.relation), columns };
  if (node.accessMethod && node.accessMethod !== "btree") body.method = node.accessMethod;
  if (node.unique) body.unique = true;
  if (node.whereClause) {
    const where = keywordAt(source.tokens, node.relation?.location ?? 0, "WHERE");
    const predicate = where?.next ? sourceSlice(source.sql, source.tokens, where.next.start) : "";
    if (!predicate) return undefined;
    body.predicate = predicate;
  }
  return [{ create_index: body }];
}

/** Every placeholder in the operations, with its path. */
function findPlaceholders(operations: readonly Data[]): Placeholder[] {
  const found: Placeholder[] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value === "string") {
      if (isPlaceholder(value)) found.push({ path, text: value });
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, i]));
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    }
  };
  operations.forEach((op, i) => walk(op, ["operations", i]));
  return found;
}
