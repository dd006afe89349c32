/** Parameters of `add_column`. */
import { z } from "zod";
import { columnSchema, identifierSchema, userSqlSchema } from "./shared.ts";

export const addColumnParams = z
  .object({
    table: identifierSchema.describe("Table to add the column to."),
    column: columnSchema.describe("The column to add."),
    up: userSqlSchema
      .optional()
      .describe(
        "SQL expression that fills the new column for existing rows and for rows written " +
          "through the old version; it may name the table's other columns.",
      ),
  })
  .strict()
  .describe("Add a column to a table.");
export type AddColumnParams = z.infer<typeof addColumnParams>;
