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
