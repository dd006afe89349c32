/**
 * drop_column: the column disappears from the new version at once and physically at complete.
 * With `down`, rows written through the new version get a value for it, so the old version
 * (which still reads and may require it) keeps working.
 */
import { sqlAction } from "../plan/action.ts";
import { type DropColumnParams, dropColumnParams } from "../migration/params/drop_column.ts";
import { knownColumn, knownTable } from "../schema/virtual.ts";
import { ident } from "../sql.ts";
import { issue, requireColumn, requireTable } from "./checks.ts";
import type { OperationDefinition, StartResult } from "./operation.ts";

export const dropColumn: OperationDefinition<DropColumnParams> = {
  kind: "drop_column",
  description: "Drop a column",
  params: dropColumnParams,

  validate(params, schema) {
    const { table, issues } = requireTable(schema, params.table, ["table"]);
    if (!table) return issues;
    const missing = requireColumn(table, params.column, ["column"]);
    if (missing.length > 0) return missing;
    if (table.columns.length === 1) {
      return [
        issue(
          ["column"],
          `column "${params.column}" is the only column of table "${params.table}"`,
        ),
      ];
    }
    return [];
  },

  start(params, { schema }): StartResult {
    const table = knownTable(schema, params.table);
    const column = knownColumn(table, params.column);
    const newColumns = table.columns.filter((c) => c !== column).map((c) => ({
      name: c.name,
      physicalName: c.physicalName,
    }));
    table.columns = table.columns.filter((c) => c !== column);
    for (
      const group of [
        table.checkConstraints,
        table.uniqueConstraints,
        table.foreignKeys,
        table.indexes,
      ]
    ) {
      for (const [name, item] of Object.entries(group)) {
        if (item.columns.includes(column.name)) delete group[name];
      }
    }
    if (!params.down) return { actions: [] };
    return {
      actions: [],
      triggers: [{
        table: table.physicalName,
        direction: "down",
        targetColumn: column.physicalName,
        expression: params.down,
        columns: newColumns,
        origin: { path: ["down"] },
      }],
    };
  },

  complete(params, { before, baseSchema }) {
    const table = knownTable(before, params.table);
    const column = knownColumn(table, params.column);
    return [
      sqlAction(
        `drop_column_${table.physicalName}_${column.physicalName}`,
        `ALTER TABLE ${ident(baseSchema, table.physicalName)} DROP COLUMN ${
          ident(column.physicalName)
        }`,
        { table: table.physicalName },
      ),
    ];
  },

  rollback() {
    return [];
  },
};
