/**
 * create_table: a new table, visible only in the new version. It is created under its final name
 * at start (nothing else can be using that name), so complete has nothing to do.
 */
import type { Issue } from "../errors.ts";
import { sqlAction } from "../plan/action.ts";
import { type CreateTableParams, createTableParams } from "../migration/params/create_table.ts";
import { deletedTableName } from "../naming.ts";
import type { ColumnDef } from "../migration/params/shared.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { findColumn, findTable } from "../schema/virtual.ts";
import { ident, identList, literal } from "../sql.ts";
import { issue, nameLengthIssues, type Path, tableNameFreeIssues } from "./checks.ts";
import { columnSql, tableConstraintSql } from "./column-sql.ts";
import { recordCheck, recordForeignKey } from "./constraint-ddl.ts";
import type { OperationDefinition } from "./operation.ts";

export const createTable: OperationDefinition<CreateTableParams> = {
  kind: "create_table",
  description: "Create a table",
  params: createTableParams,

  validate(params, schema) {
    const issues: Issue[] = [
      ...nameLengthIssues(params.name, ["name"]),
      ...tableNameFreeIssues(schema, params.name, ["name"]),
    ];
    // A table without columns is valid (pgroll accepts one too): columns come later, by add_column.
    const seen = new Set<string>();
    params.columns.forEach((column, i) => {
      const path = ["columns", i];
      if (seen.has(column.name)) {
        issues.push(issue([...path, "name"], `column "${column.name}" is defined twice`));
      }
      seen.add(column.name);
      issues.push(...columnDefinitionIssues(column, path, schema, params));
    });
    const hasPkColumn = params.columns.some((c) => c.pk);
    (params.constraints ?? []).forEach((constraint, i) => {
      const path: Path = ["constraints", i];
      issues.push(...nameLengthIssues(constraint.name, [...path, "name"]));
      if (constraint.type === "primary_key" && hasPkColumn) {
        issues.push(
          issue(
            [...path, "type"],
            `table "${params.name}" already has a primary key configuration in its columns list`,
          ),
        );
      }
      for (const [j, col] of (constraint.columns ?? []).entries()) {
        if (!seen.has(col)) {
          issues.push(
            issue(
              [...path, "columns", j],
              `column "${col}" is not defined in table "${params.name}"`,
            ),
          );
        }
      }
      if (constraint.type === "foreign_key" && constraint.references) {
        const ref = constraint.references;
        issues.push(
          ...referenceIssues(schema, params, ref.table, ref.columns, [...path, "references"]),
        );
        for (const [j, col] of (ref.on_delete_set_columns ?? []).entries()) {
          if (!(constraint.columns ?? []).includes(col)) {
            issues.push(
              issue(
                [...path, "references", "on_delete_set_columns", j],
                `column "${col}" is not one of the constraint's columns`,
              ),
            );
          }
        }
      }
    });
    return issues;
  },

  start(params, { schema, baseSchema }) {
    const table = ident(baseSchema, params.name);
    const definitions = params.columns.map((c) => columnSql(c, schema, baseSchema));
    const pk = params.columns.filter((c) => c.pk).map((c) => c.name);
    if (pk.length > 0) definitions.push(`PRIMARY KEY (${identList(pk)})`);
    for (const constraint of params.constraints ?? []) {
      definitions.push(tableConstraintSql(constraint, schema, baseSchema));
    }
    const statements = [`CREATE TABLE ${table} (\n  ${definitions.join(",\n  ")}\n)`];
    if (params.comment !== undefined) {
      statements.push(`COMMENT ON TABLE ${table} IS ${literal(params.comment)}`);
    }
    for (const column of params.columns) {
      if (column.comment !== undefined) {
        statements.push(
          `COMMENT ON COLUMN ${table}.${ident(column.name)} IS ${literal(column.comment)}`,
        );
      }
    }
    schema.tables.push(virtualTable(params));
    // Table and comments in one implicit transaction: a half-made table never exists.
    return {
      actions: [
        sqlAction(
          `create_table_${params.name}${recreated(schema, params.name)}`,
          statements.join(";\n"),
          {
            table: params.name,
            lock: "none",
          },
        ),
      ],
    };
  },

  complete() {
    return [];
  },

  rollback(params, { before, baseSchema }) {
    return [
      sqlAction(
        `drop_table_${params.name}${recreated(before, params.name)}`,
        `DROP TABLE IF EXISTS ${ident(baseSchema, params.name)}`,
        { table: params.name },
      ),
    ];
  },
};

function columnDefinitionIssues(
  column: ColumnDef,
  path: Path,
  schema: VirtualSchema,
  params: CreateTableParams,
): Issue[] {
  const issues = nameLengthIssues(column.name, [...path, "name"]);
  if (column.generated?.expression !== undefined && column.generated.identity !== undefined) {
    issues.push(
      issue(
        [...path, "generated"],
        "a column is either generated by an expression or an identity, not both",
      ),
    );
  }
  if (column.references) {
    issues.push(...nameLengthIssues(column.references.name, [...path, "references", "name"]));
    issues.push(
      ...referenceIssues(schema, params, column.references.table, [column.references.column], [
        ...path,
        "references",
      ]),
    );
  }
  if (column.check) issues.push(...nameLengthIssues(column.check.name, [...path, "check", "name"]));
  return issues;
}

/** A foreign key may point at an existing table or at the table being created (self-reference). */
function referenceIssues(
  schema: VirtualSchema,
  params: CreateTableParams,
  tableName: string,
  columns: readonly string[],
  path: Path,
): Issue[] {
  if (tableName === params.name) {
    return columns.filter((c) => !params.columns.some((d) => d.name === c)).map((c) =>
      issue(path, `referenced column "${c}" does not exist in table "${tableName}"`)
    );
  }
  const target = findTable(schema, tableName);
  if (!target) return [issue([...path, "table"], `referenced table "${tableName}" does not exist`)];
  return columns.filter((c) => !findColumn(target, c)).map((c) =>
    issue(path, `referenced column "${c}" does not exist in table "${tableName}"`)
  );
}

/** The new table as the virtual schema records it, so later operations can refer to it. */
function virtualTable(params: CreateTableParams): VirtualTable {
  const table: VirtualTable = {
    name: params.name,
    physicalName: params.name,
    comment: params.comment ?? null,
    columns: params.columns.map((c) => ({
      name: c.name,
      physicalName: c.name,
      type: c.type,
      default: c.default ?? null,
      nullable: c.nullable === true && !c.pk,
      unique: (c.unique ?? false) ||
        (c.pk === true && params.columns.filter((d) => d.pk).length === 1),
      comment: c.comment ?? null,
    })),
    primaryKey: params.columns.filter((c) => c.pk).map((c) => c.name),
    indexes: {},
    checkConstraints: {},
    uniqueConstraints: {},
    foreignKeys: {},
    excludeConstraints: {},
  };
  for (const c of params.columns) {
    if (c.check) {
      recordCheck(table, c.check.name, [c.name], c.check.constraint, c.check.no_inherit);
    }
    if (c.references) {
      recordForeignKey(table, c.references.name, [c.name], c.references, [c.references.column]);
    }
  }
  for (const k of params.constraints ?? []) {
    const columns = [...(k.columns ?? [])];
    if (k.type === "primary_key") table.primaryKey = columns;
    if (k.type === "unique") table.uniqueConstraints[k.name] = { name: k.name, columns };
    if (k.type === "check") recordCheck(table, k.name, columns, k.check ?? "", k.no_inherit);
    if (k.type === "foreign_key" && k.references) {
      recordForeignKey(table, k.name, columns, k.references, [...k.references.columns]);
    }
    if (k.type === "exclude") {
      table.excludeConstraints[k.name] = {
        name: k.name,
        columns,
        definition: k.exclude?.elements ?? "",
        method: k.exclude?.index_method ?? "",
      };
    }
  }
  return table;
}

/**
 * An id suffix for a table created again after a drop_table of the same name in this migration:
 * the engine keeps one action per id, and the two creations (and their rollbacks) are distinct.
 */
function recreated(schema: VirtualSchema, name: string): string {
  return schema.reservedRelationNames?.includes(deletedTableName(name)) ? "_again" : "";
}
