/**
 * Renames column references inside a user SQL expression (a check constraint moved onto a
 * temporary column, an index predicate over renamed columns). It works on the tokens of
 * lib/sql-tokens.ts, so string literals, quoted identifiers and comments are recognised and
 * `'name'` or `name_2` are never touched, unlike the plain substring replacement pgroll uses.
 */
import { PgtandemError } from "./errors.ts";
import { ident } from "./sql.ts";
import { type Token, tokenize } from "./sql-tokens.ts";

/**
 * Replaces column references whose name is a key of `renames` (unquoted ones compared after
 * PostgreSQL's folding to lower case, quoted ones exactly) by the quoted new name. Qualified
 * names (`t.col`), function names (`lower(`) and cast targets (`::text`) are left alone.
 */
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
