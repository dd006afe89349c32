/**
 * Type tests of the user-SQL brand (lib/user-sql.ts): compiled by tests/user-sql-brand.test.ts
 * (tsc) and `deno check`, never run. Each `@ts-expect-error` line hands a plain string to a slot
 * that pastes SQL into a statement; if one starts compiling, tsc reports the unused directive and
 * the test fails. The lines without a directive are the correct uses next to them.
 */
import type { z } from "zod";
import { addColumn as addColumnBuilder, definePlugin, sql, t, userSql } from "pgtandem";
import type { StartResult, TriggerSpec, UserSql, VirtualColumn } from "pgtandem";
import { addColumnParams } from "../lib/migration/params/add_column.ts";
import { addColumn } from "../lib/operations/add_column.ts";
import { checkSql } from "../lib/operations/column-sql.ts";
import { renameIdentifiers } from "../lib/sql-rewrite.ts";
import { engineSql } from "../lib/user-sql.ts";

declare const raw: string;
declare const marked: UserSql;
const context = { schema: { name: "public", tables: [] }, baseSchema: "public" };

// ── Builders take UserSql, never a plain string ─────────────────────────────────────────────────
checkSql(marked, false);
checkSql(engineSql("a > 0"), false);
// @ts-expect-error a plain string is not user SQL
checkSql(raw, false);
// @ts-expect-error not even a literal one
checkSql("a > 0", false);

// ── Parsed params carry the brand; params built by hand do not get through ──────────────────────
addColumn.start(
  addColumnParams.parse({ table: "t", column: { name: "c", type: "text" }, up: "upper(b)" }),
  context,
);
addColumn.start(
  // @ts-expect-error `type` and `up` are plain strings: only parsing makes params
  { table: "t", column: { name: "c", type: "text" }, up: "upper(b)" },
  context,
);
const parsed = addColumnParams.parse({ table: "t", column: { name: "c", type: "text" } });
const parsedType: UserSql = parsed.column.type;
// The input side stays a plain string: files, the DSL and plugin expansions write strings.
const input: z.input<typeof addColumnParams> = {
  table: "t",
  column: { name: "c", type: "text", default: "'x'" },
  up: "upper(b)",
};

// ── Trigger specs, operations' and plugins' ─────────────────────────────────────────────────────
const columns = [{ name: "b", physicalName: "b" }];
const spec: TriggerSpec = {
  table: "t",
  direction: "up",
  targetColumn: "c",
  expression: userSql("upper(b)"),
  columns,
};
const rawSpec: TriggerSpec = {
  table: "t",
  direction: "up",
  targetColumn: "c",
  // @ts-expect-error a trigger's expression is user SQL
  expression: "upper(b)",
  columns,
};

// ── The virtual schema's types and defaults ─────────────────────────────────────────────────────
const column: VirtualColumn = {
  name: "c",
  physicalName: "c",
  type: engineSql("text"),
  default: null,
  nullable: true,
  unique: false,
  comment: null,
};
const rawColumn: VirtualColumn = {
  ...column,
  // @ts-expect-error a column's type is pasted into DDL
  type: "text",
};

// ── Rewrites of user SQL stay user SQL; of a string, a string ───────────────────────────────────
const renames = new Map([["b", "_pgroll_new_b"]]);
const renamed: UserSql = renameIdentifiers(marked, renames);
// @ts-expect-error renaming the columns of a plain string does not make it user SQL
const renamedRaw: UserSql = renameIdentifiers(raw, renames);

// ── userSql() is still a string for plugins that paste it themselves ───────────────────────────
const text: string = userSql("now()");

// ── Plugins: params are their own zod's (plain strings); triggers want userSql(…) ───────────────
const plugin = definePlugin({
  name: "brand",
  operations: {
    "brand:copy": {
      params: {} as z.ZodObject<{ table: z.ZodString; expression: z.ZodString }>,
      start: ({ table, expression }): StartResult => ({
        actions: [],
        triggers: [{
          table,
          direction: "up",
          targetColumn: "c",
          expression: userSql(expression),
          columns: [],
        }],
      }),
      complete: () => [],
      rollback: () => [],
    },
    "brand:raw": {
      params: {} as z.ZodObject<{ table: z.ZodString; expression: z.ZodString }>,
      start: ({ table, expression }): StartResult => ({
        actions: [],
        // @ts-expect-error a plugin's own string is not user SQL until it says so
        triggers: [{ table, direction: "up", targetColumn: "c", expression, columns: [] }],
      }),
      complete: () => [],
      rollback: () => [],
    },
  },
});

// ── The DSL is unchanged for its users: strings and sql`…` ──────────────────────────────────────
const dsl = addColumnBuilder("t", "c", t.text().default(sql`'x'`), { up: sql`upper(b)` });

export {
  column,
  dsl,
  input,
  parsedType,
  plugin,
  rawColumn,
  rawSpec,
  renamed,
  renamedRaw,
  spec,
  text,
};
