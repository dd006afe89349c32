/**
 * The CLI as a function: argv in, exit code out, all output through `io`. main.ts wires it to the
 * process; tests call it directly or spawn the binary.
 */
import { ConnectionLostError, PgtandemError, ValidationError } from "../errors.ts";
import { builtinRegistry } from "../operations/builtins.ts";
import type { Registry } from "../operations/registry.ts";
import { loadCommandPlugins } from "../plugins/config.ts";
import { VERSION, versionLine } from "../version.ts";
import { FLAGS, parseCommandLine } from "./args.ts";
import type { Command } from "./command.ts";
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
import type { Io } from "./io.ts";
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

export async function runCli(
  argv: readonly string[],
  io: Io,
  registry: Registry = builtinRegistry(),
): Promise<number> {
  let verbose = /^(1|true)$/i.test(io.env.PGROLL_VERBOSE ?? "") || argv.includes("--verbose");
  let config: Config | undefined;
  let commandName = "";
  try {
    const args = parseCommandLine(argv);
    config = resolveConfig(args.flags, io.env);
    verbose = config.verbose;
    if (args.flags.version) {
      io.stdout.write(`${versionLine()}\n`);
      return 0;
    }
    if (args.command === undefined) {
      io.stdout.write(generalHelp());
      return args.flags.help ? 0 : 1;
    }
    const command = COMMANDS.find((c) => c.name === args.command);
    if (!command) {
      throw new PgtandemError(
        "invalid_input",
        `unknown command "${args.command}"; run "pgtandem --help" to see the commands`,
      );
    }
    commandName = command.name;
    if (args.flags.help) {
      io.stdout.write(commandHelp(command));
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
  } catch (error) {
    // A dead connection: say where the migration stands and what to run next.
    const line = error instanceof ConnectionLostError && config
      ? await lostConnectionLine(error, commandName, config)
      : error;
    io.stderr.write(`Error: ${oneLine(line)}\n`);
    if (verbose) {
      if (error instanceof ValidationError) io.stderr.write(`${error.describe()}\n`);
      io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    }
    return 1;
  }
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ").trim();
}

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    `pgtandem ${VERSION}: zero-downtime, reversible PostgreSQL schema migrations`,
    "",
    "Usage: pgtandem COMMAND [ARGS] [FLAGS]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global flags (flag > environment variable > default):",
    ...flagLines((f) => !("commands" in f)),
    "",
    'Run "pgtandem COMMAND --help" for a command\'s flags and examples.',
    "",
  ];
  return lines.join("\n");
}

function commandHelp(command: Command): string {
  const own = flagLines((f) => "commands" in f && f.commands.includes(command.name as never));
  return [
    `Usage: pgtandem ${command.usage}`,
    "",
    command.summary,
    ...(own.length > 0 ? ["", "Flags:", ...own] : []),
    "",
    "Examples:",
    ...command.examples.map((e) => `  ${e}`),
    "",
    'Global flags: see "pgtandem --help".',
    "",
  ].join("\n");
}

function flagLines(filter: (flag: (typeof FLAGS)[keyof typeof FLAGS]) => boolean): string[] {
  return Object.entries(FLAGS).filter(([, f]) => filter(f)).map(([name, f]) => {
    const short = "short" in f ? `-${f.short}, ` : "";
    const env = "env" in f ? ` [${f.env}]` : "";
    return `  ${short}--${name}${f.type === "string" ? " VALUE" : ""}  ${f.help}${env}`;
  });
}
