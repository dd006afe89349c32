/**
 * Dropping a constraint without blocking writes, shared by drop_multicolumn_constraint and the
 * deprecated drop_constraint: the constraint's columns are duplicated *without* it, so the new
 * version can write values the constraint would refuse, while `down` keeps the old columns valid
 * for the old version. At complete the copies replace the columns, and the constraint is gone.
 */
import type { Issue } from "../errors.ts";
import type { Action } from "../plan/action.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { knownTable } from "../schema/virtual.ts";
import { issue, requireTable } from "./checks.ts";
import {
  duplicateCompleteActions,
  duplicateRollbackActions,
  duplicateStartActions,
  duplicateTriggers,
  retargetDefinitions,
  useCopies,
} from "./duplicate.ts";
import type { StartResult } from "./operation.ts";
import { isTemporaryName } from "../naming.ts";
import type { UserSql } from "../user-sql.ts";

export interface DropConstraintInput {
  table: string;
  name: string;
  up: Record<string, UserSql>;
  down: Record<string, UserSql>;
}

/** The columns of a check, unique or foreign key constraint, if the table has it. */
export function constraintColumns(table: VirtualTable, name: string): string[] | undefined {
  return (table.checkConstraints[name] ?? table.uniqueConstraints[name] ?? table.foreignKeys[name])
    ?.columns;
}

export function validateDrop(schema: VirtualSchema, input: DropConstraintInput): {
  issues: Issue[];
  columns?: string[];
} {
  const { table, issues } = requireTable(schema, input.table, ["table"]);
  if (!table) return { issues };
  const columns = constraintColumns(table, input.name);
  if (!columns) {
    return {
      issues: [
        issue(["name"], `constraint "${input.name}" does not exist on table "${input.table}"`),
      ],
    };
  }
  for (const column of columns) {
    const physical = table.columns.find((c) => c.name === column)?.physicalName ?? column;
    if (isTemporaryName(physical)) {
      issues.push(issue(["name"], `column "${column}" is already being changed by this migration`));
    }
  }
  return { issues, columns };
}

export function startDrop(
  schema: VirtualSchema,
  baseSchema: string,
  input: DropConstraintInput,
): StartResult {
  const table = knownTable(schema, input.table);
  const before = structuredClone(table);
  const columns = constraintColumns(table, input.name)!;
  const actions: Action[] = duplicateStartActions(before, columns.map((column) => ({ column })), {
    baseSchema,
    skipConstraints: new Set([input.name]),
  });
  retargetDefinitions(table, columns.map((column) => ({ column })), new Set([input.name]));
  // Origins name create_constraint's per-column fields; drop_constraint's `up` is one string.
  const triggers = duplicateTriggers(before, columns, input.up, input.down).map((
    { origin: _, ...spec },
  ) => spec);
  useCopies(table, columns);
  // Until complete the constraint (and a unique constraint's index) stays on the old columns.
  table.droppedConstraints = [...(table.droppedConstraints ?? []), input.name];
  const index = table.indexes[input.name];
  if (index) {
    schema.reservedRelationNames = [
      ...(schema.reservedRelationNames ?? []),
      index.physicalName ?? index.name,
    ];
  }
  delete table.checkConstraints[input.name];
  delete table.uniqueConstraints[input.name];
  delete table.foreignKeys[input.name];
  delete table.indexes[input.name];
  for (const c of table.columns) {
    if (columns.length === 1 && c.name === columns[0]) {
      c.unique = Object.values(table.uniqueConstraints).some((u) =>
        u.columns.length === 1 && u.columns[0] === c.name
      );
    }
  }
  return { actions, triggers, backfills: [{ table: table.physicalName }] };
}

export function completeDrop(
  before: VirtualSchema,
  baseSchema: string,
  input: DropConstraintInput,
  started: VirtualSchema = before,
) {
  const table = knownTable(before, input.table);
  const columns = constraintColumns(table, input.name)!;
  return duplicateCompleteActions(table, columns.map((column) => ({ column })), {
    baseSchema,
    skipConstraints: new Set([input.name]),
    startedTable: knownTable(started, input.table).physicalName,
  });
}

export function rollbackDrop(
  before: VirtualSchema,
  baseSchema: string,
  input: DropConstraintInput,
) {
  const table = knownTable(before, input.table);
  const columns = constraintColumns(table, input.name)!;
  return duplicateRollbackActions(table, columns.map((column) => ({ column })), { baseSchema });
}
