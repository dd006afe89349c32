/**
 * The schema model. `Schema` is the physical shape read from the catalog by `read_schema` (the
 * same JSON pgroll stores in `resulting_schema`, so both tools understand each other's history).
 * `VirtualSchema` is what one version of the schema looks like to clients: virtual names mapped
 * to physical tables and columns. Operations change the virtual schema op by op; the engine
 * builds the version's views from it.
 */
import type { UserSql } from "../user-sql.ts";

export interface Column {
  name: string;
  /** SQL text (user SQL or PostgreSQL's own rendering), pasted into statements verbatim. */
  type: UserSql;
  /** SQL expression, or null when the column has none (always null for generated columns). */
  default: UserSql | null;
  nullable: boolean;
  /** A single-column unique constraint or unique index covers exactly this column. */
  unique: boolean;
  comment: string | null;
  enumValues?: string[] | null;
  postgresType?: string;
}

export interface Index {
  name: string;
  unique: boolean;
  exclusion?: boolean;
  columns: string[];
  predicate?: string | null;
  method: string;
  definition: string;
  /**
   * Virtual schemas only: the index's physical name when an operation renamed it virtually
   * (renaming a unique constraint renames its index at complete). Absent when it equals `name`.
   */
  physicalName?: string;
}

export interface CheckConstraint {
  name: string;
  columns: string[];
  definition: string;
  noInherit: boolean;
}

export interface UniqueConstraint {
  name: string;
  columns: string[];
}

export interface ForeignKey {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  matchType: string;
  onDelete: string;
  onUpdate: string;
}

export interface ExcludeConstraint {
  name: string;
  columns: string[];
  definition: string;
  predicate?: string | null;
  method: string;
}

export interface Table {
  name: string;
  oid: string;
  comment: string | null;
  /**
   * pgtandem's read_schema only: the partitioned table this one is a partition of. Partitions
   * are not tables of a version (clients use the parent), so the virtual schema leaves them out.
   */
  partitionOf?: string;
  columns: Record<string, Column>;
  primaryKey: string[];
  indexes: Record<string, Index>;
  checkConstraints: Record<string, CheckConstraint>;
  uniqueConstraints: Record<string, UniqueConstraint>;
  foreignKeys: Record<string, ForeignKey>;
  excludeConstraints: Record<string, ExcludeConstraint>;
}

/** The physical schema as `read_schema` returns it. */
export interface Schema {
  name: string;
  tables: Record<string, Table>;
}

/** A column as one version sees it. */
export interface VirtualColumn extends Column {
  /** The physical column behind it (a temporary `_pgroll_new_*` column during a rewrite). */
  physicalName: string;
}

/**
 * A table's replica identity: what logical decoding records to identify the old row of an update
 * or delete. DEFAULT is the primary key; INDEX a unique index named by `index`.
 */
export interface ReplicaIdentity {
  type: "DEFAULT" | "NOTHING" | "FULL" | "INDEX";
  /** With type INDEX: the index (its virtual name; see `Index.physicalName`). */
  index?: string;
}

/** A table as one version sees it. Columns are kept in physical (attnum) order. */
export interface VirtualTable {
  name: string;
  physicalName: string;
  comment: string | null;
  columns: VirtualColumn[];
  primaryKey: string[];
  indexes: Record<string, Index>;
  checkConstraints: Record<string, CheckConstraint>;
  uniqueConstraints: Record<string, UniqueConstraint>;
  foreignKeys: Record<string, ForeignKey>;
  excludeConstraints: Record<string, ExcludeConstraint>;
  /**
   * As read from the catalog when the migration started, then changed by set_replica_identity.
   * Absent when unknown: tables created in the migration (they start with DEFAULT) and schemas
   * rebuilt from a snapshot pgroll stored.
   */
  replicaIdentity?: ReplicaIdentity;
  /**
   * Constraints dropped in this migration: they stay on the old columns, under their names, until
   * complete, so no new constraint of this table may take those names before.
   */
  droppedConstraints?: string[];
  /**
   * Constraints renamed in this migration: new name → the name the catalog keeps until complete
   * (taken until then too).
   */
  renamedConstraints?: Record<string, string>;
}

/** One version of the schema: plain data, cloned with structuredClone. */
export interface VirtualSchema {
  name: string;
  tables: VirtualTable[];
  /**
   * Relation names that operations of this migration free only at complete (an index dropped,
   * a constraint's index renamed): physically still taken, so nothing new may use them before.
   */
  reservedRelationNames?: string[];
}
