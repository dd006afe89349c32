/**
 * The safety lint: finds what in a migration would lock or rewrite a live table, using
 * PostgreSQL's own parse tree (never regular expressions). Built-in operations are online by
 * construction, so it looks at what the engine cannot make safe: the raw SQL of `sql`
 * operations, volatile defaults of add_column, the operations a plugin operation expands into, and
 * the SQL a plugin operation that plans its own actions runs at start. Used by `plan` and
 * `validate`.
 *
 * @module
 */
import { parseMigration } from "../migration/migration.ts";
import { builtinRegistry } from "../operations/builtins.ts";
import type { ParsedOperation } from "../operations/operation.ts";
import { buildSteps } from "../operations/steps.ts";
import type { SqlAction } from "../plan/action.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { addColumnEffect, lockRank, statementEffect, volatileCalls } from "./effects.ts";
import {
  findNodes,
  loadSqlParser,
  nodeOf,
  type ParsedStatement,
  type PgNode,
  type SqlParser,
  SqlParserUnavailableError,
  SqlSyntaxError,
  stringList,
} from "../pg/parser.ts";
import { type LintRule, type LintSeverity, RULES } from "./rules.ts";

export { RULES } from "./rules.ts";
export type { LintRule, LintSeverity } from "./rules.ts";

/** One problem the lint found. */
export interface LintFinding {
  /** The rule's id, e.g. "create-index-without-concurrently". */
  rule: string;
  severity: LintSeverity;
  /** Where: `["operations", 2, "sql", "up"]`, as validation issues are located. */
  path: (string | number)[];
  message: string;
  /** The safe way to do the same. */
  safeAlternative: string;
}

export interface LintOptions {
  /** The schema the migration starts from (the current version): what is "existing". */
  schema: VirtualSchema;
  /** The physical schema being migrated, e.g. "public". */
  baseSchema: string;
  /**
   * Estimated rows per physical table (see tableRowEstimates). Without it every table counts as
   * big; a table whose estimate is null (never analysed, no statistics) counts as small.
   */
  rowEstimates?: ReadonlyMap<string, number | null>;
  /** From how many rows a table is big (unbounded UPDATE/DELETE). Default 10 000. */
  bigTableRows?: number;
}

const DEFAULT_BIG_TABLE_ROWS = 10_000;

/**
 * Lints a migration's operations. Never throws for what it finds; when the parser cannot be
 * loaded it returns a single "parser-unavailable" warning instead of linting.
 */
export async function lintMigration(
  operations: readonly ParsedOperation[],
  options: LintOptions,
): Promise<LintFinding[]> {
  let parser: SqlParser;
  try {
    parser = await loadSqlParser();
  } catch (error) {
    if (!(error instanceof SqlParserUnavailableError)) throw error;
    return [finding(RULES.parserUnavailable, [], error.message)];
  }
  const findings: LintFinding[] = [];
  const pluginActions = pluginStartActions(operations, options);
  operations.forEach((operation, index) => {
    const base = ["operations", index, operation.kind];
    findings.push(...lintOperation(parser, operation, base, options));
    const expanded = expandedOperations(operation);
    expanded?.forEach((inner, position) => {
      const path = [...base, "expansion", position, inner.kind];
      findings.push(...lintOperation(parser, inner, path, options));
    });
    if (!expanded) {
      for (const action of pluginActions.get(operation) ?? []) {
        findings.push(...lintSql(parser, action.sql, [...base, "start", action.id], options));
      }
    }
  });
  return findings;
}

/** What the lint looks at in one built-in operation: raw SQL, and add_column's default. */
function lintOperation(
  parser: SqlParser,
  operation: ParsedOperation,
  base: (string | number)[],
  options: LintOptions,
): LintFinding[] {
  if (operation.kind === "sql") {
    const params = operation.params as { up: string; down?: string };
    return [
      ...lintSql(parser, params.up, [...base, "up"], options),
      ...(params.down ? lintSql(parser, params.down, [...base, "down"], options) : []),
    ];
  }
  if (operation.kind === "add_column") {
    return lintAddColumn(parser, operation.params as AddColumnLike, base);
  }
  return [];
}

/**
 * The built-in operations a plugin operation expands into, linted as if written in the file.
 * Undefined for operations that do not expand, and for an expansion that does not parse (validate
 * reports that).
 */
function expandedOperations(operation: ParsedOperation): ParsedOperation[] | undefined {
  const documents = operation.definition.expansion?.(operation.params);
  if (!documents) return undefined;
  try {
    const source = `operation "${operation.kind}"`;
    return parseMigration(source, operation.kind, { operations: documents }, builtinRegistry())
      .operations;
  } catch {
    return undefined;
  }
}

/**
 * The SQL a plugin operation that plans its own actions runs at start, by operation: the
 * plugin wrote that SQL, so the lint reads it as it reads a raw `sql` operation (built-in
 * operations are online by construction and are not re-checked). Empty when the migration does
 * not plan (validate reports why).
 */
function pluginStartActions(
  operations: readonly ParsedOperation[],
  options: LintOptions,
): Map<ParsedOperation, SqlAction[]> {
  const byOperation = new Map<ParsedOperation, SqlAction[]>();
  if (!operations.some((op) => op.kind.includes(":") && !op.definition.expansion)) {
    return byOperation;
  }
  try {
    const { steps } = buildSteps(operations, options.schema, options.baseSchema, {
      validate: false,
    });
    for (const step of steps) {
      if (!step.operation.kind.includes(":")) continue;
      const actions = step.result.actions.filter((a): a is SqlAction => a.kind === "sql");
      byOperation.set(step.operation, actions);
    }
  } catch {
    // A migration that does not plan is validate's to report.
  }
  return byOperation;
}

interface AddColumnLike {
  table: string;
  column: { name: string; default?: string | null };
  up?: string;
}

/** add_column: a volatile default without `up` would rewrite the table (start refuses it). */
function lintAddColumn(
  parser: SqlParser,
  params: AddColumnLike,
  base: (string | number)[],
): LintFinding[] {
  const expression = params.column.default;
  if (expression === undefined || expression === null || params.up) return [];
  let calls: string[];
  try {
    calls = volatileCalls(parser.parse(`SELECT ${expression}`)[0]?.node);
  } catch {
    return []; // validation or start reports an unparsable default
  }
  if (calls.length === 0) return [];
  return [finding(
    RULES.volatileDefault,
    [...base, "column", "default"],
    `default of column "${params.column.name}" calls ${
      calls.map((c) => `${c}()`).join(", ")
    }: adding it would rewrite table "${params.table}" (start refuses it); set "up" to the same expression`,
  )];
}

/** What the statements seen so far in one SQL text established. */
interface ScriptState {
  /** Tables created by earlier statements: new, so nothing uses them yet. */
  created: Set<string>;
  /** NOT VALID checks of the form `col IS NOT NULL`, by constraint name. */
  pendingNotNull: Map<string, { table: string; column: string }>;
  /** `table.column` pairs a validated check proves NOT NULL. */
  provenNotNull: Set<string>;
}

function lintSql(
  parser: SqlParser,
  sql: string,
  path: (string | number)[],
  options: LintOptions,
): LintFinding[] {
  let statements: ParsedStatement[];
  try {
    statements = parser.parse(sql);
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    return [finding(RULES.syntax, path, `raw SQL does not parse: ${error.message}`)];
  }
  const state: ScriptState = {
    created: new Set(),
    pendingNotNull: new Map(),
    provenNotNull: existingNotNullChecks(parser, options.schema),
  };
  const findings: LintFinding[] = [];
  statements.forEach((statement, i) => {
    const where = statements.length > 1 ? `statement ${i + 1} ` : "";
    const found = lintStatement(statement, state, options).map((f) => ({
      ...f,
      path,
      message: `${where}${quote(statement.text)}: ${f.message}`,
    }));
    findings.push(...found);
  });
  return findings;
}

type Found = Omit<LintFinding, "path">;

function lintStatement(
  statement: ParsedStatement,
  state: ScriptState,
  options: LintOptions,
): Found[] {
  const { kind, node } = statement;
  const existing = (relation: PgNode | undefined): VirtualTable | undefined =>
    relation ? existingTable(relation, state, options) : undefined;
  const found: Found[] = [];
  switch (kind) {
    case "CreateStmt":
    case "CreateTableAsStmt": {
      const relation = node.relation ?? node.into?.rel;
      if (relation?.relname) state.created.add(relation.relname);
      break;
    }
    case "AlterTableStmt": {
      if (node.objtype !== "OBJECT_TABLE") break;
      const table = existing(node.relation);
      noteNotNullChecks(node, state);
      if (!table) break;
      for (const raw of node.cmds ?? []) {
        const cmd = nodeOf(raw, "AlterTableCmd");
        if (cmd) found.push(...alterTableFindings(cmd, table, state));
      }
      if (found.length === 0 && statementEffect(statement).lock === "ACCESS EXCLUSIVE") {
        found.push(found1(RULES.accessExclusive, `locks table "${table.name}" ACCESS EXCLUSIVE`));
      }
      break;
    }
    case "RenameStmt": {
      const table = existing(node.relation);
      if (table && node.renameType !== "OBJECT_INDEX") {
        found.push(found1(
          RULES.accessExclusive,
          `renaming locks table "${table.name}" ACCESS EXCLUSIVE and breaks the old version's clients at once`,
        ));
      }
      break;
    }
    case "IndexStmt":
      if (!node.concurrent && existing(node.relation)) {
        found.push(found1(
          RULES.createIndex,
          `blocks writes to table "${node.relation.relname}" while the index builds`,
        ));
      }
      break;
    case "DropStmt":
      found.push(...dropFindings(node, state, options));
      break;
    case "VacuumStmt": {
      const full = (node.options ?? []).some((o: unknown) =>
        nodeOf(o, "DefElem")?.defname === "full"
      );
      if (node.is_vacuumcmd && full) {
        found.push(found1(RULES.vacuumFull, "rewrites the table under an ACCESS EXCLUSIVE lock"));
      }
      break;
    }
    case "ClusterStmt":
      found.push(found1(RULES.cluster, "rewrites the table under an ACCESS EXCLUSIVE lock"));
      break;
    case "LockStmt": {
      const effect = statementEffect(statement);
      found.push({
        ...found1(
          RULES.lockTable,
          `holds ${effect.lock} on "${effect.table}" until the transaction ends`,
        ),
        severity: lockRank(effect.lock) >= lockRank("SHARE") ? "error" : "warning",
      });
      break;
    }
    case "UpdateStmt":
    case "DeleteStmt": {
      const table = existing(node.relation);
      if (table && !node.whereClause && isBig(table, options)) {
        const rows = options.rowEstimates?.get(table.physicalName);
        found.push(found1(
          RULES.unboundedDml,
          `${kind === "UpdateStmt" ? "updates" : "deletes"} every row of table "${table.name}"${
            typeof rows === "number" ? ` (~${rows} rows)` : ""
          } in one transaction`,
        ));
      }
      break;
    }
    case "TruncateStmt":
      for (const raw of node.relations ?? []) {
        const table = existing(nodeOf(raw, "RangeVar"));
        if (table) {
          found.push(
            found1(
              RULES.accessExclusive,
              `truncating locks table "${table.name}" ACCESS EXCLUSIVE`,
            ),
          );
        }
      }
      break;
  }
  return found;
}

function alterTableFindings(cmd: PgNode, table: VirtualTable, state: ScriptState): Found[] {
  const on = `table "${table.name}"`;
  switch (cmd.subtype) {
    case "AT_AddColumn": {
      const column = nodeOf(cmd.def, "ColumnDef") ?? {};
      const { effect, note } = addColumnEffect(column);
      if (effect !== "rewrite") return [];
      return [
        found1(RULES.volatileDefault, `adding column "${column.colname}" rewrites ${on}: ${note}`),
      ];
    }
    case "AT_AlterColumnType":
      return [
        found1(RULES.alterColumnType, `changing the type of column "${cmd.name}" rewrites ${on}`),
      ];
    case "AT_SetNotNull": {
      if (state.provenNotNull.has(`${table.physicalName}.${cmd.name}`)) return [];
      return [found1(
        RULES.setNotNull,
        `scans ${on} under an ACCESS EXCLUSIVE lock: no validated CHECK ("${cmd.name}" IS NOT NULL) proves it`,
      )];
    }
    case "AT_AddConstraint": {
      const constraint = nodeOf(cmd.def, "Constraint") ?? {};
      const name = constraint.conname ? ` "${constraint.conname}"` : "";
      if (constraint.contype === "CONSTR_CHECK" && !constraint.skip_validation) {
        return [
          found1(
            RULES.constraintNotValid,
            `check${name} validates every row of ${on} under an ACCESS EXCLUSIVE lock`,
          ),
        ];
      }
      if (constraint.contype === "CONSTR_FOREIGN" && !constraint.skip_validation) {
        return [
          found1(
            RULES.constraintNotValid,
            `foreign key${name} validates every row of ${on} while blocking writes`,
          ),
        ];
      }
      if (
        (constraint.contype === "CONSTR_UNIQUE" || constraint.contype === "CONSTR_PRIMARY" ||
          constraint.contype === "CONSTR_EXCLUSION") && !constraint.indexname
      ) {
        return [
          found1(
            RULES.uniqueWithoutIndex,
            `constraint${name} builds an index on ${on} under an ACCESS EXCLUSIVE lock`,
          ),
        ];
      }
      return [];
    }
    case "AT_DropColumn":
      // Only a column the current version has is in use: dropping one the migration added (the
      // usual `down` of a raw `ADD COLUMN`, or a later statement of the same script) is not.
      if (!table.columns.some((c) => c.name === cmd.name || c.physicalName === cmd.name)) return [];
      return [
        found1(RULES.dropInUse, `column "${cmd.name}" of ${on} is used by the current version`),
      ];
    default:
      return [];
  }
}

function dropFindings(node: PgNode, state: ScriptState, options: LintOptions): Found[] {
  const found: Found[] = [];
  if (node.removeType === "OBJECT_TABLE") {
    for (const object of node.objects ?? []) {
      const parts = stringList(nodeOf(object, "List")?.items);
      const relation = {
        relname: parts.at(-1),
        ...(parts.length > 1 ? { schemaname: parts.at(-2) } : {}),
      };
      const table = existingTable(relation, state, options);
      if (table) {
        found.push(found1(RULES.dropInUse, `table "${table.name}" is used by the current version`));
      }
    }
  } else if (node.removeType === "OBJECT_INDEX" && !node.concurrent) {
    for (const object of node.objects ?? []) {
      const name = stringList(nodeOf(object, "List")?.items).at(-1);
      const table = options.schema.tables.find((t) =>
        Object.values(t.indexes).some((i) => (i.physicalName ?? i.name) === name)
      );
      if (table) {
        found.push(
          found1(
            RULES.dropIndex,
            `dropping index "${name}" locks table "${table.name}" ACCESS EXCLUSIVE`,
          ),
        );
      }
    }
  }
  return found;
}

/** Records `ADD CONSTRAINT n CHECK (col IS NOT NULL)` and the VALIDATE that proves it. */
function noteNotNullChecks(node: PgNode, state: ScriptState): void {
  const table = node.relation?.relname ?? "";
  for (const raw of node.cmds ?? []) {
    const cmd = nodeOf(raw, "AlterTableCmd");
    if (!cmd) continue;
    const constraint = nodeOf(cmd.def, "Constraint");
    if (cmd.subtype === "AT_AddConstraint" && constraint?.contype === "CONSTR_CHECK") {
      for (const column of notNullColumns(constraint.raw_expr)) {
        if (constraint.skip_validation && constraint.conname) {
          state.pendingNotNull.set(constraint.conname, { table, column });
        } else {
          state.provenNotNull.add(`${table}.${column}`);
        }
      }
    }
    if (cmd.subtype === "AT_ValidateConstraint") {
      const pending = state.pendingNotNull.get(cmd.name);
      if (pending) state.provenNotNull.add(`${pending.table}.${pending.column}`);
    }
  }
}

/** Columns an expression tests with `col IS NOT NULL`. */
function notNullColumns(expression: unknown): string[] {
  return findNodes(expression, "NullTest").filter((t) => t.nulltesttype === "IS_NOT_NULL")
    .map((t) => stringList(nodeOf(t.arg, "ColumnRef")?.fields).at(-1))
    .filter((c): c is string => c !== undefined);
}

/** `table.column` pairs proven NOT NULL by a check constraint the schema already has. */
function existingNotNullChecks(parser: SqlParser, schema: VirtualSchema): Set<string> {
  const proven = new Set<string>();
  for (const table of schema.tables) {
    for (const check of Object.values(table.checkConstraints)) {
      const expression = check.definition.replace(/^\s*CHECK\s*/i, "");
      try {
        const [statement] = parser.parse(`SELECT ${expression}`);
        for (const column of notNullColumns(statement?.node)) {
          const physical = table.columns.find((c) => c.name === column)?.physicalName ?? column;
          proven.add(`${table.physicalName}.${physical}`);
        }
      } catch {
        // A definition we cannot read proves nothing.
      }
    }
  }
  return proven;
}

/** The table of the current version a statement names, unless the script created it. */
function existingTable(
  relation: PgNode,
  state: ScriptState,
  options: LintOptions,
): VirtualTable | undefined {
  const name = relation.relname as string | undefined;
  if (!name || state.created.has(name)) return undefined;
  if (relation.schemaname && relation.schemaname !== options.baseSchema) return undefined;
  return options.schema.tables.find((t) => t.physicalName === name || t.name === name);
}

function isBig(table: VirtualTable, options: LintOptions): boolean {
  if (!options.rowEstimates) return true;
  const rows = options.rowEstimates.get(table.physicalName);
  return typeof rows === "number" && rows >= (options.bigTableRows ?? DEFAULT_BIG_TABLE_ROWS);
}

function found1(rule: LintRule, message: string): Found {
  return { rule: rule.id, severity: rule.severity, message, safeAlternative: rule.safeAlternative };
}

function finding(rule: LintRule, path: (string | number)[], message: string): LintFinding {
  return { ...found1(rule, message), path };
}

/** A statement for a message: one line, shortened. */
function quote(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
