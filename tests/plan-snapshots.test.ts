/**
 * The SQL every built-in operation plans for start, complete and rollback, as snapshots, with no
 * database: the operations run over a virtual schema and `planPhases` orders their actions as the
 * engine does. A change to generated SQL shows up in review as a change to
 * tests/__snapshots__/plan-snapshots.test.ts.snap (`bun test --update-snapshots` rewrites it).
 *
 * What the SQL does is tested against PostgreSQL elsewhere; these pin down what it says.
 */
import { describe, expect, test } from "bun:test";
import { completedForm } from "../lib/engine/phases.ts";
import { planPhases } from "../lib/engine/explain.ts";
import { parseMigration } from "../lib/migration/migration.ts";
import { builtinRegistry } from "../lib/operations/builtins.ts";
import { buildSteps } from "../lib/operations/steps.ts";
import type { VirtualSchema } from "../lib/schema/model.ts";

const registry = builtinRegistry();
const options = {
  baseSchema: "public",
  versionSchema: "public_02_change",
  serverMajor: 17,
  previousVersionSchema: "public_01_base",
};

/** Two tables as a completed first migration leaves them: the schema every case starts from. */
function baseSchema(): VirtualSchema {
  const { operations } = parseMigration("01_base", "01_base", {
    operations: [
      {
        create_table: {
          name: "users",
          columns: [
            { name: "id", type: "serial", pk: true },
            { name: "email", type: "text", nullable: true, unique: true },
            { name: "name", type: "varchar(100)", nullable: true },
            { name: "age", type: "integer", nullable: true },
          ],
        },
      },
      {
        create_table: {
          name: "orders",
          columns: [
            { name: "id", type: "bigint", pk: true },
            { name: "user_id", type: "integer", nullable: true },
            {
              name: "total",
              type: "numeric(10,2)",
              nullable: true,
              check: { name: "orders_total_positive", constraint: "total > 0" },
            },
          ],
          constraints: [
            { name: "orders_user_total_unique", type: "unique", columns: ["user_id", "total"] },
          ],
        },
      },
      {
        create_index: { name: "orders_total_idx", table: "orders", columns: [{ column: "total" }] },
      },
    ],
  }, registry);
  const { steps, issues } = buildSteps(operations, { name: "public", tables: [] }, "public", {
    validate: true,
  });
  if (issues.length > 0) throw new Error(JSON.stringify(issues));
  return completedForm(steps.at(-1)!.after);
}

/** The planned SQL of `operations`, phase by phase, as reviewable text. */
function plannedSql(operations: unknown[]): string {
  const { operations: parsed } = parseMigration("02_change", "02_change", { operations }, registry);
  const { steps, issues } = buildSteps(parsed, baseSchema(), "public", { validate: true });
  if (issues.length > 0) throw new Error(issues.map((i) => i.message).join("; "));
  return planPhases(steps, options)
    .filter((phase) => phase.statements.length > 0)
    .map((phase) =>
      [
        `-- ${phase.command} / ${phase.phase} (${phase.transaction})`,
        ...phase.statements.map((s) => `${s.sql.trim()};`),
      ].join("\n")
    )
    .join("\n\n");
}

const cases: Record<string, unknown[]> = {
  add_column: [{
    add_column: {
      table: "users",
      column: { name: "nickname", type: "text", nullable: false, default: "'anon'" },
      up: "coalesce(name, 'anon')",
    },
  }],
  alter_column_type: [{
    alter_column: {
      table: "orders",
      column: "total",
      type: "numeric(12,2)",
      up: "total",
      down: "total",
    },
  }],
  alter_column_not_null: [{
    alter_column: { table: "users", column: "email", nullable: false, up: "coalesce(email, '')" },
  }],
  create_constraint_foreign_key: [{
    create_constraint: {
      table: "orders",
      name: "orders_user_fk",
      type: "foreign_key",
      columns: ["user_id"],
      references: { table: "users", columns: ["id"], on_delete: "CASCADE" },
      up: { user_id: "user_id" },
      down: { user_id: "user_id" },
    },
  }],
  create_constraint_unique: [{
    create_constraint: {
      table: "users",
      name: "users_name_unique",
      type: "unique",
      columns: ["name"],
      up: { name: "name" },
      down: { name: "name" },
    },
  }],
  create_index: [{
    create_index: {
      name: "users_age_idx",
      table: "users",
      columns: [{ column: "age" }],
      predicate: "age > 18",
    },
  }],
  create_table: [{
    create_table: {
      name: "tags",
      columns: [
        { name: "id", type: "serial", pk: true },
        { name: "label", type: "text", unique: true },
      ],
    },
  }],
  drop_column: [{ drop_column: { table: "users", column: "age", down: "0" } }],
  drop_constraint: [{
    drop_constraint: {
      table: "orders",
      name: "orders_total_positive",
      up: "total",
      down: "total",
    },
  }],
  drop_index: [{ drop_index: { name: "orders_total_idx" } }],
  drop_multicolumn_constraint: [{
    drop_multicolumn_constraint: {
      table: "orders",
      name: "orders_user_total_unique",
      up: { user_id: "user_id", total: "total" },
      down: { user_id: "user_id", total: "total" },
    },
  }],
  drop_table: [{ drop_table: { name: "orders" } }],
  rename_column: [{ rename_column: { table: "users", from: "name", to: "display_name" } }],
  rename_constraint: [{
    rename_constraint: {
      table: "orders",
      from: "orders_total_positive",
      to: "orders_total_above_zero",
    },
  }],
  rename_table: [{ rename_table: { from: "orders", to: "purchases" } }],
  set_replica_identity: [{
    set_replica_identity: { table: "users", identity: { type: "full" } },
  }],
  sql: [{ sql: { up: "CREATE TABLE audit (id int)", down: "DROP TABLE audit" } }],
};

describe("planned SQL of every built-in operation", () => {
  test("the cases cover every built-in kind", () => {
    const covered = new Set(
      Object.values(cases).flatMap((ops) => ops.map((op) => Object.keys(op as object)[0])),
    );
    const kinds = registry.kinds().filter((kind) => !kind.includes(":"));
    expect(kinds.filter((kind) => !covered.has(kind))).toEqual([]);
  });

  for (const [name, operations] of Object.entries(cases)) {
    test(name, () => {
      expect(plannedSql(operations)).toMatchSnapshot();
    });
  }
});
