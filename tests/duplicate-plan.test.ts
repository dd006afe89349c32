/**
 * Plans of column duplication, without a database: which catalog-dependent steps are planned for
 * which column kinds, and that only constraints a type change may have left off are treated as
 * optional at complete.
 */
import { describe, expect, test } from "bun:test";
import type { Action } from "../lib/plan/action.ts";
import {
  duplicateCompleteActions,
  duplicateRollbackActions,
  duplicateStartActions,
} from "../lib/operations/duplicate.ts";
import { alterColumn } from "../lib/operations/alter_column.ts";
import type { VirtualColumn, VirtualTable } from "../lib/schema/model.ts";
import { alterColumnParams } from "../lib/migration/params/alter_column.ts";
import { engineSql } from "../lib/user-sql.ts";

/** A column's fields, its type and default as plain text (the catalog's rendering). */
type ColumnFields = Omit<Partial<VirtualColumn>, "type" | "default"> & {
  type?: string;
  default?: string | null;
};

function column(name: string, fields: ColumnFields = {}): VirtualColumn {
  const { type = "integer", default: value = null, ...rest } = fields;
  return {
    name,
    physicalName: name,
    type: engineSql(type),
    default: value === null ? null : engineSql(value),
    nullable: true,
    unique: false,
    comment: null,
    postgresType: "base",
    ...rest,
  };
}

function table(columns: VirtualColumn[]): VirtualTable {
  return {
    name: "t",
    physicalName: "t",
    comment: null,
    columns,
    primaryKey: [],
    indexes: {},
    checkConstraints: {
      t_c_check: {
        name: "t_c_check",
        columns: ["c"],
        definition: "CHECK (c > 0)",
        noInherit: false,
      },
    },
    uniqueConstraints: {},
    foreignKeys: {},
    excludeConstraints: {},
  };
}

const sqlOf = (actions: Action[], id: string) => actions.find((a) => a.id.startsWith(id))?.sql;
const ids = (actions: Action[]) => actions.map((a) => a.id);
const options = { baseSchema: "public" };

describe("start", () => {
  test("a column of a built-in type is added with a plain ADD COLUMN", () => {
    const actions = duplicateStartActions(table([column("c")]), [{ column: "c" }], options);
    expect(sqlOf(actions, "duplicate_column")).toStartWith(
      `ALTER TABLE "public"."t" ADD COLUMN IF NOT EXISTS "_pgroll_new_c" integer;\nDO`,
    );
    expect(ids(actions).some((id) => id.startsWith("guard_domain_nulls"))).toBe(false);
  });

  test("a domain column is added by a block that gives NULL-rejecting domains a placeholder", () => {
    const t = table([column("c", { type: "posint", postgresType: "domain", nullable: false })]);
    const actions = duplicateStartActions(t, [{ column: "c" }], options);
    const add = sqlOf(actions, "duplicate_column")!;
    expect(add).toStartWith("DO $pgtandem$");
    expect(add).toContain("DEFAULT (NULL::%s[])[1]");
    const guard = actions.find((a) => a.id.startsWith("guard_domain_nulls"))!;
    expect(guard.afterTriggers).toBe(true);
    expect(guard.sql).toContain("_pgroll_check_domain_c");
  });

  test("a new type that is not built in may be a domain", () => {
    const actions = duplicateStartActions(
      table([column("c")]),
      [{ column: "c", type: engineSql("public.posbig") }],
      options,
    );
    expect(sqlOf(actions, "duplicate_column")).toStartWith("DO $pgtandem$");
  });

  test("only a NOT NULL column without default may be an identity", () => {
    const identity = duplicateStartActions(
      table([column("c", { nullable: false })]),
      [{ column: "c" }],
      options,
    );
    expect(sqlOf(identity, "duplicate_column")).toContain("attidentity");
    const plain = duplicateStartActions(table([column("c")]), [{ column: "c" }], options);
    expect(sqlOf(plain, "duplicate_column")).not.toContain("attidentity");
  });
});

describe("complete and rollback", () => {
  test("a check on a retyped column is validated and renamed only if it was copied", () => {
    const t = table([column("c")]);
    const retyped = duplicateCompleteActions(
      t,
      [{ column: "c", type: engineSql("text") }],
      options,
    );
    expect(sqlOf(retyped, "validate_t__pgroll_dup_t_c_check")).toContain("IF EXISTS");
    expect(retyped.find((a) => a.id.startsWith("rename_duplicate_constraint"))!.kind).toBe("sql");
    const rename = retyped.find((a) => a.id.startsWith("rename_duplicate_constraint"))!;
    expect(rename.kind === "sql" && rename.ignoreSqlstates).toEqual(["42704"]);

    const kept = duplicateCompleteActions(t, [{ column: "c" }], options);
    expect(sqlOf(kept, "validate_t__pgroll_dup_t_c_check")).toStartWith("ALTER TABLE");
    const keptRename = kept.find((a) => a.id.startsWith("rename_duplicate_constraint"))!;
    expect(keptRename.kind === "sql" && keptRename.ignoreSqlstates).toBeUndefined();
  });

  test("complete hands the sequence over before the old column is dropped", () => {
    const actions = duplicateCompleteActions(table([column("c")]), [{ column: "c" }], options);
    const order = ids(actions);
    expect(order.findIndex((id) => id.startsWith("hand_over"))).toBeLessThan(
      order.findIndex((id) => id.startsWith("drop_old_columns")),
    );
  });

  test("rollback undoes the old column's domain guard and the identity functions", () => {
    const t = table([column("c", { type: "posint", postgresType: "domain", nullable: false })]);
    const actions = duplicateRollbackActions(t, [{ column: "c" }], options);
    expect(ids(actions)).toEqual([
      "drop_duplicates_t__pgroll_new_c",
      "drop_domain_guard_t_c",
      "drop_identity_guard_t_c",
    ]);
  });
});

describe("alter_column's new version", () => {
  test("a type change leaves the kept default to the database", () => {
    const t = table([column("c", { type: "text", default: "'0'::text" })]);
    const schema = { name: "public", tables: [t] };
    alterColumn.start(
      alterColumnParams.parse({
        table: "t",
        column: "c",
        type: "integer",
        up: "c::integer",
        down: "c::text",
      }),
      { schema, baseSchema: "public" },
    );
    expect(schema.tables[0]!.columns[0]!.default).toBeNull();
    expect(schema.tables[0]!.columns[0]!.postgresType).toBeUndefined();
  });

  test("a default given with the type change is the new version's", () => {
    const t = table([column("c", { type: "text", default: "'0'::text" })]);
    const schema = { name: "public", tables: [t] };
    alterColumn.start(
      alterColumnParams.parse({
        table: "t",
        column: "c",
        type: "integer",
        default: "0",
        up: "c::integer",
        down: "c::text",
      }),
      { schema, baseSchema: "public" },
    );
    expect(schema.tables[0]!.columns[0]!.default).toBe(engineSql("0"));
  });
});
