/**
 * Renames column references inside a user SQL expression (a check constraint moved onto a
 * temporary column, an index predicate over renamed columns). It works on the tokens of
 * lib/sql-tokens.ts, so string literals, quoted identifiers and comments are recognised and
 * `'name'` or `name_2` are never touched, unlike the plain substring replacement pgroll uses.
 *
 * A rewrite of user SQL is user SQL (`UserSql` in, `UserSql` out): it only renames or substitutes
 * column references, or drops a redundant `SELECT`.
 */
import { PgtandemError } from "./errors.ts";
import { ident } from "./sql.ts";
import { type Token, tokenize } from "./sql-tokens.ts";
import type { UserSql } from "./user-sql.ts";

/**
 * Replaces column references whose name is a key of `renames` (unquoted ones compared after
 * PostgreSQL's folding to lower case, quoted ones exactly) by the quoted new name. Qualified
 * names (`t.col`), function names (`lower(`) and cast targets (`::text`) are left alone.
 */
export function renameIdentifiers(
  expression: UserSql,
  renames: ReadonlyMap<string, string>,
): UserSql;
export function renameIdentifiers(expression: string, renames: ReadonlyMap<string, string>): string;
export function renameIdentifiers(
  expression: string,
  renames: ReadonlyMap<string, string>,
): string {
  if (renames.size === 0) return expression;
  return substituteColumns(
    expression,
    new Map([...renames].map(([from, to]) => [from, ident(to)])),
  );
}

/**
 * Replaces column references whose name is a key of `substitutes` by the SQL text given for it
 * (an expression, parenthesised by the caller where needed). Same reference rules as
 * {@link renameIdentifiers}.
 */
export function substituteColumns(
  expression: UserSql,
  substitutes: ReadonlyMap<string, UserSql>,
): UserSql;
export function substituteColumns(
  expression: string,
  substitutes: ReadonlyMap<string, string>,
): string;
export function substituteColumns(
  expression: string,
  substitutes: ReadonlyMap<string, string>,
): string {
  if (substitutes.size === 0) return expression;
  const tokens = tokenize(expression);
  if (!tokens) {
    throw new PgtandemError(
      "invalid_migration",
      `cannot rename the columns in expression "${expression}": its quoting is not understood`,
    );
  }
  let out = "";
  let position = 0;
  tokens.forEach((token, i) => {
    if (token.kind !== "word" && token.kind !== "quoted") return;
    if (!isColumnReference(tokens, i)) return;
    const replacement = substitutes.get(token.value);
    if (replacement === undefined) return;
    out += expression.slice(position, token.start) + replacement;
    position = token.end;
  });
  return out + expression.slice(position);
}

function isColumnReference(tokens: readonly Token[], i: number): boolean {
  const previous = tokens[i - 1];
  const next = tokens[i + 1];
  const isPunct = (t: Token | undefined, value: string) => t?.kind === "punct" && t.value === value;
  if (isPunct(previous, ".")) return false; // the column part of t.col, or a schema-qualified name
  if (isPunct(previous, ":") && isPunct(tokens[i - 2], ":")) return false; // ::type
  if (tokens[i]!.kind === "word" && isPunct(next, "(")) return false; // a function call
  return true;
}

/** Keywords after which a top-level `SELECT <expr>` is more than a bare expression. */
const CLAUSE_KEYWORDS = new Set(
  ("from where group having window order limit offset fetch for union intersect except into " +
    "distinct all as select with values table").split(" "),
);

/** Keywords that may sit between two operands of one expression. */
const OPERATOR_KEYWORDS = new Set(
  ("and or not is null true false unknown like ilike similar escape between symmetric " +
    "asymmetric in collate at time zone case when then else end isnull notnull overlaps any " +
    "some array row cast interval exists to with without localtime localtimestamp " +
    "current_date current_time current_timestamp current_user session_user user").split(" "),
);

/**
 * Turns `SELECT <expr>` (pgroll's idiom for up/down, e.g. `SELECT CASE WHEN … END`) into `<expr>`.
 * As a plpgsql assignment `x := (SELECT e)` is a sub-select, which skips plpgsql's fast path and
 * costs several times more per row than `x := (e)`; the value is the same, because a SELECT with no
 * FROM yields exactly one row. Anything else (FROM, DISTINCT, aliases, set operations, several
 * columns, text the lexer does not follow) is returned unchanged.
 */
export function simplifyExpression(expression: UserSql): UserSql;
export function simplifyExpression(expression: string): string;
export function simplifyExpression(expression: string): string {
  const tokens = tokenize(expression);
  if (!tokens || tokens.length < 2) return expression;
  let first = 0;
  let last = tokens.length - 1;
  // Peel parentheses that enclose the whole expression: `(SELECT x)`.
  while (
    tokens[first]?.value === "(" && matchingParen(tokens, first) === last && last - first > 1
  ) {
    first++;
    last--;
  }
  const head = tokens[first]!;
  if (head.kind !== "word" || head.value !== "select" || last <= first) return expression;
  let depth = 0;
  // The previous top-level token; a parenthesised group counts as its closing parenthesis.
  let previous: Token | undefined;
  for (let i = first + 1; i <= last; i++) {
    const t = tokens[i]!;
    if (t.kind === "punct") {
      if (t.value === "(" || t.value === "[") depth++;
      else if (t.value === ")" || t.value === "]") {
        if (--depth < 0) return expression;
        if (depth === 0) previous = t;
      } else if (depth === 0) {
        if (t.value === "," || t.value === ";") return expression;
        previous = t;
      }
      continue;
    }
    if (depth > 0) continue;
    if (t.kind === "word" && CLAUSE_KEYWORDS.has(t.value)) return expression;
    // Two operands in a row at the top level (`SELECT x y`) mean an alias: leave it alone.
    if (previous && endsOperand(previous) && startsOperand(t)) return expression;
    previous = t;
  }
  return expression.slice(head.end, tokens[last]!.end).trim();
}

function endsOperand(t: Token): boolean {
  if (t.kind === "literal" || t.kind === "quoted") return true;
  if (t.kind === "punct") return t.value === ")" || t.value === "]";
  return !OPERATOR_KEYWORDS.has(t.value) || ["null", "true", "false", "end"].includes(t.value);
}

function startsOperand(t: Token): boolean {
  if (t.kind === "literal") return false; // `int4 '1'` is a typed literal, not an alias
  if (t.kind === "quoted") return true;
  return t.kind === "word" && !OPERATOR_KEYWORDS.has(t.value);
}

function matchingParen(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const v = tokens[i]!;
    if (v.kind !== "punct") continue;
    if (v.value === "(") depth++;
    else if (v.value === ")" && --depth === 0) return i;
  }
  return -1;
}
