/** Parameters of `create_table`: a new table with its columns and table constraints. */
import { z } from "zod";
import { columnSchema, identifierSchema, tableConstraintSchema } from "./shared.ts";

export const createTableParams = z
  .object({
    name: identifierSchema.describe("Name of the new table."),
    columns: z.array(columnSchema).describe("Columns of the table, in order."),
    comment: z.string().optional().describe("Comment stored on the table."),
    constraints: z
      .array(tableConstraintSchema)
      .optional()
      .describe("Table-level constraints: unique, check, primary_key, foreign_key, exclude."),
  })
  .strict()
  .superRefine((table, ctx) => {
    // A primary key is declared in one place only: `pk` on columns or a primary_key constraint.
    if (!table.columns.some((column) => column.pk === true)) return;
    table.constraints?.forEach((constraint, index) => {
      if (constraint.type === "primary_key") {
        ctx.addIssue({
          code: "custom",
          path: ["constraints", index],
          message: 'table already has a primary key: columns are marked "pk"',
        });
      }
    });
  })
  .describe("Create a table.");
export type CreateTableParams = z.infer<typeof createTableParams>;
