/**
 * rename_constraint: the new version's schema knows the constraint by its new name at start; the
 * physical rename waits for complete, because the old version's clients may name the
 * constraint (ON CONFLICT ON CONSTRAINT, error handling). Renaming a unique, primary key or
 * exclusion constraint renames its index too, so the index is followed in the virtual schema.
 */
import { sqlAction } from "../plan/action.ts";
import {
  type RenameConstraintParams,
  renameConstraintParams,
} from "../migration/params/rename_constraint.ts";
import type { VirtualTable } from "../schema/model.ts";
import { knownTable } from "../schema/virtual.ts";
import { ident } from "../sql.ts";
import { constraintNameFreeIssues, issue, nameLengthIssues, requireTable } from "./checks.ts";
import { relationNameFreeIssues } from "./create_index.ts";
import { primaryKeyIndexName } from "./drop_index.ts";
import type { OperationDefinition } from "./operation.ts";

export const renameConstraint: OperationDefinition<RenameConstraintParams> = {
  kind: "rename_constraint",
  description: "Rename a constraint",
  params: renameConstraintParams,

  validate(params, schema) {
    const { table, issues } = requireTable(schema, params.table, ["table"]);
    if (!table) return issues;
    if (!isConstraint(table, params.from)) {
      return [
        issue(["from"], `constraint "${params.from}" does not exist on table "${table.name}"`),
      ];
    }
    if (params.to === params.from) {
      return [issue(["to"], "the new name is the same as the old one")];
    }
    issues.push(
      ...nameLengthIssues(params.to, ["to"]),
      ...constraintNameFreeIssues(table, params.to, ["to"]),
    );
    // The index of a unique, primary key or exclusion constraint is renamed with it.
    if (issues.length === 0 && hasIndex(table, params.from)) {
      issues.push(...relationNameFreeIssues(schema, params.to, ["to"]));
    }
    return issues;
  },

  start(params, { schema }) {
    const table = knownTable(schema, params.table);
    const { from, to } = params;
    const ownsIndex = hasIndex(table, from);
    // Until complete the catalog keeps the old name.
    const { [from]: physical = from, ...renamed } = table.renamedConstraints ?? {};
    table.renamedConstraints = { ...renamed, [to]: physical };
    for (
      const group of [
        table.checkConstraints,
        table.uniqueConstraints,
        table.foreignKeys,
        table.excludeConstraints,
      ] as Record<string, { name: string }>[]
    ) {
      const constraint = group[from];
      if (!constraint) continue;
      delete group[from];
      group[to] = { ...constraint, name: to };
    }
    const index = ownsIndex ? table.indexes[from] : undefined;
    if (index) {
      const physicalName = index.physicalName ?? from;
      delete table.indexes[from];
      table.indexes[to] = { ...index, name: to, physicalName };
      // Until complete the physical index keeps the old name.
      schema.reservedRelationNames = [...(schema.reservedRelationNames ?? []), physicalName];
      if (table.replicaIdentity?.index === from) {
        table.replicaIdentity = { ...table.replicaIdentity, index: to };
      }
    }
    return { actions: [] };
  },

  complete(params, { before, baseSchema }) {
    const table = knownTable(before, params.table);
    return [
      sqlAction(
        `rename_constraint_${table.physicalName}_${params.from}_to_${params.to}`,
        `ALTER TABLE ${ident(baseSchema, table.physicalName)} RENAME CONSTRAINT ${
          ident(params.from)
        } TO ${ident(params.to)}`,
        { table: table.physicalName },
      ),
    ];
  },

  rollback() {
    return [];
  },
};

/** Check, unique, foreign key, exclusion or primary key constraint `name` of the table? */
function isConstraint(table: VirtualTable, name: string): boolean {
  return name in table.checkConstraints || name in table.foreignKeys || hasIndex(table, name);
}

/** Unique, primary key and exclusion constraints own an index of the same name. */
function hasIndex(table: VirtualTable, name: string): boolean {
  return name in table.uniqueConstraints || name in table.excludeConstraints ||
    name === primaryKeyIndexName(table);
}
