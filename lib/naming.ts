/**
 * Every name pgtandem generates for physical objects, in one place. The names match pgroll's so a
 * database half-migrated by one tool can be finished by the other; tests import these too.
 */

const PREFIX = "_pgroll_";

/** PostgreSQL truncates identifiers longer than this many bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

export function byteLength(name: string): number {
  return new TextEncoder().encode(name).length;
}

/** The schema of views for one version: `<base>_<version>`. */
export function versionSchemaName(baseSchema: string, versionName: string): string {
  return `${baseSchema}_${versionName}`;
}

/** The physical column that holds a column's new shape until complete. */
export function temporaryColumnName(column: string): string {
  return `${PREFIX}new_${column}`;
}

export function isTemporaryName(name: string): boolean {
  return name.startsWith(PREFIX);
}

/** Where a dropped table waits until complete, so its name is free at once. */
export function deletedTableName(table: string): string {
  return `${PREFIX}del_${table}`;
}

/** A constraint or index copied onto a duplicated column. */
export function duplicateName(name: string): string {
  return `${PREFIX}dup_${name}`;
}

export function stripDuplicatePrefix(name: string): string {
  return name.startsWith(`${PREFIX}dup_`) ? name.slice(`${PREFIX}dup_`.length) : name;
}

/** The NOT VALID check that stands in for NOT NULL until it is validated. */
export function notNullCheckName(column: string): string {
  return `${PREFIX}check_not_null_${column}`;
}

/**
 * The NOT VALID check that stands in for a NULL-rejecting domain on a column one version cannot
 * see while a column is duplicated (see lib/operations/duplicate-catalog.ts).
 */
export function domainNullCheckName(column: string): string {
  return `${PREFIX}check_domain_${column}`;
}

/**
 * Trigger (and its function) that refuses explicit values for the copy of a GENERATED ALWAYS
 * identity column. Sorts before the sync triggers (`_pgroll_trigger_…`), so it fires first.
 */
export function identityGuardName(physicalTable: string, column: string): string {
  return `${PREFIX}identity_${physicalTable}_${column}`;
}

/** Function that draws the next value of an identity's sequence for the copy of its column. */
export function identityNextvalName(physicalTable: string, column: string): string {
  return `${PREFIX}nextval_${physicalTable}_${column}`;
}

/** The unique index an added unique column is built on before it becomes a constraint. */
export function uniqueIndexName(column: string): string {
  return `${PREFIX}uniq_${column}`;
}

/** Marks rows the backfill has not reached yet. */
export const NEEDS_BACKFILL_COLUMN = `${PREFIX}needs_backfill`;

/** Trigger (and its function) that keeps the column named `targetColumn` in sync. */
export function triggerName(physicalTable: string, targetColumn: string): string {
  return `${PREFIX}trigger_${physicalTable}_${targetColumn}`;
}

export const FASTPATH_PROBE_TABLE = `${PREFIX}temp_fastpath_check`;
export const FASTPATH_PROBE_COLUMN = `${PREFIX}fastpath_check_column`;
