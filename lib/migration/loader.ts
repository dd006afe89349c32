/**
 * Reads a migration file (.json, .yaml, .yml, .ts) into a parsed migration. The migration name is
 * the base file name minus its last extension, as in pgroll (`03.migration.3.yml` → `03.migration.3`);
 * a TypeScript migration may set another `name` inside. TypeScript migrations are imported through
 * the runtime port (./module.ts) and end in the same parseMigration.
 */
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { parseDocument } from "yaml";
import { PgtandemError, ValidationError } from "../errors.ts";
import type { Registry } from "../operations/registry.ts";
import { type ParsedMigration, parseMigration } from "./migration.ts";
import { readModuleMigration } from "./module.ts";

export const SUPPORTED_EXTENSIONS = [".json", ".yaml", ".yml", ".ts"] as const;

export interface LoadedMigration extends ParsedMigration {
  /** The path the file was read from, as given. */
  path: string;
}

/** The migration name pgroll derives from a file path. */
export function migrationNameFromPath(path: string): string {
  const base = basename(path);
  return base.slice(0, base.length - extname(base).length);
}

/**
 * Loads and validates one migration file. Throws a PgtandemError ("invalid_input") when the file
 * is missing or has an unsupported extension, and a ValidationError when it is malformed or invalid.
 */
export async function loadMigrationFile(
  path: string,
  registry: Registry,
): Promise<LoadedMigration> {
  const extension = extname(path).toLowerCase();
  if (!(SUPPORTED_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new PgtandemError(
      "invalid_input",
      `${path}: unsupported migration file extension "${extension}": ` +
        `supported extensions are ${SUPPORTED_EXTENSIONS.join(", ")}`,
    );
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const why = code === "ENOENT" ? "file not found" : `cannot read file: ${String(cause)}`;
    throw new PgtandemError("invalid_input", `${path}: ${why}`, { cause });
  }
  if (extension === ".ts") {
    const { document, name } = await readModuleMigration(path);
    const parsed = parseMigration(path, name ?? migrationNameFromPath(path), document, registry);
    return { ...parsed, path };
  }
  // A UTF-8 byte order mark is invisible in editors; do not fail on it.
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const document = extension === ".json" ? parseJson(path, text) : parseYaml(path, text);
  return { ...parseMigration(path, migrationNameFromPath(path), document, registry), path };
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    // Engines word (and locate) JSON errors differently, Bun not at all: find the spot ourselves.
    const offset = jsonErrorOffset(text);
    const { line, column } = lineColumn(text, offset);
    // Keep the engine's reason, without its own prefix and position (we give ours).
    const reason = (cause instanceof Error ? cause.message : String(cause))
      .split("\n")[0]
      ?.replace(/^JSON Parse error: /, "")
      .replace(/,? (in JSON )?at position \d+.*$/, "");
    throw malformed(path, "JSON", line, column, reason || "syntax error");
  }
}

function parseYaml(path: string, text: string): unknown {
  // pgroll reads YAML with go-yaml v2, a YAML 1.1 parser: `yes`/`no`/`on`/`off` are booleans there,
  // and must be here too for a file to mean the same thing. Timestamps and base-60 numbers are
  // left out: go-yaml hands them to pgroll as strings.
  const document = parseDocument(text, {
    version: "1.1",
    customTags: (tags) =>
      tags.filter((tag) =>
        typeof tag === "string" ||
        (tag.tag !== "tag:yaml.org,2002:timestamp" && !("format" in tag && tag.format === "TIME"))
      ),
  });
  const error = document.errors[0];
  if (error) {
    const start = error.linePos?.[0];
    const { line, column } = start
      ? { line: start.line, column: start.col }
      : lineColumn(text, error.pos[0]);
    const reason = error.message.split(" at line ")[0]?.split("\n")[0] ?? error.code;
    throw malformed(path, "YAML", line, column, reason);
  }
  return document.toJS();
}

function malformed(
  path: string,
  format: string,
  line: number,
  column: number,
  reason: string,
): ValidationError {
  return new ValidationError(path, [{
    path: [],
    message: `malformed ${format} at line ${line}, column ${column}: ${reason}`,
  }]);
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * Offset of the first JSON syntax error in `text`, found by a small recursive-descent scan.
 * Only called after JSON.parse failed, so it only needs to locate, not to build values.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '"') return void i++;
      if (ch < " ") fail();
      if (ch === "\\") {
        i++;
        const escape = text[i] ?? "";
        if (escape === "u") {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail();
          }
        } else if (escape === "" || !'"\\/bfnrt'.includes(escape)) fail();
      }
      i++;
    }
    fail();
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail();
    i += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    space();
    const ch = text[i];
    if (ch === "{") {
      i++;
      space();
      if (text[i] === "}") return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ":") fail();
        i++;
        value();
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail();
      }
    } else if (ch === "[") {
      i++;
      space();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail();
      }
    } else if (ch === '"') string();
    else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else number();
  };
  try {
    value();
    space();
    return i < text.length ? i : text.length;
  } catch (offset) {
    return typeof offset === "number" ? Math.min(offset, text.length) : 0;
  }
}
