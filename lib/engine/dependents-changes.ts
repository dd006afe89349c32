/**
 * Which physical columns and tables a migration replaces or removes at complete, found
 * generically from its steps (no operation kind is special-cased): a column whose physical name
 * changes is rewritten on a copy (`_pgroll_new_<col>`) and its old physical column is dropped at
 * complete; a column that disappears is dropped; a table that disappears is dropped. Renames are
 * followed (the virtual name changes, the physical one does not), so they never count as changes.
 *
 * @module
 */
import { isTemporaryName } from "../naming.ts";
import type { VirtualColumn, VirtualSchema, VirtualTable } from "../schema/model.ts";
import type { OperationStep } from "../operations/steps.ts";

/** A physical column of the migration's initial schema that complete drops. */
export interface ColumnChange {
  /** "replaced": a copy takes its place at complete; "dropped": it is gone. */
  kind: "replaced" | "dropped";
  /** The table's physical name at start. */
  table: string;
  /** The table's virtual name at start (for messages). */
  tableName: string;
  /** The column's physical name at start. */
  column: string;
  /** The operation that first replaced or dropped it. */
  step: OperationStep;
  /** Replaced columns: the copy (its physical name) and the column as the final version sees it. */
  copy?: VirtualColumn;
  /** Replaced columns: the table as the final version sees it. */
  finalTable?: VirtualTable;
}

/** A table of the initial schema that complete drops. */
export interface TableDrop {
  /** Physical name at start. */
  table: string;
  step: OperationStep;
}

export interface MigrationChanges {
  columns: ColumnChange[];
  droppedTables: TableDrop[];
  /** The schema the migration starts from (steps[0].before). */
  initial: VirtualSchema | undefined;
  /** The schema the migration leaves (steps.at(-1).after). */
  final: VirtualSchema;
  /** Initial physical table → its table in the final schema (absent when dropped). */
  finalTables: Map<string, VirtualTable>;
  /** Initial physical table → initial physical column → that column in the final schema. */
  finalColumns: Map<string, Map<string, VirtualColumn>>;
}

interface Tracked {
  table: string;
  tableName: string;
  column: string;
  /** The column's virtual name and physical name as of the step being looked at. */
  name: string;
  physical: string;
  change?: ColumnChange;
  gone: boolean;
}

/**
 * Follows every column of the initial schema through the steps. Each operation either renames a
 * column (same physical name, new virtual name), points it at a copy (same virtual name, new
 * physical name), or removes it; one step never does two of these to one column.
 */
export function migrationChanges(steps: readonly OperationStep[]): MigrationChanges {
  const initial = steps[0]?.before;
  const final = steps.at(-1)?.after ?? initial ?? { name: "", tables: [] };
  const droppedTables: TableDrop[] = [];
  const tracked: Tracked[] = [];
  const liveTables = new Set<string>();
  for (const table of initial?.tables ?? []) {
    liveTables.add(table.physicalName);
    for (const column of table.columns) {
      if (isTemporaryName(column.physicalName)) continue;
      tracked.push({
        table: table.physicalName,
        tableName: table.name,
        column: column.physicalName,
        name: column.name,
        physical: column.physicalName,
        gone: false,
      });
    }
  }
  for (const step of steps) {
    for (const table of [...liveTables]) {
      // A table created later under the same physical name is another table: once gone, gone.
      if (!step.after.tables.some((t) => t.physicalName === table)) {
        liveTables.delete(table);
        droppedTables.push({ table, step });
      }
    }
    for (const t of tracked) {
      if (t.gone) continue;
      const table = step.after.tables.find((x) => x.physicalName === t.table);
      if (!table || !liveTables.has(t.table)) {
        t.gone = true;
        continue;
      }
      const samePhysical = table.columns.find((c) => c.physicalName === t.physical);
      if (samePhysical) {
        t.name = samePhysical.name;
        continue;
      }
      const sameName = table.columns.find((c) => c.name === t.name);
      if (sameName) {
        t.physical = sameName.physicalName;
        t.change ??= {
          kind: "replaced",
          table: t.table,
          tableName: t.tableName,
          column: t.column,
          step,
        };
        continue;
      }
      t.gone = true;
      t.change = {
        kind: "dropped",
        table: t.table,
        tableName: t.tableName,
        column: t.column,
        step,
      };
    }
  }
  const finalTables = new Map<string, VirtualTable>();
  for (const table of liveTables) {
    const found = final.tables.find((t) => t.physicalName === table);
    if (found) finalTables.set(table, found);
  }
  const finalColumns = new Map<string, Map<string, VirtualColumn>>();
  const columns: ColumnChange[] = [];
  for (const t of tracked) {
    const table = finalTables.get(t.table);
    const column = table?.columns.find((c) => c.physicalName === t.physical);
    if (table && column) {
      if (!finalColumns.has(t.table)) finalColumns.set(t.table, new Map());
      finalColumns.get(t.table)!.set(t.column, column);
    }
    if (!t.change) continue;
    if (t.change.kind === "replaced") {
      if (!table || !column) continue; // its table was dropped later: the table drop covers it
      t.change.copy = column;
      t.change.finalTable = table;
    }
    columns.push(t.change);
  }
  return { columns, droppedTables, initial, final, finalTables, finalColumns };
}

/** The changes to one initial physical table's columns, by initial physical column name. */
export function changesOf(changes: MigrationChanges, table: string): Map<string, ColumnChange> {
  return new Map(changes.columns.filter((c) => c.table === table).map((c) => [c.column, c]));
}
