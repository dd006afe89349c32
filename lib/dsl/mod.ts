/**
 * The TypeScript migration DSL: typed, immutable builders that end in exactly the canonical data a
 * pgroll migration file parses to. See docs/typescript.md, "The migration DSL", for a tour.
 *
 * @module
 */
export { defineMigration } from "./migration.ts";
export type { DefinedMigration, MigrationDefinition } from "./migration.ts";

export { isSqlExpression, sql } from "./sql.ts";
export type { SqlExpression, SqlTag, SqlValue } from "./sql.ts";

export { t } from "./types.ts";
export type { TimeOptions } from "./types.ts";
export type {
  AnyColumn,
  Column,
  ColumnFlag,
  ColumnType,
  IdentityOptions,
  JsonValue,
  LiteralOf,
  ValueKind,
} from "./column.ts";
export type {
  ColumnReferenceOptions,
  ForeignKeyAction,
  ForeignKeyActions,
  ForeignKeyMatchType,
  TableForeignKeyOptions,
} from "./references.ts";

export { table } from "./table-ref.ts";
export type { ColumnOf, TableLike, TableRef } from "./table-ref.ts";

export { createTable } from "./table.ts";
export type {
  ConstraintTiming,
  CreateTable,
  ExcludeDefinition,
  IndexMethod,
  IndexParameterOptions,
} from "./table.ts";

export {
  addColumn,
  createIndex,
  dropColumn,
  dropIndex,
  dropTable,
  rawSql,
  renameColumn,
  renameTable,
  setReplicaIdentity,
} from "./operations.ts";
export type {
  AddColumnArgs,
  CreateIndexOptions,
  IndexColumn,
  RawSqlOptions,
  ReplicaIdentity,
} from "./operations.ts";

export { alterColumn } from "./alter-column.ts";
export type { AlterColumn, AlterColumnChanges, Convert } from "./alter-column.ts";

export {
  createConstraint,
  dropConstraint,
  dropMulticolumnConstraint,
  renameConstraint,
} from "./constraints.ts";
export type { ColumnConversions, CreateConstraint, PerColumn, SomeColumns } from "./constraints.ts";

export { isOperation, operation, operationData } from "./operation.ts";
export type { Operation, OperationData, OperationParams } from "./operation.ts";

export { migration } from "./scope.ts";
export type { MigrationBody, MigrationScope } from "./scope.ts";
export type {
  ColumnIn,
  FolderMigrationName,
  FolderSchema,
  PluginOperationParams,
  PluginOperationParamsIn,
  SchemaBefore,
  SchemaBeforeIn,
  SchemaShape,
  TableIn,
  UntypedSchema,
} from "./folder-schema.ts";

export type { NonEmpty, StorageParameters } from "./internal.ts";
