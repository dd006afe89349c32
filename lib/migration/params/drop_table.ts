/** Parameters of `drop_table`. */
import { z } from "zod";
import { identifierSchema } from "./shared.ts";

export const dropTableParams = z
  .object({
    name: identifierSchema.describe("Name of the table to drop."),
  })
  .strict()
  .describe("Drop a table.");
export type DropTableParams = z.infer<typeof dropTableParams>;
