/**
 * Parameters of `set_replica_identity` (deprecated in pgroll). The JSON Schema requires
 * `identity.index` and leaves `type` free; pgroll's code checks `type` case-insensitively and only
 * needs `index` for type INDEX. We follow the code.
 */
import { z } from "zod";
import { identifierSchema, keywordEnum } from "./shared.ts";

export const replicaIdentitySchema = z
  .object({
    type: keywordEnum(["NOTHING", "DEFAULT", "INDEX", "FULL"]).describe(
      "What logical replication records of old rows: NOTHING, DEFAULT (the primary key), " +
        "INDEX (a unique index) or FULL (every column).",
    ),
    index: z.string().optional().describe("With type INDEX: the unique index to use."),
  })
  .strict()
  .superRefine((identity, ctx) => {
    if (identity.type === "INDEX" && !identity.index) {
      ctx.addIssue({ code: "custom", path: ["index"], message: 'required when "type" is INDEX' });
    }
  })
  .meta({
    id: "ReplicaIdentity",
    description: "A table's replica identity.",
    allOf: [{
      if: { properties: { type: { enum: ["INDEX", "index"] } }, required: ["type"] },
      then: { required: ["index"] },
    }],
  });
export type ReplicaIdentity = z.infer<typeof replicaIdentitySchema>;

export const setReplicaIdentityParams = z
  .object({
    table: identifierSchema.describe("Table to change."),
    identity: replicaIdentitySchema,
  })
  .strict()
  .describe("Set a table's replica identity (deprecated in pgroll).");
export type SetReplicaIdentityParams = z.infer<typeof setReplicaIdentityParams>;
