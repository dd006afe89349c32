/**
 * The canonical migration: plain data in pgroll's JSON shape, whatever front end produced it (YAML,
 * JSON, the TS DSL). `parseMigration` is the one door from a document to operations: it checks the
 * file-level format strictly and reports every problem at once. Checking operations against the
 * database schema is the engine's job, not this module's.
 */
import type { z } from "zod";
import { type Issue, ValidationError } from "../errors.ts";
import type { ParsedOperation } from "../operations/operation.ts";
import type { Registry } from "../operations/registry.ts";

/** A migration as pgroll sees it. The name is not part of the document: it comes from the file. */
export interface Migration {
  name: string;
  /** Overrides the name as the version schema's suffix. */
  version_schema?: string;
  /**
   * The operations exactly as written, `{ <kind>: <body> }` each: what pgroll stores and prints.
   * Operation code reads the parsed params instead, where keyword values (on_delete …) are
   * normalised to their canonical spelling.
   */
  operations: Record<string, unknown>[];
}

/** The document pgroll stores in its migrations table and writes to files. */
export interface MigrationDocument {
  version_schema?: string;
  operations: Record<string, unknown>[];
}

export interface ParsedMigration {
  migration: Migration;
  operations: ParsedOperation[];
}

const TOP_LEVEL_FIELDS = new Set(["operations", "version_schema"]);

/**
 * Checks a migration document and parses each operation with its kind's params schema.
 * `source` names the document in messages (usually the file path); `name` is the migration name.
 * Throws one ValidationError listing every issue, with absolute paths such as
 * `["operations", 2, "create_table", "columns", 0, "type"]`.
 */
export function parseMigration(
  source: string,
  name: string,
  document: unknown,
  registry: Registry,
): ParsedMigration {
  if (!isObject(document)) {
    throw new ValidationError(source, [{
      path: [],
      message: `expected an object with "operations", got ${typeName(document)}`,
    }]);
  }
  const issues: Issue[] = [];
  for (const key of Object.keys(document)) {
    if (TOP_LEVEL_FIELDS.has(key)) continue;
    // pgroll's JSON Schema lists `name`, but pgroll rejects it: the file name is authoritative.
    const why = key === "name" ? ": the migration name comes from the file name" : "";
    issues.push({ path: [key], message: `unknown field "${key}"${why}` });
  }

  const versionSchema = document.version_schema;
  if (versionSchema !== undefined) {
    if (typeof versionSchema !== "string") {
      issues.push({
        path: ["version_schema"],
        message: `expected string, got ${typeName(versionSchema)}`,
      });
    } else if (versionSchema === "") {
      issues.push({ path: ["version_schema"], message: "must not be empty" });
    }
  }

  const rawOperations = document.operations;
  const operations: ParsedOperation[] = [];
  if (rawOperations === undefined) {
    issues.push({ path: ["operations"], message: "required field is missing" });
  } else if (!Array.isArray(rawOperations)) {
    // pgroll silently treats a non-array as no operations; that hides a broken file.
    issues.push({
      path: ["operations"],
      message: `expected array, got ${typeName(rawOperations)}`,
    });
  } else {
    rawOperations.forEach((operation, index) => {
      const parsed = parseOperation(operation, index, registry, issues);
      if (parsed) operations.push(parsed);
    });
  }

  if (issues.length > 0) throw new ValidationError(source, issues);

  const migration: Migration = {
    name,
    ...(typeof versionSchema === "string" ? { version_schema: versionSchema } : {}),
    operations: (rawOperations as unknown[]).map((op) =>
      toJsonValue(op) as Record<string, unknown>
    ),
  };
  return { migration, operations };
}

function parseOperation(
  operation: unknown,
  index: number,
  registry: Registry,
  issues: Issue[],
): ParsedOperation | undefined {
  const path = ["operations", index];
  if (!isObject(operation)) {
    issues.push({ path, message: `expected object, got ${typeName(operation)}` });
    return undefined;
  }
  const keys = Object.keys(operation);
  if (keys.length !== 1) {
    issues.push({
      path,
      message: keys.length === 0
        ? `operation at index ${index} is empty: expected one key naming the operation`
        : `operation at index ${index} has multiple keys: ${keys.join(", ")}`,
    });
    return undefined;
  }
  const kind = keys[0] as string;
  const definition = registry.get(kind);
  if (!definition) {
    issues.push({ path, message: unknownKindMessage(kind, registry.kinds()) });
    return undefined;
  }
  const result = definition.params.safeParse(operation[kind], { reportInput: true });
  if (!result.success) {
    issues.push(...issuesFromZod(result.error.issues, [...path, kind]));
    return undefined;
  }
  return { kind, definition, params: result.data };
}

/** The version schema's suffix: `version_schema` if set, else the migration name. */
export function migrationVersionName(
  migration: Pick<Migration, "name" | "version_schema">,
): string {
  return migration.version_schema ?? migration.name;
}

/** The document pgroll stores for a migration: `{ version_schema?, operations }`, no name. */
export function toCanonicalJson(migration: Migration): MigrationDocument {
  const operations = migration.operations.map((op) => toJsonValue(op) as Record<string, unknown>);
  return migration.version_schema === undefined
    ? { operations }
    : { version_schema: migration.version_schema, operations };
}

/**
 * Turns zod issues into our issues, with `prefix` prepended to every path and messages in our
 * voice: "required field is missing", `unknown field "foo"`, "expected string, got number".
 */
export function issuesFromZod(
  zodIssues: readonly z.core.$ZodIssue[],
  prefix: readonly (string | number)[],
): Issue[] {
  const out: Issue[] = [];
  for (const issue of zodIssues) {
    const path = [...prefix, ...issue.path.map((p) => typeof p === "symbol" ? String(p) : p)];
    switch (issue.code) {
      case "unrecognized_keys":
        // One issue per key, each pointing at the key itself.
        for (const key of issue.keys) {
          out.push({ path: [...path, key], message: `unknown field "${key}"` });
        }
        break;
      case "invalid_type": {
        if (issue.input === undefined) {
          out.push({ path, message: "required field is missing" });
          break;
        }
        const expected = issue.expected === "record" ? "object" : issue.expected;
        const got = typeName(issue.input);
        // YAML reads `default: 100` or `down: 0` as a number; SQL text has to be quoted there.
        const hint = expected === "string" && (got === "number" || got === "boolean")
          ? " (put the value in quotes)"
          : "";
        out.push({ path, message: `expected ${expected}, got ${got}${hint}` });
        break;
      }
      case "invalid_value":
        out.push({
          path,
          message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${
            JSON.stringify(issue.input)
          }`,
        });
        break;
      case "too_small":
        out.push({
          path,
          message: Number(issue.minimum) <= 1
            ? "must not be empty"
            : `must have at least ${issue.minimum} ${
              issue.origin === "string" ? "characters" : "items"
            }`,
        });
        break;
      case "invalid_key": {
        // zod puts the bad key at the end of the path; the message names it instead.
        const at = path.at(-1) === issue.input ? path.slice(0, -1) : path;
        for (const inner of issuesFromZod(issue.issues, [])) {
          out.push({
            path: at,
            message: `invalid key ${JSON.stringify(issue.input)}: ${inner.message}`,
          });
        }
        break;
      }
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** "did you mean" for near misses, else the whole list: both beat a bare "unknown". */
function unknownKindMessage(kind: string, kinds: string[]): string {
  const near = kinds
    .map((k) => ({ k, d: editDistance(kind, k) }))
    .filter(({ k, d }) => d <= Math.max(2, Math.floor(k.length / 4)))
    .sort((a, b) => a.d - b.d)
    .map(({ k }) => `"${k}"`);
  if (near.length > 0) return `unknown operation "${kind}": did you mean ${near.join(" or ")}?`;
  const [namespace, rest] = kind.split(/:(.*)/s);
  if (rest !== undefined) {
    return `unknown operation "${kind}": no loaded plugin defines it; load plugin "${namespace}" ` +
      `with --plugin FILE or list it in the migrations folder's pgtandem.jsonc`;
  }
  return `unknown operation "${kind}": expected one of ${kinds.join(", ")}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(
        Math.min(substitute, (previous[j] as number) + 1, (current[j - 1] as number) + 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON name of a value's type, for "expected X, got Y". */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** A deep copy that is plain JSON: undefined fields dropped, nothing shared with the input. */
function toJsonValue(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}
