/**
 * The marker for SQL written by the migration author. Everywhere the DSL pastes text into SQL
 * (defaults, checks, up/down, predicates, raw SQL) it takes a `SqlExpression`, never a plain
 * string, so user SQL is visible in review and a string meant as a value cannot end up as code.
 *
 * ```ts
 * sql`now()`                          // an expression, verbatim
 * sql`CAST(${sql.ident("rating")} AS integer)`
 * sql`price * ${1.2}`                 // numbers, booleans and null interpolate as literals
 * sql`status = ${sql.literal("it's")}` // strings must say whether they are a literal or a name
 * sql(expressionBuiltElsewhere)       // the function form, for text from a variable
 * ```
 *
 * The brand is a `Symbol.for` key, not a class: a plugin carrying its own copy of this module
 * makes expressions this copy recognises (STYLE 6).
 */
import { ident, literal } from "../sql.ts";
import { misuse } from "./internal.ts";

/** The brand key of SQL expressions, shared by every copy of the module. */
const SQL_BRAND: unique symbol = Symbol.for("pgtandem.sql");

/** A SQL expression written by the migration author, inserted verbatim into statements. */
export interface SqlExpression {
  readonly [SQL_BRAND]: true;
  /** The SQL text. */
  readonly text: string;
  /** The SQL text, so an expression prints and interpolates as itself. */
  toString(): string;
  /** The SQL text, so `JSON.stringify` writes what a migration file would hold. */
  toJSON(): string;
}

/**
 * What may appear inside `${}` in a `sql` template: another expression (spliced verbatim) or a
 * number, bigint, boolean or null (written as a SQL literal). Strings are refused: write
 * `sql.literal(s)` for a value or `sql.ident(s)` for a name, so the meaning is on the page.
 */
export type SqlValue = SqlExpression | number | bigint | boolean | null;

/** The `sql` tag and its helpers. */
export interface SqlTag {
  /** `sql\`length(name) > ${3}\``: an expression from a template. */
  (strings: TemplateStringsArray, ...values: SqlValue[]): SqlExpression;
  /** `sql("length(name) > 3")`: an expression from text held in a variable. */
  (text: string): SqlExpression;
  /** A quoted identifier, parts joined with dots and never split: `sql.ident("my table")`. */
  ident(...parts: [string, ...string[]]): SqlExpression;
  /** An escaped literal: `sql.literal("it's")` is `'it''s'`, `sql.literal(3)` is `3`. */
  literal(value: string | number | bigint | boolean | null): SqlExpression;
}

/** True when `value` is a SQL expression made by any copy of this module. */
export function isSqlExpression(value: unknown): value is SqlExpression {
  return typeof value === "object" && value !== null &&
    (value as Record<PropertyKey, unknown>)[SQL_BRAND] === true &&
    typeof (value as { text?: unknown }).text === "string";
}

function expression(text: string): SqlExpression {
  if (text.trim() === "") throw misuse("a SQL expression must not be empty");
  return Object.freeze({
    [SQL_BRAND]: true as const,
    text,
    toString: () => text,
    toJSON: () => text,
  });
}

function valueText(value: unknown, index: number): string {
  if (isSqlExpression(value)) return value.text;
  if (value === null || typeof value === "number" || typeof value === "boolean") {
    return literal(value);
  }
  if (typeof value === "bigint") return value.toString();
  const hint = typeof value === "string"
    ? `: wrap it in sql.literal(…) for a value or sql.ident(…) for a name`
    : "";
  throw misuse(
    `cannot interpolate ${typeof value} at \${} number ${index + 1} of a sql template${hint}`,
  );
}

function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) && "raw" in value;
}

/**
 * Marks SQL written by the migration author: as a tagged template (`sql\`now()\``) or called with
 * text (`sql(text)`). See `SqlValue` for what a template may interpolate.
 */
export const sql: SqlTag = Object.assign(
  (first: TemplateStringsArray | string, ...values: unknown[]): SqlExpression => {
    if (typeof first === "string") {
      if (values.length > 0) throw misuse("sql(text) takes one argument");
      return expression(first);
    }
    if (!isTemplate(first)) {
      throw misuse(`sql expects a template or a string, got ${typeof first}`);
    }
    let text = first[0] ?? "";
    values.forEach((value, index) => {
      text += valueText(value, index) + (first[index + 1] ?? "");
    });
    return expression(text);
  },
  {
    ident: (...parts: [string, ...string[]]): SqlExpression => {
      if (parts.length === 0 || parts.some((p) => typeof p !== "string" || p === "")) {
        throw misuse("sql.ident needs one or more non-empty names");
      }
      return expression(ident(...parts));
    },
    literal: (value: string | number | bigint | boolean | null): SqlExpression =>
      expression(typeof value === "bigint" ? value.toString() : literal(value)),
  },
);

/** The text of an expression; throws for anything else (a plain string from JavaScript). */
export function sqlText(value: unknown, what: string): string {
  if (isSqlExpression(value)) return value.text;
  const hint = typeof value === "string" ? ` (mark SQL with sql\`…\` or sql(text))` : "";
  throw misuse(`${what} must be a SQL expression, got ${typeof value}${hint}`);
}

/** Like `sqlText`, for optional fields: `undefined` stays `undefined`. */
export function optionalSqlText(value: unknown, what: string): string | undefined {
  return value === undefined ? undefined : sqlText(value, what);
}
