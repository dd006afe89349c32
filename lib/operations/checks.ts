/**
 * Validation helpers shared by operations. Each returns issues (never throws) with paths relative
 * to the operation body, and messages in the project's one voice.
 */
import type { Issue } from "../errors.ts";
import { byteLength, MAX_IDENTIFIER_BYTES } from "../naming.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { findColumn, findTable } from "../schema/virtual.ts";

export type Path = (string | number)[];

export function issue(path: Path, message: string): Issue {
  return { path, message };
}

/** PostgreSQL would silently truncate a longer name, so two names could collide. */
export function nameLengthIssues(name: string, path: Path): Issue[] {
  const bytes = byteLength(name);
  if (bytes <= MAX_IDENTIFIER_BYTES) return [];
  return [
    issue(path, `name "${name}" is ${bytes} bytes long; the maximum is ${MAX_IDENTIFIER_BYTES}`),
  ];
}

/** The table, or an issue saying it does not exist. */
export function requireTable(
  schema: VirtualSchema,
  name: string,
  path: Path,
): { table?: VirtualTable; issues: Issue[] } {
  const table = findTable(schema, name);
  if (table) return { table, issues: [] };
  return { issues: [issue(path, `table "${name}" does not exist`)] };
}

export function requireColumn(table: VirtualTable, name: string, path: Path): Issue[] {
  if (findColumn(table, name)) return [];
  return [issue(path, `column "${name}" does not exist in table "${table.name}"`)];
}

/**
 * A new table name must be free both as a version-visible name and as a physical name (a table
 * renamed earlier in the migration keeps its physical name until complete).
 */
export function tableNameFreeIssues(schema: VirtualSchema, name: string, path: Path): Issue[] {
  if (findTable(schema, name)) return [issue(path, `table "${name}" already exists`)];
  if (schema.tables.some((t) => t.physicalName === name)) {
    return [
      issue(path, `table name "${name}" is still in use by a table renamed in this migration`),
    ];
  }
  return [];
}

/** Same for a new column name within a table. */
export function columnNameFreeIssues(table: VirtualTable, name: string, path: Path): Issue[] {
  if (findColumn(table, name)) {
    return [issue(path, `column "${name}" already exists in table "${table.name}"`)];
  }
  if (table.columns.some((c) => c.physicalName === name)) {
    return [
      issue(path, `column name "${name}" is still in use in table "${table.name}" until complete`),
    ];
  }
  return [];
}

/** Any constraint or index of the table already called `name`? */
export function constraintNameFreeIssues(table: VirtualTable, name: string, path: Path): Issue[] {
  const taken = name in table.checkConstraints || name in table.uniqueConstraints ||
    name in table.foreignKeys || name in table.excludeConstraints || name in table.indexes;
  if (taken) return [issue(path, `constraint "${name}" already exists on table "${table.name}"`)];
  // Dropped or renamed away earlier in this migration: the catalog keeps the name until complete.
  const kept = table.droppedConstraints?.includes(name) ||
    Object.values(table.renamedConstraints ?? {}).includes(name);
  return kept
    ? [
      issue(
        path,
        `constraint name "${name}" is still in use on table "${table.name}" until this migration completes`,
      ),
    ]
    : [];
}
