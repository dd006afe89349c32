/**
 * JSON with comments and trailing commas (what editors call JSONC, as in tsconfig.json), read
 * with Microsoft's jsonc-parser, the parser behind VS Code's own settings files. Errors and
 * fields are located by line and column, so a message can point into the file.
 */
import {
  findNodeAtLocation,
  type Node,
  parse,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from "jsonc-parser";

/** A place in a text, both 1-based. */
export interface TextPosition {
  line: number;
  column: number;
}

/** The first syntax error of a JSONC text: what and where. */
export class JsoncSyntaxError extends Error {
  readonly position: TextPosition;
  constructor(message: string, position: TextPosition) {
    super(message);
    this.name = "JsoncSyntaxError";
    this.position = position;
  }
}

/** Parses `text`; throws a JsoncSyntaxError at its first syntax error. */
export function parseJsonc(text: string): unknown {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    // "CommaExpected" → "comma expected"
    const what = printParseErrorCode(first.error).replace(/(?<=[a-z])(?=[A-Z])/g, " ");
    throw new JsoncSyntaxError(what.toLowerCase(), positionAt(text, first.offset));
  }
  return value;
}

/**
 * Where the value at `path` starts in `text` (for a key that is not there: where the object
 * starts), or the key itself with `key: true` (a field that should not be there). Undefined
 * when the text does not parse or nothing is found.
 */
export function positionOf(
  text: string,
  path: readonly (string | number)[],
  options: { key?: boolean } = {},
): TextPosition | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root) return undefined;
  let node: Node | undefined = findNodeAtLocation(root, [...path]);
  for (let n = path.length - 1; !node && n >= 0; n--) {
    node = findNodeAtLocation(root, path.slice(0, n));
  }
  if (node && options.key && node.parent?.type === "property") node = node.parent;
  return node ? positionAt(text, node.offset) : undefined;
}

/** The line and column of a character offset. */
function positionAt(text: string, offset: number): TextPosition {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/** "line 3, column 14" */
export function formatPosition(position: TextPosition): string {
  return `line ${position.line}, column ${position.column}`;
}
