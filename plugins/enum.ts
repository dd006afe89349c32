/**
 * enum: PostgreSQL enum types, with operations that plan their own actions (no expansion). A type
 * is created at start, so columns added by the same migration can use it, and removed by rollback;
 * a type is dropped only at complete, once the old version that may still use it is gone.
 *
 * ```yaml
 * operations:
 *   - enum:create_type:
 *       name: mood
 *       values: [happy, sad]
 *   - add_column:
 *       table: users
 *       column: { name: mood, type: mood, nullable: true }
 * ```
 *
 * In a TypeScript migration: `enumPlugin.createType({ name: "mood", values: ["happy", "sad"] })`,
 * then `addColumn("users", "mood", t.raw("mood").nullable())`
 * (`import enumPlugin from "../plugins/enum.ts"`; docs/typescript.md).
 *
 * Rollback runs `DROP TYPE IF EXISTS`: do not create a type whose name an existing type has
 * (start fails then, and its cleanup would drop that type if nothing uses it).
 */
import { definePlugin, ident, type Issue, literal, sqlAction, z } from "pgtandem";

const identifier = z.string().min(1).max(63);

/** Enum labels: non-empty, at most 63 bytes (NAMEDATALEN - 1), no duplicates. */
const labels = z.array(z.string().min(1)).min(1).superRefine((values, context) => {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (new TextEncoder().encode(value).length > 63) {
      context.addIssue({
        code: "custom",
        path: [index],
        message: `enum label "${value}" is longer than 63 bytes`,
      });
    }
    if (seen.has(value)) {
      context.addIssue({
        code: "custom",
        path: [index],
        message: `duplicate enum label "${value}"`,
      });
    }
    seen.add(value);
  });
});

export default definePlugin({
  name: "enum",
  operations: {
    "enum:create_type": {
      description: "Create an enum type (at start; rollback drops it).",
      params: z.object({
        name: identifier.describe("Name of the new type, in the migrated schema."),
        values: labels.describe("The labels, in sort order."),
      }).strict(),
      start: ({ name, values }, { baseSchema }) => [
        sqlAction(
          `enum_create_type_${name}`,
          `CREATE TYPE ${ident(baseSchema, name)} AS ENUM (${values.map(literal).join(", ")})`,
          { lock: "none" },
        ),
      ],
      complete: () => [],
      rollback: ({ name }, { baseSchema }) => [
        sqlAction(
          `enum_create_type_undo_${name}`,
          `DROP TYPE IF EXISTS ${ident(baseSchema, name)}`,
          {
            lock: "none",
          },
        ),
      ],
    },
    "enum:drop_type": {
      description: "Drop an enum type (at complete, when the old version is gone).",
      params: z.object({
        name: identifier.describe("Name of the type to drop."),
      }).strict(),
      validate: ({ name }, schema) => {
        const issues: Issue[] = [];
        for (const table of schema.tables) {
          for (const column of table.columns) {
            // The catalog may spell the type schema-qualified or quoted.
            const type = column.type.split(".").at(-1)?.replaceAll('"', "");
            if (type === name) {
              issues.push({
                path: ["name"],
                message:
                  `type "${name}" is used by column "${column.name}" of table "${table.name}"`,
              });
            }
          }
        }
        return issues;
      },
      start: () => [],
      // In complete's switch-over transaction, in migration order: after a drop_column earlier in
      // the same migration has removed the type's last column.
      complete: ({ name }, { baseSchema }) => [
        sqlAction(`enum_drop_type_${name}`, `DROP TYPE IF EXISTS ${ident(baseSchema, name)}`, {
          lock: "ACCESS EXCLUSIVE",
        }),
      ],
      rollback: () => [],
    },
  },
});
