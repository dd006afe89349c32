/** Parameters of `rename_table`. */
import { z } from "zod";
import { identifierSchema } from "./shared.ts";

export const renameTableParams = z
  .object({
    from: identifierSchema.describe("Current name of the table."),
    to: identifierSchema.describe("New name of the table."),
  })
  .strict()
  .describe("Rename a table.");
export type RenameTableParams = z.infer<typeof renameTableParams>;
