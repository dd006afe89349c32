/**
 * audit: timestamp columns on a table, by expansion. `audit:add_timestamps` expands into two
 * built-in `add_column` operations, so it is exactly as safe as writing them by hand: the columns
 * are added under temporary names, both versions keep working, complete renames them.
 *
 * ```yaml
 * operations:
 *   - audit:add_timestamps:
 *       table: users
 * ```
 *
 * In a TypeScript migration, the typed builders (docs/typescript.md):
 *
 * ```ts
 * import audit from "../plugins/audit.ts";
 * audit.addTimestamps({ table: "users", created_at: "born_at" });
 * // the same as operation("audit:add_timestamps", { table: "users", created_at: "born_at" })
 * ```
 */
import { definePlugin, z } from "pgtandem";

const identifier = z.string().min(1).max(63);

export default definePlugin({
  name: "audit",
  operations: {
    "audit:add_timestamps": {
      description:
        "Add created_at and updated_at (timestamptz, NOT NULL, default now()) to a table.",
      params: z.object({
        table: identifier.describe("Table to add the columns to."),
        created_at: identifier.default("created_at").describe("Name of the creation column."),
        updated_at: identifier.default("updated_at").describe("Name of the update column."),
      }).strict(),
      expand: ({ table, created_at, updated_at }) =>
        [created_at, updated_at].map((name) => ({
          add_column: {
            table,
            column: { name, type: "timestamptz", nullable: false, default: "now()" },
          },
        })),
    },
    "audit:drop_timestamps": {
      description: "Drop the columns audit:add_timestamps added.",
      params: z.object({
        table: identifier.describe("Table to drop the columns from."),
        created_at: identifier.default("created_at").describe("Name of the creation column."),
        updated_at: identifier.default("updated_at").describe("Name of the update column."),
      }).strict(),
      // While the old version still reads them, rows written through the new one get now().
      expand: ({ table, created_at, updated_at }) =>
        [created_at, updated_at].map((column) => ({
          drop_column: { table, column, down: "now()" },
        })),
    },
  },
});
