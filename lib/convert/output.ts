/**
 * Writes converted operations as a migration file: TypeScript using the DSL (the default), or
 * pgroll's YAML or JSON.
 *
 * @module
 */
import { type DataFormat, formatMigration } from "../migration/writer.ts";

export type ConvertFormat = "ts" | DataFormat;

/** The migration text of `operations` in `format`. */
export function formatConversion(
  operations: readonly Record<string, unknown>[],
  format: ConvertFormat,
): string {
  if (format !== "ts") return formatMigration({ operations: [...operations] }, format);
  const lines = [
    "// Converted from SQL by `pgtandem convert`. Review every TODO before running it.",
    'import { defineMigration, operation } from "pgtandem";',
    "",
    "export default defineMigration({",
    "  operations: [",
  ];
  for (const op of operations) {
    const [kind, body] = Object.entries(op)[0] ?? ["", {}];
    lines.push(`    operation(${JSON.stringify(kind)}, ${literal(body, 4)}),`);
  }
  lines.push("  ],", "});", "");
  return lines.join("\n");
}

/** A value as a TypeScript literal, indented like deno fmt would. */
function literal(value: unknown, indent: number): string {
  const pad = " ".repeat(indent + 2);
  const end = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${pad}${literal(v, indent + 2)},`).join("\n")}\n${end}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const key = (k: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k));
    return `{\n${
      entries.map(([k, v]) => `${pad}${key(k)}: ${literal(v, indent + 2)},`).join("\n")
    }\n${end}}`;
  }
  return JSON.stringify(value);
}
