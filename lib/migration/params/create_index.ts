/** Parameters of `create_index`. */
import { z } from "zod";
import { identifierSchema, keywordEnum, userSqlSchema } from "./shared.ts";

export const indexFieldSchema = z
  .object({
    column: identifierSchema.describe("Column to index."),
    collate: z.string().optional().describe("Collation for this column in the index."),
    sort: keywordEnum(["ASC", "DESC"]).optional().describe("Sort order. Default ASC."),
    nulls: keywordEnum(["FIRST", "LAST"])
      .optional()
      .describe("Where NULLs sort. Default LAST when ascending, FIRST when descending."),
    opclass: z
      .object({
        name: z.string().optional().describe("Name of the operator class."),
        params: z.array(userSqlSchema).optional().describe("Parameters of the operator class."),
      })
      .strict()
      .optional()
      .describe("Operator class for this column."),
  })
  .strict()
  .meta({ id: "IndexField", description: "One column of an index and its settings." });
export type IndexField = z.infer<typeof indexFieldSchema>;

export const createIndexParams = z
  .object({
    name: identifierSchema.describe("Name of the new index."),
    table: identifierSchema.describe("Table to index."),
    columns: z
      .array(indexFieldSchema)
      .min(1)
      .describe("Columns of the index, in order, with their settings."),
    method: keywordEnum(["btree", "hash", "gist", "spgist", "gin", "brin"], "lower")
      .optional()
      .describe("Index access method. Default btree."),
    unique: z.boolean().optional().describe("Make it a unique index. Default false."),
    predicate: userSqlSchema
      .optional()
      .describe("Make the index partial: only rows matching this expression."),
    storage_parameters: userSqlSchema
      .optional()
      .describe("Storage parameters, as written inside WITH (…), e.g. fillfactor = 70."),
  })
  .strict()
  .describe("Create an index (concurrently, so writes go on).");
export type CreateIndexParams = z.infer<typeof createIndexParams>;
