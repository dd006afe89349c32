/**
 * Checks a migration's user SQL before anything is changed, so `validate`, `plan` and `start`
 * refuse a misspelt column, function or type with the file, operation and field that hold it,
 * instead of `start` failing half-way on an internal statement.
 *
 * Each expression is given to PostgreSQL's parse analysis — Parse and Describe of the extended
 * protocol, never executed or planned — as `SELECT (expr) FROM (SELECT NULL::type AS col, …) AS
 * "table"`: a derived table with the columns the writing version sees (see expression-sources.ts),
 * so tables and columns created or renamed earlier in the same migration are there although the
 * database does not have them yet, and no user table is locked (an expression that reads another
 * table takes ACCESS SHARE on it, as any SELECT). Names resolve in the migrated schema, then
 * pg_catalog, as in the sync triggers (expression-names.ts). Everything runs in a read-only
 * transaction (or a savepoint of the caller's) that is rolled back. Raw SQL and plugin SQL are
 * only parsed, with the PostgreSQL parser we ship: what they create is not there yet.
 *
 * Not reported as errors:
 *  - a broken `down` (start warns about it and goes on, as pgroll does): a warning;
 *  - a missing function, type or relation named after a plugin operation that plans its own SQL
 *    (it may create them), or when `objectsMayBeMissing` says earlier migrations of a sequence
 *    may create them: not reported; misspelt columns still are;
 *  - a missing relation or type named from a create_table on (the new table, its serial
 *    sequences, its row type exist only once start has run).
 */
import type postgres from "postgres";
import { type Issue, sqlstateOf } from "../errors.ts";
import {
  loadSqlParser,
  type SqlParser,
  SqlParserUnavailableError,
  SqlSyntaxError,
} from "../pg/parser.ts";
import { ident } from "../sql.ts";
import { simplifyExpression } from "../sql-rewrite.ts";
import type { Sql } from "./connection.ts";
import { expressionSearchPath } from "./expression-names.ts";
import { type ScopeColumn, type UserSqlItem, userSqlOf } from "./expression-sources.ts";
import type { OperationStep } from "../operations/steps.ts";

export interface ExpressionCheckOptions {
  /** The schema being migrated: names resolve in it, then in pg_catalog. */
  baseSchema: string;
  /**
   * Earlier migrations of a sequence (validate DIR) may create functions, types or tables the
   * database does not have yet: only report what cannot be one of those.
   */
  objectsMayBeMissing?: boolean;
}

export interface ExpressionCheckResult {
  errors: Issue[];
  warnings: Issue[];
}

/** Missing function, type/object, relation or schema: what an earlier step may create. */
const MAY_BE_CREATED = new Set(["42883", "42704", "42P01", "3F000"]);

/** Missing relation or type: a table created by the migration, its sequences, its row type. */
const NEW_TABLE = new Set(["42P01", "42704"]);

/** Errors a text stand-in for a column of a type not created yet may cause by itself. */
const TYPE_MISMATCH = new Set(["42804", "42846", "42725", "22P02"]);

/** Checks every item; read-only (see the module comment). */
export async function checkUserSql(
  sql: Sql,
  items: readonly UserSqlItem[],
  options: ExpressionCheckOptions,
): Promise<ExpressionCheckResult> {
  const result: ExpressionCheckResult = { errors: [], warnings: [] };
  const report = (item: UserSqlItem, message: string) =>
    (item.warnOnly ? result.warnings : result.errors).push({ path: item.path, message });
  const statements = items.filter((i) => i.form === "statements");
  if (statements.length > 0) {
    const parser = await parserOrUndefined();
    for (const item of statements) {
      const problem = parser && syntaxProblem(parser, item.text);
      if (problem) report(item, problem);
    }
  }
  const expressions = items.filter((i) => i.form !== "statements");
  if (expressions.length === 0) return result;
  await readOnly(sql, async (tx) => {
    await tx.unsafe(
      `SELECT pg_catalog.set_config('search_path', $1, true)`,
      [expressionSearchPath(options.baseSchema)],
    );
    const describe = async (query: string): Promise<Error | undefined> => {
      try {
        await tx.savepoint((sp) => sp.unsafe(query).describe());
        return undefined;
      } catch (error) {
        if (sqlstateOf(error) === undefined) throw error;
        return error as Error;
      }
    };
    // Each type once: an unknown one is reported at its field, and expressions over a column
    // whose type is unknown are not checked (they would only repeat that error).
    const types = new Map<string, Error | undefined>();
    const typeError = async (type: string) => {
      const key = checkableType(type);
      if (!types.has(key)) types.set(key, await describe(`SELECT NULL::${key}`));
      return types.get(key);
    };
    for (const item of expressions) {
      const lenient = options.objectsMayBeMissing === true || item.afterOwnSql === true;
      const excused = (error: Error) => {
        const state = sqlstateOf(error) ?? "";
        if (lenient) return MAY_BE_CREATED.has(state);
        // A column type is never excused so: a misspelt one would pass unnoticed.
        return item.form !== "type" && item.afterNewTable === true && NEW_TABLE.has(state);
      };
      if (item.form === "type") {
        const error = await typeError(item.text);
        if (error && !excused(error)) report(item, messageOf(error));
        continue;
      }
      // A column of a type that does not exist yet: when an earlier step may create it, the
      // column stands in as text, so misspelt names are still found (type errors are not);
      // otherwise its field is reported and the expression not checked.
      let standIn = false;
      const columns: ScopeColumn[] = [];
      for (const column of item.scope?.columns ?? []) {
        if (!(await typeError(column.type))) columns.push(column);
        else if (lenient) {
          columns.push({ name: column.name, type: "text" });
          standIn = true;
        } else break;
      }
      if (columns.length < (item.scope?.columns.length ?? 0)) continue;
      const castTo = item.castTo !== undefined && !(await typeError(item.castTo))
        ? checkableType(item.castTo)
        : undefined;
      const scope = item.scope && { table: item.scope.table, columns };
      const error = await describe(queryOf({ ...item, ...(scope ? { scope } : {}) }, castTo));
      const typeMismatch = standIn && TYPE_MISMATCH.has(sqlstateOf(error) ?? "");
      if (error && !excused(error) && !typeMismatch) report(item, messageOf(error));
    }
  });
  return result;
}

/** The statement whose parse analysis checks `item`. */
function queryOf(item: UserSqlItem, castTo: string | undefined): string {
  // The newline before each closing parenthesis ends a trailing `--` comment of the user's.
  // A check may be written `CHECK (…)` (start keeps it so, see checkSql): the keyword goes.
  const text = item.form === "condition" ? item.text.replace(/^\s*check\s*(?=\()/i, "") : item.text;
  const expression = `(${simplifyExpression(text)}\n)`;
  const from = item.scope ? ` FROM ${derivedTable(item.scope.table, item.scope.columns)}` : "";
  if (item.form === "condition") return `SELECT 1${from} WHERE ${expression}`;
  return `SELECT ${castTo ? `CAST(${expression} AS ${castTo})` : expression}${from}`;
}

/** `(SELECT NULL::integer AS "id", …) AS "users"`: the table's columns, no table read. */
function derivedTable(table: string, columns: readonly ScopeColumn[]): string {
  const list = columns.map((c) => `NULL::${checkableType(c.type)} AS ${ident(c.name)}`);
  return `(SELECT ${list.join(", ")}) AS ${ident(table)}`;
}

/** serial types are column types only (a sequence and a default): their integer type. */
function checkableType(type: string): string {
  const serial: Record<string, string> = {
    smallserial: "smallint",
    serial2: "smallint",
    serial: "integer",
    serial4: "integer",
    bigserial: "bigint",
    serial8: "bigint",
  };
  return serial[type.trim().toLowerCase()] ?? type;
}

/** PostgreSQL's message, with its hint; checks read as what they are, not as our wrapper. */
function messageOf(error: Error): string {
  const boolean = /^argument of WHERE must be type boolean, not type (.+)$/.exec(error.message);
  const message = boolean ? `must be a boolean expression, not type ${boolean[1]}` : error.message;
  const hint = (error as { hint?: string }).hint;
  return hint ? `${message} (${hint.replace(/\.$/, "")})` : message;
}

function syntaxProblem(parser: SqlParser, text: string): string | undefined {
  try {
    parser.parse(text);
    return undefined;
  } catch (error) {
    if (error instanceof SqlSyntaxError) return error.message;
    throw error;
  }
}

/** The parser, or undefined in a build without it (the lint says so; start runs the SQL). */
async function parserOrUndefined(): Promise<SqlParser | undefined> {
  try {
    return await loadSqlParser();
  } catch (error) {
    if (error instanceof SqlParserUnavailableError) return undefined;
    throw error;
  }
}

/**
 * Runs `fn` in a transaction that is always rolled back: a READ ONLY one, or a savepoint when
 * `sql` is already a transaction (plan's), so settings made in it end with it.
 */
async function readOnly(
  sql: Sql,
  fn: (tx: postgres.TransactionSql) => Promise<void>,
): Promise<void> {
  const done = new Error("rolled back on purpose");
  try {
    if ("savepoint" in sql) {
      await (sql as unknown as postgres.TransactionSql).savepoint(async (sp) => {
        await fn(sp);
        throw done;
      });
    } else {
      await sql.begin("read only", async (tx) => {
        await fn(tx);
        throw done;
      });
    }
  } catch (error) {
    if (error !== done) throw error;
  }
}

/** Checks all user SQL of a migration's steps (see {@link checkUserSql}). */
export async function userSqlIssues(
  sql: Sql,
  steps: readonly OperationStep[],
  options: ExpressionCheckOptions,
): Promise<ExpressionCheckResult> {
  return await checkUserSql(sql, userSqlOf(steps, options.baseSchema), options);
}
