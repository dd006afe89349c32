/**
 * drop_table: the table disappears from the new version at once. Physically it is renamed out of
 * the way at start (so its name is free and the old version's view still reads it) and dropped at
 * complete.
 */
import { sqlAction } from "../plan/action.ts";
import { type DropTableParams, dropTableParams } from "../migration/params/drop_table.ts";
import { deletedTableName } from "../naming.ts";
import { findTable, knownTable } from "../schema/virtual.ts";
import { ident } from "../sql.ts";
import { requireTable } from "./checks.ts";
import type { OperationDefinition } from "./operation.ts";

export const dropTable: OperationDefinition<DropTableParams> = {
  kind: "drop_table",
  description: "Drop a table",
  params: dropTableParams,

  validate(params, schema) {
    return requireTable(schema, params.name, ["name"]).issues;
  },

  start(params, { schema, baseSchema }) {
    const table = knownTable(schema, params.name);
    schema.tables = schema.tables.filter((t) => t !== table);
    // The table's indexes keep their names until complete drops it, and so does the table under
    // its deletion name.
    schema.reservedRelationNames = [
      ...(schema.reservedRelationNames ?? []),
      ...Object.values(table.indexes).map((i) => i.physicalName ?? i.name),
      deletedTableName(table.physicalName),
    ];
    return {
      actions: [
        sqlAction(
          `soft_delete_table_${table.physicalName}`,
          `ALTER TABLE IF EXISTS ${ident(baseSchema, table.physicalName)} RENAME TO ${
            ident(deletedTableName(table.physicalName))
          }`,
          { table: table.physicalName },
        ),
      ],
    };
  },

  complete(params, { before, started, baseSchema }) {
    // The name start renamed the table to: earlier operations' renames never reached it
    // (`rename items → products; drop products` drops `_pgroll_del_items`).
    const deleted = deletedTableName(
      findTable(started ?? before, params.name)?.physicalName ?? params.name,
    );
    return [
      sqlAction(`drop_table_${deleted}`, `DROP TABLE ${ident(baseSchema, deleted)}`, {
        table: deleted,
      }),
    ];
  },

  rollback(params, { before, baseSchema }) {
    const physical = findTable(before, params.name)?.physicalName ?? params.name;
    return [
      sqlAction(
        `restore_table_${physical}`,
        `ALTER TABLE IF EXISTS ${ident(baseSchema, deletedTableName(physical))} RENAME TO ${
          ident(physical)
        }`,
        { table: deletedTableName(physical) },
      ),
    ];
  },
};
