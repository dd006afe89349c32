/** Parameters of `rename_column`. */
import { z } from "zod";
import { identifierSchema } from "./shared.ts";

export const renameColumnParams = z
  .object({
    table: identifierSchema.describe("Table the column belongs to."),
    from: identifierSchema.describe("Current name of the column."),
    to: identifierSchema.describe("New name of the column."),
  })
  .strict()
  .describe("Rename a column.");
export type RenameColumnParams = z.infer<typeof renameColumnParams>;
