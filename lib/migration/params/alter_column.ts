/**
 * Parameters of `alter_column`. pgroll's JSON Schema requires `up` and `down`, but its code treats
 * them as optional (an empty string means "not given") and derives defaults; we follow the code.
 */
import { z } from "zod";
import {
  checkConstraintSchema,
  foreignKeyReferenceSchema,
  identifierSchema,
  sqlTextSchema,
  userSqlSchema,
} from "./shared.ts";

export const uniqueConstraintSchema = z
  .object({
    name: identifierSchema.describe("Name of the unique constraint."),
  })
  .strict()
  .meta({ id: "UniqueConstraint", description: "A named UNIQUE constraint on one column." });

/** The fields that each ask for a change; at least one must be present. */
export const ALTER_COLUMN_CHANGES = [
  "type",
  "check",
  "references",
  "nullable",
  "unique",
  "default",
  "comment",
] as const;

export const alterColumnParams = z
  .object({
    table: identifierSchema.describe("Table the column belongs to."),
    column: identifierSchema.describe("Column to change."),
    up: userSqlSchema
      .optional()
      .describe(
        "SQL expression computing the new column's value from the old one (named by the " +
          "column's name), for existing rows and rows written through the old version.",
      ),
    down: userSqlSchema
      .optional()
      .describe(
        "SQL expression computing the old column's value from the new one, for rows written " +
          "through the new version.",
      ),
    type: sqlTextSchema.optional().describe("Change the column's type to this one."),
    check: checkConstraintSchema.optional().describe("Add this CHECK constraint to the column."),
    references: foreignKeyReferenceSchema
      .optional()
      .describe("Add this foreign key from the column."),
    nullable: z
      .boolean()
      .optional()
      .describe("false adds NOT NULL; true drops it."),
    unique: uniqueConstraintSchema.optional().describe("Add this UNIQUE constraint to the column."),
    default: userSqlSchema
      .nullable()
      .optional()
      .describe("Set the column's default to this SQL expression; null drops the default."),
    comment: z
      .string()
      .nullable()
      .optional()
      .describe("Set the column's comment; null removes it."),
  })
  .strict()
  .superRefine((params, ctx) => {
    // Presence counts, not truthiness: `default: null` and `nullable: true` are changes.
    if (ALTER_COLUMN_CHANGES.some((field) => params[field] !== undefined)) return;
    ctx.addIssue({
      code: "custom",
      message: `alter column "${params.column}" on table "${params.table}" requires at least ` +
        `one change: ${ALTER_COLUMN_CHANGES.join(", ")}`,
    });
  })
  .meta({
    description: "Change a column: type, constraints, nullability, default or comment.",
    anyOf: ALTER_COLUMN_CHANGES.map((field) => ({ required: [field] })),
  });
export type AlterColumnParams = z.infer<typeof alterColumnParams>;
