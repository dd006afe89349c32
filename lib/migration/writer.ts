/**
 * Writes migration documents as files in pgroll's formats: JSON indented by two spaces, or YAML
 * with map keys in byte order (pgroll converts JSON to YAML, which sorts them), so files pulled
 * by either tool look alike. Strings YAML 1.1 would read as something else (`yes`, `on`, `n`,
 * dates) are quoted, because the loader and pgroll read YAML 1.1.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { PgtandemError } from "../errors.ts";
import { compareBytes } from "./folder.ts";

/** The data formats a migration file can be written in. */
export type DataFormat = "json" | "yaml";

/** The file extension (with dot) a data format is written with. */
export function extensionOf(format: DataFormat): ".json" | ".yaml" {
  return format === "json" ? ".json" : ".yaml";
}

/**
 * A migration document as file text. Top-level keys come in pgroll's order for JSON
 * (`version_schema` before `operations`); operations are written exactly as given.
 */
export function formatMigration(document: Record<string, unknown>, format: DataFormat): string {
  if (format === "json") {
    const ordered: Record<string, unknown> = {};
    if (document.version_schema !== undefined) ordered.version_schema = document.version_schema;
    for (const [key, value] of Object.entries(document)) {
      if (key !== "version_schema") ordered[key] = value;
    }
    return `${JSON.stringify(ordered, null, 2)}\n`;
  }
  return stringify(document, {
    version: "1.1",
    sortMapEntries: (a, b) => compareBytes(String(a.key), String(b.key)),
    // Never fold long SQL over several lines.
    lineWidth: 0,
  });
}

/**
 * Writes `<dir>/<name><ext>` and returns its path. Never replaces a file unless `overwrite`:
 * a file already there is an error naming it.
 */
export async function writeMigrationFile(
  dir: string,
  name: string,
  document: Record<string, unknown>,
  format: DataFormat,
  options: { overwrite?: boolean } = {},
): Promise<string> {
  const path = join(dir, `${name}${extensionOf(format)}`);
  await writeText(path, formatMigration(document, format), options);
  return path;
}

/** Writes text to a file; refuses to replace an existing file unless `overwrite`. */
export async function writeText(
  path: string,
  text: string,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  try {
    await writeFile(path, text, { encoding: "utf8", flag: options.overwrite ? "w" : "wx" });
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const why = code === "EEXIST" ? "file already exists" : `cannot write file: ${String(cause)}`;
    throw new PgtandemError("invalid_input", `${path}: ${why}`, { cause });
  }
}
