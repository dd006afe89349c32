/** What a command may touch of the outside world; tests pass their own. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
}

/** Colours only on a terminal and never with NO_COLOR. */
export function useColor(io: Io, stream: Output): boolean {
  return stream.isTTY === true && io.env.NO_COLOR === undefined;
}

/** An Output that keeps what is written, for the one JSON document of a --json run. */
export interface CapturedOutput extends Output {
  text(): string;
}

export function captureOutput(): CapturedOutput {
  let text = "";
  return {
    write(chunk: string) {
      text += chunk;
      return true;
    },
    text: () => text,
  };
}

/**
 * The one document a --json run prints, from what the command wrote: its own JSON document as it
 * is; human lines (a command with nothing more to say) as `{"messages": [...]}`.
 */
export function oneJsonDocument(written: string): string {
  const parsed = parseJson(written);
  if (parsed !== undefined) return written.endsWith("\n") ? written : `${written}\n`;
  const messages = written.split("\n").map((line) => line.trimEnd()).filter((line) => line !== "");
  return `${JSON.stringify({ messages }, null, 2)}\n`;
}

/**
 * The document of a failed --json run: `{"error": {"code", "message"}}`, plus the validation
 * issues when there are any, after the fields of the document the command had written (a
 * partial report, e.g. what `migrate` applied before the failure).
 */
export function errorJsonDocument(
  written: string,
  error: { code: string; message: string; issues?: readonly unknown[] },
): string {
  const partial = parseJson(written);
  const fields = partial !== null && typeof partial === "object" && !Array.isArray(partial)
    ? partial as Record<string, unknown>
    : {};
  const { issues, ...rest } = error;
  return `${
    JSON.stringify(
      { ...fields, error: { ...rest, ...(issues && issues.length > 0 ? { issues } : {}) } },
      null,
      2,
    )
  }\n`;
}

/** The JSON value of `text`, or undefined when it is not exactly one JSON document. */
function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
