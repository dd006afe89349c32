/**
 * Two alter_column operations on one column in one migration (pgroll runs them: "add a check",
 * then "set NOT NULL"). The second one cannot copy the column again — the copy the first one
 * made is the column the new version sees — so the engine runs the two as one alter_column at
 * the first one's place: one copy, one pair of triggers, one backfill, whose `up` applies the
 * first `up`, then the second, and whose `down` undoes them in the opposite order.
 */
import type { Issue } from "../errors.ts";
import type { AlterColumnParams } from "../migration/params/alter_column.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { findColumn, findTable } from "../schema/virtual.ts";
import { unmodelledKeyIssues } from "./duplicate.ts";
import { simplifyExpression, substituteColumns } from "../sql-rewrite.ts";
import { engineSql, type UserSql } from "../user-sql.ts";

/**
 * `later` merged into `earlier` when both change the same column (the copy `earlier` made),
 * undefined when `earlier` did not copy that column, issues when they cannot be merged.
 *
 * @param earlier an earlier step of the migration: its kind, params and schemas around it
 * @param current the schema right before `later` starts
 */
export function mergeAlterColumns(
  earlier: { kind: string; params: unknown; before: VirtualSchema; after: VirtualSchema },
  later: AlterColumnParams,
  current: VirtualSchema,
): { params: AlterColumnParams } | Issue[] | undefined {
  const table = findTable(current, later.table);
  const column = table && findColumn(table, later.column);
  if (!table || !column) return undefined;
  // Did `earlier` make the copy the new version reads this column from?
  const earlierTable = earlier.after.tables.find((t) => t.physicalName === table.physicalName);
  const copied = earlierTable?.columns.find((c) => c.physicalName === column.physicalName);
  const beforeTable = earlier.before.tables.find((t) => t.physicalName === table.physicalName);
  const existed = beforeTable?.columns.some((c) => c.physicalName === column.physicalName);
  if (!earlierTable || !copied || existed) return undefined;
  // A table the earlier step created is a plain table (no copy, no trigger filling it): the
  // later alter_column copies its column like any other, unless the copy would lose a key the
  // model of the new table does not list.
  if (!beforeTable) {
    const lost = unmodelledKeyIssues(table, later.column, ["column"]);
    return lost.length > 0 ? lost : undefined;
  }
  const refuse = (why: string): Issue[] => [{
    path: ["column"],
    message: `column "${later.column}" is already changed by an earlier alter_column of this ` +
      `migration and ${why}; combine the changes into one alter_column`,
  }];
  if (earlier.kind === "add_column") {
    // The message above would name an alter_column that is not there; the change belongs in the
    // add_column's column definition (type, nullable, unique, check, references, default).
    return [{
      path: ["column"],
      message: `column "${later.column}" is added by an earlier add_column of this migration, ` +
        `which is still filling it; put this change in that add_column's column definition`,
    }];
  }
  if (earlier.kind !== "alter_column") {
    return [{
      path: ["column"],
      message: `column "${later.column}" is still being filled by an earlier ${earlier.kind} of ` +
        `this migration; alter it in a later migration`,
    }];
  }
  // Moving `later` back to `earlier`'s place is only sound when nothing in between changed the
  // table (a rename, another column rewritten …).
  if (JSON.stringify(earlierTable) !== JSON.stringify(table)) {
    return refuse("other operations changed the table in between");
  }
  const previous = earlier.params as AlterColumnParams;
  for (const field of ["check", "unique", "references"] as const) {
    if (previous[field] !== undefined && later[field] !== undefined) {
      return refuse(`both add a ${field === "references" ? "foreign key" : field} constraint`);
    }
  }
  const name = previous.column;
  const merged: AlterColumnParams = { ...previous };
  const up = compose(later.up, name, previous.up);
  const down = compose(previous.down, name, later.down);
  if (up !== undefined) merged.up = up;
  if (down !== undefined) merged.down = down;
  for (
    const field of [
      "type",
      "nullable",
      "default",
      "comment",
      "check",
      "unique",
      "references",
    ] as const
  ) {
    if (later[field] !== undefined) (merged as Record<string, unknown>)[field] = later[field];
  }
  return { params: merged };
}

/**
 * `outer` applied to the result of `inner`: every reference to the column in `outer` becomes
 * `(inner)`. An absent expression is the column itself.
 */
function compose(
  outer: UserSql | undefined,
  column: string,
  inner: UserSql | undefined,
): UserSql | undefined {
  if (!outer) return inner;
  if (!inner) return outer;
  // The user's own `inner`, parenthesised so it stays one operand where `outer` names the column.
  const substitutes = new Map([[column, engineSql(`(${simplifyExpression(inner)})`)]]);
  return substituteColumns(simplifyExpression(outer), substitutes);
}
