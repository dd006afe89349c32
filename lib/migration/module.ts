/**
 * TypeScript migrations: a module whose default export is the migration, as canonical data
 * (what `defineMigration` returns) or a plain object literal in pgroll's shape. The module is
 * imported through the runtime port (lib/runtime.ts), so it may `import … from "pgtandem"` from
 * any folder. What it exports ends in parseMigration like a JSON or YAML file.
 */
import { PgtandemError, ValidationError } from "../errors.ts";
import { runtime } from "../runtime.ts";

/** The document a module exports and the migration name it sets, if any. */
export interface ModuleMigration {
  document: unknown;
  /** `name` given inside the default export; otherwise the file name is the migration's name. */
  name: string | undefined;
}

/**
 * Imports the module at `path` and reads its default export. Throws a PgtandemError naming the
 * file when the module throws while loading or has no default export, and a ValidationError when
 * the export cannot be plain data or its `name` is not a non-empty string.
 */
export async function readModuleMigration(path: string): Promise<ModuleMigration> {
  let namespace: Record<string, unknown>;
  try {
    namespace = await runtime().importModule(path);
  } catch (cause) {
    throw new PgtandemError("invalid_migration", `${path}: ${importFailure(cause)}`, { cause });
  }
  if (!("default" in namespace) || namespace.default === undefined) {
    throw new PgtandemError(
      "invalid_migration",
      `${path}: the module has no default export; write "export default defineMigration({ … })" ` +
        `or "export default { operations: [ … ] }"`,
    );
  }
  let exported: unknown = namespace.default;
  if (isThenable(exported)) {
    try {
      exported = await exported;
    } catch (cause) {
      throw new PgtandemError(
        "invalid_migration",
        `${path}: the default export is a promise that rejected: ${messageOf(cause)}`,
        { cause },
      );
    }
  }
  const document = toPlainData(path, exported);
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return { document, name: undefined };
  }
  const { name, ...rest } = document as Record<string, unknown>;
  if (name === undefined) return { document, name: undefined };
  if (typeof name !== "string" || name === "") {
    throw new ValidationError(path, [{
      path: ["name"],
      message: `expected a non-empty string, got ${JSON.stringify(name) ?? typeof name}`,
    }]);
  }
  return { document: rest, name };
}

/**
 * A JSON copy of the export: DSL operations turn into their canonical data (their `toJSON`), and
 * nothing the engine keeps is shared with module state.
 */
function toPlainData(path: string, value: unknown): unknown {
  if (typeof value === "function") {
    throw new ValidationError(path, [{
      path: [],
      message: `expected the migration as the default export, got a function; ` +
        `export its result instead`,
    }]);
  }
  try {
    const text = JSON.stringify(value);
    return text === undefined ? value : JSON.parse(text);
  } catch (cause) {
    // A DSL operation's toJSON reports its own problems with their paths.
    if (cause instanceof ValidationError) throw cause;
    throw new ValidationError(path, [{
      path: [],
      message: `the default export is not plain data: ${messageOf(cause)}`,
    }]);
  }
}

/** One line for an error thrown while a module loads: its message, or what it threw. */
export function importFailure(cause: unknown): string {
  const message = messageOf(cause);
  return `loading the module failed: ${message}`;
}

/** JavaScript's own error kinds are worth naming ("TypeError: x is not a function"). */
const NAMED_ERRORS = new Set(["TypeError", "ReferenceError", "SyntaxError", "RangeError"]);

function messageOf(cause: unknown): string {
  // Bun reports a syntax error as an AggregateError of BuildMessages, each with a position.
  const first = (cause as { errors?: unknown[] } | null)?.errors?.[0] as
    | { message?: unknown; position?: { line?: number; column?: number } | null }
    | undefined;
  if (cause instanceof AggregateError && first?.message !== undefined) {
    const at = first.position?.line === undefined
      ? ""
      : ` at line ${first.position.line}, column ${first.position.column ?? 0}`;
    const count = (cause as AggregateError).errors.length;
    const more = count > 1 ? ` (and ${count - 1} more)` : "";
    return `syntax error${at}: ${String(first.message)}${more}`;
  }
  let text: string;
  if (typeof cause === "object" && cause !== null && "message" in cause) {
    // Bun reports syntax and resolution errors as BuildMessage/ResolveMessage, not Errors.
    const { name, message } = cause as { name?: unknown; message: unknown };
    text = `${typeof name === "string" && NAMED_ERRORS.has(name) ? `${name}: ` : ""}${
      String(message)
    }`;
  } else text = String(cause);
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}
