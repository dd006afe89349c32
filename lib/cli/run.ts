/**
 * The CLI as a function: argv in, exit code out, all output through `io`. main.ts wires it to the
 * process; tests call it directly or spawn the binary.
 */
import {
  ConnectionLostError,
  type Issue,
  PgtandemError,
  sqlstateOf,
  ValidationError,
} from "../errors.ts";
import { builtinRegistry } from "../operations/builtins.ts";
import type { Registry } from "../operations/registry.ts";
import { loadCommandPlugins } from "../plugins/config.ts";
import { buildInfo, VERSION, versionLine } from "../version.ts";
import { jsonRequested, parseCommandLine, type ParsedArgs } from "./args.ts";
import { type Command, printResult, UsageError } from "./command.ts";
import { analyzeCommand } from "./commands/analyze.ts";
import { baselineCommand } from "./commands/baseline.ts";
import { completeCommand } from "./commands/complete.ts";
import { convertCommand } from "./commands/convert.ts";
import { createCommand } from "./commands/create.ts";
import { initCommand } from "./commands/init.ts";
import { latestCommand } from "./commands/latest.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { planCommand } from "./commands/plan.ts";
import { pullCommand } from "./commands/pull.ts";
import { rollbackCommand } from "./commands/rollback.ts";
import { schemaCommand } from "./commands/schema.ts";
import { startCommand } from "./commands/start.ts";
import { statusCommand } from "./commands/status.ts";
import { typesCommand } from "./commands/types.ts";
import { updateCommand } from "./commands/update.ts";
import { validateCommand } from "./commands/validate.ts";
import { type Config, resolveConfig } from "./config.ts";
import { commandHelp, generalHelp } from "./help.ts";
import { closest } from "./suggest.ts";
import { captureOutput, errorJsonDocument, type Io, oneJsonDocument } from "./io.ts";
import { lostConnectionLine } from "./lost-connection.ts";

export const COMMANDS: readonly Command[] = [
  initCommand,
  startCommand,
  completeCommand,
  rollbackCommand,
  statusCommand,
  migrateCommand,
  latestCommand,
  pullCommand,
  baselineCommand,
  createCommand,
  planCommand,
  validateCommand,
  updateCommand,
  analyzeCommand,
  convertCommand,
  schemaCommand,
  typesCommand,
];

/**
 * Runs one command line. With --json, stdout carries exactly one JSON document whatever happens:
 * the command's own, its human lines as `{"messages": [...]}`, or on failure
 * `{"error": {"code", "message"}}` (see io.ts); stderr keeps warnings, progress and the error
 * line.
 */
export async function runCli(
  argv: readonly string[],
  io: Io,
  registry: Registry = builtinRegistry(),
): Promise<number> {
  let verbose = /^(1|true)$/i.test(io.env.PGROLL_VERBOSE ?? "") || argv.includes("--verbose");
  let json = jsonRequested(argv);
  const captured = captureOutput();
  let config: Config | undefined;
  let commandName = "";
  const runIo = (): Io => json ? { ...io, stdout: captured } : io;
  try {
    const args = parseCommandLine(argv);
    config = resolveConfig(args.flags, io.env);
    verbose = config.verbose;
    json = config.json;
    const code = await dispatch(args, config, runIo(), registry, (name) => (commandName = name));
    if (json) io.stdout.write(oneJsonDocument(captured.text()));
    return code;
  } catch (error) {
    // A dead connection: say where the migration stands and what to run next.
    const line = oneLine(
      error instanceof ConnectionLostError && config
        ? await lostConnectionLine(error, commandName, config)
        : error,
    );
    // With --json the document is for programs; the line still goes to stderr, for the log.
    if (json) {
      io.stdout.write(errorJsonDocument(captured.text(), { ...errorFields(error), message: line }));
    }
    io.stderr.write(`Error: ${line}\n`);
    if (verbose) {
      if (error instanceof ValidationError) io.stderr.write(`${error.describe()}\n`);
      io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    }
    return 1;
  }
}

/** Help, version, or the command itself; returns the exit code. */
async function dispatch(
  args: ParsedArgs,
  config: Config,
  io: Io,
  registry: Registry,
  started: (command: string) => void,
): Promise<number> {
  const print = (text: string, data: Record<string, unknown>) =>
    printResult({ config, io }, text, data);
  if (args.flags.version) {
    print(`${versionLine()}\n`, { version: VERSION, ...(buildInfo() ?? {}) });
    return 0;
  }
  if (args.command === undefined) {
    if (!args.flags.help && config.json) {
      throw new UsageError(`no command given; run "pgtandem --help" to see the commands`);
    }
    print(generalHelp(COMMANDS), { help: generalHelp(COMMANDS) });
    return args.flags.help ? 0 : 1;
  }
  const command = COMMANDS.find((c) => c.name === args.command);
  if (!command) {
    const near = closest(args.command, COMMANDS.map((c) => c.name));
    throw new UsageError(
      `unknown command "${args.command}"` +
        (near ? `: did you mean "${near}"?` : `; run "pgtandem --help" to see the commands`),
    );
  }
  started(command.name);
  if (args.flags.help) {
    print(commandHelp(command), { help: commandHelp(command) });
    return 0;
  }
  // Plugins from --plugin and the migrations folder's config file register before the command
  // reads any migration; a broken plugin fails here, before the database is touched.
  const plugins = args.flags.plugin;
  await loadCommandPlugins(
    Array.isArray(plugins) ? plugins : typeof plugins === "string" ? [plugins] : [],
    command.migrationsPath ? command.migrationsPath(args) : args.positionals[0],
    registry,
  );
  return await command.run({ args, config, io, registry });
}

/** The `error` object of a failed --json run: a stable code, and validation issues. */
function errorFields(error: unknown): { code: string; issues?: Issue[] } {
  const code = error instanceof PgtandemError
    ? error.code
    : sqlstateOf(error) !== undefined
    ? "query"
    : "internal";
  return error instanceof ValidationError ? { code, issues: error.issues } : { code };
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ").trim();
}
