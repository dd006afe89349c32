/**
 * alter_column: every change to an existing column — type, nullability, default, check, unique,
 * foreign key, comment, several at once. The column is duplicated (see duplicate.ts); changes
 * are made on the copy; `up` fills the copy from the old column (backfill + trigger for old-side
 * writes) and `down` fills the old column from the copy for writes through the new version.
 */
import type { Issue } from "../errors.ts";
import type { Action } from "../plan/action.ts";
import { afterTriggers, sqlAction } from "../plan/action.ts";
import { type AlterColumnParams, alterColumnParams } from "../migration/params/alter_column.ts";
import { notNullCheckName, temporaryColumnName } from "../naming.ts";
import type { VirtualTable } from "../schema/model.ts";
import { findColumn, findTable, knownColumn, knownTable } from "../schema/virtual.ts";
import { ident, literal } from "../sql.ts";
import { renameIdentifiers } from "../sql-rewrite.ts";
import { engineSql } from "../user-sql.ts";
import {
  constraintNameFreeIssues,
  issue,
  nameLengthIssues,
  requireColumn,
  requireTable,
} from "./checks.ts";
import {
  addNotNullCheck,
  notNullFromCheck,
  recordCheck,
  recordForeignKey,
  validateConstraint,
} from "./constraint-ddl.ts";
import { checkSql, deferrableSql, physicalColumnNames, tableForeignKeySql } from "./column-sql.ts";
import {
  type ColumnCopy,
  duplicateCompleteActions,
  duplicateRollbackActions,
  duplicateStartActions,
  retargetDefinitions,
} from "./duplicate.ts";
import type { OperationDefinition, StartResult } from "./operation.ts";
import { mergeAlterColumns } from "./alter_column_merge.ts";

export const alterColumn: OperationDefinition<AlterColumnParams> = {
  kind: "alter_column",
  description: "Change a column: type, constraints, nullability, default or comment",
  params: alterColumnParams,

  validate(params, schema) {
    const { table, issues } = requireTable(schema, params.table, ["table"]);
    if (!table) return issues;
    const missing = requireColumn(table, params.column, ["column"]);
    if (missing.length > 0) return missing;
    const column = knownColumn(table, params.column);
    issues.push(...upDownIssues(params));
    if (params.nullable === false) {
      if (!column.nullable) {
        issues.push(issue(["nullable"], `column "${params.column}" is already NOT NULL`));
      } else if (!params.up) {
        issues.push(
          issue(
            ["up"],
            `making column "${params.column}" NOT NULL needs "up" to replace NULLs in existing rows`,
          ),
        );
      }
    }
    if (params.nullable === true) {
      if (column.nullable) {
        issues.push(issue(["nullable"], `column "${params.column}" is already nullable`));
      } else if (!params.down) {
        issues.push(
          issue(
            ["down"],
            `making column "${params.column}" nullable needs "down": the old version's column is still NOT NULL and needs a value for rows the new version writes with NULL`,
          ),
        );
      }
    }
    if (params.check) {
      issues.push(...nameLengthIssues(params.check.name, ["check", "name"]));
      issues.push(...constraintNameFreeIssues(table, params.check.name, ["check", "name"]));
    }
    if (params.unique) {
      issues.push(...nameLengthIssues(params.unique.name, ["unique", "name"]));
      issues.push(...constraintNameFreeIssues(table, params.unique.name, ["unique", "name"]));
    }
    if (params.references) {
      const ref = params.references;
      issues.push(...nameLengthIssues(ref.name, ["references", "name"]));
      issues.push(...constraintNameFreeIssues(table, ref.name, ["references", "name"]));
      const target = findTable(schema, ref.table);
      if (!target) {
        issues.push(
          issue(["references", "table"], `referenced table "${ref.table}" does not exist`),
        );
      } else if (!findColumn(target, ref.column)) {
        issues.push(
          issue(
            ["references", "column"],
            `referenced column "${ref.column}" does not exist in table "${ref.table}"`,
          ),
        );
      }
    }
    return issues;
  },

  start(params, { schema, baseSchema }): StartResult {
    const table = knownTable(schema, params.table);
    const before = structuredClone(table);
    const column = knownColumn(table, params.column);
    const oldPhysical = column.physicalName;
    const temp = temporaryColumnName(column.name);
    const qualified = ident(baseSchema, table.physicalName);
    const on = { table: table.physicalName };
    const id = (what: string) => `${what}_${table.physicalName}_${temp}`;

    const copy = duplicateStartActions(before, [copyOf(params)], {
      baseSchema,
      skipDefault: params.default !== undefined,
    });
    retargetDefinitions(table, [copyOf(params)]);
    // The changes constrain the copy: they run after the trigger that fills it.
    const actions: Action[] = [];
    const renames = new Map([...physicalColumnNames(table), [column.name, temp]]);
    if (params.nullable === false) {
      actions.push(
        addNotNullCheck(baseSchema, table.physicalName, temp, notNullCheckName(column.name)),
      );
    }
    if (params.check) {
      actions.push(
        sqlAction(
          id(`add_check_${params.check.name}`),
          `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(params.check.name)} ${
            checkSql(
              renameIdentifiers(params.check.constraint, renames),
              params.check.no_inherit ?? false,
            )
          } NOT VALID`,
          on,
        ),
      );
    }
    if (params.references) {
      const ref = params.references;
      const deferrable = deferrableSql(ref.deferrable, ref.initially_deferred);
      actions.push(
        sqlAction(
          id(`add_foreign_key_${ref.name}`),
          `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(ref.name)} ${
            tableForeignKeySql([temp], { ...ref, columns: [ref.column] }, schema, baseSchema)
          }${deferrable ? ` ${deferrable}` : ""} NOT VALID`,
          { ...on, lock: "SHARE ROW EXCLUSIVE" },
        ),
      );
    }
    if (params.unique) {
      actions.push({
        kind: "concurrent_index",
        id: id(`add_unique_${params.unique.name}`),
        name: params.unique.name,
        table: table.physicalName,
        sql: `CREATE UNIQUE INDEX CONCURRENTLY ${ident(params.unique.name)} ON ${qualified} (${
          ident(temp)
        })`,
        lock: "SHARE UPDATE EXCLUSIVE",
        transactional: false,
      });
    }
    if (params.default !== undefined) {
      actions.push(
        sqlAction(
          id("set_default"),
          params.default === null
            ? `ALTER TABLE ${qualified} ALTER COLUMN ${ident(temp)} DROP DEFAULT`
            : `ALTER TABLE ${qualified} ALTER COLUMN ${ident(temp)} SET DEFAULT ${params.default}`,
          on,
        ),
      );
    }
    if (params.comment !== undefined) {
      actions.push(
        sqlAction(
          id("set_comment"),
          `COMMENT ON COLUMN ${qualified}.${ident(temp)} IS ${literal(params.comment)}`,
          on,
        ),
      );
    }

    const oldColumns = table.columns.map((c) => ({ name: c.name, physicalName: c.physicalName }));
    applyVirtually(table, params, temp);
    const newColumns = table.columns.map((c) => ({ name: c.name, physicalName: c.physicalName }));
    return {
      actions: [...copy, ...actions.map(afterTriggers)],
      triggers: [
        {
          table: table.physicalName,
          direction: "up",
          targetColumn: temp,
          // Without `up` the new column copies the old one: the quoted name is the expression.
          expression: params.up || engineSql(ident(column.name)),
          columns: oldColumns,
          ...(params.up ? { origin: { path: ["up"] } } : {}),
        },
        {
          table: table.physicalName,
          direction: "down",
          targetColumn: oldPhysical,
          expression: params.down || engineSql(ident(column.name)),
          columns: newColumns,
          ...(params.down ? { origin: { path: ["down"] } } : {}),
        },
      ],
      backfills: [{ table: table.physicalName }],
    };
  },

  complete(params, { before, started, baseSchema }) {
    const table = knownTable(before, params.table);
    const startedTable = knownTable(started ?? before, params.table).physicalName;
    const column = knownColumn(table, params.column);
    const temp = temporaryColumnName(column.name);
    const qualified = ident(baseSchema, table.physicalName);
    const on = { table: table.physicalName };
    const actions: Action[] = [];
    if (params.nullable === false) {
      actions.push(
        ...notNullFromCheck(baseSchema, table.physicalName, temp, notNullCheckName(column.name)),
      );
    }
    for (const name of [params.check?.name, params.references?.name]) {
      if (name) actions.push(validateConstraint(baseSchema, table.physicalName, name));
    }
    actions.push(
      ...duplicateCompleteActions(table, [copyOf(params)], { baseSchema, startedTable }),
    );
    if (params.unique) {
      actions.push(
        sqlAction(
          `add_unique_${table.physicalName}_${params.unique.name}`,
          `ALTER TABLE ${qualified} ADD CONSTRAINT ${
            ident(params.unique.name)
          } UNIQUE USING INDEX ${ident(params.unique.name)}`,
          on,
        ),
      );
    }
    return actions;
  },

  rollback(params, { before, baseSchema }) {
    const table = knownTable(before, params.table);
    // Dropping the copy drops what was added on it, but a check that names no column at all
    // (`CHECK (true)`) is not tied to the copy: drop the operation's own constraints by name.
    const own = [params.check?.name, params.references?.name].filter((n) => n !== undefined);
    return [
      ...own.map((name) =>
        sqlAction(
          `drop_constraint_${table.physicalName}_${name}`,
          `ALTER TABLE IF EXISTS ${
            ident(baseSchema, table.physicalName)
          } DROP CONSTRAINT IF EXISTS ${ident(name)}`,
          { table: table.physicalName },
        )
      ),
      ...duplicateRollbackActions(table, [copyOf(params)], { baseSchema }),
    ];
  },

  absorb(earlier, later, schema) {
    return mergeAlterColumns(earlier, later, schema);
  },
};

/**
 * The changes pgroll refuses without both `up` and `down` (an empty string counts as missing). The
 * sync triggers would fall back to copying the value unchanged; pgroll asks the author to say so,
 * and so do we, so a migration accepted here is accepted by pgroll too.
 */
function upDownIssues(params: AlterColumnParams): Issue[] {
  const column = params.column;
  const changes: [given: boolean, message: string][] = [
    [
      params.type !== undefined,
      `changing the type of column "${column}" needs both "up" and "down" to convert values between the versions`,
    ],
    [
      params.check !== undefined,
      `adding check constraint "${params.check?.name}" to column "${column}" needs both "up" and "down" ("down" is usually just "${column}")`,
    ],
    [
      params.references !== undefined,
      `adding foreign key "${params.references?.name}" to column "${column}" needs both "up" and "down" ("down" is usually just "${column}")`,
    ],
  ];
  const missing = !params.up ? "up" : !params.down ? "down" : undefined;
  if (missing === undefined) return [];
  return changes.filter(([given]) => given).map(([, message]) => issue([missing], message));
}

function copyOf(params: AlterColumnParams): ColumnCopy {
  const copy: ColumnCopy = { column: params.column };
  if (params.type !== undefined) copy.type = params.type;
  if (params.nullable === true) copy.dropNotNull = true;
  return copy;
}

/** The column as the new version sees it. */
function applyVirtually(table: VirtualTable, params: AlterColumnParams, temp: string): void {
  const column = knownColumn(table, params.column);
  column.physicalName = temp;
  if (params.type !== undefined) {
    column.type = params.type;
    // The copy's kind (base, domain, …) is unknown without the catalog.
    delete column.postgresType;
    // A kept default that does not fit the new type is left off the copy (see duplicate.ts),
    // which only the database knows. Leaving it off the model too keeps the version's view from
    // repeating it: an insert through the view then takes the copy's own default, if any.
    if (params.default === undefined) column.default = null;
  }
  if (params.nullable !== undefined) column.nullable = params.nullable;
  if (params.default !== undefined) column.default = params.default;
  if (params.comment !== undefined) column.comment = params.comment;
  if (params.unique) {
    column.unique = true;
    table.uniqueConstraints[params.unique.name] = {
      name: params.unique.name,
      columns: [column.name],
    };
  }
  if (params.check) {
    const { name, constraint, no_inherit } = params.check;
    recordCheck(table, name, [column.name], constraint, no_inherit);
  }
  if (params.references) {
    const ref = params.references;
    recordForeignKey(table, ref.name, [column.name], ref, [ref.column]);
  }
}
