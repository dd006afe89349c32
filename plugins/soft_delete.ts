/**
 * soft_delete: rows are marked deleted instead of removed. `soft_delete:enable` expands into a
 * nullable `deleted_at` column and a partial index over the live rows (`WHERE deleted_at IS
 * NULL`), built concurrently: the built-in `add_column` and `create_index`, with their safety.
 *
 * ```yaml
 * operations:
 *   - soft_delete:enable:
 *       table: users
 *       index_columns: [email]
 * ```
 *
 * In a TypeScript migration: `softDelete.enable({ table: "users", index_columns: ["email"] })`
 * (`import softDelete from "../plugins/soft_delete.ts"`; docs/typescript.md).
 */
import { definePlugin, ident, z } from "pgtandem";

const identifier = z.string().min(1).max(63);

export default definePlugin({
  name: "soft_delete",
  operations: {
    "soft_delete:enable": {
      description: "Add a nullable deleted_at column and a partial index over the live rows.",
      params: z.object({
        table: identifier.describe("Table to soft-delete rows of."),
        column: identifier.default("deleted_at").describe("The deletion timestamp column."),
        index_columns: z.array(identifier).min(1).describe("Columns of the live-rows index."),
        index_name: identifier.optional().describe("Default: <table>_live_<columns>."),
      }).strict(),
      expand: ({ table, column, index_columns, index_name }) => [
        { add_column: { table, column: { name: column, type: "timestamptz", nullable: true } } },
        {
          create_index: {
            name: index_name ?? `${table}_live_${index_columns.join("_")}`,
            table,
            columns: index_columns.map((name) => ({ column: name })),
            predicate: `${ident(column)} IS NULL`,
          },
        },
      ],
    },
  },
});
