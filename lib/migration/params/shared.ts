/**
 * Zod shapes shared by several operation kinds: columns, foreign key references, check and table
 * constraints. Field names and required/optional match pgroll's JSON Schema exactly, so any pgroll
 * migration file parses unchanged. Shapes that pgroll's schema names in its `$defs` carry the same
 * `id`, so the generated JSON Schema reuses them under the same names.
 *
 * Every object is `.strict()`: pgroll decodes with unknown fields disallowed, and a misspelt field
 * that is silently ignored would lose DDL.
 */
import { z } from "zod";
import type { UserSqlBrand } from "../../user-sql.ts";

/** A name of a table, column, constraint or index: any non-empty string, quoted when emitted. */
export const identifierSchema = z.string().min(1);

/**
 * SQL written by the user (an expression, a type, statements, a clause such as storage
 * parameters): pasted into statements verbatim, so parsed into `UserSql` (lib/user-sql.ts). The
 * brand is type-only: parsing and the generated JSON Schema are a plain string's.
 */
export const userSqlSchema = z.string().brand<UserSqlBrand>();

/** User SQL that must not be empty (a type, a check, a generated expression). */
export const sqlTextSchema = z.string().min(1).brand<UserSqlBrand>();

/**
 * A SQL keyword enum such as `on_delete`. pgroll pastes these values into SQL (or upper-cases them
 * before comparing), so any spelling Postgres understands works there; we accept any case too and
 * normalise to the canonical spelling, so operations compare against one value. The JSON Schema
 * lists the canonical and the lower-case spellings for editors.
 */
export function keywordEnum<const T extends readonly [string, ...string[]]>(
  values: T,
  spelling: "upper" | "lower" = "upper",
) {
  const normalise = (v: string) => spelling === "upper" ? v.toUpperCase() : v.toLowerCase();
  const allowed = new Set<string>(values);
  const listed = values.map((v) => JSON.stringify(v)).join(", ");
  const spellings = [...new Set([...values, ...values.map((v) => v.toLowerCase())])];
  return z
    .string()
    .refine((v) => allowed.has(normalise(v)), {
      error: (issue) => `expected one of ${listed} (any case), got ${JSON.stringify(issue.input)}`,
    })
    .transform((v) => normalise(v) as T[number])
    .meta({ enum: spellings });
}

/** ON DELETE / ON UPDATE actions; pgroll compares on_delete case-insensitively. */
export const foreignKeyActionSchema = keywordEnum([
  "NO ACTION",
  "RESTRICT",
  "CASCADE",
  "SET NULL",
  "SET DEFAULT",
]);
export type ForeignKeyAction = z.infer<typeof foreignKeyActionSchema>;

export const foreignKeyMatchTypeSchema = keywordEnum(["SIMPLE", "FULL", "PARTIAL"]);
export type ForeignKeyMatchType = z.infer<typeof foreignKeyMatchTypeSchema>;

export const checkConstraintSchema = z
  .object({
    name: identifierSchema.describe("Name of the check constraint."),
    constraint: sqlTextSchema.describe(
      "Boolean SQL expression every row must satisfy, naming columns by their names.",
    ),
    no_inherit: z
      .boolean()
      .optional()
      .describe("Mark the constraint NO INHERIT so child tables do not get it. Default false."),
  })
  .strict()
  .meta({ id: "CheckConstraint", description: "A named CHECK constraint." });
export type CheckConstraint = z.infer<typeof checkConstraintSchema>;

/** A foreign key declared on one column (column definitions and alter_column). */
export const foreignKeyReferenceSchema = z
  .object({
    name: identifierSchema.describe("Name of the foreign key constraint."),
    table: identifierSchema.describe("Table the column points to."),
    column: identifierSchema.describe("Column of that table the column points to."),
    match_type: foreignKeyMatchTypeSchema
      .optional()
      .describe("MATCH type: SIMPLE (the default), FULL or PARTIAL."),
    on_delete: foreignKeyActionSchema
      .optional()
      .describe(
        "What happens to referencing rows when the referenced row is deleted. Default NO ACTION.",
      ),
    on_update: foreignKeyActionSchema
      .optional()
      .describe(
        "What happens to referencing rows when the referenced key changes. Default NO ACTION.",
      ),
    deferrable: z.boolean().optional().describe("Make the constraint DEFERRABLE. Default false."),
    initially_deferred: z
      .boolean()
      .optional()
      .describe("Check the constraint at commit rather than per statement. Default false."),
  })
  .strict()
  .meta({ id: "ForeignKeyReference", description: "A foreign key from one column." });
export type ForeignKeyReference = z.infer<typeof foreignKeyReferenceSchema>;

/** A foreign key over a list of columns (table constraints and create_constraint). */
export const tableForeignKeyReferenceSchema = z
  .object({
    table: identifierSchema.describe("Table the columns point to."),
    columns: z
      .array(identifierSchema)
      .min(1)
      .describe("Columns of that table, in the order of the constraint's own columns."),
    match_type: foreignKeyMatchTypeSchema
      .optional()
      .describe("MATCH type: SIMPLE (the default), FULL or PARTIAL."),
    on_delete: foreignKeyActionSchema
      .optional()
      .describe(
        "What happens to referencing rows when the referenced row is deleted. Default NO ACTION.",
      ),
    on_update: foreignKeyActionSchema
      .optional()
      .describe(
        "What happens to referencing rows when the referenced key changes. Default NO ACTION.",
      ),
    on_delete_set_columns: z
      .array(identifierSchema)
      .optional()
      .describe(
        "With on_delete SET NULL or SET DEFAULT: only these of the constraint's columns are set.",
      ),
  })
  .strict()
  .meta({ id: "TableForeignKeyReference", description: "A foreign key from a list of columns." });
export type TableForeignKeyReference = z.infer<typeof tableForeignKeyReferenceSchema>;

export const identitySchema = z
  .object({
    user_specified_values: keywordEnum(["ALWAYS", "BY DEFAULT"])
      .optional()
      .describe(
        "ALWAYS (the default) rejects explicit values on INSERT; BY DEFAULT lets them through.",
      ),
    sequence_options: userSqlSchema
      .optional()
      .describe("Options for the identity's sequence, written as in CREATE SEQUENCE."),
  })
  .strict()
  .describe("Make the column an identity column backed by a sequence.");

/** Exactly one of `expression` and `identity`: a column is either computed or an identity. */
export const generatedSchema = z
  .object({
    expression: sqlTextSchema
      .optional()
      .describe("Compute the column from this expression (GENERATED ALWAYS AS … STORED)."),
    identity: identitySchema.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.expression !== undefined && value.identity !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["identity"],
        message: 'not allowed together with "expression": a column is computed or an identity',
      });
    } else if (value.expression === undefined && value.identity === undefined) {
      ctx.addIssue({ code: "custom", message: 'needs either "expression" or "identity"' });
    }
  })
  .describe("Make the column generated: computed from an expression, or an identity.");
export type Generated = z.infer<typeof generatedSchema>;

export const columnSchema = z
  .object({
    name: identifierSchema.describe("Name of the column."),
    type: sqlTextSchema.describe("PostgreSQL type of the column, as written in SQL."),
    nullable: z.boolean().optional().describe("Allow NULL values. Default false (NOT NULL)."),
    unique: z.boolean().optional().describe("Values must be unique. Default false."),
    pk: z
      .boolean()
      .optional()
      .describe("The column is (part of) the primary key. Default false."),
    default: userSqlSchema
      .optional()
      .describe("Default value as a SQL expression; string literals need their own quotes."),
    comment: z.string().optional().describe("Comment stored on the column."),
    check: checkConstraintSchema.optional().describe("A CHECK constraint on the column."),
    references: foreignKeyReferenceSchema
      .optional()
      .describe("A foreign key from this column."),
    generated: generatedSchema.optional(),
  })
  .strict()
  .meta({ id: "Column", description: "A column definition." });
export type ColumnDef = z.infer<typeof columnSchema>;

export const indexParametersSchema = z
  .object({
    tablespace: z.string().optional().describe("Tablespace of the constraint's index."),
    storage_parameters: userSqlSchema
      .optional()
      .describe("Storage parameters of the index, as written inside WITH (…)."),
    include_columns: z
      .array(identifierSchema)
      .optional()
      .describe("Non-key columns stored in the index (INCLUDE)."),
  })
  .strict()
  .describe("Settings of the index behind a unique, primary key or exclusion constraint.");
export type IndexParameters = z.infer<typeof indexParametersSchema>;

export const excludeSchema = z
  .object({
    index_method: userSqlSchema
      .optional()
      .describe("Index method of the constraint, e.g. gist."),
    elements: userSqlSchema
      .optional()
      .describe("Elements and operators, as written inside EXCLUDE USING m (…)."),
    predicate: userSqlSchema
      .optional()
      .describe("Make the constraint partial: only rows matching this expression."),
  })
  .strict()
  .describe("Definition of an EXCLUDE constraint.");
export type Exclude = z.infer<typeof excludeSchema>;

const constraintTypes = ["unique", "check", "primary_key", "foreign_key", "exclude"] as const;

export const tableConstraintSchema = z
  .object({
    name: identifierSchema.describe("Name of the constraint."),
    // Compared exactly, not case-insensitively: pgroll skips a type it does not recognise, which
    // would silently drop the constraint.
    type: z.enum(constraintTypes).describe("Kind of constraint."),
    columns: z
      .array(identifierSchema)
      .optional()
      .describe("Columns the constraint covers (not for exclude)."),
    deferrable: z.boolean().optional().describe("Make the constraint DEFERRABLE. Default false."),
    initially_deferred: z
      .boolean()
      .optional()
      .describe("Check the constraint at commit rather than per statement. Default false."),
    nulls_not_distinct: z
      .boolean()
      .optional()
      .describe("Unique constraints: treat NULLs as equal (NULLS NOT DISTINCT). Default false."),
    no_inherit: z
      .boolean()
      .optional()
      .describe("Check constraints: do not pass the constraint to child tables. Default false."),
    check: userSqlSchema.optional().describe("Check constraints: the boolean SQL expression."),
    references: tableForeignKeyReferenceSchema
      .optional()
      .describe("Foreign key constraints: what the columns point to."),
    exclude: excludeSchema.optional(),
    index_parameters: indexParametersSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const need = (field: keyof typeof c, present: boolean) => {
      if (!present) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `required for "${c.type}" constraints`,
        });
      }
    };
    const forbid = (field: keyof typeof c, set: boolean) => {
      if (set) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `not allowed for "${c.type}" constraints`,
        });
      }
    };
    const hasColumns = (c.columns?.length ?? 0) > 0;
    // The rules are pgroll's JSON Schema (allOf if/then) plus the checks in its Validate code.
    switch (c.type) {
      case "unique":
        need("columns", hasColumns);
        forbid("check", !!c.check);
        forbid("no_inherit", c.no_inherit === true);
        break;
      case "check":
        need("check", !!c.check);
        forbid("deferrable", c.deferrable === true);
        forbid("initially_deferred", c.initially_deferred === true);
        forbid("nulls_not_distinct", c.nulls_not_distinct === true);
        // pgroll's code rejects any index_parameters here, even an empty object.
        forbid("index_parameters", c.index_parameters !== undefined);
        break;
      case "primary_key":
        need("columns", hasColumns);
        forbid("check", !!c.check);
        forbid("no_inherit", c.no_inherit === true);
        forbid("nulls_not_distinct", c.nulls_not_distinct === true);
        break;
      case "foreign_key":
        need("columns", hasColumns);
        need("references", c.references !== undefined);
        forbid("check", !!c.check);
        forbid("no_inherit", c.no_inherit === true);
        forbid("nulls_not_distinct", c.nulls_not_distinct === true);
        forbid("index_parameters", Object.keys(c.index_parameters ?? {}).length > 0);
        if (c.references) checkSetColumns(c.references, c.columns ?? [], ctx);
        break;
      case "exclude":
        need("exclude", c.exclude !== undefined);
        forbid("columns", hasColumns);
        forbid("check", !!c.check);
        forbid("no_inherit", c.no_inherit === true);
        forbid("nulls_not_distinct", c.nulls_not_distinct === true);
        break;
    }
  })
  .meta({
    id: "Constraint",
    description: "A table constraint.",
    // Editors get the per-type required fields; the "not allowed" rules are checked on load.
    allOf: [
      typeRequires("unique", ["columns"]),
      typeRequires("check", ["check"]),
      typeRequires("primary_key", ["columns"]),
      typeRequires("foreign_key", ["columns", "references"]),
      typeRequires("exclude", ["exclude"]),
    ],
  });
export type TableConstraint = z.infer<typeof tableConstraintSchema>;

/** A JSON Schema if/then: when `type` is `type`, these fields are required. */
export function typeRequires(type: string, fields: string[]): object {
  return {
    if: { properties: { type: { const: type } }, required: ["type"] },
    then: { required: fields },
  };
}

/** on_delete_set_columns only makes sense with SET NULL / SET DEFAULT, and for own columns. */
export function checkSetColumns(
  references: TableForeignKeyReference,
  columns: string[],
  ctx: z.RefinementCtx,
): void {
  const setColumns = references.on_delete_set_columns ?? [];
  if (setColumns.length === 0) return;
  const path = ["references", "on_delete_set_columns"];
  if (references.on_delete !== "SET NULL" && references.on_delete !== "SET DEFAULT") {
    ctx.addIssue({
      code: "custom",
      path,
      message: 'only allowed when "on_delete" is SET NULL or SET DEFAULT',
    });
    return;
  }
  setColumns.forEach((column, index) => {
    if (!columns.includes(column)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, index],
        message: `column "${column}" is not one of the constraint's columns`,
      });
    }
  });
}

/** Column name → SQL expression, for operations that rewrite several columns at once. */
export const multiColumnSqlSchema = z.record(identifierSchema, userSqlSchema);
