/** The shape of one CLI command; lib/cli/commands/ holds one file per command. */
import type { Registry } from "../operations/registry.ts";
import type { ParsedArgs } from "./args.ts";
import type { Config } from "./config.ts";
import type { Io } from "./io.ts";

export interface CommandContext {
  args: ParsedArgs;
  config: Config;
  io: Io;
  registry: Registry;
}

export interface Command {
  name: string;
  summary: string;
  /** e.g. "start FILE [--complete]" */
  usage: string;
  examples: string[];
  /**
   * The migration file or folder the command works on, whose folder's pgtandem.jsonc names the
   * plugins to load. The first argument when absent.
   */
  migrationsPath?(args: ParsedArgs): string | undefined;
  /** Returns the exit code. */
  run(context: CommandContext): Promise<number>;
}

/**
 * Prints a command's result: `text` for people, or with --json `data` as the run's one JSON
 * document (run.ts adds nothing to it; errors get their own document there).
 */
export function printResult(
  context: Pick<CommandContext, "config" | "io">,
  text: string,
  data: Record<string, unknown>,
): void {
  context.io.stdout.write(context.config.json ? `${JSON.stringify(data, null, 2)}\n` : text);
}

/** Reads the one positional argument a command needs, or explains what is missing. */
export function requirePositional(context: CommandContext, what: string): string {
  const value = context.args.positionals[0];
  if (value === undefined) {
    throw new UsageError(`"${context.args.command}" needs ${what}`);
  }
  if (context.args.positionals.length > 1) {
    throw new UsageError(
      `"${context.args.command}" takes one ${what}, got ${context.args.positionals.length} arguments`,
    );
  }
  return value;
}

export function noPositionals(context: CommandContext): void {
  if (context.args.positionals.length > 0) {
    throw new UsageError(
      `"${context.args.command}" takes no arguments, got "${context.args.positionals.join(" ")}"`,
    );
  }
}

import { PgtandemError } from "../errors.ts";

export class UsageError extends PgtandemError {
  constructor(message: string) {
    super("invalid_input", message);
    this.name = "UsageError";
  }
}
