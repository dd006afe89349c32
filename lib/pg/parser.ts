/**
 * PostgreSQL's own parser (libpg_query compiled to WebAssembly, npm `libpg-query`), shared by the
 * safety lint, `plan`'s lock refinement and `convert`. It is loaded lazily, on first use: commands
 * that never look inside SQL never pay for it, and a build that cannot load the WebAssembly (a
 * compiled binary without the .wasm file, see docs/plan-lint-convert.md, "The parser in a compiled binary") fails only those
 * features, with {@link SqlParserUnavailableError}, never the whole CLI.
 *
 * Parse trees are libpg_query's JSON (the protobuf field names of PostgreSQL's parse nodes), kept
 * as loose objects: the few node kinds we read are accessed through the helpers below.
 *
 * @module
 */
import { PgtandemError } from "../errors.ts";

/** A parse node as libpg_query emits it: `{ NodeType: { …fields } }` or the fields themselves. */
// deno-lint-ignore no-explicit-any
export type PgNode = Record<string, any>;

/** One top-level statement of a parsed SQL text. */
export interface ParsedStatement {
  /** The node kind, e.g. "AlterTableStmt". */
  kind: string;
  /** The node's fields. */
  node: PgNode;
  /** The statement's own text, trimmed, without the terminating semicolon. */
  text: string;
  /** Offset of the statement's first character in the parsed text. */
  location: number;
}

/** One lexical token, with its offsets in the scanned text. */
export interface SqlToken {
  start: number;
  end: number;
  text: string;
  /** libpg_query's token name: "IDENT", "SCONST", "ASCII_40" for "(", keywords by name … */
  name: string;
}

export interface SqlParser {
  /** Parses `sql` into statements; throws {@link SqlSyntaxError}. */
  parse(sql: string): ParsedStatement[];
  /** The tokens of `sql` (comments are skipped); throws {@link SqlSyntaxError}. */
  scan(sql: string): SqlToken[];
}

/** The SQL is not valid PostgreSQL. `position` is the 0-based (string) offset of the offending token. */
export class SqlSyntaxError extends PgtandemError {
  readonly position: number;
  readonly line: number;
  readonly column: number;
  constructor(message: string, sql: string, position: number) {
    const { line, column } = lineAndColumn(sql, position);
    super("invalid_input", `${message} at line ${line}, column ${column}`);
    this.name = "SqlSyntaxError";
    this.position = position;
    this.line = line;
    this.column = column;
  }
}

/** The parser's WebAssembly module could not be loaded in this build. */
export class SqlParserUnavailableError extends PgtandemError {
  constructor(cause: unknown) {
    super(
      "internal",
      `the PostgreSQL parser (libpg-query WebAssembly) could not be loaded: ${reason(cause)}`,
      { cause },
    );
    this.name = "SqlParserUnavailableError";
  }
}

/** The first line of a load failure, without Emscripten's wrapping. */
function reason(cause: unknown): string {
  const text = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0] ?? "";
  const inner = /^Aborted\((?:Error: )?(.*)\)(?:\. Build with .*)?$/.exec(text)?.[1];
  return inner ?? text;
}

interface LibPgQuery {
  loadModule(): Promise<void>;
  parseSync(sql: string): { stmts?: { stmt: PgNode; stmt_location?: number; stmt_len?: number }[] };
  scanSync(sql: string): {
    tokens: { start: number; end: number; text: string; tokenName: string }[];
  };
}

let loading: Promise<SqlParser> | undefined;

/**
 * The parser, loaded once per process. Rejects with {@link SqlParserUnavailableError} when the
 * WebAssembly module cannot be loaded (the rejection is remembered: it will not load later).
 */
export function loadSqlParser(): Promise<SqlParser> {
  loading ??= (async () => {
    let lib: LibPgQuery;
    // The WebAssembly glue keeps console.error for its own messages; while it loads, what it
    // says goes into our one error instead of onto the user's terminal.
    const original = console.error;
    let loaded = false;
    console.error = (...args: unknown[]) => {
      if (loaded) original(...args);
    };
    try {
      lib = await import("libpg-query") as unknown as LibPgQuery;
      await lib.loadModule();
    } catch (cause) {
      throw new SqlParserUnavailableError(cause);
    } finally {
      loaded = true;
      console.error = original;
    }
    return parserOf(lib);
  })();
  return loading;
}

function parserOf(lib: LibPgQuery): SqlParser {
  return {
    parse(sql) {
      if (sql.trim() === "") return [];
      let result;
      try {
        result = lib.parseSync(sql);
      } catch (error) {
        throw syntaxError(error, sql);
      }
      return (result.stmts ?? []).map((raw) => {
        const location = raw.stmt_location ?? 0;
        const length = raw.stmt_len ?? 0;
        const whole = length > 0
          ? byteSlice(sql, location, location + length)
          : byteSlice(sql, location);
        const lead = whole.length - whole.trimStart().length;
        const text = whole.trim().replace(/;\s*$/, "").trim();
        const [kind, node] = Object.entries(raw.stmt)[0] ?? ["", {}];
        return {
          kind,
          node: node as PgNode,
          text,
          location: location + utf8Length(whole.slice(0, lead)),
        };
      });
    },
    scan(sql) {
      let result;
      try {
        result = lib.scanSync(sql);
      } catch (error) {
        throw syntaxError(error, sql);
      }
      return result.tokens
        .filter((t) => t.tokenName !== "SQL_COMMENT" && t.tokenName !== "C_COMMENT")
        .map((t) => ({
          start: t.start,
          end: t.end,
          text: byteSlice(sql, t.start, t.end),
          name: t.tokenName,
        }));
    },
  };
}

function syntaxError(error: unknown, sql: string): Error {
  const details = (error as { sqlDetails?: { message?: string; cursorPosition?: number } })
    ?.sqlDetails;
  if (!details) return error instanceof Error ? error : new Error(String(error));
  // PostgreSQL reports an error's position in characters (code points), unlike node locations.
  const offset = Array.from(sql).slice(0, details.cursorPosition ?? 0).join("").length;
  return new SqlSyntaxError(details.message ?? String(error), sql, offset);
}

// libpg_query reports byte offsets into the UTF-8 text; JavaScript strings index UTF-16 units.
// Every offset in parse trees and tokens is a byte offset: slice through the bytes.
let cachedText = "";
let cachedBytes = new Uint8Array();

function bytesOf(text: string): Uint8Array {
  if (text !== cachedText) {
    cachedText = text;
    cachedBytes = new TextEncoder().encode(text);
  }
  return cachedBytes;
}

/** The text between two byte offsets of `text`. */
export function byteSlice(text: string, start: number, end?: number): string {
  if (isAscii(text)) return text.slice(start, end);
  return new TextDecoder().decode(bytesOf(text).subarray(start, end));
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** 1-based line and column of a string (UTF-16) offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

// ── Reading parse trees ─────────────────────────────────────────────────────────────────────────

/** The kind and fields of a wrapped node `{ Kind: fields }`. */
export function unwrap(node: unknown): { kind: string; fields: PgNode } | undefined {
  if (!node || typeof node !== "object") return undefined;
  const [entry] = Object.entries(node as PgNode);
  if (!entry) return undefined;
  return { kind: entry[0], fields: (entry[1] ?? {}) as PgNode };
}

/** The fields of a wrapped node when it is of kind `kind`. */
export function nodeOf(node: unknown, kind: string): PgNode | undefined {
  const inner = unwrap(node);
  return inner?.kind === kind ? inner.fields : undefined;
}

/** The string values of a list of `String` nodes (qualified names, column lists). */
export function stringList(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((n) => nodeOf(n, "String")?.sval).filter((s): s is string =>
    typeof s === "string"
  );
}

/** Every node of kind `kind` anywhere below `root`. */
export function findNodes(root: unknown, kind: string): PgNode[] {
  const found: PgNode[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v);
    } else if (value && typeof value === "object") {
      for (const [key, v] of Object.entries(value as PgNode)) {
        if (key === kind && v && typeof v === "object" && !Array.isArray(v)) {
          found.push(v as PgNode);
        }
        walk(v);
      }
    }
  };
  walk(root);
  return found;
}

/** Tokens that close an expression when met at parenthesis depth 0. */
const EXPRESSION_END = new Set([",", ")", ";"]);

/**
 * The source text of the expression or type starting at byte offset `start`: tokens up to (not
 * including) a comma, closing parenthesis or semicolon at depth 0, a keyword of `stopWords` at
 * depth 0 (upper case), or the first token at or after `limit` (the start of the next clause,
 * known from the parse tree). The author's spelling is kept.
 */
export function sourceSlice(
  sql: string,
  tokens: readonly SqlToken[],
  start: number,
  options: { limit?: number; stopWords?: ReadonlySet<string> } = {},
): string {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let depth = 0;
  let end = start;
  for (const token of tokens) {
    if (token.start < start) continue;
    if (token.start >= limit) break;
    if (depth === 0 && EXPRESSION_END.has(token.text)) break;
    if (depth === 0 && options.stopWords?.has(token.text.toUpperCase())) break;
    if (token.text === "(" || token.text === "[") depth++;
    if (token.text === ")" || token.text === "]") depth--;
    end = token.end;
  }
  return byteSlice(sql, start, end).trim();
}

/** The first token at or after byte offset `from` that is the keyword `word` (any case). */
export function keywordAt(
  tokens: readonly SqlToken[],
  from: number,
  word: string,
): { token: SqlToken; next: SqlToken | undefined } | undefined {
  const index = tokens.findIndex((t) => t.start >= from && t.text.toUpperCase() === word);
  if (index < 0) return undefined;
  return { token: tokens[index]!, next: tokens[index + 1] };
}

/** The text between the parenthesis opening at or after `from` and its matching close. */
export function parenthesized(sql: string, tokens: readonly SqlToken[], from: number): string {
  let depth = 0;
  let open = -1;
  for (const token of tokens) {
    if (token.start < from) continue;
    if (token.text === "(") {
      if (depth === 0) open = token.end;
      depth++;
    } else if (token.text === ")") {
      depth--;
      if (depth === 0 && open >= 0) return byteSlice(sql, open, token.start).trim();
    }
  }
  return "";
}
