/**
 * `alterColumn`: one or more changes to a column, chained. pgroll rewrites the column into a new
 * one while both versions run, so some changes need SQL that converts values between the two:
 * `up` (old → new, for existing rows and writes through the old version) and `down` (new → old).
 * The types demand them where the change cannot work without them:
 *
 * ```ts
 * alterColumn("reviews", "rating").type(t.integer(), {
 *   up: sql`CAST(rating AS integer)`,
 *   down: sql`CAST(rating AS text)`,
 * })
 * alterColumn("reviews", "review").notNull({ up: sql`COALESCE(review, '')` })  // fill NULLs
 * alterColumn("posts", "title").nullable({ down: sql`COALESCE(title, 'untitled')` })
 * alterColumn("events", "name").comment("shown in the calendar")
 * ```
 *
 * An operation has one `up` and one `down`; give each once (repeating the same expression is fine).
 */
import { alterColumnParams } from "../migration/params/alter_column.ts";
import { bareType, type ColumnType, literalDefault, type ValueKind } from "./column.ts";
import { misuse, requireName } from "./internal.ts";
import { type BuiltOperation, OPERATION, type Operation, operationData } from "./operation.ts";
import { columnReference, type ColumnReferenceOptions } from "./references.ts";
import { type SqlExpression, sqlText } from "./sql.ts";
import { checkColumns, tableInfo, type TableLike } from "./table-ref.ts";
import type { ColumnIn, SchemaShape, TableIn, UntypedSchema } from "./folder-schema.ts";

/** SQL converting values between the old and the new column. */
export interface Convert {
  /** Old → new: computes the new column from the old one (named by the column's name). */
  readonly up?: SqlExpression;
  /** New → old: computes the old column from the new one. */
  readonly down?: SqlExpression;
}

type HasUp<V> = V extends { readonly up: SqlExpression } ? true : false;
/**
 * The `convert` argument of a change that needs both `up` and `down` (a check or a foreign key,
 * as pgroll requires): optional once both were given, else it must bring the missing ones.
 */
type BothArgs<U extends boolean, D extends boolean, Extra = unknown> = [U, D] extends [true, true]
  ? [convert?: Extra & Convert]
  : [
    convert:
      & Extra
      & Convert
      & (U extends true ? unknown : { readonly up: SqlExpression })
      & (D extends true ? unknown : { readonly down: SqlExpression }),
  ];
type HasDown<V> = V extends { readonly down: SqlExpression } ? true : false;
type Or<A extends boolean, B extends boolean> = A extends true ? true : B;

/**
 * The changes `alterColumn` offers. `U` and `D` record whether `up` and `down` were given
 * already, so a later change that needs one does not ask for it again.
 */
export interface AlterColumnChanges<
  U extends boolean,
  D extends boolean,
  S extends SchemaShape = UntypedSchema,
> {
  /** Change the type; `up` and `down` convert values between the old and new type. */
  type(
    type: ColumnType<ValueKind, never>,
    convert: { readonly up: SqlExpression; readonly down: SqlExpression },
  ): AlterColumn<true, true, S>;
  /** Add NOT NULL; `up` must give existing NULLs a value (unless given already). */
  notNull(
    ...convert: U extends true ? [convert?: Convert]
      : [convert: Convert & { readonly up: SqlExpression }]
  ): AlterColumn<true, D, S>;
  /** Drop NOT NULL; `down` must give the old version a value for NULLs (unless given already). */
  nullable(
    ...convert: D extends true ? [convert?: Convert]
      : [convert: Convert & { readonly down: SqlExpression }]
  ): AlterColumn<U, true, S>;
  /** Add a named unique constraint on the column. */
  unique<V extends Convert = Record<never, never>>(
    name: string,
    convert?: V,
  ): AlterColumn<Or<U, HasUp<V>>, Or<D, HasDown<V>>, S>;
  /**
   * Add a named check constraint: `.check("title_length", sql\`length(title) > 3\`, { up, down })`.
   * `up` must make existing values pass it and `down` convert back (unless given already).
   */
  check(
    name: string,
    expression: SqlExpression,
    ...convert: BothArgs<U, D>
  ): AlterColumn<true, true, S>;
  /**
   * Add a named foreign key to `column` of `table`; settings and `up`/`down` (both needed, unless
   * given already) in `options`.
   */
  references<T extends TableIn<S>>(
    name: string,
    table: T,
    column: NoInfer<ColumnIn<S, T>>,
    ...options: BothArgs<U, D, ColumnReferenceOptions>
  ): AlterColumn<true, true, S>;
  /** Set the default to a SQL expression. */
  default<V extends Convert = Record<never, never>>(
    expression: SqlExpression,
    convert?: V,
  ): AlterColumn<Or<U, HasUp<V>>, Or<D, HasDown<V>>, S>;
  /** Set the default to a literal value, quoted for you: `.defaultValue("paper")` is `'paper'`. */
  defaultValue<V extends Convert = Record<never, never>>(
    value: string | number | bigint | boolean,
    convert?: V,
  ): AlterColumn<Or<U, HasUp<V>>, Or<D, HasDown<V>>, S>;
  /** Drop the default (`default: null`). */
  dropDefault<V extends Convert = Record<never, never>>(
    convert?: V,
  ): AlterColumn<Or<U, HasUp<V>>, Or<D, HasDown<V>>, S>;
  /** Set the column's comment. */
  comment<V extends Convert = Record<never, never>>(
    text: string,
    convert?: V,
  ): AlterColumn<Or<U, HasUp<V>>, Or<D, HasDown<V>>, S>;
  /** Remove the column's comment (`comment: null`). */
  dropComment<V extends Convert = Record<never, never>>(
    convert?: V,
  ): AlterColumn<Or<U, HasUp<V>>, Or<D, HasDown<V>>, S>;
}

/** An `alter_column` operation with at least one change; more can be chained. */
export interface AlterColumn<
  U extends boolean = boolean,
  D extends boolean = boolean,
  S extends SchemaShape = UntypedSchema,
> extends AlterColumnChanges<U, D, S>, Operation<"alter_column"> {}

/**
 * Starts changing a column; chain one or more changes (an alterColumn without a change is not an
 * operation). With a table reference, the column name is checked.
 */
export function alterColumn<C extends string>(
  table: TableLike<C>,
  column: NoInfer<C>,
): AlterColumnChanges<false, false> {
  const info = tableInfo(table);
  checkColumns(info, [column], "alterColumn");
  return new AlterColumnBuilder({
    table: info.name,
    column,
    changes: {},
  }) as unknown as AlterColumnChanges<false, false>;
}

interface AlterState {
  readonly table: string;
  readonly column: string;
  readonly changes: Readonly<Record<string, unknown>>;
  readonly up?: string;
  readonly down?: string;
}

class AlterColumnBuilder {
  readonly [OPERATION]: () => BuiltOperation;
  readonly kind = "alter_column";
  readonly #state: AlterState;

  constructor(state: AlterState) {
    this.#state = state;
    this[OPERATION] = () => ({
      kind: "alter_column",
      body: this.#body(),
      schema: alterColumnParams,
    });
    Object.freeze(this);
  }

  toJSON() {
    return operationData(this as unknown as Operation);
  }

  type(type: unknown, convert: Convert): AlterColumnBuilder {
    this.#require(convert, ["up", "down"], "a type change");
    return this.#change({ type: bareType(type, `type of column "${this.#name}"`) }, convert);
  }

  notNull(convert?: Convert): AlterColumnBuilder {
    if (this.#state.up === undefined) this.#require(convert, ["up"], "adding NOT NULL");
    return this.#change({ nullable: false }, convert);
  }

  nullable(convert?: Convert): AlterColumnBuilder {
    if (this.#state.down === undefined) this.#require(convert, ["down"], "dropping NOT NULL");
    return this.#change({ nullable: true }, convert);
  }

  unique(name: string, convert?: Convert): AlterColumnBuilder {
    return this.#change({ unique: { name: requireName(name, "unique constraint name") } }, convert);
  }

  check(name: string, expression: SqlExpression, convert?: Convert): AlterColumnBuilder {
    requireName(name, "check constraint name");
    this.#requireMissing(convert, `adding check constraint "${name}"`);
    return this.#change(
      { check: { name, constraint: sqlText(expression, `check constraint "${name}"`) } },
      convert,
    );
  }

  references(
    name: string,
    table: TableLike,
    column: string,
    options: ColumnReferenceOptions & Convert = {},
  ): AlterColumnBuilder {
    requireName(name, "foreign key name");
    this.#requireMissing(options, `adding foreign key "${name}"`);
    const { up, down, ...settings } = options;
    return this.#change(
      { references: columnReference(name, tableInfo(table), column, settings) },
      { ...(up ? { up } : {}), ...(down ? { down } : {}) },
    );
  }

  default(expression: SqlExpression, convert?: Convert): AlterColumnBuilder {
    return this.#change({ default: sqlText(expression, `default of "${this.#name}"`) }, convert);
  }

  defaultValue(value: string | number | bigint | boolean, convert?: Convert): AlterColumnBuilder {
    const text = literalDefault({ kind: "any", type: "the column's type" }, value);
    return this.#change({ default: text }, convert);
  }

  dropDefault(convert?: Convert): AlterColumnBuilder {
    return this.#change({ default: null }, convert);
  }

  comment(text: string, convert?: Convert): AlterColumnBuilder {
    if (typeof text !== "string") throw misuse(`comment of "${this.#name}" must be a string`);
    return this.#change({ comment: text }, convert);
  }

  dropComment(convert?: Convert): AlterColumnBuilder {
    return this.#change({ comment: null }, convert);
  }

  get #name(): string {
    return `${this.#state.table}.${this.#state.column}`;
  }

  /** Both `up` and `down` are needed: those not given by an earlier change must be in `convert`. */
  #requireMissing(convert: Convert | undefined, what: string): void {
    const missing = (["up", "down"] as const).filter((f) => this.#state[f] === undefined);
    this.#require(convert, missing, what);
  }

  #require(convert: Convert | undefined, fields: ("up" | "down")[], what: string): void {
    const missing = fields.filter((f) => convert?.[f] === undefined);
    if (missing.length > 0) {
      throw misuse(
        `alterColumn "${this.#name}": ${what} needs ${missing.map((f) => `"${f}"`).join(" and ")}`,
      );
    }
  }

  #change(fields: Record<string, unknown>, convert: Convert | undefined): AlterColumnBuilder {
    const state = { ...this.#state, changes: { ...this.#state.changes, ...fields } };
    for (const direction of ["up", "down"] as const) {
      const given = convert?.[direction];
      if (given === undefined) continue;
      const text = sqlText(given, `${direction} of alterColumn "${this.#name}"`);
      const previous = this.#state[direction];
      if (previous !== undefined && previous !== text) {
        throw misuse(
          `alterColumn "${this.#name}": "${direction}" is given twice with different SQL ` +
            `(${JSON.stringify(previous)} and ${JSON.stringify(text)}); an operation has one`,
        );
      }
      state[direction] = text;
    }
    return new AlterColumnBuilder(state);
  }

  #body(): Record<string, unknown> {
    const { table, column, changes, up, down } = this.#state;
    return {
      table,
      column,
      ...changes,
      ...(up === undefined ? {} : { up }),
      ...(down === undefined ? {} : { down }),
    };
  }
}
