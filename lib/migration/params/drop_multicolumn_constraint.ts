/** Parameters of `drop_multicolumn_constraint`. */
import { z } from "zod";
import { identifierSchema, multiColumnSqlSchema } from "./shared.ts";

export const dropMulticolumnConstraintParams = z
  .object({
    table: identifierSchema.describe("Table the constraint belongs to."),
    name: identifierSchema.describe("Name of the constraint to drop."),
    up: multiColumnSqlSchema
      .optional()
      .describe("Per column: SQL expression for the new column. Default: the old value unchanged."),
    down: multiColumnSqlSchema.describe(
      "Per column of the constraint: SQL expression giving the old column a value that " +
        "satisfies the constraint, for rows written through the new version.",
    ),
  })
  .strict()
  .describe("Drop a check, unique or foreign key constraint, without blocking writes.");
export type DropMulticolumnConstraintParams = z.infer<typeof dropMulticolumnConstraintParams>;
