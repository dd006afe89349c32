/**
 * Parameters of `create_constraint`. pgroll's JSON Schema requires `up` and `down`; its code only
 * requires an entry in each for every listed column, which is what we check.
 */
import { z } from "zod";
import {
  checkSetColumns,
  identifierSchema,
  indexParametersSchema,
  multiColumnSqlSchema,
  tableForeignKeyReferenceSchema,
  typeRequires,
  userSqlSchema,
} from "./shared.ts";

export const createConstraintParams = z
  .object({
    table: identifierSchema.describe("Table to add the constraint to."),
    name: identifierSchema.describe("Name of the new constraint."),
    // Exact, as in create_table: pgroll does nothing for a type it does not recognise.
    type: z.enum(["unique", "check", "foreign_key", "primary_key"]).describe("Kind of constraint."),
    columns: z
      .array(identifierSchema)
      .optional()
      .describe("Columns the constraint covers; each is rewritten into a new column."),
    check: userSqlSchema.optional().describe("Check constraints: the boolean SQL expression."),
    no_inherit: z
      .boolean()
      .optional()
      .describe("Check constraints: do not pass the constraint to child tables. Default false."),
    index_parameters: indexParametersSchema
      .optional()
      .describe("Accepted for compatibility with pgroll, which ignores it."),
    references: tableForeignKeyReferenceSchema
      .optional()
      .describe("Foreign key constraints: what the columns point to."),
    up: multiColumnSqlSchema
      .optional()
      .describe(
        "Per column: SQL expression giving the new column's value, so existing rows and rows " +
          "written through the old version satisfy the constraint.",
      ),
    down: multiColumnSqlSchema
      .optional()
      .describe("Per column: SQL expression giving the old column's value from the new one."),
  })
  .strict()
  .superRefine((c, ctx) => {
    const columns = c.columns ?? [];
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
    switch (c.type) {
      case "unique":
        need("columns", columns.length > 0);
        break;
      case "check":
        need("check", !!c.check);
        forbid("references", c.references !== undefined);
        break;
      case "primary_key":
        need("columns", columns.length > 0);
        forbid("check", !!c.check);
        forbid("no_inherit", c.no_inherit === true);
        forbid("references", c.references !== undefined);
        break;
      case "foreign_key":
        need("columns", columns.length > 0);
        need("references", c.references !== undefined);
        forbid("check", !!c.check);
        forbid("no_inherit", c.no_inherit === true);
        if (c.references) checkSetColumns(c.references, columns, ctx);
        break;
    }
    // Every column is rewritten through triggers in both directions, so each needs both.
    for (const direction of ["up", "down"] as const) {
      const sql = c[direction] ?? {};
      for (const column of columns) {
        if (!(column in sql)) {
          ctx.addIssue({
            code: "custom",
            path: [direction],
            message: `missing an entry for column "${column}"`,
          });
        }
      }
    }
  })
  .meta({
    description: "Add a constraint over existing columns, without blocking writes.",
    allOf: [
      typeRequires("unique", ["columns"]),
      typeRequires("check", ["check"]),
      typeRequires("primary_key", ["columns"]),
      typeRequires("foreign_key", ["columns", "references"]),
    ],
  });
export type CreateConstraintParams = z.infer<typeof createConstraintParams>;
