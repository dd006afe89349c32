/** Parameters of `drop_index`. */
import { z } from "zod";
import { identifierSchema } from "./shared.ts";

export const dropIndexParams = z
  .object({
    name: identifierSchema.describe("Name of the index to drop."),
  })
  .strict()
  .describe("Drop an index.");
export type DropIndexParams = z.infer<typeof dropIndexParams>;
