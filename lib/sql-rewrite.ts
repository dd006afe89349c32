/**
 * Renames column references inside a user SQL expression (a check constraint moved onto a
 * temporary column, say). It walks the expression as SQL tokens: string literals, quoted
 * identifiers and comments are recognised, so `'name'` or `name_2` are never touched, unlike the
 * plain substring replacement pgroll uses.
 */

/**
 * Replaces identifiers equal to a key of `renames` (unquoted ones compared case-insensitively,
 * as PostgreSQL folds them; quoted ones exactly) by the quoted new name.
 */
export function renameIdentifiers(
  expression: string,
  renames: ReadonlyMap<string, string>,
): string {
  let out = "";
  let i = 0;
  const n = expression.length;
  let previous = ""; // last significant character, to skip qualified names like t.col or x::type
  while (i < n) {
    const ch = expression[i]!;
    if (ch === "'" || (ch === "E" || ch === "e") && expression[i + 1] === "'") {
      const start = i;
      i = ch === "'" ? i + 1 : i + 2;
      while (i < n) {
        if (expression[i] === "\\" && ch !== "'") i += 2;
        else if (expression[i] === "'" && expression[i + 1] === "'") i += 2;
        else if (expression[i] === "'") {
          i += 1;
          break;
        } else i += 1;
      }
      out += expression.slice(start, i);
      previous = "'";
      continue;
    }
    if (ch === "-" && expression[i + 1] === "-") {
      const end = expression.indexOf("\n", i);
      const stop = end === -1 ? n : end;
      out += expression.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      let name = "";
      while (j < n) {
        if (expression[j] === '"' && expression[j + 1] === '"') {
          name += '"';
          j += 2;
        } else if (expression[j] === '"') break;
        else name += expression[j++];
      }
      const replacement = previous === "." ? undefined : renames.get(name);
      out += replacement !== undefined ? quote(replacement) : expression.slice(i, j + 1);
      i = j + 1;
      previous = '"';
      continue;
    }
    if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(expression[j]!)) j++;
      const word = expression.slice(i, j);
      const isFunctionCall = /^\s*\(/.test(expression.slice(j));
      const replacement = previous === "." || isFunctionCall
        ? undefined
        : lookupFolded(renames, word);
      out += replacement !== undefined ? quote(replacement) : word;
      i = j;
      previous = "a";
      continue;
    }
    out += ch;
    if (!/\s/.test(ch)) previous = ch === ":" && expression[i - 1] === ":" ? "." : ch;
    i += 1;
  }
  return out;
}

function lookupFolded(renames: ReadonlyMap<string, string>, word: string): string | undefined {
  return renames.get(word.toLowerCase());
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
