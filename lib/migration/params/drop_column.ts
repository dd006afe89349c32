/** Parameters of `drop_column`. */
import { z } from "zod";
import { identifierSchema, userSqlSchema } from "./shared.ts";

export const dropColumnParams = z
  .object({
    table: identifierSchema.describe("Table the column belongs to."),
    column: identifierSchema.describe("Column to drop."),
    down: userSqlSchema
      .optional()
      .describe(
        "SQL expression that fills the column for rows written through the new version, " +
          "while the old version still reads it.",
      ),
  })
  .strict()
  .describe("Drop a column from a table.");
export type DropColumnParams = z.infer<typeof dropColumnParams>;
