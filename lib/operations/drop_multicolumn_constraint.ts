/** drop_multicolumn_constraint: drop a check, unique or foreign key constraint without blocking writes. */
import {
  type DropMulticolumnConstraintParams,
  dropMulticolumnConstraintParams,
} from "../migration/params/drop_multicolumn_constraint.ts";
import { issue } from "./checks.ts";
import { completeDrop, rollbackDrop, startDrop, validateDrop } from "./drop-constraint-shared.ts";
import type { OperationDefinition } from "./operation.ts";

const input = (p: DropMulticolumnConstraintParams) => ({
  table: p.table,
  name: p.name,
  up: p.up ?? {},
  down: p.down,
});

export const dropMulticolumnConstraint: OperationDefinition<DropMulticolumnConstraintParams> = {
  kind: "drop_multicolumn_constraint",
  description: "Drop a check, unique or foreign key constraint",
  params: dropMulticolumnConstraintParams,

  validate(params, schema) {
    const { issues, columns } = validateDrop(schema, input(params));
    if (!columns) return issues;
    for (const column of columns) {
      if (!(column in params.down)) {
        issues.push(
          issue(
            ["down", column],
            `"down" needs an expression for column "${column}" of constraint "${params.name}"`,
          ),
        );
      }
    }
    for (const field of ["up", "down"] as const) {
      for (const column of Object.keys(params[field] ?? {})) {
        if (!columns.includes(column)) {
          issues.push(
            issue([field, column], `column "${column}" is not part of constraint "${params.name}"`),
          );
        }
      }
    }
    return issues;
  },
  start: (params, { schema, baseSchema }) => startDrop(schema, baseSchema, input(params)),
  complete: (params, { before, started, baseSchema }) =>
    completeDrop(before, baseSchema, input(params), started),
  rollback: (params, { before, baseSchema }) => rollbackDrop(before, baseSchema, input(params)),
};
