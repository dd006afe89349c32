/**
 * set_replica_identity: sets at start what logical decoding records of old rows; the setting is
 * a property of the one physical table, so both versions share it from then on. Unlike pgroll,
 * rollback restores the identity the table had before: the engine reads each table's identity
 * into the virtual schema at start, and this operation keeps it current for later operations.
 * When it is unknown (a migration pgroll started, whose recorded schema lacks it) rollback
 * restores DEFAULT, the identity every table starts with.
 */
import type { Issue } from "../errors.ts";
import { sqlAction } from "../plan/action.ts";
import {
  type SetReplicaIdentityParams,
  setReplicaIdentityParams,
} from "../migration/params/set_replica_identity.ts";
import type { ReplicaIdentity, VirtualTable } from "../schema/model.ts";
import { findColumn, knownTable } from "../schema/virtual.ts";
import { ident } from "../sql.ts";
import { issue, requireTable } from "./checks.ts";
import type { OperationDefinition } from "./operation.ts";

export const setReplicaIdentity: OperationDefinition<SetReplicaIdentityParams> = {
  kind: "set_replica_identity",
  description: "Set replica identity (deprecated)",
  params: setReplicaIdentityParams,

  validate(params, schema) {
    const { table, issues } = requireTable(schema, params.table, ["table"]);
    if (!table) return issues;
    const { type, index } = params.identity;
    if (type !== "INDEX") return [];
    if (index === undefined) return [issue(["identity", "index"], 'required when "type" is INDEX')];
    return indexIssues(table, index);
  },

  start(params, { schema, baseSchema }) {
    const table = knownTable(schema, params.table);
    const identity = identityOf(params);
    const sql = identitySql(table, identity, baseSchema, false);
    table.replicaIdentity = identity;
    return {
      actions: [
        sqlAction(`set_replica_identity_${table.physicalName}_${describe(identity)}`, sql, {
          table: table.physicalName,
        }),
      ],
    };
  },

  complete() {
    return [];
  },

  rollback(params, { before, baseSchema }) {
    const table = knownTable(before, params.table);
    const previous = table.replicaIdentity ?? { type: "DEFAULT" };
    return [
      sqlAction(
        `restore_replica_identity_${table.physicalName}_${describe(previous)}`,
        identitySql(table, previous, baseSchema, true),
        { table: table.physicalName },
      ),
    ];
  },
};

function identityOf(params: SetReplicaIdentityParams): ReplicaIdentity {
  const { type, index } = params.identity;
  return type === "INDEX" && index !== undefined ? { type, index } : { type };
}

function describe(identity: ReplicaIdentity): string {
  return identity.index !== undefined ? `index_${identity.index}` : identity.type.toLowerCase();
}

/** `ALTER TABLE t REPLICA IDENTITY …`; an index is named by its physical name. */
function identitySql(
  table: VirtualTable,
  identity: ReplicaIdentity,
  baseSchema: string,
  ifExists: boolean,
) {
  const target = identity.type === "INDEX" && identity.index !== undefined
    ? `USING INDEX ${ident(table.indexes[identity.index]?.physicalName ?? identity.index)}`
    : identity.type === "INDEX"
    ? "NOTHING" // an identity index that no longer exists behaves as NOTHING
    : identity.type;
  return `ALTER TABLE ${ifExists ? "IF EXISTS " : ""}${
    ident(baseSchema, table.physicalName)
  } REPLICA IDENTITY ${target}`;
}

/**
 * PostgreSQL accepts as identity only a unique, non-partial, non-exclusion index on NOT NULL
 * columns; say so now rather than fail the start.
 */
function indexIssues(table: VirtualTable, name: string): Issue[] {
  const path = ["identity", "index"];
  const index = table.indexes[name];
  if (!index) return [issue(path, `index "${name}" does not exist on table "${table.name}"`)];
  const cannot = `index "${name}" cannot be the replica identity of table "${table.name}"`;
  if (!index.unique || index.exclusion) return [issue(path, `${cannot}: it is not unique`)];
  if (index.predicate) return [issue(path, `${cannot}: it is partial`)];
  const nullable = index.columns.find((c) => findColumn(table, c)?.nullable);
  if (nullable !== undefined) return [issue(path, `${cannot}: column "${nullable}" is nullable`)];
  return [];
}
