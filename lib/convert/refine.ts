/**
 * The second pass of `convert`, over the operations of one file: what a statement alone cannot
 * know but the file (and, when given, the schema before it) can.
 *
 * - A type change's `down` casts back to the old type when the old type is known (from the
 *   schema, or from an earlier statement of the file) and a cast exists.
 * - A table created in the file has no rows yet: its constraints added later move into its
 *   create_table, and data placeholders on it become the column itself (or go away).
 * - Changes to one column (e.g. drizzle-kit's `SET DATA TYPE` then `SET DEFAULT`) become one
 *   alter_column, whose `up` applies the first `up` then the second and whose `down` undoes them
 *   in the opposite order, as the engine runs two alter_columns of one column.
 *
 * @module
 */
import { isPlaceholder, todoComment } from "../operations/placeholders.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { simplifyExpression, substituteColumns } from "../sql-rewrite.ts";
import { columnExpression } from "./expressions.ts";

/** pgroll's placeholder column where the SQL does not say which columns are involved. */
export const PLACEHOLDER_COLUMN = "placeholder";

type Data = Record<string, unknown>;
type Body = Record<string, any>;

/** What the second pass may use besides the file. */
export interface RefineContext {
  /** The schema the file will meet (a migrations folder replayed, or the database). */
  schema?: VirtualSchema;
  /**
   * The schema migrated (--schema, default public): SQL names `public.users`, a migration names
   * the table of its schema `users` (the engine does not read a qualified name as its own).
   */
  schemaName: string;
  /** Is there a cast from type `from` to type `to`? Absent: a built-in rule (casts.ts). */
  castExists(from: string, to: string): Promise<boolean>;
}

/** Column types as the file goes: table → column → type. */
class KnownTypes {
  readonly #tables = new Map<string, Map<string, string>>();
  /** Tables the file has changed so far (their constraints may differ from the schema's). */
  readonly #changed = new Set<string>();
  readonly #schemaName: string;

  constructor(schema: VirtualSchema | undefined) {
    this.#schemaName = schema?.name ?? "public";
    for (const table of schema?.tables ?? []) {
      this.#tables.set(table.name, new Map(table.columns.map((c) => [c.name, c.type])));
    }
  }

  /** `public.users` and `users` are one table when the schema is `public`. */
  #key(table: string): string {
    const prefix = `${this.#schemaName}.`;
    return table.startsWith(prefix) ? table.slice(prefix.length) : table;
  }

  changed(table: string): boolean {
    return this.#changed.has("*") || this.#changed.has(this.#key(table));
  }

  type(table: string, column: string): string | undefined {
    return this.#tables.get(this.#key(table))?.get(column);
  }

  /** Follows one operation. */
  apply(kind: string, body: Body): void {
    for (const table of tablesOf(kind, body)) this.#changed.add(this.#key(table));
    const columns = (table: string) => {
      const key = this.#key(table);
      const found = this.#tables.get(key) ?? new Map<string, string>();
      this.#tables.set(key, found);
      return found;
    };
    switch (kind) {
      case "create_table":
        this.#tables.set(
          this.#key(body.name),
          new Map((body.columns as Body[]).map((c) => [c.name, c.type])),
        );
        break;
      case "add_column":
        columns(body.table).set(body.column.name, body.column.type);
        break;
      case "alter_column":
        if (body.type !== undefined) columns(body.table).set(body.column, body.type);
        break;
      case "drop_column":
        columns(body.table).delete(body.column);
        break;
      case "rename_column": {
        const found = columns(body.table);
        const type = found.get(body.from);
        found.delete(body.from);
        if (type !== undefined) found.set(body.to, type);
        break;
      }
      case "rename_table": {
        const found = this.#tables.get(this.#key(body.from));
        this.#tables.delete(this.#key(body.from));
        if (found) this.#tables.set(this.#key(body.to), found);
        break;
      }
      case "drop_table":
        this.#tables.delete(this.#key(body.name));
        break;
    }
  }
}

/** The types serial columns are made of (a cast names the real type). */
const SERIAL: Record<string, string> = {
  smallserial: "smallint",
  serial: "integer",
  bigserial: "bigint",
  serial2: "smallint",
  serial4: "integer",
  serial8: "bigint",
};

/** Runs the second pass; returns new operations (the input is not changed). */
export async function refineOperations(
  operations: readonly Data[],
  context: RefineContext,
): Promise<Data[]> {
  const ops = operations.map((op) => unqualified(structuredClone(op), context.schemaName));
  const known = new KnownTypes(context.schema);
  for (const op of ops) {
    const [kind, body] = entry(op);
    if (kind === "alter_column" && body.type !== undefined && isPlaceholder(body.down ?? "")) {
      const old = known.type(body.table, body.column);
      const target = old === undefined ? undefined : SERIAL[old.toLowerCase()] ?? old;
      if (target !== undefined && await context.castExists(body.type, target)) {
        body.down = `${columnExpression(body.column)}::${target}`;
      }
    }
    if (kind === "drop_multicolumn_constraint") constraintColumns(body, known, context.schema);
    known.apply(kind, body);
  }
  return mergeAlterColumns(foldIntoNewTables(ops));
}

/** Fields naming a table, per operation kind (and `references.table` anywhere). */
const TABLE_FIELDS: Record<string, string[]> = {
  create_table: ["name"],
  drop_table: ["name"],
  rename_table: ["from", "to"],
};

/** The operation with `<schema>.` dropped from the table names it holds. */
function unqualified(op: Data, schemaName: string): Data {
  const prefix = `${schemaName}.`;
  const strip = (holder: Body, field: string) => {
    const value = holder[field];
    if (typeof value === "string" && value.startsWith(prefix)) {
      holder[field] = value.slice(prefix.length);
    }
  };
  const [kind, body] = entry(op);
  for (const field of TABLE_FIELDS[kind] ?? ["table"]) strip(body, field);
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      const holder = value as Body;
      if (holder.references && typeof holder.references === "object") {
        strip(holder.references, "table");
      }
      Object.values(holder).forEach(walk);
    }
  };
  walk(body);
  return op;
}

/**
 * DROP CONSTRAINT names no columns (convert writes pgroll's `placeholder` column): with the schema
 * known, the constraint's real columns, `up` left to its default (the value unchanged) and a
 * `down` placeholder per column (the old version still has the constraint: its values must
 * satisfy it).
 */
function constraintColumns(body: Body, known: KnownTypes, schema: VirtualSchema | undefined) {
  if (!schema || !Object.keys(body.down ?? {}).includes(PLACEHOLDER_COLUMN)) return;
  // Only a table the file has not changed: its constraints are the schema's.
  if (known.changed(body.table)) return;
  const table = schema.tables.find((t) => t.name === body.table);
  const name = body.name as string;
  const found = table &&
    [table.checkConstraints, table.uniqueConstraints, table.foreignKeys, table.excludeConstraints]
      .map((group) => group[name]).find((c) => c !== undefined);
  if (!found || found.columns.length === 0) return;
  delete body.up;
  body.down = Object.fromEntries(found.columns.map((column) => [
    column,
    `${todoComment(`a value of ${column} that satisfies "${name}"`)} ${columnExpression(column)}`,
  ]));
}

function entry(op: Data): [string, Body] {
  const [kind, body] = Object.entries(op)[0] ?? ["", {}];
  return [kind, body as Body];
}

/** The table names an operation touches (its table, or the table it creates, renames, drops). */
function tablesOf(kind: string, body: Body): string[] {
  if (kind === "sql") return ["*"];
  if (kind === "rename_table") return [body.from, body.to];
  if (kind === "create_table" || kind === "drop_table") return [body.name];
  return typeof body.table === "string" ? [body.table] : [];
}

/**
 * Operations on tables the file creates: a later constraint joins the create_table, and data
 * placeholders are not needed (the table has no rows, and no old version reads it).
 */
function foldIntoNewTables(ops: Data[]): Data[] {
  const out: Data[] = [];
  /** Index in `out` of the create_table of each new table still untouched by other operations. */
  const created = new Map<string, number>();
  const isNew = new Set<string>();
  for (const op of ops) {
    const [kind, body] = entry(op);
    const table = kind === "create_table" ? undefined : body.table as string | undefined;
    if (kind === "create_table") {
      created.set(body.name, out.length);
      isNew.add(body.name);
      out.push(op);
      continue;
    }
    if (kind === "create_constraint" && table !== undefined && created.has(table)) {
      const target = entry(out[created.get(table)!]!)[1];
      const names = new Set((target.columns as Body[]).map((c) => c.name));
      if ((body.columns as string[] | undefined ?? []).every((c) => names.has(c))) {
        const { table: _table, up: _up, down: _down, ...constraint } = body;
        target.constraints = [...(target.constraints ?? []), constraint];
        continue;
      }
    }
    if (table !== undefined && isNew.has(table)) withoutPlaceholders(kind, body);
    // Anything else on a new table (or raw SQL) keeps later constraints where they are.
    for (const name of tablesOf(kind, body)) {
      if (name === "*") created.clear();
      else created.delete(name);
    }
    if (kind === "rename_table" || kind === "drop_table") {
      isNew.delete(kind === "rename_table" ? body.from : body.name);
    }
    out.push(op);
  }
  return out;
}

/** Drops or replaces the data placeholders of an operation on a table with no rows. */
function withoutPlaceholders(kind: string, body: Body): void {
  if (kind === "add_column" && isPlaceholder(body.up ?? "")) delete body.up;
  if (kind === "drop_column" && isPlaceholder(body.down ?? "")) delete body.down;
  if (kind === "alter_column") {
    for (const field of ["up", "down"] as const) {
      if (isPlaceholder(body[field] ?? "")) body[field] = columnExpression(body.column);
    }
  }
  if (kind === "create_constraint") {
    for (const field of ["up", "down"] as const) {
      for (const [column, text] of Object.entries(body[field] ?? {})) {
        if (isPlaceholder(String(text))) body[field][column] = columnExpression(column);
      }
    }
  }
}

/**
 * Merges each alter_column into an earlier one of the same column when nothing in between
 * touches that column (another column of the table may change in between: the changes are
 * independent) and both do not add the same kind of constraint.
 */
function mergeAlterColumns(ops: Data[]): Data[] {
  const out: Data[] = [];
  for (const op of ops) {
    const [kind, body] = entry(op);
    if (kind === "alter_column") {
      const earlier = findMergeTarget(out, body);
      if (earlier) {
        mergeInto(earlier, body);
        continue;
      }
    }
    out.push(op);
  }
  return out;
}

/**
 * The earlier alter_column of the column `later` changes, looking back through renames of that
 * column (it keeps its place; `later` moves before it under the old name).
 */
function findMergeTarget(out: Data[], later: Body): Body | undefined {
  let name = later.column as string;
  for (let i = out.length - 1; i >= 0; i--) {
    const [kind, body] = entry(out[i]!);
    if (kind === "alter_column" && body.table === later.table) {
      if (body.column !== name) continue;
      const clash = (["check", "unique", "references"] as const).some((f) =>
        body[f] !== undefined && later[f] !== undefined
      );
      return clash ? undefined : body;
    }
    if (kind === "rename_column" && body.table === later.table && body.to === name) {
      name = body.from;
      continue;
    }
    if (independent(kind, body, later, name)) continue;
    if (tablesOf(kind, body).some((t) => t === "*" || t === later.table)) return undefined;
  }
  return undefined;
}

/**
 * An operation on the same table that `later` may move back across: a new column its SQL does
 * not read, or an index (built on whichever column the version reads).
 */
function independent(kind: string, body: Body, later: Body, column: string): boolean {
  if (body.table !== later.table) return false;
  if (kind === "create_index") return true;
  if (kind !== "add_column") return false;
  const name = String(body.column?.name);
  if (name === column || name === later.column) return false;
  const mentions = (text: unknown) => typeof text === "string" && text.includes(name);
  return !mentions(later.up) && !mentions(later.down);
}

const CHANGES = ["type", "nullable", "default", "comment", "check", "unique", "references"];

function mergeInto(earlier: Body, later: Body): void {
  const column = earlier.column as string;
  if (later.column !== column) {
    // Renamed in between: `later`'s SQL names the column by its new name.
    const renames = new Map([[later.column as string, columnExpression(column)]]);
    for (const field of ["up", "down"] as const) {
      if (typeof later[field] === "string") {
        later[field] = substituteColumns(later[field], renames);
      }
    }
    if (later.check) {
      later.check = {
        ...later.check,
        constraint: substituteColumns(later.check.constraint, renames),
      };
    }
  }
  const up = compose(later.up, column, earlier.up);
  const down = compose(earlier.down, column, later.down);
  for (const field of CHANGES) {
    if (later[field] !== undefined) earlier[field] = later[field];
  }
  // Keep `up` and `down` last, as convert writes them.
  delete earlier.up;
  delete earlier.down;
  if (up !== undefined) earlier.up = up;
  if (down !== undefined) earlier.down = down;
}

/**
 * `outer` applied to the result of `inner`: the column in `outer` becomes `(inner)`. The column
 * itself as either side is the other side unchanged.
 */
function compose(
  outer: string | undefined,
  column: string,
  inner: string | undefined,
): string | undefined {
  const self = columnExpression(column);
  if (!outer || outer === self) return inner ?? outer;
  if (!inner || inner === self) return outer;
  return substituteColumns(
    simplifyExpression(outer),
    new Map([[column, `(${simplifyExpression(inner)})`]]),
  );
}
