/**
 * Helpers over the virtual schema. Operations call these instead of poking at arrays so lookups,
 * renames and deletions behave the same everywhere.
 */
import { StateError } from "../errors.ts";
import { isTemporaryName, NEEDS_BACKFILL_COLUMN } from "../naming.ts";
import type { Schema, Table, VirtualColumn, VirtualSchema, VirtualTable } from "./model.ts";

/**
 * The virtual schema of a physical one: every name maps to itself. `columnOrder` lists each
 * table's columns in attnum order (read_schema's JSON objects lose it). Leftover temporary
 * objects are hidden: they are never part of a version; so are partitions, whose rows every
 * version reads and writes through the partitioned parent (a view per partition would pin the
 * partition's columns and block complete).
 */
export function virtualFromPhysical(
  schema: Schema,
  columnOrder: Record<string, string[]> = {},
): VirtualSchema {
  const tables: VirtualTable[] = [];
  for (const table of Object.values(schema.tables)) {
    if (isTemporaryName(table.name) || table.partitionOf !== undefined) continue;
    tables.push(virtualTableFromPhysical(table, columnOrder[table.name]));
  }
  tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { name: schema.name, tables };
}

function virtualTableFromPhysical(table: Table, order: string[] | undefined): VirtualTable {
  const names = order ?? Object.keys(table.columns);
  const columns: VirtualColumn[] = [];
  for (const name of names) {
    const column = table.columns[name];
    if (!column || name === NEEDS_BACKFILL_COLUMN || isTemporaryName(name)) continue;
    columns.push({ ...column, physicalName: name });
  }
  return {
    name: table.name,
    physicalName: table.name,
    comment: table.comment ?? null,
    columns,
    primaryKey: [...(table.primaryKey ?? [])],
    indexes: { ...(table.indexes ?? {}) },
    checkConstraints: { ...(table.checkConstraints ?? {}) },
    uniqueConstraints: { ...(table.uniqueConstraints ?? {}) },
    foreignKeys: { ...(table.foreignKeys ?? {}) },
    excludeConstraints: { ...(table.excludeConstraints ?? {}) },
  };
}

export function cloneSchema(schema: VirtualSchema): VirtualSchema {
  return structuredClone(schema);
}

export function findTable(schema: VirtualSchema, name: string): VirtualTable | undefined {
  return schema.tables.find((t) => t.name === name);
}

export function findColumn(table: VirtualTable, name: string): VirtualColumn | undefined {
  return table.columns.find((c) => c.name === name);
}

/**
 * The table an operation's validate already checked exists. Absent only when the schema came from
 * somewhere validate did not see (a snapshot saved by another release, a replay gone wrong): that
 * is a state error naming the table, not a TypeError deep in an operation.
 */
export function knownTable(schema: VirtualSchema, name: string): VirtualTable {
  const table = findTable(schema, name);
  if (!table) {
    throw new StateError(
      `table "${name}" is missing from the schema of "${schema.name}" being replayed ` +
        `(the saved migration state does not match the migration)`,
    );
  }
  return table;
}

/** The column an operation's validate already checked exists; see {@link knownTable}. */
export function knownColumn(table: VirtualTable, name: string): VirtualColumn {
  const column = findColumn(table, name);
  if (!column) {
    throw new StateError(
      `column "${name}" is missing from table "${table.name}" in the schema being replayed ` +
        `(the saved migration state does not match the migration)`,
    );
  }
  return column;
}

/** Is `name` taken by a constraint of any kind on this table? */
export function constraintExists(table: VirtualTable, name: string): boolean {
  return name in table.checkConstraints || name in table.uniqueConstraints ||
    name in table.foreignKeys || name in table.excludeConstraints ||
    (name in table.indexes && table.primaryKey.length > 0 && isPrimaryKeyIndex(table, name));
}

function isPrimaryKeyIndex(table: VirtualTable, indexName: string): boolean {
  const index = table.indexes[indexName];
  return !!index && index.unique && sameColumns(index.columns, table.primaryKey);
}

/** Does any table of the schema have an index with this name? Index names are per schema. */
export function indexExists(schema: VirtualSchema, name: string): boolean {
  return schema.tables.some((t) => name in t.indexes);
}

export function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((x, i) => x === sorted[i]);
}

/** Replaces a column name in every constraint and index column list of a table. */
export function renameColumnReferences(table: VirtualTable, from: string, to: string): void {
  const swap = (cols: string[]) => cols.map((c) => (c === from ? to : c));
  table.primaryKey = swap(table.primaryKey);
  for (
    const group of [
      table.indexes,
      table.checkConstraints,
      table.uniqueConstraints,
      table.foreignKeys,
      table.excludeConstraints,
    ] as Record<string, { columns: string[] }>[]
  ) {
    for (const item of Object.values(group)) item.columns = swap(item.columns);
  }
}
