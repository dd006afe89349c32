/**
 * A small SQL lexer for user expressions: identifiers (unquoted ones folded to lower case, quoted
 * ones exact), literals (strings, dollar-quoted, numbers), comments skipped, punctuation. Enough
 * to find and rename column references without touching strings or comments; not a parser.
 */

export interface Token {
  kind: "word" | "quoted" | "literal" | "punct";
  /** word: lower-cased; quoted: the identifier; punct: the character. */
  value: string;
  start: number;
  end: number;
}

/**
 * Splits SQL into tokens, skipping comments and whitespace. Returns undefined for anything it
 * does not fully understand (unterminated quotes, Unicode-escaped identifiers), so callers fall
 * back to the conservative choice.
 */
export function tokenize(sql: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i);
    if (/\s/.test(c)) {
      i++;
    } else if (rest.startsWith("--")) {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (rest.startsWith("/*")) {
      let depth = 0;
      let j = i;
      while (j < sql.length) {
        if (sql.startsWith("/*", j)) (depth++, j += 2);
        else if (sql.startsWith("*/", j)) {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else j++;
      }
      if (depth !== 0) return undefined;
      i = j;
    } else if (/^[uU]&["']/.test(rest)) {
      return undefined;
    } else if (c === '"') {
      const end = closingQuote(sql, i, '"', false);
      if (end < 0) return undefined;
      tokens.push({
        kind: "quoted",
        value: sql.slice(i + 1, end).replaceAll('""', '"'),
        start: i,
        end: end + 1,
      });
      i = end + 1;
    } else if (c === "'" || (/[eE]/.test(c) && sql[i + 1] === "'")) {
      const open = c === "'" ? i : i + 1;
      const end = closingQuote(sql, open, "'", open !== i);
      if (end < 0) return undefined;
      tokens.push({ kind: "literal", value: "", start: i, end: end + 1 });
      i = end + 1;
    } else if (c === "$" && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(rest)) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest)![0];
      const end = sql.indexOf(tag, i + tag.length);
      if (end < 0) return undefined;
      tokens.push({ kind: "literal", value: "", start: i, end: end + tag.length });
      i = end + tag.length;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(rest)!;
      tokens.push({ kind: "word", value: m[0].toLowerCase(), start: i, end: i + m[0].length });
      i += m[0].length;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(sql[i + 1] ?? ""))) {
      const m = /^[0-9._a-zA-Z]+/.exec(rest)!;
      tokens.push({ kind: "literal", value: "", start: i, end: i + m[0].length });
      i += m[0].length;
    } else {
      tokens.push({ kind: "punct", value: c, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

/** Index of the quote closing the one at `open`; doubled quotes (and backslashes in E'') escape. */
function closingQuote(sql: string, open: number, quote: string, backslashes: boolean): number {
  for (let j = open + 1; j < sql.length; j++) {
    const ch = sql[j];
    if (backslashes && ch === "\\") j++;
    else if (ch === quote) {
      if (sql[j + 1] === quote) j++;
      else return j;
    }
  }
  return -1;
}
