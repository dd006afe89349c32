/**
 * create_constraint: a unique, check, foreign key or primary key constraint over existing
 * columns. The columns are duplicated, `up` makes existing and old-side rows satisfy the
 * constraint on the copies, and the constraint is built online on the copies (unique and primary
 * key as indexes built concurrently, check and foreign key NOT VALID) and made final at complete.
 */
import type { Action } from "../plan/action.ts";
import { afterTriggers, sqlAction } from "../plan/action.ts";
import {
  type CreateConstraintParams,
  createConstraintParams,
} from "../migration/params/create_constraint.ts";
import { isTemporaryName, temporaryColumnName } from "../naming.ts";
import type { VirtualTable } from "../schema/model.ts";
import { findColumn, findTable, knownTable } from "../schema/virtual.ts";
import { ident, identList } from "../sql.ts";
import { renameIdentifiers } from "../sql-rewrite.ts";
import { constraintNameFreeIssues, issue, nameLengthIssues, requireTable } from "./checks.ts";
import { checkSql, physicalColumnNames, tableForeignKeySql } from "./column-sql.ts";
import { recordCheck, recordForeignKey, validateConstraint } from "./constraint-ddl.ts";
import {
  createdTableKeyIssues,
  duplicateCompleteActions,
  duplicateRollbackActions,
  duplicateStartActions,
  duplicateTriggers,
  primaryKeyIndex,
  retargetDefinitions,
  useCopies,
} from "./duplicate.ts";
import type { OperationDefinition, StartResult } from "./operation.ts";

export const createConstraint: OperationDefinition<CreateConstraintParams> = {
  kind: "create_constraint",
  description: "Add a constraint to existing columns",
  params: createConstraintParams,

  validate(params, schema) {
    const { table, issues } = requireTable(schema, params.table, ["table"]);
    if (!table) return issues;
    issues.push(
      ...nameLengthIssues(params.name, ["name"]),
      ...constraintNameFreeIssues(table, params.name, ["name"]),
    );
    for (const [i, name] of columnsOf(params).entries()) {
      const column = findColumn(table, name);
      if (!column) {
        issues.push(
          issue(["columns", i], `column "${name}" does not exist in table "${params.table}"`),
        );
      } else if (isTemporaryName(column.physicalName)) {
        issues.push(
          issue(["columns", i], `column "${name}" is already being changed by this migration`),
        );
      }
    }
    if (params.type === "foreign_key" && params.references) {
      const target = findTable(schema, params.references.table);
      if (!target) {
        issues.push(
          issue(
            ["references", "table"],
            `referenced table "${params.references.table}" does not exist`,
          ),
        );
      } else {
        for (const [i, c] of params.references.columns.entries()) {
          if (!findColumn(target, c)) {
            issues.push(
              issue(
                ["references", "columns", i],
                `referenced column "${c}" does not exist in table "${params.references.table}"`,
              ),
            );
          }
        }
      }
    }
    return issues;
  },

  start(params, { schema, baseSchema }): StartResult {
    const table = knownTable(schema, params.table);
    const before = structuredClone(table);
    const columns = columnsOf(params);
    const qualified = ident(baseSchema, table.physicalName);
    const temps = columns.map(temporaryColumnName);
    const on = { table: table.physicalName };
    const copies = duplicateStartActions(before, columns.map((column) => ({ column })), {
      baseSchema,
    });
    retargetDefinitions(table, columns.map((column) => ({ column })));
    // The constraint itself runs after the triggers that fill the copies.
    const actions: Action[] = [];
    switch (params.type) {
      case "unique":
      case "primary_key":
        actions.push({
          kind: "concurrent_index",
          id: `create_constraint_index_${table.physicalName}_${params.name}`,
          name: params.name,
          table: table.physicalName,
          sql: `CREATE UNIQUE INDEX CONCURRENTLY ${ident(params.name)} ON ${qualified} (${
            identList(temps)
          })`,
          lock: "SHARE UPDATE EXCLUSIVE",
          transactional: false,
        });
        break;
      case "check": {
        const renames = new Map([
          ...physicalColumnNames(before),
          ...columns.map((c) => [c, temporaryColumnName(c)] as const),
        ]);
        actions.push(
          sqlAction(
            `create_check_${table.physicalName}_${params.name}`,
            `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(params.name)} ${
              checkSql(renameIdentifiers(params.check!, renames), params.no_inherit ?? false)
            } NOT VALID`,
            on,
          ),
        );
        break;
      }
      case "foreign_key":
        actions.push(
          sqlAction(
            `create_foreign_key_${table.physicalName}_${params.name}`,
            `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(params.name)} ${
              tableForeignKeySql(temps, params.references!, schema, baseSchema)
            } NOT VALID`,
            { ...on, lock: "SHARE ROW EXCLUSIVE" },
          ),
        );
        break;
    }
    const triggers = duplicateTriggers(before, columns, params.up ?? {}, params.down ?? {});
    useCopies(table, columns);
    recordConstraint(table, params, columns);
    return {
      actions: [...copies, ...actions.map(afterTriggers)],
      triggers,
      backfills: [{ table: table.physicalName }],
    };
  },

  complete(params, { before, started, baseSchema }) {
    const table = knownTable(before, params.table);
    const startedTable = knownTable(started ?? before, params.table).physicalName;
    const columns = columnsOf(params);
    const qualified = ident(baseSchema, table.physicalName);
    const on = { table: table.physicalName };
    const actions: Action[] = [];
    const copies = columns.map((column) => ({ column }));
    if (params.type === "check" || params.type === "foreign_key") {
      actions.push(validateConstraint(baseSchema, table.physicalName, params.name));
    }
    actions.push(...duplicateCompleteActions(table, copies, { baseSchema, startedTable }));
    if (params.type === "unique") {
      actions.push(
        sqlAction(
          `add_unique_${table.physicalName}_${params.name}`,
          `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(params.name)} UNIQUE USING INDEX ${
            ident(params.name)
          }`,
          on,
        ),
      );
    }
    if (params.type === "primary_key") {
      // A table has one primary key: the old one goes in the same statement the new one comes in.
      const existing = primaryKeyIndex(table);
      const replacesOld = existing && !table.primaryKey.every((c) => columns.includes(c));
      actions.push(
        sqlAction(
          `add_primary_key_${table.physicalName}_${params.name}`,
          `ALTER TABLE ${qualified} ${
            replacesOld ? `DROP CONSTRAINT IF EXISTS ${ident(existing)}, ` : ""
          }ADD CONSTRAINT ${ident(params.name)} PRIMARY KEY USING INDEX ${ident(params.name)}`,
          on,
        ),
      );
    }
    return actions;
  },

  rollback(params, { before, baseSchema }) {
    const table = knownTable(before, params.table);
    return duplicateRollbackActions(table, columnsOf(params).map((column) => ({ column })), {
      baseSchema,
    });
  },

  absorb(earlier, later, schema) {
    // Nothing is merged; a key of a table created earlier in the migration would be lost.
    const columns = columnsOf(later);
    return createdTableKeyIssues(earlier, schema, later.table, columns, (i) => ["columns", i]);
  },
};

/** The columns a constraint rewrites; a check without `columns` rewrites those it has up for. */
function columnsOf(params: CreateConstraintParams): string[] {
  if (params.columns && params.columns.length > 0) return [...params.columns];
  return Object.keys(params.up ?? {});
}

function recordConstraint(table: VirtualTable, params: CreateConstraintParams, columns: string[]) {
  switch (params.type) {
    case "unique":
      table.uniqueConstraints[params.name] = { name: params.name, columns };
      break;
    case "primary_key":
      table.primaryKey = columns;
      break;
    case "check":
      recordCheck(table, params.name, columns, params.check ?? "", params.no_inherit);
      break;
    case "foreign_key":
      recordForeignKey(table, params.name, columns, params.references!, [
        ...params.references!.columns,
      ]);
      break;
  }
}
