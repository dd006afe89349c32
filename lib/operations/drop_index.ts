/**
 * drop_index: the new version stops knowing the index at once, but the old version may still
 * rely on it (its queries, its uniqueness), so the index is dropped, concurrently, only at
 * complete. Rollback has nothing to undo. Drops PostgreSQL would refuse at complete (the index
 * of a constraint, one a foreign key depends on, the replica identity) are refused while
 * validating, before anything has changed.
 */
import type { Issue } from "../errors.ts";
import { sqlAction } from "../plan/action.ts";
import { type DropIndexParams, dropIndexParams } from "../migration/params/drop_index.ts";
import type { Index, VirtualSchema, VirtualTable } from "../schema/model.ts";
import { sameColumns } from "../schema/virtual.ts";
import { ident } from "../sql.ts";
import { issue } from "./checks.ts";
import type { OperationDefinition } from "./operation.ts";

export const dropIndex: OperationDefinition<DropIndexParams> = {
  kind: "drop_index",
  description: "Drop an index concurrently",
  params: dropIndexParams,

  validate(params, schema) {
    const table = tableOfIndex(schema, params.name);
    if (!table) return [issue(["name"], `index "${params.name}" does not exist`)];
    const cannot = `cannot drop index "${params.name}" of table "${table.name}"`;
    if (
      params.name in table.uniqueConstraints || params.name in table.excludeConstraints ||
      params.name === primaryKeyIndexName(table)
    ) {
      return [
        issue(
          ["name"],
          `${cannot}: it belongs to constraint "${params.name}"; drop the constraint instead`,
        ),
      ];
    }
    const identity = table.replicaIdentity;
    if (identity?.type === "INDEX" && identity.index === params.name) {
      return [
        issue(["name"], `${cannot}: it is the table's replica identity; set another one first`),
      ];
    }
    return foreignKeyIssues(schema, table, table.indexes[params.name]!, cannot);
  },

  start(params, { schema }) {
    const table = tableOfIndex(schema, params.name)!;
    const index = table.indexes[params.name]!;
    delete table.indexes[params.name];
    // The physical index keeps its name until complete.
    schema.reservedRelationNames = [
      ...(schema.reservedRelationNames ?? []),
      index.physicalName ?? index.name,
    ];
    return { actions: [] };
  },

  complete(params, { before, baseSchema }) {
    const table = tableOfIndex(before, params.name);
    const physical = table?.indexes[params.name]?.physicalName ?? params.name;
    return [
      sqlAction(
        `drop_index_${physical}`,
        `DROP INDEX CONCURRENTLY IF EXISTS ${ident(baseSchema, physical)}`,
        {
          ...(table ? { table: table.physicalName } : {}),
          lock: "SHARE UPDATE EXCLUSIVE",
          transactional: false,
        },
      ),
    ];
  },

  rollback() {
    return [];
  },
};

/**
 * The index of the table's primary key. read_schema does not mark it, so it is the one unique,
 * non-partial index on exactly the key's columns; when several qualify, the one with the name
 * PostgreSQL gives a primary key, else unknown.
 */
export function primaryKeyIndexName(table: VirtualTable): string | undefined {
  if (table.primaryKey.length === 0) return undefined;
  const candidates = Object.values(table.indexes).filter((i) =>
    i.unique && !i.predicate && !i.exclusion && sameColumns(i.columns, table.primaryKey)
  );
  if (candidates.length === 1) return candidates[0]!.name;
  return candidates.find((i) => (i.physicalName ?? i.name) === `${table.physicalName}_pkey`)?.name;
}

function tableOfIndex(schema: VirtualSchema, name: string): VirtualTable | undefined {
  return schema.tables.find((t) => name in t.indexes);
}

/**
 * A foreign key needs a unique index on exactly its referenced columns. When this index is the
 * only one the referenced table has for them, PostgreSQL would refuse the drop.
 */
function foreignKeyIssues(
  schema: VirtualSchema,
  table: VirtualTable,
  index: Index,
  cannot: string,
): Issue[] {
  if (!index.unique || index.predicate || index.exclusion) return [];
  const candidates = Object.values(table.indexes).filter((i) =>
    i.unique && !i.predicate && !i.exclusion && sameColumns(i.columns, index.columns)
  );
  if (candidates.length !== 1) return [];
  const physicalColumns = index.columns.map((c) =>
    table.columns.find((col) => col.name === c)?.physicalName ?? c
  );
  for (const other of schema.tables) {
    for (const fk of Object.values(other.foreignKeys)) {
      const references = fk.referencedTable === table.name ||
        fk.referencedTable === table.physicalName;
      if (
        references &&
        (sameColumns(fk.referencedColumns, index.columns) ||
          sameColumns(fk.referencedColumns, physicalColumns))
      ) {
        return [
          issue(
            ["name"],
            `${cannot}: foreign key "${fk.name}" of table "${other.name}" depends on it`,
          ),
        ];
      }
    }
  }
  return [];
}
