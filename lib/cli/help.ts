/**
 * `pgtandem --help` and `pgtandem COMMAND --help`. A command's help lists its own flags and only
 * the global flags that mean something to it (no connection flags for `convert`), each with what
 * it does for that command.
 */
import { VERSION } from "../version.ts";
import { FLAGS, type FlagSpec } from "./args.ts";
import type { Command } from "./command.ts";

/** The list of commands and the global flags. */
export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `pgtandem ${VERSION}: zero-downtime, reversible PostgreSQL schema migrations`,
    "",
    "Usage: pgtandem COMMAND [ARGS] [FLAGS]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global flags (flag > environment variable > default):",
    ...flagLines(undefined, (f) => f.commands === undefined),
    "",
    'Run "pgtandem COMMAND --help" for a command\'s flags and examples.',
    "",
  ].join("\n");
}

/** One command: usage, summary, its flags, the global flags that apply to it, examples. */
export function commandHelp(command: Command): string {
  const name = command.name;
  const own = flagLines(name, (f) => f.commands?.includes(name) === true);
  const global = flagLines(
    name,
    (f) => f.commands === undefined && !f.generalOnly && !f.notFor?.includes(name),
  );
  return [
    `Usage: pgtandem ${command.usage}`,
    "",
    command.summary,
    ...(own.length > 0 ? ["", "Flags:", ...own] : []),
    "",
    "Global flags (flag > environment variable > default):",
    ...global,
    "",
    "Examples:",
    ...command.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}

function flagLines(command: string | undefined, keep: (flag: FlagSpec) => boolean): string[] {
  const flags = (Object.entries(FLAGS) as [string, FlagSpec][]).filter(([, f]) => keep(f));
  const labels = flags.map(([name, f]) =>
    `${f.short ? `-${f.short}, ` : "    "}--${name}${f.type === "string" ? " VALUE" : ""}`
  );
  const width = Math.max(0, ...labels.map((l) => l.length));
  return flags.map(([, f], i) => {
    const help = (command !== undefined ? f.helpFor?.[command] : undefined) ?? f.help;
    return `  ${labels[i]!.padEnd(width)}  ${help}${f.env ? ` [${f.env}]` : ""}`;
  });
}
