/**
 * The column duplicator, shared by every operation that rewrites columns (alter_column,
 * create_constraint, drop_constraint, drop_multicolumn_constraint). A breaking change to column
 * `c` is made on a copy, `_pgroll_new_c`, while the old version keeps using `c`; triggers keep the
 * two in step and the backfill fills the copy. At complete the old column is dropped and the copy
 * takes its name, together with copies of every constraint and index that involved the column.
 *
 * Everything is planned from the virtual table: no catalog reads, so plans can be shown and
 * replayed.
 */
import { afterTriggers, sqlAction } from "../plan/action.ts";
import type { Action, SqlAction } from "../plan/action.ts";
import { duplicateName, notNullCheckName, temporaryColumnName } from "../naming.ts";
import type {
  CheckConstraint,
  ForeignKey,
  Index,
  UniqueConstraint,
  VirtualColumn,
  VirtualSchema,
  VirtualTable,
} from "../schema/model.ts";
import { findColumn, findTable, knownColumn } from "../schema/virtual.ts";
import { ident, identList, literal } from "../sql.ts";
import { renameIdentifiers } from "../sql-rewrite.ts";
import { engineSql, type UserSql } from "../user-sql.ts";
import type { Issue } from "../errors.ts";
import { issue, type Path } from "./checks.ts";
import { checkSql } from "./column-sql.ts";
import {
  addCopySql,
  type CopiedColumn,
  copyAttributesSql,
  domainGuardAction,
  dropIdentityGuardAction,
  dropOldDomainGuardAction,
  handOverAction,
  isBuiltinType,
  validateIfCopied,
} from "./duplicate-catalog.ts";
import {
  addNotNullCheck,
  notNullFromCheck,
  renameNotNullConstraint,
  validateConstraint,
} from "./constraint-ddl.ts";
import type { TriggerSpec } from "./operation.ts";

/** How one column is copied. */
export interface ColumnCopy {
  /** Virtual name of the column. */
  column: string;
  /** Type of the copy; the column's own type when absent. */
  type?: UserSql;
  /** The copy may hold NULLs even if the column may not (alter_column nullable: true). */
  dropNotNull?: boolean;
}

export interface DuplicateOptions {
  baseSchema: string;
  /** Constraints not to copy (the one drop_constraint removes). */
  skipConstraints?: ReadonlySet<string>;
  /** Do not copy the default (alter_column sets its own). */
  skipDefault?: boolean;
  /** Complete: the table's physical name when start ran (see CopiedColumn.startedTable). */
  startedTable?: string;
}

interface Resolved {
  copy: ColumnCopy;
  source: VirtualColumn;
  temp: string;
}

function resolve(table: VirtualTable, copies: readonly ColumnCopy[]): Resolved[] {
  return copies.map((copy) => {
    const source = knownColumn(table, copy.column);
    return { copy, source, temp: temporaryColumnName(source.name) };
  });
}

/** Physical name → copy name, for rewriting constraint and index definitions. */
function physicalRenames(resolved: readonly Resolved[]): Map<string, string> {
  return new Map(resolved.map((r) => [r.source.physicalName, r.temp]));
}

/** Virtual column names → physical names of the copies where copied, else the column's own. */
function physicalColumns(
  table: VirtualTable,
  columns: readonly string[],
  resolved: readonly Resolved[],
): string[] {
  return columns.map((name) => {
    const copied = resolved.find((r) => r.source.name === name);
    return copied ? copied.temp : findColumn(table, name)?.physicalName ?? name;
  });
}

function involves(columns: readonly string[], resolved: readonly Resolved[]): boolean {
  return columns.some((c) => resolved.some((r) => r.source.name === c));
}

/** Does a constraint on `columns` involve a copy whose type changes (it may not fit)? */
function retyped(columns: readonly string[], resolved: readonly Resolved[]): boolean {
  return columns.some((c) => resolved.some((r) => r.source.name === c && r.copy.type));
}

function copied(
  baseSchema: string,
  table: VirtualTable,
  r: Resolved,
  startedTable?: string,
): CopiedColumn {
  return {
    baseSchema,
    table: table.physicalName,
    name: r.source.name,
    source: r.source.physicalName,
    temp: r.temp,
    ...(startedTable !== undefined ? { startedTable } : {}),
  };
}

/** Identity columns are NOT NULL and have no default in the model. */
function mayBeIdentity(source: VirtualColumn): boolean {
  return source.default === null && !source.nullable;
}

/**
 * The old column may have a domain that rejects NULL and no default: the new version cannot
 * see it, so it needs the domain guard (see duplicate-catalog.ts). Unknown kinds count as maybe.
 */
function mayNeedOldGuard(source: VirtualColumn): boolean {
  return source.default === null &&
    (source.postgresType === undefined || source.postgresType === "domain");
}

/** The copy's type may be a domain: a new type not built in, or the column's own domain. */
function mayBeDomain(r: Resolved): boolean {
  if (r.copy.type !== undefined) return !isBuiltinType(r.copy.type);
  return r.source.postgresType === "domain" ||
    (r.source.postgresType === undefined && !isBuiltinType(r.source.type));
}

/** The primary key's index: unique, on exactly the key columns, not a unique constraint's. */
export function primaryKeyIndex(table: VirtualTable): string | undefined {
  if (table.primaryKey.length === 0) return undefined;
  const key = [...table.primaryKey].sort().join("\0");
  const candidates = Object.values(table.indexes).filter((i) =>
    i.unique && !(i.name in table.uniqueConstraints) &&
    [...i.columns].sort().join("\0") === key
  );
  return candidates.find((i) => i.name === `${table.physicalName}_pkey`)?.name ??
    candidates[0]?.name;
}

/**
 * A copy takes over only the constraints and indexes the table's model lists. The model of a
 * table created earlier in the same migration (`table`) has no index for its primary key, nor
 * its unnamed column UNIQUE constraints (PostgreSQL names them): copying such a column would
 * silently lose them at complete, so the change is refused.
 */
export function unmodelledKeyIssues(table: VirtualTable, column: string, path: Path): Issue[] {
  const fix = `; give the column its final definition in the create_table instead`;
  if (table.primaryKey.includes(column) && primaryKeyIndex(table) === undefined) {
    return [issue(
      path,
      `column "${column}" is in the primary key of table "${table.name}", which this migration creates: changing it here would lose the primary key${fix}`,
    )];
  }
  const unique = findColumn(table, column)?.unique &&
    !(table.primaryKey.length === 1 && table.primaryKey[0] === column);
  const single = (columns: readonly string[]) => columns.length === 1 && columns[0] === column;
  const modelled = Object.values(table.uniqueConstraints).some((u) => single(u.columns)) ||
    Object.values(table.indexes).some((i) => i.unique && single(i.columns));
  if (unique && !modelled) {
    return [issue(
      path,
      `column "${column}" of table "${table.name}" has a UNIQUE constraint this migration creates without a name: changing the column here would lose it${fix}`,
    )];
  }
  return [];
}

/**
 * For OperationDefinition.absorb of operations that copy `columns` of `table`: issues when the
 * `earlier` step created that table and a copy would lose one of its keys (see
 * unmodelledKeyIssues), undefined otherwise (nothing is merged).
 */
export function createdTableKeyIssues(
  earlier: { before: VirtualSchema; after: VirtualSchema },
  current: VirtualSchema,
  table: string,
  columns: readonly string[],
  path: (index: number) => Path,
): Issue[] | undefined {
  const now = findTable(current, table);
  const physical = (t: VirtualTable) => t.physicalName === now?.physicalName;
  if (!now || !earlier.after.tables.some(physical) || earlier.before.tables.some(physical)) {
    return undefined;
  }
  const issues = columns.flatMap((c, i) => unmodelledKeyIssues(now, c, path(i)));
  return issues.length > 0 ? issues : undefined;
}

/** Start: add the copies and copies of their constraints and indexes. */
export function duplicateStartActions(
  table: VirtualTable,
  copies: readonly ColumnCopy[],
  options: DuplicateOptions,
): Action[] {
  const resolved = resolve(table, copies);
  const actions: Action[] = [];
  // Constraints on the copies come after the triggers that fill the copies.
  const constraints: Action[] = [];
  for (const r of resolved) {
    const column = copyColumnActions(table, r, options);
    actions.push(...column.actions);
    constraints.push(...column.constraints);
  }
  const involved = involvedObjects(table, resolved, options);
  constraints.push(...copyConstraintActions(table, resolved, involved, options));
  return [...actions, ...constraints.map(afterTriggers)];
}

/**
 * The constraints and indexes of the table on the copied columns (but those the caller skips):
 * each is copied at start and takes its original's place at complete.
 */
interface Involved {
  checks: CheckConstraint[];
  foreignKeys: ForeignKey[];
  uniques: UniqueConstraint[];
  /** Indexes that back no unique constraint (those come with `uniques`). */
  indexes: Index[];
}

function involvedObjects(
  table: VirtualTable,
  resolved: readonly Resolved[],
  options: DuplicateOptions,
): Involved {
  const skip = options.skipConstraints ?? new Set<string>();
  const copied = (o: { name: string; columns: readonly string[] }) =>
    !skip.has(o.name) && involves(o.columns, resolved);
  return {
    checks: Object.values(table.checkConstraints).filter(copied),
    foreignKeys: Object.values(table.foreignKeys).filter(copied),
    uniques: Object.values(table.uniqueConstraints).filter(copied),
    indexes: Object.values(table.indexes).filter((index) =>
      !skip.has(index.name) && !(index.name in table.uniqueConstraints) &&
      indexInvolves(index, resolved)
    ),
  };
}

/** One copy: the column with its attributes, default and comment; its NOT NULL and domain guard. */
function copyColumnActions(
  table: VirtualTable,
  r: Resolved,
  options: DuplicateOptions,
): { actions: Action[]; constraints: Action[] } {
  const { copy, source, temp } = r;
  const qualified = ident(options.baseSchema, table.physicalName);
  const on = { table: table.physicalName };
  const id = (what: string) => `${what}_${table.physicalName}_${temp}`;
  const actions: Action[] = [];
  const constraints: Action[] = [];
  // One implicit transaction: no insert meets the copy before its identity default, grants and
  // domain placeholder (an old-side insert would fail on a NULL-rejecting domain).
  const attributes = copyAttributesSql(copied(options.baseSchema, table, r), {
    identity: mayBeIdentity(source) && !options.skipDefault,
  });
  const type = copy.type ?? source.type;
  const add = mayBeDomain(r)
    ? addCopySql(copied(options.baseSchema, table, r), type)
    : `ALTER TABLE ${qualified} ADD COLUMN IF NOT EXISTS ${ident(temp)} ${type}`;
  actions.push(sqlAction(id("duplicate_column"), `${add};\n${attributes}`, on));
  if (mayBeDomain(r) || mayNeedOldGuard(source)) {
    constraints.push(
      domainGuardAction(copied(options.baseSchema, table, r), {
        oldColumn: mayNeedOldGuard(source),
      }),
    );
  }
  if (!source.nullable && !copy.dropNotNull) {
    // NOT NULL as a NOT VALID check: enforced for new writes at once, validated at complete.
    constraints.push(
      addNotNullCheck(
        options.baseSchema,
        table.physicalName,
        temp,
        duplicateName(notNullCheckName(source.name)),
      ),
    );
  }
  if (source.default !== null && !options.skipDefault) {
    // A default that no longer fits a new type (SQLSTATE 42804) is dropped, as in pgroll.
    actions.push(
      sqlAction(
        id("duplicate_default"),
        `ALTER TABLE ${qualified} ALTER COLUMN ${ident(temp)} SET DEFAULT ${source.default}`,
        { ...on, ignoreSqlstates: ["42804"] },
      ),
    );
  }
  if (source.comment !== null) {
    actions.push(
      sqlAction(
        id("duplicate_comment"),
        `COMMENT ON COLUMN ${qualified}.${ident(temp)} IS ${literal(source.comment)}`,
        on,
      ),
    );
  }
  return { actions, constraints };
}

/** Start: a NOT VALID copy of each involved check and foreign key, a copy of each index. */
function copyConstraintActions(
  table: VirtualTable,
  resolved: readonly Resolved[],
  involved: Involved,
  options: DuplicateOptions,
): Action[] {
  const qualified = ident(options.baseSchema, table.physicalName);
  const on = { table: table.physicalName };
  const renames = physicalRenames(resolved);
  const constraints: Action[] = [];
  for (const check of involved.checks) {
    // The check as PostgreSQL prints it (or as the migration that added it wrote it).
    const definition = renameIdentifiers(engineSql(stripNotValid(check.definition)), renames);
    constraints.push(
      sqlAction(
        `duplicate_check_${table.physicalName}_${check.name}`,
        `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(duplicateName(check.name))} ${
          checkSql(definition, check.noInherit && !/NO INHERIT/i.test(definition))
        } NOT VALID`,
        // 42883: the check's operator does not exist for the new type; pgroll drops it too.
        { ...on, ignoreSqlstates: ["42883"] },
      ),
    );
  }
  for (const fk of involved.foreignKeys) {
    constraints.push(
      sqlAction(
        `duplicate_foreign_key_${table.physicalName}_${fk.name}`,
        `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(duplicateName(fk.name))} FOREIGN KEY (${
          identList(physicalColumns(table, fk.columns, resolved))
        }) REFERENCES ${ident(options.baseSchema, fk.referencedTable)} (${
          identList(fk.referencedColumns)
        }) MATCH ${fk.matchType || "SIMPLE"} ON DELETE ${fk.onDelete || "NO ACTION"} ON UPDATE ${
          fk.onUpdate || "NO ACTION"
        } NOT VALID`,
        { ...on, lock: "SHARE ROW EXCLUSIVE", ignoreSqlstates: ["42804"] },
      ),
      {
        ...validateCopied(options.baseSchema, table.physicalName, fk, resolved),
        id: `start_validate_${table.physicalName}_${duplicateName(fk.name)}`,
        // Like the original, the copy is a valid foreign key once start is done (pgroll's is too).
        afterBackfill: true,
      },
    );
  }
  for (const unique of involved.uniques) {
    constraints.push(concurrentIndex(
      table,
      duplicateName(unique.name),
      `CREATE UNIQUE INDEX CONCURRENTLY ${ident(duplicateName(unique.name))} ON ${qualified} (${
        identList(physicalColumns(table, unique.columns, resolved))
      })`,
    ));
  }
  for (const index of involved.indexes) {
    const tail = indexDefinitionTail(index.definition)!;
    constraints.push(concurrentIndex(
      table,
      duplicateName(index.name),
      `CREATE ${index.unique ? "UNIQUE " : ""}INDEX CONCURRENTLY ${
        ident(duplicateName(index.name))
      } ON ${qualified} USING ${renameIdentifiers(tail, renames)}`,
    ));
  }
  return constraints;
}

/**
 * Complete: the copies replace the originals. Old columns are dropped (their constraints and
 * indexes go with them), copies renamed, and the copied constraints validated and given the
 * original names. Constraints added by the operation itself are the caller's business.
 */
export function duplicateCompleteActions(
  table: VirtualTable,
  copies: readonly ColumnCopy[],
  options: DuplicateOptions,
): Action[] {
  const resolved = resolve(table, copies);
  const qualified = ident(options.baseSchema, table.physicalName);
  const on = { table: table.physicalName };
  const involved = involvedObjects(table, resolved, options);
  const actions: Action[] = [];

  for (const r of resolved) {
    const { copy, source, temp } = r;
    if (!source.nullable && !copy.dropNotNull) {
      const check = duplicateName(notNullCheckName(source.name));
      actions.push(...notNullFromCheck(options.baseSchema, table.physicalName, temp, check));
    }
    // Before the old column is dropped: its serial or identity sequence goes to the copy.
    actions.push(handOverAction(copied(options.baseSchema, table, r, options.startedTable)));
  }
  for (const constraint of [...involved.checks, ...involved.foreignKeys]) {
    actions.push(
      validateCopied(options.baseSchema, table.physicalName, constraint, resolved),
    );
  }
  actions.push(
    sqlAction(
      `drop_old_columns_${table.physicalName}_${resolved.map((r) => r.temp).join("_")}`,
      `ALTER TABLE ${qualified} ${
        resolved.map((r) => `DROP COLUMN IF EXISTS ${ident(r.source.physicalName)}`).join(", ")
      }`,
      on,
    ),
  );
  for (const { source, temp } of resolved) {
    actions.push(
      sqlAction(
        `rename_duplicate_${table.physicalName}_${temp}`,
        `ALTER TABLE ${qualified} RENAME COLUMN ${ident(temp)} TO ${ident(source.physicalName)}`,
        on,
      ),
      renameNotNullConstraint(options.baseSchema, table.physicalName, source.physicalName),
    );
  }
  return [...actions, ...restoreNameActions(table, resolved, involved, options)];
}

/** Complete, once the copies are the columns: the copied constraints take the original names. */
function restoreNameActions(
  table: VirtualTable,
  resolved: readonly Resolved[],
  involved: Involved,
  options: DuplicateOptions,
): Action[] {
  const qualified = ident(options.baseSchema, table.physicalName);
  const on = { table: table.physicalName };
  const actions: Action[] = [];
  const renameConstraint = (name: string) =>
    sqlAction(
      `rename_duplicate_constraint_${table.physicalName}_${name}`,
      `ALTER TABLE ${qualified} RENAME CONSTRAINT ${ident(duplicateName(name))} TO ${ident(name)}`,
      on,
    );
  // Only a constraint that may have been left off (see validateCopied) may be missing here.
  for (const constraint of [...involved.checks, ...involved.foreignKeys]) {
    actions.push(
      retyped(constraint.columns, resolved)
        ? { ...renameConstraint(constraint.name), ignoreSqlstates: ["42704"] }
        : renameConstraint(constraint.name),
    );
  }
  for (const unique of involved.uniques) {
    actions.push(
      sqlAction(
        `restore_unique_${table.physicalName}_${unique.name}`,
        `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(unique.name)} UNIQUE USING INDEX ${
          ident(duplicateName(unique.name))
        }`,
        on,
      ),
    );
  }
  const pkIndex = primaryKeyIndex(table);
  for (const index of involved.indexes) {
    actions.push(
      index.name === pkIndex
        ? sqlAction(
          `restore_primary_key_${table.physicalName}`,
          `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(index.name)} PRIMARY KEY USING INDEX ${
            ident(duplicateName(index.name))
          }`,
          on,
        )
        : sqlAction(
          `rename_duplicate_index_${table.physicalName}_${index.name}`,
          `ALTER INDEX IF EXISTS ${
            ident(options.baseSchema, duplicateName(index.name))
          } RENAME TO ${ident(index.name)}`,
          on,
        ),
    );
  }
  return actions;
}

/** Rollback: dropping the copies drops every constraint and index made for them. */
export function duplicateRollbackActions(
  table: VirtualTable,
  copies: readonly ColumnCopy[],
  options: DuplicateOptions,
): Action[] {
  const resolved = resolve(table, copies);
  return [
    sqlAction(
      `drop_duplicates_${table.physicalName}_${resolved.map((r) => r.temp).join("_")}`,
      `ALTER TABLE IF EXISTS ${ident(options.baseSchema, table.physicalName)} ${
        resolved.map((r) => `DROP COLUMN IF EXISTS ${ident(r.temp)}`).join(", ")
      }`,
      { table: table.physicalName },
    ),
    ...resolved.filter((r) => mayNeedOldGuard(r.source)).map((r) =>
      dropOldDomainGuardAction(copied(options.baseSchema, table, r))
    ),
    ...resolved.filter((r) => mayBeIdentity(r.source)).map((r) =>
      dropIdentityGuardAction(copied(options.baseSchema, table, r))
    ),
  ];
}

function concurrentIndex(table: VirtualTable, name: string, sql: string): Action {
  return {
    kind: "concurrent_index",
    id: `create_index_${table.physicalName}_${name}`,
    name,
    table: table.physicalName,
    sql,
    lock: "SHARE UPDATE EXCLUSIVE",
    transactional: false,
  };
}

/**
 * Does the index use a copied column: as a key column, or only in an expression or the predicate
 * (a partial index `WHERE status = 'x'` dies with `status` at complete, so it must be copied)?
 */
function indexInvolves(index: Index, resolved: readonly Resolved[]): boolean {
  const tail = indexDefinitionTail(index.definition);
  if (tail === undefined) return false;
  return involves(index.columns, resolved) ||
    renameIdentifiers(tail, physicalRenames(resolved)) !== tail;
}

/** `btree (a DESC) WHERE …` from pg_get_indexdef's `CREATE INDEX n ON s.t USING btree (…) …`. */
function indexDefinitionTail(definition: string): string | undefined {
  const at = definition.indexOf(" USING ");
  return at === -1 ? undefined : definition.slice(at + " USING ".length);
}

function stripNotValid(definition: string): string {
  return definition.replace(/\s+NOT VALID\s*$/i, "");
}

/**
 * The sync triggers of a set of copied columns: per column an up trigger (old value → copy, from
 * `up[c]`, default unchanged) and a down trigger (copy → old column, from `down[c]`). `table` is
 * the table before the copies; the new version reads every copied column from its copy.
 */
export function duplicateTriggers(
  table: VirtualTable,
  columns: readonly string[],
  up: Readonly<Record<string, UserSql>>,
  down: Readonly<Record<string, UserSql>>,
): TriggerSpec[] {
  const oldColumns = table.columns.map((c) => ({ name: c.name, physicalName: c.physicalName }));
  const newColumns = table.columns.map((c) => ({
    name: c.name,
    physicalName: columns.includes(c.name) ? temporaryColumnName(c.name) : c.physicalName,
  }));
  const specs: TriggerSpec[] = [];
  for (const name of columns) {
    specs.push({
      table: table.physicalName,
      direction: "up",
      targetColumn: temporaryColumnName(name),
      // Without an expression the copy takes the column's value: the quoted name.
      expression: up[name] || engineSql(ident(name)),
      columns: oldColumns,
      ...(up[name] ? { origin: { path: ["up", name] } } : {}),
    });
  }
  for (const name of columns) {
    const column = knownColumn(table, name);
    specs.push({
      table: table.physicalName,
      direction: "down",
      targetColumn: column.physicalName,
      expression: down[name] || engineSql(ident(name)),
      columns: newColumns,
      ...(down[name] ? { origin: { path: ["down", name] } } : {}),
    });
  }
  return specs;
}

/**
 * The table's check and index definitions (PostgreSQL's text, in physical column names) rewritten
 * to name the copies, before the copied columns' physical names change. A later operation of the
 * same migration that copies another column of the table then copies these objects over both
 * copies: a copy still naming the first old column would die with it at complete, and the
 * constraint or index with it.
 */
export function retargetDefinitions(
  table: VirtualTable,
  copies: readonly ColumnCopy[],
  skipConstraints: ReadonlySet<string> = new Set(),
): void {
  const resolved = resolve(table, copies);
  renameInDefinitions(table, physicalRenames(resolved), {
    check: (c) => !skipConstraints.has(c.name) && involves(c.columns, resolved),
    index: (i) => !skipConstraints.has(i.name) && indexInvolves(i, resolved),
  });
}

/**
 * For complete's view of the table (every physical name equal to its virtual one, see
 * completedForm): check and index definitions name the columns by their virtual names too, so a
 * column renamed earlier in the migration and named only in an index's predicate or expression
 * is still found to be involved when its copy replaces it.
 */
export function completedDefinitions(table: VirtualTable): void {
  const renames = new Map(
    table.columns.filter((c) => c.physicalName !== c.name).map((c) => [c.physicalName, c.name]),
  );
  if (renames.size > 0) {
    renameInDefinitions(table, renames, { check: () => true, index: () => true });
  }
}

function renameInDefinitions(
  table: VirtualTable,
  renames: ReadonlyMap<string, string>,
  include: { check: (c: CheckConstraint) => boolean; index: (i: Index) => boolean },
): void {
  for (const check of Object.values(table.checkConstraints)) {
    if (!include.check(check)) continue;
    table.checkConstraints[check.name] = {
      ...check,
      definition: renameIdentifiers(check.definition, renames),
    };
  }
  for (const index of Object.values(table.indexes)) {
    const tail = indexDefinitionTail(index.definition);
    if (tail === undefined || !include.index(index)) continue;
    const head = index.definition.slice(0, index.definition.length - tail.length);
    table.indexes[index.name] = { ...index, definition: head + renameIdentifiers(tail, renames) };
  }
}

/** Points the new version's columns at their copies. */
export function useCopies(table: VirtualTable, columns: readonly string[]): void {
  for (const name of columns) knownColumn(table, name).physicalName = temporaryColumnName(name);
}

/**
 * VALIDATE of the copy of a check or foreign key. One that did not fit a copy's new type was
 * left off at start (pgroll drops such constraints too): validated only when it exists.
 */
function validateCopied(
  baseSchema: string,
  table: string,
  constraint: { name: string; columns: readonly string[] },
  resolved: readonly Resolved[],
): SqlAction {
  const name = duplicateName(constraint.name);
  return (retyped(constraint.columns, resolved)
    ? validateIfCopied(baseSchema, table, name)
    : validateConstraint(baseSchema, table, name)) as SqlAction;
}
