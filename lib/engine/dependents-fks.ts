/**
 * Foreign keys of other tables that reference a column or table a migration replaces or drops.
 * Pointing at a rewritten column, they are re-pointed to the copy: added NOT VALID under a
 * temporary name and validated in complete's prepare phase (writes go on), then swapped for the
 * original in the switch-over. Pointing at something dropped, they are refused when they
 * outlive the migration, else dropped first in the switch-over.
 *
 * @module
 */
import { duplicateName, isTemporaryName } from "../naming.ts";
import { ident, identList } from "../sql.ts";
import {
  foreignKeyTypesFit,
  type IncomingForeignKey,
  readIncomingForeignKeys,
} from "./dependents-catalog.ts";
import type { ColumnChange, MigrationChanges } from "./dependents-changes.ts";
import { qualifiedName } from "./dependents-sql.ts";
import { type Action, sqlAction } from "../plan/action.ts";
import type { Sql } from "./connection.ts";
import type { OperationStep } from "../operations/steps.ts";

export interface ForeignKeyActions {
  prepare: Action[];
  before: Action[];
  after: Action[];
}

/**
 * Incoming foreign keys. Pointing at a rewritten column: re-pointed to the copy. Pointing at a
 * dropped column or table: refused when the foreign key outlives the migration, else dropped
 * first in the switch-over (its table or column goes at complete anyway).
 */
export async function foreignKeyPlan(
  context: { sql: Sql; baseSchema: string },
  changes: MigrationChanges,
  physicalOf: (table: string) => string,
  droppedTables: ReadonlySet<string>,
  problem: (step: OperationStep, message: string) => void,
): Promise<ForeignKeyActions> {
  const { sql, baseSchema } = context;
  const out: ForeignKeyActions = { prepare: [], before: [], after: [] };
  const referenced = [...new Set([...changes.columns.map((c) => c.table), ...droppedTables])];
  const startNameOf = new Map(referenced.map((t) => [physicalOf(t), t]));
  const fks = (await readIncomingForeignKeys(sql, baseSchema, referenced.map(physicalOf)))
    // The duplicator's own copies are handled with their originals.
    .filter((fk) => !isTemporaryName(fk.name))
    .map((fk) => ({ ...fk, referencedTable: startNameOf.get(fk.referencedTable)! }));

  const repoint: { fk: IncomingForeignKey; columns: string[]; referenced: string[] }[] = [];
  const typeChecks: { fk: IncomingForeignKey; change: ColumnChange; i: number }[] = [];
  for (const fk of fks) {
    const inBase = fk.schema === baseSchema;
    const holderStart = inBase ? startNameOf.get(fk.table) ?? fk.table : fk.table;
    const referencedChanges = fk.referencedColumns.map((c) =>
      changes.columns.find((x) => x.table === fk.referencedTable && x.column === c)
    );
    const tableDrop = changes.droppedTables.find((t) => t.table === fk.referencedTable);
    const droppedColumn = referencedChanges.find((c) => c?.kind === "dropped");
    if (!tableDrop && !referencedChanges.some((c) => c)) continue;
    const holderPhysical = inBase ? physicalOf(holderStart) : fk.table;
    const qualifiedHolder = ident(fk.schema, holderPhysical);
    const dropOld = sqlAction(
      `drop_foreign_key_${holderPhysical}_${fk.name}`,
      `ALTER TABLE IF EXISTS ${qualifiedHolder} DROP CONSTRAINT IF EXISTS ${ident(fk.name)}`,
      { table: holderPhysical },
    );
    if (!outlives(fk, holderStart, inBase, changes, droppedTables)) {
      out.before.push(dropOld);
      continue;
    }
    const cause = tableDrop ?? droppedColumn;
    if (cause) {
      const what = tableDrop
        ? `cannot drop table "${fk.referencedTable}"`
        : `cannot drop column "${droppedColumn!.column}" of table "${fk.referencedTable}"`;
      problem(
        cause.step,
        `${what}: foreign key "${fk.name}" of table ${
          qualifiedName(fk.schema, holderStart, baseSchema)
        } references it; drop that constraint first (drop_constraint in this migration, or before it)`,
      );
      continue;
    }
    const holderChanges = inBase
      ? fk.columns.map((c) =>
        changes.columns.find((x) => x.table === holderStart && x.column === c)
      )
      : [];
    repoint.push({
      fk,
      columns: fk.columns.map((c, i) => holderChanges[i]?.copy?.physicalName ?? c),
      referenced: fk.referencedColumns.map((c, i) => referencedChanges[i]?.copy?.physicalName ?? c),
    });
    referencedChanges.forEach((change, i) => {
      if (change) typeChecks.push({ fk, change, i });
    });
    out.before.push(dropOld);
    const dup = duplicateName(fk.name);
    out.prepare.push(
      sqlAction(
        `repoint_foreign_key_${holderPhysical}_${fk.name}`,
        `ALTER TABLE ${qualifiedHolder} DROP CONSTRAINT IF EXISTS ${ident(dup)}, ADD CONSTRAINT ${
          ident(dup)
        } FOREIGN KEY (${identList(repoint.at(-1)!.columns)}) REFERENCES ${
          ident(baseSchema, physicalOf(fk.referencedTable))
        } (${
          identList(repoint.at(-1)!.referenced)
        }) MATCH ${fk.matchType} ON UPDATE ${fk.onUpdate} ON DELETE ${fk.onDelete}${
          fk.deferrable ? ` DEFERRABLE INITIALLY ${fk.deferred ? "DEFERRED" : "IMMEDIATE"}` : ""
        } NOT VALID`,
        { table: holderPhysical, lock: "SHARE ROW EXCLUSIVE" },
      ),
      sqlAction(
        `validate_repointed_foreign_key_${holderPhysical}_${fk.name}`,
        `ALTER TABLE ${qualifiedHolder} VALIDATE CONSTRAINT ${ident(dup)}`,
        { table: holderPhysical, lock: "SHARE UPDATE EXCLUSIVE" },
      ),
    );
    out.after.push(
      sqlAction(
        `rename_repointed_foreign_key_${holderPhysical}_${fk.name}`,
        `ALTER TABLE ${qualifiedHolder} RENAME CONSTRAINT ${ident(dup)} TO ${ident(fk.name)}`,
        // 42704: the referencing column was rewritten too; its duplicator already renamed it.
        { table: holderPhysical, ignoreSqlstates: ["42704"] },
      ),
    );
  }

  const pairs = typeChecks.map(({ fk, change, i }) => {
    const holder = fk.schema === baseSchema
      ? changes.finalColumns.get(startNameOfHolder(fk, startNameOf))?.get(fk.columns[i]!)
      : undefined;
    return { from: holder?.type ?? fk.columnTypes[i]!, to: change.copy!.type };
  });
  const fit = await foreignKeyTypesFit(sql, pairs);
  typeChecks.forEach(({ fk, change, i }, n) => {
    if (fit[n]) return;
    const holder = fk.schema === baseSchema ? startNameOfHolder(fk, startNameOf) : fk.table;
    problem(
      change.step,
      `cannot change the type of column "${change.column}" of table "${change.table}" to "${
        change.copy!.type
      }": foreign key "${fk.name}" of table ${
        qualifiedName(fk.schema, holder, context.baseSchema)
      } references it from column "${fk.columns[i]}" of type "${
        pairs[n]!.from
      }"; change that column to a matching type in the same migration`,
    );
  });
  return out;
}

function startNameOfHolder(fk: IncomingForeignKey, startNameOf: ReadonlyMap<string, string>) {
  return startNameOf.get(fk.table) ?? fk.table;
}

/**
 * Does the foreign key still exist once the migration is complete? Not when its table or one of
 * its columns is dropped, nor when an operation of the migration drops the constraint.
 */
function outlives(
  fk: IncomingForeignKey,
  holder: string,
  inBase: boolean,
  changes: MigrationChanges,
  droppedTables: ReadonlySet<string>,
): boolean {
  if (!inBase) return true;
  if (droppedTables.has(holder)) return false;
  const dropped = fk.columns.some((c) =>
    changes.columns.some((x) => x.table === holder && x.column === c && x.kind === "dropped")
  );
  if (dropped) return false;
  const initial = changes.initial?.tables.find((t) => t.physicalName === holder);
  const final = changes.finalTables.get(holder);
  if (!initial || !final) return true; // created after start, outside the model
  if (!(fk.name in initial.foreignKeys)) return true;
  if (fk.name in final.foreignKeys) return true;
  // Renamed by rename_constraint: a foreign key the initial table did not have, to the same table.
  const target = initial.foreignKeys[fk.name]!.referencedTable;
  return Object.values(final.foreignKeys).some((k) =>
    !(k.name in initial.foreignKeys) && k.referencedTable === target
  );
}
