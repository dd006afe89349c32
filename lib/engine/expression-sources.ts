/**
 * Where a migration's user SQL is, and what it may name: every `up`, `down`, `default`, `check`,
 * index `predicate`, generated expression and column type of the built-in operations, the raw
 * SQL of `sql` operations and the statements a plugin operation plans, each with the path of its
 * field and the columns it sees — the table as the version that evaluates it sees it (`up` the
 * old columns, `down` and constraints the new ones), names and types from the virtual schema.
 * Pure: expression-check.ts asks PostgreSQL about each one.
 */
import type { Action } from "../plan/action.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { findTable } from "../schema/virtual.ts";
import { expandOperations } from "./expansion.ts";
import { buildSteps, type OperationStep } from "../operations/steps.ts";

/** A column an expression may name: its virtual name and its type as SQL. */
export interface ScopeColumn {
  name: string;
  type: string;
}

/** One piece of user SQL and how to check it. */
export interface UserSqlItem {
  /** Where it is: `["operations", 1, "alter_column", "up"]`. */
  path: (string | number)[];
  text: string;
  /**
   * "value": an expression; "condition": a boolean expression (check, predicate); "type": a
   * column type; "statements": SQL statements, parsed only (raw SQL, plugin SQL).
   */
  form: "value" | "condition" | "type" | "statements";
  /** The table the expression is evaluated over: its name and the columns it sees. */
  scope?: { table: string; columns: ScopeColumn[] };
  /** The value must convert to this type (defaults, generated columns). */
  castTo?: string;
  /**
   * A failure is reported as a warning: a broken `down` only fails writes through the new
   * version, and start accepts it with a warning (pgroll does, its example 35 has one).
   */
  warnOnly?: boolean;
  /**
   * An earlier operation of the migration plans SQL of its own (a plugin operation): it may
   * create the functions and types named here, which the database does not have yet.
   */
  afterOwnSql?: boolean;
  /**
   * A create_table of the migration (this operation or an earlier one) creates relations the
   * database does not have yet: the table, its serial sequences (`nextval('t_id_seq')`).
   */
  afterNewTable?: boolean;
}

/** Every piece of user SQL in `steps`, in operation order. */
export function userSqlOf(steps: readonly OperationStep[], baseSchema: string): UserSqlItem[] {
  const found: UserSqlItem[] = [];
  let ownSql = false;
  let newTable = false;
  for (const step of steps) {
    const prefix = ["operations", step.index, step.operation.kind];
    if (step.operation.kind === "create_table") newTable = true;
    const items = stepSql(step, prefix, baseSchema).map((item) => ({
      ...item,
      ...(ownSql ? { afterOwnSql: true } : {}),
      ...(newTable && !item.afterNewTable ? { afterNewTable: true } : {}),
    }));
    found.push(...items);
    if (plansOwnSql(step)) ownSql = true;
  }
  return found;
}

/** A plugin operation that plans its own actions (not an expansion into built-in kinds). */
function plansOwnSql(step: OperationStep): boolean {
  const { kind, definition } = step.operation;
  return kind.includes(":") && !definition.expansion;
}

function stepSql(
  step: OperationStep,
  prefix: (string | number)[],
  baseSchema: string,
): UserSqlItem[] {
  const { kind, params } = step.operation;
  const at = (...path: (string | number)[]) => [...prefix, ...path];
  switch (kind) {
    case "add_column":
      return addColumnSql(params as AddColumnLike, step, at);
    case "alter_column":
      return alterColumnSql(params as AlterColumnLike, step, at);
    case "create_table":
      return createTableSql(params as CreateTableLike, step, at);
    case "create_constraint":
      return createConstraintSql(params as CreateConstraintLike, step, at);
    case "create_index": {
      const p = params as { table: string; predicate?: string };
      return p.predicate
        ? condition(at("predicate"), p.predicate, scopeOf(step.after, p.table))
        : [];
    }
    case "drop_column": {
      const p = params as { table: string; down?: string };
      return p.down ? warnOnly(value(at("down"), p.down, scopeOf(step.after, p.table))) : [];
    }
    case "sql": {
      const p = params as { up: string; down?: string };
      const items: UserSqlItem[] = [{ path: at("up"), text: p.up, form: "statements" }];
      if (p.down) items.push({ path: at("down"), text: p.down, form: "statements" });
      return items;
    }
  }
  if (step.operation.definition.expansion) return expandedSql(step, prefix, baseSchema);
  if (plansOwnSql(step)) return pluginSql(step, prefix, baseSchema);
  return [];
}

// Loose views of the built-in params: only the fields that hold user SQL.
interface ColumnLike {
  name: string;
  type: string;
  default?: string | null;
  check?: { constraint: string };
  generated?: { expression?: string };
}
interface AddColumnLike {
  table: string;
  column: ColumnLike;
  up?: string;
}
interface AlterColumnLike {
  table: string;
  column: string;
  up?: string;
  down?: string;
  type?: string;
  default?: string | null;
  check?: { constraint: string };
}
interface CreateTableLike {
  name: string;
  columns: ColumnLike[];
  constraints?: { check?: string; exclude?: { predicate?: string } }[];
}
interface CreateConstraintLike {
  table: string;
  check?: string;
  up?: Record<string, string>;
  down?: Record<string, string>;
}

type At = (...path: (string | number)[]) => (string | number)[];

function addColumnSql(p: AddColumnLike, step: OperationStep, at: At): UserSqlItem[] {
  const items = columnSql(
    p.column,
    scopeOf(step.after, p.table),
    (...path) => at("column", ...path),
  );
  // `up` fills the new column from the old version's row: it sees the columns before the add.
  if (p.up) items.push(...value(at("up"), p.up, scopeOf(step.before, p.table)));
  return items;
}

function alterColumnSql(p: AlterColumnLike, step: OperationStep, at: At): UserSqlItem[] {
  const before = scopeOf(step.before, p.table);
  const after = scopeOf(step.after, p.table);
  const items: UserSqlItem[] = [];
  if (p.type) items.push({ path: at("type"), text: p.type, form: "type" });
  // up is computed from the old version's row, down from the new version's.
  if (p.up) items.push(...value(at("up"), p.up, before));
  if (p.down) items.push(...warnOnly(value(at("down"), p.down, after)));
  const type = after?.columns.find((c) => c.name === p.column)?.type;
  if (typeof p.default === "string" && p.default !== "") {
    items.push({ path: at("default"), text: p.default, form: "value", ...cast(type) });
  }
  if (p.check) items.push(...condition(at("check", "constraint"), p.check.constraint, after));
  return items;
}

function createTableSql(p: CreateTableLike, step: OperationStep, at: At): UserSqlItem[] {
  const scope = scopeOf(step.after, p.name);
  const items = p.columns.flatMap((column, i) =>
    columnSql(column, scope, (...path) => at("columns", i, ...path))
  );
  p.constraints?.forEach((constraint, i) => {
    if (constraint.check) {
      items.push(...condition(at("constraints", i, "check"), constraint.check, scope));
    }
    const predicate = constraint.exclude?.predicate;
    if (predicate) {
      items.push(...condition(at("constraints", i, "exclude", "predicate"), predicate, scope));
    }
  });
  return items;
}

function createConstraintSql(p: CreateConstraintLike, step: OperationStep, at: At): UserSqlItem[] {
  const before = scopeOf(step.before, p.table);
  const after = scopeOf(step.after, p.table);
  const items: UserSqlItem[] = [];
  if (p.check) items.push(...condition(at("check"), p.check, after));
  for (const [column, text] of Object.entries(p.up ?? {})) {
    if (text) items.push(...value(at("up", column), text, before));
  }
  for (const [column, text] of Object.entries(p.down ?? {})) {
    if (text) items.push(...warnOnly(value(at("down", column), text, after)));
  }
  return items;
}

/** A column definition's type, default, check and generated expression. */
function columnSql(column: ColumnLike, scope: Scope | undefined, at: At): UserSqlItem[] {
  const items: UserSqlItem[] = [{ path: at("type"), text: column.type, form: "type" }];
  if (typeof column.default === "string" && column.default !== "") {
    items.push({ path: at("default"), text: column.default, form: "value", ...cast(column.type) });
  }
  if (column.check) {
    items.push(...condition(at("check", "constraint"), column.check.constraint, scope));
  }
  const generated = column.generated?.expression;
  if (generated) {
    // A generated column cannot name itself; the others it may.
    const others = scope && {
      table: scope.table,
      columns: scope.columns.filter((c) => c.name !== column.name),
    };
    items.push(
      ...generatedValue(at("generated", "expression"), generated, others).map((item) => ({
        ...item,
        ...cast(column.type),
      })),
    );
  }
  return items;
}

/** A plugin operation expanding into built-in ones: theirs, under `expanded[j]`. */
function expandedSql(
  step: OperationStep,
  prefix: (string | number)[],
  baseSchema: string,
): UserSqlItem[] {
  let operations;
  try {
    operations = expandOperations([{}], [step.operation])?.operations ?? [];
  } catch {
    return []; // validation reports an expansion that fails
  }
  const { steps } = buildSteps(operations, step.before, baseSchema, { validate: false });
  return userSqlOf(steps, baseSchema).map((item) => {
    const [, index, ...rest] = item.path;
    return { ...item, path: [...prefix, "expanded", index!, ...rest] };
  });
}

/** The statements a plugin operation plans at start, complete and rollback: parsed only. */
function pluginSql(
  step: OperationStep,
  prefix: (string | number)[],
  baseSchema: string,
): UserSqlItem[] {
  const { definition, params } = step.operation;
  const context = { before: step.before, after: step.after, started: step.before, baseSchema };
  const phases: [string, () => Action[]][] = [
    ["start", () => step.result.actions],
    ["complete", () => definition.complete(params, context)],
    ["rollback", () => definition.rollback(params, context)],
  ];
  const items: UserSqlItem[] = [];
  for (const [phase, actions] of phases) {
    let planned: Action[];
    try {
      planned = actions();
    } catch {
      continue; // the engine reports a phase that throws when it runs it
    }
    for (const action of planned) {
      items.push({
        path: [...prefix, `${phase}(${action.id})`],
        text: action.sql,
        form: "statements",
      });
    }
  }
  return items;
}

type Scope = NonNullable<UserSqlItem["scope"]>;

/**
 * The columns of `table` in `schema`, as that version names them, under the table's physical
 * name: constraints, predicates and generated expressions are DDL on the physical table, so that
 * is the name a qualified column reference must use.
 */
function scopeOf(schema: VirtualSchema, table: string): Scope | undefined {
  const found: VirtualTable | undefined = findTable(schema, table);
  if (!found) return undefined;
  return {
    table: found.physicalName,
    columns: found.columns.map((c) => ({ name: c.name, type: c.type })),
  };
}

/**
 * The alias the sync triggers' own start-time check gives the row (expression-names.ts): an
 * `up` or `down` runs in a trigger over variables, where no table name qualifies a column.
 */
const TRIGGER_ROW = "pgtandem_expression_check";

/** An `up`/`down` over a table's columns; none when the table is unknown (validation says so). */
function value(path: (string | number)[], text: string, scope: Scope | undefined): UserSqlItem[] {
  return scope ? [{ path, text, form: "value", scope: { ...scope, table: TRIGGER_ROW } }] : [];
}

/** A generated expression: DDL over the table's columns. */
function generatedValue(
  path: (string | number)[],
  text: string,
  scope: Scope | undefined,
): UserSqlItem[] {
  return scope ? [{ path, text, form: "value", scope }] : [];
}

function condition(
  path: (string | number)[],
  text: string,
  scope: Scope | undefined,
): UserSqlItem[] {
  return scope ? [{ path, text, form: "condition", scope }] : [];
}

function warnOnly(items: UserSqlItem[]): UserSqlItem[] {
  return items.map((item) => ({ ...item, warnOnly: true }));
}

function cast(type: string | undefined): { castTo?: string } {
  return type === undefined ? {} : { castTo: type };
}
