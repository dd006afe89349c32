/**
 * The safety lint's rules: what each one catches, why it hurts a live database, and the safe way
 * to do the same. docs/plan-lint-convert.md's "The safety lint" renders this table; the lint (lint.ts) fires them.
 *
 * @module
 */

export type LintSeverity = "warning" | "error";

export interface LintRule {
  id: string;
  severity: LintSeverity;
  /** What goes wrong on a live database, one sentence. */
  why: string;
  /** What to write instead. */
  safeAlternative: string;
}

const rule = (id: string, severity: LintSeverity, why: string, safeAlternative: string) =>
  ({ id, severity, why, safeAlternative }) satisfies LintRule;

/** Every rule, by id. */
export const RULES = {
  accessExclusive: rule(
    "access-exclusive-lock",
    "warning",
    "raw SQL takes an ACCESS EXCLUSIVE lock on a table the current version uses: every read and write queues behind it, and behind any long query it waits for",
    "use the matching pgtandem operation (alter_column, rename_column, rename_table, create_constraint…), whose ACCESS EXCLUSIVE steps are catalog-only and retried under lock_timeout",
  ),
  setNotNull: rule(
    "set-not-null-without-check",
    "error",
    "ALTER COLUMN … SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK (col IS NOT NULL) already proves it",
    'use alter_column with "nullable": false and "up" (NOT VALID check, batched backfill, VALIDATE, then a scan-free SET NOT NULL), or ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT; SET NOT NULL',
  ),
  createIndex: rule(
    "create-index-without-concurrently",
    "error",
    "CREATE INDEX without CONCURRENTLY blocks every write to the table (SHARE lock) for the whole build",
    "use create_index (built CONCURRENTLY, checked for validity) or CREATE INDEX CONCURRENTLY in its own sql operation",
  ),
  dropIndex: rule(
    "drop-index-without-concurrently",
    "warning",
    "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table",
    "use drop_index (DROP INDEX CONCURRENTLY at complete) or DROP INDEX CONCURRENTLY",
  ),
  volatileDefault: rule(
    "volatile-default",
    "error",
    "ADD COLUMN whose default is volatile (random(), clock_timestamp(), gen_random_uuid(), nextval…), serial, identity or stored generated rewrites the whole table under an ACCESS EXCLUSIVE lock",
    'use add_column with "up" set to the default expression: the column is added without it, existing rows are backfilled in batches, new rows get the default',
  ),
  alterColumnType: rule(
    "alter-column-type",
    "error",
    "ALTER COLUMN … TYPE rewrites the table (and its indexes) under an ACCESS EXCLUSIVE lock unless the types are binary-compatible",
    'use alter_column with "type", "up" (old → new) and "down" (new → old): a new column is backfilled in batches and swapped in at complete',
  ),
  constraintNotValid: rule(
    "constraint-without-not-valid",
    "error",
    "ADD CONSTRAINT … CHECK / FOREIGN KEY without NOT VALID checks every row while holding a lock that blocks writes (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key)",
    "use create_constraint, or ADD CONSTRAINT … NOT VALID then VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE: writes go on) in a later step",
  ),
  uniqueWithoutIndex: rule(
    "unique-without-index",
    "error",
    "ADD CONSTRAINT … UNIQUE / PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock",
    "use create_constraint (index built CONCURRENTLY), or CREATE UNIQUE INDEX CONCURRENTLY then ADD CONSTRAINT … USING INDEX",
  ),
  vacuumFull: rule(
    "vacuum-full",
    "error",
    "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock",
    "run plain VACUUM (no lock on reads or writes), or an online repack tool (pg_repack, pg_squeeze) outside the migration",
  ),
  cluster: rule(
    "cluster",
    "error",
    "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
    "use an online repack tool (pg_repack) outside the migration, or drop the ordering requirement",
  ),
  lockTable: rule(
    "lock-table",
    "warning",
    "LOCK TABLE holds its lock until the transaction ends; with a strong mode every client queues behind it",
    "let the operations take their own short locks (the engine retries them under lock_timeout); take no explicit table lock",
  ),
  dropInUse: rule(
    "drop-in-use",
    "error",
    "raw DROP COLUMN / DROP TABLE removes what the current (old) version still reads and writes: its clients break at once, and its version views block the drop or are dropped with CASCADE",
    "use drop_column / drop_table: the new version stops seeing it at start, the old one keeps working until complete, and rollback is possible",
  ),
  unboundedDml: rule(
    "unbounded-dml",
    "warning",
    "UPDATE or DELETE without WHERE on a big table changes every row in one transaction: long row locks, a burst of WAL, replica lag and bloat",
    'backfill with alter_column / add_column "up" (keyset batches, resumable), or batch the statement by key ranges',
  ),
  syntax: rule(
    "sql-syntax",
    "error",
    "PostgreSQL's parser rejects the SQL: start would fail on it",
    "fix the SQL; pgtandem convert shows how PostgreSQL reads a statement",
  ),
  parserUnavailable: rule(
    "parser-unavailable",
    "warning",
    "the safety lint needs PostgreSQL's parser (libpg-query WebAssembly), which this build could not load: nothing was linted",
    "run pgtandem with bun or deno from a checkout (npm install), or a binary built with the parser's .wasm file",
  ),
} as const;

export type RuleName = keyof typeof RULES;
