/**
 * Parameters of `sql`, raw SQL. pgroll's JSON Schema says oneOf(down, onComplete, neither), which
 * also rejects `down` with `onComplete: false`; its code only rejects a non-empty `down` when
 * `onComplete` is true, and we follow the code.
 */
import { z } from "zod";
import { sqlTextSchema, userSqlSchema } from "./shared.ts";

export const sqlParams = z
  .object({
    up: sqlTextSchema.describe("SQL to run, verbatim."),
    down: userSqlSchema
      .optional()
      .describe("SQL that undoes `up`, run on rollback; it must be safe to run twice."),
    onComplete: z
      .boolean()
      .optional()
      .describe("Run `up` when the migration completes instead of when it starts. Default false."),
  })
  .strict()
  .superRefine((params, ctx) => {
    if (params.onComplete === true && params.down) {
      ctx.addIssue({
        code: "custom",
        path: ["down"],
        message: 'not allowed together with "onComplete": SQL run at complete is never rolled back',
      });
    }
  })
  .meta({
    description: "Run raw SQL. The tool re-reads the schema afterwards.",
    allOf: [{
      if: { properties: { onComplete: { const: true } }, required: ["onComplete"] },
      then: { properties: { down: { maxLength: 0 } } },
    }],
  });
export type SqlParams = z.infer<typeof sqlParams>;
