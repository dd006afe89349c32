/**
 * Every name pgtandem generates for physical objects, in one place. The names match pgroll's so a
 * database half-migrated by one tool can be finished by the other; tests import these too.
 *
 * PostgreSQL silently truncates identifiers to 63 bytes, so two long names sharing their first
 * bytes would become one object (pgroll's known sharp edge). Every generated name therefore goes
 * through {@link shortenIdentifier}: names that fit stay exactly as pgroll spells them, longer
 * ones keep their first bytes and end in a hash of the whole name. The hash is a pure function of
 * the name, so every run (a resumed complete, a rollback days later) derives the same name.
 */
import { createHash } from "node:crypto";

const PREFIX = "_pgroll_";

/** PostgreSQL truncates identifiers longer than this many bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

export function byteLength(name: string): number {
  return new TextEncoder().encode(name).length;
}

/**
 * `name` if it fits in 63 bytes, else a UTF-8-safe prefix + `_` + 8 hex digits of the SHA-256 of
 * the full name (63 bytes or fewer in all). Deterministic: never change the algorithm, names
 * already in databases depend on it.
 */
export function shortenIdentifier(name: string): string {
  if (byteLength(name) <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  let prefix = "";
  for (const char of name) {
    if (byteLength(prefix + char) > MAX_IDENTIFIER_BYTES - hash.length - 1) break;
    prefix += char;
  }
  return `${prefix}_${hash}`;
}

/** The schema of views for one version: `<base>_<version>`. */
export function versionSchemaName(baseSchema: string, versionName: string): string {
  return `${baseSchema}_${versionName}`;
}

/** The physical column that holds a column's new shape until complete. */
export function temporaryColumnName(column: string): string {
  return shortenIdentifier(`${PREFIX}new_${column}`);
}

/** Shortened names keep their prefix, so this recognises them too. */
export function isTemporaryName(name: string): boolean {
  return name.startsWith(PREFIX);
}

/** Where a dropped table waits until complete, so its name is free at once. */
export function deletedTableName(table: string): string {
  return shortenIdentifier(`${PREFIX}del_${table}`);
}

/** A constraint or index copied onto a duplicated column. */
export function duplicateName(name: string): string {
  return shortenIdentifier(`${PREFIX}dup_${name}`);
}

/** The NOT VALID check that stands in for NOT NULL until it is validated. */
export function notNullCheckName(column: string): string {
  return shortenIdentifier(`${PREFIX}check_not_null_${column}`);
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
  return shortenIdentifier(`${PREFIX}uniq_${column}`);
}

/**
 * A partition's share of index `index` built on a partitioned table, partition by partition
 * (PostgreSQL's own names for such indexes are chosen per build, so cannot be recomputed).
 */
export function partitionIndexName(index: string, partition: string): string {
  return shortenIdentifier(`${partition}_${index}`);
}

/** Marks rows the backfill has not reached yet. */
export const NEEDS_BACKFILL_COLUMN = `${PREFIX}needs_backfill`;

/**
 * Trigger (and its function) that keeps the column named `targetColumn` in sync, in full. Not
 * shortened: lib/engine/triggers.ts derives fallbacks from the full name and shortens the result
 * ({@link syncFunctionName}).
 */
export function triggerName(physicalTable: string, targetColumn: string): string {
  return `${PREFIX}trigger_${physicalTable}_${targetColumn}`;
}

/**
 * The sync function for `column` of `table`: {@link triggerName}, shortened deterministically when
 * PostgreSQL would truncate it (the first bytes of the name plus a hash of all of it, so two long
 * names sharing a prefix stay distinct).
 */
export function syncFunctionName(table: string, column: string): string {
  return shortenIdentifier(triggerName(table, column));
}

/** Put before a sync function's name to name its trigger (see {@link syncTriggerName}). */
export const SYNC_TRIGGER_PREFIX = "~";

/**
 * The trigger of the sync function `functionName`: the same name behind a `~`. PostgreSQL fires
 * the BEFORE ROW triggers of one event in the byte order (strcmp) of their names, and `~` (0x7E)
 * sorts after every ASCII letter, digit and punctuation but DEL, so users' BEFORE triggers run
 * first. Shortened like the function names when too long.
 */
export function syncTriggerName(functionName: string): string {
  return shortenIdentifier(`${SYNC_TRIGGER_PREFIX}${functionName}`);
}

/** The down function of a table whose down trigger only clears the backfill marker. */
export function markerFunctionName(table: string): string {
  return syncFunctionName(table, NEEDS_BACKFILL_COLUMN);
}

/** The column an up trigger introduces: its target without the temporary-column prefix. */
export function upColumn(target: string): string {
  const prefix = temporaryColumnName("");
  return target.startsWith(prefix) && target.length > prefix.length
    ? target.slice(prefix.length)
    : target;
}

export const FASTPATH_PROBE_TABLE = `${PREFIX}temp_fastpath_check`;
export const FASTPATH_PROBE_COLUMN = `${PREFIX}fastpath_check_column`;
