/**
 * rename_column: virtual at start (the new version's view exposes the column under its new
 * name), physical at complete.
 */
import { sqlAction } from "../plan/action.ts";
import { type RenameColumnParams, renameColumnParams } from "../migration/params/rename_column.ts";
import { knownColumn, knownTable, renameColumnReferences } from "../schema/virtual.ts";
import { ident } from "../sql.ts";
import { columnNameFreeIssues, nameLengthIssues, requireColumn, requireTable } from "./checks.ts";
import type { OperationDefinition } from "./operation.ts";

export const renameColumn: OperationDefinition<RenameColumnParams> = {
  kind: "rename_column",
  description: "Rename a column",
  params: renameColumnParams,

  validate(params, schema) {
    const { table, issues } = requireTable(schema, params.table, ["table"]);
    if (!table) return issues;
    const missing = requireColumn(table, params.from, ["from"]);
    if (missing.length > 0) return missing;
    if (params.to === params.from) {
      return [{ path: ["to"], message: "the new name is the same as the old one" }];
    }
    return [
      ...nameLengthIssues(params.to, ["to"]),
      ...columnNameFreeIssues(table, params.to, ["to"]),
    ];
  },

  start(params, { schema }) {
    const table = knownTable(schema, params.table);
    knownColumn(table, params.from).name = params.to;
    renameColumnReferences(table, params.from, params.to);
    return { actions: [] };
  },

  complete(params, { before, baseSchema }) {
    const table = knownTable(before, params.table);
    const physical = knownColumn(table, params.from).physicalName;
    return [
      sqlAction(
        `rename_column_${table.physicalName}_${physical}_to_${params.to}`,
        `ALTER TABLE ${ident(baseSchema, table.physicalName)} RENAME COLUMN ${ident(physical)} TO ${
          ident(params.to)
        }`,
        { table: table.physicalName },
      ),
    ];
  },

  rollback() {
    return [];
  },
};
