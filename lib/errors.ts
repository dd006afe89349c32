/**
 * The error taxonomy. Every error pgtandem raises on purpose is a PgtandemError with a stable
 * `code`; main.ts prints `message` on one line and exits non-zero. Subclasses exist only where a
 * caller branches on them.
 */

/** Stable codes; tests and exit handling key on these, never on message text. */
export type ErrorCode =
  | "invalid_migration" // the file or its operations fail validation
  | "invalid_input" // bad CLI arguments or flags
  | "state" // state store says no: not initialised, migration active, none active …
  | "lock_timeout" // a lock could not be taken within the retry budget
  | "query" // PostgreSQL rejected a statement
  | "plugin" // a plugin failed to load or is invalid
  | "connection" // cannot connect to PostgreSQL (refused, timed out, not PostgreSQL, auth …)
  | "connection_lost" // a connection to PostgreSQL died during the run
  | "internal";

export class PgtandemError extends Error {
  readonly code: ErrorCode;
  override readonly cause?: unknown;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message);
    this.name = "PgtandemError";
    this.code = code;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** One problem found while validating; `path` locates it (file, operation index, field). */
export interface Issue {
  path: (string | number)[];
  message: string;
}

/** Renders an issue path as `operations[2].create_table.columns[0].name`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}

/** Validation collects every issue before throwing, so users fix everything in one pass. */
export class ValidationError extends PgtandemError {
  readonly issues: Issue[];
  /** `source` names what was validated, usually the migration file. */
  constructor(source: string, issues: Issue[]) {
    const first = issues[0];
    const where = first && first.path.length > 0 ? `${formatPath(first.path)}: ` : "";
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super("invalid_migration", `${source}: ${where}${first?.message ?? "invalid"}${more}`);
    this.name = "ValidationError";
    this.issues = issues;
  }
  /** Every issue, one per line, for --verbose and `validate`. */
  describe(): string {
    return this.issues.map((i) => `${formatPath(i.path) || "(root)"}: ${i.message}`).join("\n");
  }
}

/** PostgreSQL rejected a statement; keeps the SQLSTATE so callers can branch on it. */
export class QueryError extends PgtandemError {
  readonly sqlstate: string | undefined;
  readonly statement: string | undefined;
  constructor(
    message: string,
    options: { cause?: unknown; sqlstate?: string; statement?: string },
  ) {
    super("query", message, options);
    this.name = "QueryError";
    this.sqlstate = options.sqlstate;
    this.statement = options.statement;
  }
}

export class StateError extends PgtandemError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("state", message, options);
    this.name = "StateError";
  }
}

/**
 * A connection of the run (the one holding the run lock or one doing the work) died: the server
 * terminated it, restarted, or the network failed. The run stopped without cleaning up; the CLI
 * reads the migration's state on a fresh connection and says what to run next.
 */
export class ConnectionLostError extends PgtandemError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("connection_lost", message, options);
    this.name = "ConnectionLostError";
  }
}

/** Reads the SQLSTATE of a postgres.js error, if it is one. */
export function sqlstateOf(error: unknown): string | undefined {
  if (error && typeof error === "object" && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
