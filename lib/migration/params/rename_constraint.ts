/** Parameters of `rename_constraint`. */
import { z } from "zod";
import { identifierSchema } from "./shared.ts";

export const renameConstraintParams = z
  .object({
    table: identifierSchema.describe("Table the constraint belongs to."),
    from: identifierSchema.describe("Current name of the constraint."),
    to: identifierSchema.describe("New name of the constraint."),
  })
  .strict()
  .describe("Rename a constraint.");
export type RenameConstraintParams = z.infer<typeof renameConstraintParams>;
