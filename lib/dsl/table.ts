/**
 * `createTable`: a table with its columns given as an object (the key is the column name, the
 * order of keys is the order of columns) and table constraints added by chaining. The column names
 * are in the builder's type, so constraints can only name the table's own columns, and the builder
 * doubles as a table reference for later operations of the same migration:
 *
 * ```ts
 * const phonebook = createTable("phonebook", {
 *   id: t.serial(),
 *   provider_id: t.integer(),
 *   phone: t.varchar(255),
 * })
 *   .primaryKey("phonebook_pk", ["id"])
 *   .foreignKey("provider_fk", ["provider_id"], providers, ["id"], { onDelete: "CASCADE" })
 *   .unique("unique_numbers", ["phone"]);
 * ```
 */
import { createTableParams } from "../migration/params/create_table.ts";
import { type AnyColumn, columnData } from "./column.ts";
import {
  defined,
  misuse,
  type NonEmpty,
  requireName,
  type StorageParameters,
  storageParametersText,
} from "./internal.ts";
import { type BuiltOperation, OPERATION, type Operation, operationData } from "./operation.ts";
import { type TableForeignKeyOptions, tableReference } from "./references.ts";
import { type SqlExpression, sqlText } from "./sql.ts";
import { checkColumns, TABLE_REF, type TableInfo, tableInfo, type TableLike } from "./table-ref.ts";
import type { TableRef } from "./table-ref.ts";
import type { ColumnIn, SchemaShape, TableIn, UntypedSchema } from "./folder-schema.ts";

/** DEFERRABLE settings of a constraint. */
export interface ConstraintTiming {
  /** `deferrable`: make the constraint DEFERRABLE. */
  readonly deferrable?: boolean;
  /** `initially_deferred`: check at commit rather than per statement. */
  readonly initiallyDeferred?: boolean;
}

/** Settings of the index behind a unique, primary key or exclusion constraint. */
export interface IndexParameterOptions<C extends string> {
  /** `include_columns`: non-key columns stored in the index (INCLUDE). */
  readonly includeColumns?: readonly C[];
  /** `tablespace` of the index. */
  readonly tablespace?: string;
  /** `storage_parameters`, e.g. `{ fillfactor: 70 }`. */
  readonly storageParameters?: StorageParameters;
}

/** Index access method, in lower or upper case. */
export type IndexMethod =
  | "btree"
  | "hash"
  | "gist"
  | "spgist"
  | "gin"
  | "brin"
  | Uppercase<"btree" | "hash" | "gist" | "spgist" | "gin" | "brin">;

/** Definition of an EXCLUDE constraint, pgroll's `exclude`. */
export interface ExcludeDefinition {
  /** `index_method`, e.g. `gist` (or `btree` for plain equality). */
  readonly indexMethod?: IndexMethod;
  /** `elements`: as written inside EXCLUDE USING m (…), e.g. sql`title WITH =`. */
  readonly elements: SqlExpression;
  /** `predicate`: only rows matching this expression. */
  readonly predicate?: SqlExpression;
}

/**
 * A `create_table` operation being built; also a reference to the new table (columns `C`). `S` is
 * the schema the migration sees (`migration(name, …)`), which checks foreign keys' target tables.
 */
export interface CreateTable<C extends string, S extends SchemaShape = UntypedSchema>
  extends Operation<"create_table">, TableRef<C> {
  /** A comment stored on the table. */
  comment(text: string): CreateTable<C, S>;
  /** A named primary key over the given columns (when no column is marked `primaryKey()`). */
  primaryKey(
    name: string,
    columns: NonEmpty<C>,
    options?: ConstraintTiming & IndexParameterOptions<C>,
  ): CreateTable<C, S>;
  /** A named unique constraint over the given columns. */
  unique(
    name: string,
    columns: NonEmpty<C>,
    options?: ConstraintTiming & IndexParameterOptions<C> & {
      /** `nulls_not_distinct`: treat NULLs as equal. */
      readonly nullsNotDistinct?: boolean;
    },
  ): CreateTable<C, S>;
  /** A named check constraint: `.check("price_positive", sql\`price > 0\`)`. */
  check(
    name: string,
    expression: SqlExpression,
    options?: {
      /** `no_inherit`: do not pass the constraint to child tables. */
      readonly noInherit?: boolean;
    },
  ): CreateTable<C, S>;
  /**
   * A named foreign key from `columns` to `referencedColumns` of `table`, in order:
   * `.foreignKey("fk_sellers", ["seller_name", "seller_zip"], sellers, ["name", "zip"])`.
   */
  foreignKey<T extends TableIn<S>>(
    name: string,
    columns: NonEmpty<C>,
    table: T,
    referencedColumns: NonEmpty<NoInfer<ColumnIn<S, T>>>,
    options?: ConstraintTiming & TableForeignKeyOptions<C>,
  ): CreateTable<C, S>;
  /** A named EXCLUDE constraint. */
  exclude(
    name: string,
    exclude: ExcludeDefinition,
    options?: ConstraintTiming & IndexParameterOptions<C>,
  ): CreateTable<C, S>;
}

interface TableState {
  readonly columns: readonly (readonly [string, AnyColumn])[];
  readonly comment?: string;
  readonly constraints: readonly Record<string, unknown>[];
}

/** Object keys that JavaScript reorders (array indices) cannot keep a column order. */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * Creates a table: `createTable("users", { id: t.serial().primaryKey(), email: t.text() })`.
 * Columns are NOT NULL unless marked `.nullable()`, as in pgroll.
 */
export function createTable<Columns extends Record<string, AnyColumn>>(
  name: string,
  columns: Columns,
): CreateTable<keyof Columns & string> {
  requireName(name, "table name");
  if (typeof columns !== "object" || columns === null) {
    throw misuse(`createTable "${name}": columns must be an object of name → column`);
  }
  const entries = Object.entries(columns);
  for (const [column] of entries) {
    if (INDEX_KEY.test(column)) {
      throw misuse(
        `createTable "${name}": column name "${column}" is a number, and JavaScript moves such ` +
          `keys to the front of an object: build this table with operation("create_table", …)`,
      );
    }
  }
  // Builds each column once now, so a misused column fails at this call.
  for (const [column, definition] of entries) columnData(column, definition);
  return new CreateTableBuilder(name, {
    columns: entries,
    constraints: [],
  }) as unknown as CreateTable<
    keyof Columns & string
  >;
}

class CreateTableBuilder {
  readonly [TABLE_REF]: TableInfo;
  readonly [OPERATION]: () => BuiltOperation;
  readonly kind = "create_table";
  readonly name: string;
  readonly #state: TableState;

  constructor(name: string, state: TableState) {
    this.name = name;
    this.#state = state;
    this[TABLE_REF] = Object.freeze({
      name,
      columns: Object.freeze(state.columns.map(([column]) => column)),
    });
    this[OPERATION] = () => ({
      kind: "create_table",
      body: this.#body(),
      schema: createTableParams,
    });
    Object.freeze(this);
  }

  toJSON() {
    return operationData(this as unknown as Operation);
  }

  comment(text: string): CreateTableBuilder {
    if (typeof text !== "string") {
      throw misuse(`createTable "${this.name}": comment must be a string`);
    }
    return new CreateTableBuilder(this.name, { ...this.#state, comment: text });
  }

  primaryKey(
    name: string,
    columns: readonly string[],
    options: ConstraintTiming & IndexParameterOptions<string> = {},
  ): CreateTableBuilder {
    return this.#constraint(name, "primary_key", columns, {
      ...timing(options),
      index_parameters: this.#indexParameters(name, options),
    });
  }

  unique(
    name: string,
    columns: readonly string[],
    options: ConstraintTiming & IndexParameterOptions<string> & { nullsNotDistinct?: boolean } = {},
  ): CreateTableBuilder {
    return this.#constraint(name, "unique", columns, {
      ...timing(options),
      nulls_not_distinct: options.nullsNotDistinct,
      index_parameters: this.#indexParameters(name, options),
    });
  }

  check(
    name: string,
    expression: SqlExpression,
    options: { noInherit?: boolean } = {},
  ): CreateTableBuilder {
    return this.#constraint(name, "check", undefined, {
      check: sqlText(expression, `check constraint "${name}"`),
      no_inherit: options.noInherit,
    });
  }

  foreignKey(
    name: string,
    columns: readonly string[],
    table: TableLike,
    referencedColumns: readonly string[],
    options: ConstraintTiming & TableForeignKeyOptions<string> = {},
  ): CreateTableBuilder {
    requireName(name, "constraint name");
    if (referencedColumns.length !== columns.length) {
      throw misuse(
        `foreign key "${name}": ${columns.length} column(s) reference ` +
          `${referencedColumns.length} column(s); the lists must pair up`,
      );
    }
    if (options.onDeleteSetColumns) {
      checkColumns(this[TABLE_REF], options.onDeleteSetColumns, `foreign key "${name}"`);
    }
    return this.#constraint(name, "foreign_key", columns, {
      ...timing(options),
      references: tableReference(name, tableInfo(table), referencedColumns, options),
    });
  }

  exclude(
    name: string,
    exclude: ExcludeDefinition,
    options: ConstraintTiming & IndexParameterOptions<string> = {},
  ): CreateTableBuilder {
    return this.#constraint(name, "exclude", undefined, {
      ...timing(options),
      exclude: defined({
        index_method: exclude.indexMethod,
        elements: sqlText(exclude.elements, `exclusion constraint "${name}"`),
        predicate: exclude.predicate === undefined
          ? undefined
          : sqlText(exclude.predicate, `predicate of exclusion constraint "${name}"`),
      }),
      index_parameters: this.#indexParameters(name, options),
    });
  }

  #indexParameters(
    name: string,
    options: IndexParameterOptions<string>,
  ): Record<string, unknown> | undefined {
    if (options.includeColumns) {
      checkColumns(this[TABLE_REF], options.includeColumns, `constraint "${name}"`);
    }
    const parameters = defined({
      tablespace: options.tablespace,
      storage_parameters: storageParametersText(options.storageParameters),
      include_columns: options.includeColumns && [...options.includeColumns],
    });
    return Object.keys(parameters).length > 0 ? parameters : undefined;
  }

  #constraint(
    name: string,
    type: string,
    columns: readonly string[] | undefined,
    fields: Record<string, unknown>,
  ): CreateTableBuilder {
    requireName(name, "constraint name");
    if (columns) {
      if (columns.length === 0) throw misuse(`constraint "${name}" needs at least one column`);
      checkColumns(this[TABLE_REF], columns, `constraint "${name}"`);
    }
    const constraint = defined({ name, type, columns: columns && [...columns], ...fields });
    return new CreateTableBuilder(this.name, {
      ...this.#state,
      constraints: [...this.#state.constraints, constraint],
    });
  }

  #body(): Record<string, unknown> {
    const { columns, comment, constraints } = this.#state;
    return defined({
      name: this.name,
      columns: columns.map(([column, definition]) => columnData(column, definition)),
      comment,
      constraints: constraints.length > 0 ? constraints : undefined,
    });
  }
}

function timing(options: ConstraintTiming): Record<string, unknown> {
  return { deferrable: options.deferrable, initially_deferred: options.initiallyDeferred };
}
