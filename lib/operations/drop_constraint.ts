/** drop_constraint (deprecated in pgroll): drop_multicolumn_constraint for a one-column constraint. */
import type { VirtualSchema } from "../schema/model.ts";
import { findTable } from "../schema/virtual.ts";
import {
  type DropConstraintParams,
  dropConstraintParams,
} from "../migration/params/drop_constraint.ts";
import { issue } from "./checks.ts";
import {
  completeDrop,
  constraintColumns,
  rollbackDrop,
  startDrop,
  validateDrop,
} from "./drop-constraint-shared.ts";
import type { OperationDefinition } from "./operation.ts";

/** The one column of the constraint, to key `up`/`down` by. */
function input(params: DropConstraintParams, schema: VirtualSchema) {
  const table = findTable(schema, params.table);
  const column = (table && constraintColumns(table, params.name)?.[0]) ?? "";
  return {
    table: params.table,
    name: params.name,
    up: params.up ? { [column]: params.up } : {},
    down: { [column]: params.down },
  };
}

export const dropConstraint: OperationDefinition<DropConstraintParams> = {
  kind: "drop_constraint",
  description: "Drop a one-column constraint (deprecated: use drop_multicolumn_constraint)",
  params: dropConstraintParams,

  validate(params, schema) {
    const { issues, columns } = validateDrop(schema, input(params, schema));
    if (columns && columns.length > 1) {
      issues.push(
        issue(
          ["name"],
          `constraint "${params.name}" covers several columns; use drop_multicolumn_constraint`,
        ),
      );
    }
    return issues;
  },
  start: (params, { schema, baseSchema }) => startDrop(schema, baseSchema, input(params, schema)),
  complete: (params, { before, started, baseSchema }) =>
    completeDrop(before, baseSchema, input(params, before), started),
  rollback: (params, { before, baseSchema }) =>
    rollbackDrop(before, baseSchema, input(params, before)),
};
