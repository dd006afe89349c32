/**
 * The one way SQL text is built. Identifiers are always quoted (reserved words, capitals, spaces,
 * quotes and semicolons all survive); literals are always escaped. User-supplied expressions
 * (up/down/check/default/predicate …) are the only raw SQL: they travel as `UserSql`
 * (lib/user-sql.ts), so a builder cannot paste a string that did not come from a migration.
 */

/** Quotes each part as an identifier and joins them with dots; never splits on dots. */
export function ident(...parts: string[]): string {
  return parts.map((p) => `"${p.replaceAll('"', '""')}"`).join(".");
}

/** A comma-separated list of quoted identifiers. */
export function identList(names: readonly string[]): string {
  return names.map((n) => ident(n)).join(", ");
}

/** An escaped SQL literal. */
export function literal(value: string | number | boolean | null): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot render ${value} as a SQL literal`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  const escaped = value.replaceAll("'", "''");
  // E'' syntax only when a backslash is present, so standard_conforming_strings does not matter.
  return value.includes("\\") ? `E'${escaped.replaceAll("\\", "\\\\")}'` : `'${escaped}'`;
}

/**
 * A dollar-quote tag that cannot end `body` early: neither inside it nor formed by its last
 * characters and the closing tag (`…$pgtandem` + `$pgtandem$`). Bodies embed quoted identifiers,
 * and a name may contain any text, `$pgtandem$` included.
 */
export function dollarTag(body: string): string {
  for (let i = 0;; i++) {
    const tag = i === 0 ? "$pgtandem$" : `$pgtandem${i}$`;
    if ((body + tag).indexOf(tag) === body.length) return tag;
  }
}

/** `body` dollar-quoted with a {@link dollarTag}: a function body or a DO block's code. */
export function dollarQuote(body: string): string {
  const tag = dollarTag(body);
  return `${tag}${body}${tag}`;
}

/** `DO <body>`, the body dollar-quoted safely whatever names it embeds. */
export function doBlock(body: string): string {
  return `DO ${dollarQuote(body)}`;
}
