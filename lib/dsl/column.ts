/**
 * Column builders. A column starts as a type from the vocabulary (`t.text()`, see types.ts) and
 * gains settings by chaining; each call returns a new column and leaves the old one as it was:
 *
 * ```ts
 * t.text().nullable()
 * t.varchar(255).unique().comment("shown on the profile page")
 * t.timestamptz().default(sql`now()`)
 * t.text().defaultValue("free")                 // the literal 'free', quoted for you
 * t.integer().check("age_adult", sql`age >= 18`)
 * t.integer().references("posts_user_fkey", users, "id", { onDelete: "CASCADE" })
 * t.bigint().primaryKey().identity({ userSpecifiedValues: "BY DEFAULT" })
 * ```
 *
 * As in pgroll, a column is NOT NULL unless `.nullable()` says otherwise. The column's value kind
 * (`K`) and what it is known to have (`F`: nullable, a default, a primary key …) live in its type,
 * so `addColumn` can demand `up` for a NOT NULL column without a default, and `defaultValue`
 * accepts only values that fit the type.
 */
import { literal } from "../sql.ts";
import { misuse, requireName, type Spelling } from "./internal.ts";
import { columnReference, type ColumnReferenceOptions } from "./references.ts";
import { type SqlExpression, sqlText } from "./sql.ts";
import { type TableInfo, tableInfo, type TableLike } from "./table-ref.ts";

/** What kind of JavaScript value stands for a value of the column's type in `defaultValue`. */
export type ValueKind = "string" | "number" | "boolean" | "json" | "array" | "any";

/**
 * What a column is known to have, tracked in its type:
 * `nullable` (`.nullable()`), `default` (`.default`/`.defaultValue`), `filled` (serial types fill
 * themselves), `pk` (`.primaryKey()`), `generated` (`.generatedAs`/`.identity`).
 */
export type ColumnFlag = "nullable" | "default" | "filled" | "pk" | "generated";

/** A JSON value, for `defaultValue` of json and jsonb columns. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** The JavaScript values `defaultValue` accepts for a column of value kind `K`. */
export type LiteralOf<K extends ValueKind> = K extends "string" ? string
  : K extends "number" ? number | bigint
  : K extends "boolean" ? boolean
  : K extends "json" ? JsonValue
  : K extends "array" ? readonly (string | number | boolean | null)[]
  : string | number | bigint | boolean;

/** Settings of an identity column, pgroll's `generated.identity`. */
export interface IdentityOptions {
  /** `user_specified_values`: ALWAYS (default) rejects explicit values, BY DEFAULT allows them. */
  readonly userSpecifiedValues?: Spelling<"ALWAYS" | "BY DEFAULT">;
  /** `sequence_options`: options of the backing sequence, as in CREATE SEQUENCE. */
  readonly sequenceOptions?: SqlExpression;
}

const COLUMN_BRAND: unique symbol = Symbol.for("pgtandem.dsl.column");
/** Type-only keys carrying K and F; never present at run time. */
declare const KIND: unique symbol;
declare const FLAGS: unique symbol;

/** Everything a column builder has been told, before it knows its own name. */
export interface ColumnState {
  readonly type: string;
  readonly kind: ValueKind;
  /** True until the first setting: only a bare type may be used where a type is expected. */
  readonly bare: boolean;
  readonly nullable?: boolean;
  readonly unique?: true;
  readonly pk?: true;
  readonly default?: string;
  readonly comment?: string;
  readonly check?: { readonly name: string; readonly constraint: string };
  readonly references?: {
    readonly name: string;
    readonly target: TableInfo;
    readonly column: string;
    readonly options: ColumnReferenceOptions;
  };
  readonly generated?: Readonly<Record<string, unknown>>;
}

/** A column definition: a type and its settings. Immutable: every method returns a new column. */
export interface Column<K extends ValueKind = ValueKind, F extends ColumnFlag = ColumnFlag> {
  readonly [COLUMN_BRAND]: ColumnState;
  readonly [KIND]?: K;
  readonly [FLAGS]?: F;
  /** Allow NULL (`nullable: true`). Columns are NOT NULL unless this is called. */
  nullable(): Column<K, F | "nullable">;
  /** Write `nullable: false` explicitly. NOT NULL is already the default; this undoes `nullable()`. */
  notNull(): Column<K, Exclude<F, "nullable">>;
  /** Values must be unique (`unique: true`). */
  unique(): Column<K, F>;
  /** The column is (part of) the primary key (`pk: true`). */
  primaryKey(): Column<K, F | "pk">;
  /** Default as a SQL expression: `.default(sql\`now()\`)`. For a literal value use `defaultValue`. */
  default(expression: SqlExpression): Column<K, F | "default">;
  /**
   * Default as a literal value, quoted for you: `.defaultValue("free")` writes `'free'`,
   * `.defaultValue(0)` writes `0`, `.defaultValue({})` on jsonb writes `'{}'`.
   */
  defaultValue(value: LiteralOf<K>): Column<K, F | "default">;
  /** A named CHECK constraint on the column: `.check("age_adult", sql\`age >= 18\`)`. */
  check(name: string, expression: SqlExpression): Column<K, F>;
  /**
   * A named foreign key to `column` of `table`:
   * `.references("orders_user_fkey", users, "id", { onDelete: "CASCADE" })`.
   * With a table reference (`table(...)`, `createTable(...)`) the column name is checked.
   */
  references<R extends string>(
    name: string,
    table: TableLike<R>,
    column: NoInfer<R>,
    options?: ColumnReferenceOptions,
  ): Column<K, F>;
  /** A comment stored on the column. */
  comment(text: string): Column<K, F>;
  /** Compute the column from an expression (GENERATED ALWAYS AS (…) STORED). */
  generatedAs(expression: SqlExpression): Column<K, F | "generated">;
  /** Make the column an identity column (integer types only). */
  identity(this: Column<"number", F>, options?: IdentityOptions): Column<K, F | "generated">;
}

/**
 * A bare column type (`t.bigint()`): usable as a column as it is, or where only a type is
 * expected (`alterColumn(...).type(t.bigint(), …)`). Any setting turns it into a `Column`.
 */
export interface ColumnType<K extends ValueKind = ValueKind, F extends ColumnFlag = never>
  extends Column<K, F> {
  /** The type as written in SQL, e.g. `varchar(255)`. */
  readonly sql: string;
  /** An array of this type: `t.text().array()` is `text[]`. */
  array(): ColumnType<"array">;
}

/** Any column, whatever its kind and settings. */
export type AnyColumn = Column<any, any>;

class ColumnBuilder {
  readonly [COLUMN_BRAND]: ColumnState;

  constructor(state: ColumnState) {
    this[COLUMN_BRAND] = Object.freeze(state);
    Object.freeze(this);
  }

  #with(patch: Partial<ColumnState>): ColumnBuilder {
    return new ColumnBuilder({ ...this[COLUMN_BRAND], ...patch, bare: false });
  }

  get sql(): string {
    return this[COLUMN_BRAND].type;
  }

  array(): ColumnBuilder {
    const state = this[COLUMN_BRAND];
    if (!state.bare) throw misuse(`.array() applies to a type, before any column setting`);
    return new ColumnBuilder({ type: `${state.type}[]`, kind: "array", bare: true });
  }

  nullable(): ColumnBuilder {
    return this.#with({ nullable: true });
  }

  notNull(): ColumnBuilder {
    return this.#with({ nullable: false });
  }

  unique(): ColumnBuilder {
    return this.#with({ unique: true });
  }

  primaryKey(): ColumnBuilder {
    return this.#with({ pk: true });
  }

  default(expression: SqlExpression): ColumnBuilder {
    return this.#with({ default: sqlText(expression, "a column default") });
  }

  defaultValue(value: unknown): ColumnBuilder {
    return this.#with({ default: literalDefault(this[COLUMN_BRAND], value) });
  }

  check(name: string, expression: SqlExpression): ColumnBuilder {
    requireName(name, "check constraint name");
    return this.#with({
      check: { name, constraint: sqlText(expression, `check constraint "${name}"`) },
    });
  }

  references(
    name: string,
    table: TableLike,
    column: string,
    options: ColumnReferenceOptions = {},
  ): ColumnBuilder {
    requireName(name, "foreign key name");
    const target = tableInfo(table);
    // Builds the reference once now, so a wrong column fails at this line.
    columnReference(name, target, column, options);
    return this.#with({ references: { name, target, column, options } });
  }

  comment(text: string): ColumnBuilder {
    if (typeof text !== "string") throw misuse("a column comment must be a string");
    return this.#with({ comment: text });
  }

  generatedAs(expression: SqlExpression): ColumnBuilder {
    return this.#with({ generated: { expression: sqlText(expression, "a generated column") } });
  }

  identity(options: IdentityOptions = {}): ColumnBuilder {
    const identity: Record<string, unknown> = {};
    if (options.userSpecifiedValues !== undefined) {
      identity.user_specified_values = options.userSpecifiedValues;
    }
    if (options.sequenceOptions !== undefined) {
      identity.sequence_options = sqlText(options.sequenceOptions, "identity sequence options");
    }
    return this.#with({ generated: { identity } });
  }
}

/** A bare column type; types.ts builds the vocabulary from this. */
export function columnType<K extends ValueKind, F extends ColumnFlag = never>(
  sqlType: string,
  kind: K,
): ColumnType<K, F> {
  requireName(sqlType, "column type");
  return new ColumnBuilder({ type: sqlType, kind, bare: true }) as unknown as ColumnType<K, F>;
}

/** The state of a column made by any copy of this module; throws for anything else. */
export function columnState(value: unknown, what: string): ColumnState {
  const state = typeof value === "object" && value !== null
    ? (value as Record<PropertyKey, unknown>)[COLUMN_BRAND] as ColumnState | undefined
    : undefined;
  if (!state || typeof state.type !== "string") {
    throw misuse(`${what} must be a column built with t.…(), got ${typeof value}`);
  }
  return state;
}

/** The SQL type of a bare type; throws when settings were chained onto it. */
export function bareType(value: unknown, what: string): string {
  const state = columnState(value, what);
  if (!state.bare) {
    throw misuse(`${what} must be a bare type such as t.bigint(), without column settings`);
  }
  return state.type;
}

/** pgroll's column definition (Column) for a column called `name`. */
export function columnData(name: string, column: unknown): Record<string, unknown> {
  requireName(name, "column name");
  const state = columnState(column, `column "${name}"`);
  const out: Record<string, unknown> = { name, type: state.type };
  if (state.pk) out.pk = true;
  if (state.unique) out.unique = true;
  if (state.nullable !== undefined) out.nullable = state.nullable;
  if (state.default !== undefined) out.default = state.default;
  if (state.comment !== undefined) out.comment = state.comment;
  if (state.check) out.check = { ...state.check };
  if (state.references) {
    const { name: fk, target, column: to, options } = state.references;
    out.references = columnReference(fk, target, to, options);
  }
  if (state.generated) out.generated = structuredClone(state.generated);
  return out;
}

/** The SQL for `defaultValue(value)` on a column of the given state. */
export function literalDefault(state: Pick<ColumnState, "kind" | "type">, value: unknown): string {
  const wrong = (): never => {
    throw misuse(
      `defaultValue(${JSON.stringify(value) ?? String(value)}) does not fit type "${state.type}"`,
    );
  };
  switch (state.kind) {
    case "json":
      if (value === undefined) wrong();
      return literal(JSON.stringify(value));
    case "array":
      if (!Array.isArray(value)) wrong();
      return literal(arrayLiteral(value as unknown[]));
    case "string":
      return typeof value === "string" ? literal(value) : wrong();
    case "number":
      return typeof value === "number" || typeof value === "bigint" ? scalar(value) : wrong();
    case "boolean":
      return typeof value === "boolean" ? literal(value) : wrong();
    case "any":
      return typeof value === "string" ? literal(value) : scalar(value);
  }
}

function scalar(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" || typeof value === "boolean") return literal(value);
  throw misuse(`cannot use ${typeof value} as a default value`);
}

/** The text of a PostgreSQL array literal: `{"a","b"}`, every element quoted or NULL. */
function arrayLiteral(values: readonly unknown[]): string {
  const elements = values.map((v) => {
    if (v === null) return "NULL";
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (typeof v === "string") return `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
    throw misuse(`cannot use ${typeof v} as an array element of a default value`);
  });
  return `{${elements.join(",")}}`;
}
