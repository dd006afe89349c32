/**
 * rename_table: the new version sees the table under its new name at once (its view is named
 * `to` and reads the unchanged physical table); the physical rename waits for complete so the
 * old version keeps working.
 */
import { sqlAction } from "../plan/action.ts";
import { type RenameTableParams, renameTableParams } from "../migration/params/rename_table.ts";
import { findTable, knownTable } from "../schema/virtual.ts";
import { ident } from "../sql.ts";
import { nameLengthIssues, requireTable, tableNameFreeIssues } from "./checks.ts";
import type { OperationDefinition } from "./operation.ts";

export const renameTable: OperationDefinition<RenameTableParams> = {
  kind: "rename_table",
  description: "Rename a table",
  params: renameTableParams,

  validate(params, schema) {
    const { issues } = requireTable(schema, params.from, ["from"]);
    if (issues.length > 0) return issues;
    if (params.to === params.from) {
      return [{ path: ["to"], message: "the new name is the same as the old one" }];
    }
    return [
      ...nameLengthIssues(params.to, ["to"]),
      ...tableNameFreeIssues(schema, params.to, ["to"]),
    ];
  },

  start(params, { schema }) {
    knownTable(schema, params.from).name = params.to;
    return { actions: [] };
  },

  complete(params, { before, baseSchema }) {
    const physical = findTable(before, params.from)?.physicalName ?? params.from;
    return [
      sqlAction(
        `rename_table_${physical}_to_${params.to}`,
        `ALTER TABLE ${ident(baseSchema, physical)} RENAME TO ${ident(params.to)}`,
        { table: physical },
      ),
    ];
  },

  rollback() {
    return [];
  },
};
