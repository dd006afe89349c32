/**
 * Parameters of `drop_constraint`, pgroll's deprecated single-column form of
 * `drop_multicolumn_constraint`. The JSON Schema requires `up`; the code defaults it to the column
 * itself, and so do we.
 */
import { z } from "zod";
import { identifierSchema, sqlTextSchema, userSqlSchema } from "./shared.ts";

export const dropConstraintParams = z
  .object({
    table: identifierSchema.describe("Table the constraint belongs to."),
    name: identifierSchema.describe("Name of the constraint to drop (one column only)."),
    up: userSqlSchema
      .optional()
      .describe("SQL expression for the new column's value. Default: the old value unchanged."),
    down: sqlTextSchema.describe(
      "SQL expression giving the old column a value that satisfies the constraint, for rows " +
        "written through the new version.",
    ),
  })
  .strict()
  .describe("Drop a single-column constraint (deprecated: use drop_multicolumn_constraint).");
export type DropConstraintParams = z.infer<typeof dropConstraintParams>;
