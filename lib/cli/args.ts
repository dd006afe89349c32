/**
 * Command-line parsing with node:util parseArgs. Flags may come before or after the command, as
 * with pgroll. Global flags fall back to PGROLL_* environment variables, then to defaults.
 */
import { parseArgs } from "node:util";
import { PgtandemError } from "../errors.ts";
import { closest } from "./suggest.ts";

/** Commands that never connect to PostgreSQL: the connection flags mean nothing to them. */
const OFFLINE = ["convert", "create", "schema", "types", "update"];

/** Every flag; `commands` lists where a non-global flag is allowed. */
export const FLAGS = {
  "postgres-url": {
    type: "string",
    env: "PGROLL_PG_URL",
    notFor: OFFLINE,
    help: "PostgreSQL connection URL",
  },
  schema: {
    type: "string",
    env: "PGROLL_SCHEMA",
    notFor: ["convert", "schema", "types", "update"],
    help: "schema to migrate (default public)",
  },
  "pgroll-schema": {
    type: "string",
    env: "PGROLL_STATE_SCHEMA",
    notFor: OFFLINE,
    help: "schema of the state store (default pgroll)",
  },
  "lock-timeout": {
    type: "string",
    env: "PGROLL_LOCK_TIMEOUT",
    notFor: OFFLINE,
    help: "lock_timeout in milliseconds for DDL and backfill batches (default 500)",
  },
  "statement-timeout": {
    type: "string",
    env: "PGTANDEM_STATEMENT_TIMEOUT",
    notFor: OFFLINE,
    help:
      "statement_timeout for pgtandem's statements: milliseconds or a duration like 30s or 5m (default 0: no limit, whatever the role's default)",
  },
  "connect-timeout": {
    type: "string",
    env: "PGTANDEM_CONNECT_TIMEOUT",
    notFor: OFFLINE,
    help:
      "give up connecting after this long, retries included: seconds or a duration like 500ms or 1m (default 10s)",
  },
  role: {
    type: "string",
    env: "PGROLL_ROLE",
    notFor: OFFLINE,
    help:
      "role the migration's DDL and backfill run as (SET ROLE); the state store keeps the login user",
  },
  verbose: {
    type: "boolean",
    env: "PGROLL_VERBOSE",
    help: "log every statement; print stack traces on errors",
  },
  "use-version-schema": {
    type: "boolean",
    env: "PGROLL_USE_VERSION_SCHEMA",
    notFor: OFFLINE,
    help: "create a schema of views per version (default true)",
  },
  json: {
    type: "boolean",
    short: "j",
    help:
      'machine-readable output: one JSON document on stdout; errors as {"error": {"code", "message"}}',
    helpFor: {
      convert: "print the migration as JSON",
      create:
        "write a JSON migration and print a JSON report (with --ts or --yaml: only the report)",
      pull: "write JSON files and print a JSON report",
      baseline: "write the placeholder migration as JSON and print a JSON report",
      update: "rewrite the files as JSON and print a JSON report",
    },
  },
  help: { type: "boolean", short: "h", help: "show help" },
  version: { type: "boolean", generalOnly: true, help: "print the version" },
  complete: {
    type: "boolean",
    short: "c",
    commands: ["start", "migrate"],
    help: "complete the (last) migration right after starting it",
  },
  "skip-validation": {
    type: "boolean",
    short: "s",
    env: "PGROLL_SKIP_VALIDATION",
    commands: ["start"],
    help:
      "accepted for pgroll compatibility and ignored (validation is what keeps a bad start from changing anything)",
  },
  "backfill-batch-size": {
    type: "string",
    commands: ["start", "migrate"],
    help:
      "rows per backfill batch, kept as given (halved only to retry a batch that hit a timeout); without it, 1000 to begin with, adapted toward ~200 ms batches",
  },
  "backfill-batch-delay": {
    type: "string",
    commands: ["start", "migrate"],
    help: "pause between backfill batches, e.g. 10ms or 1s (default 0s)",
  },
  "allow-user-triggers": {
    type: "boolean",
    commands: ["start", "migrate", "plan", "validate"],
    help:
      "start even when the backfill would fire user triggers (the role may not set session_replication_role)",
  },
  "expect-one": {
    type: "boolean",
    commands: ["migrate"],
    help: "fail, changing nothing, when more than one migration is unapplied",
  },
  "one-by-one": {
    type: "boolean",
    commands: ["migrate"],
    help: "apply several migrations one after another as pgroll does, instead of as one group",
  },
  to: {
    type: "string",
    commands: ["migrate"],
    help: "apply the unapplied migrations up to and including this one",
  },
  local: {
    type: "string",
    short: "l",
    commands: ["latest"],
    help: "read the latest migration from this migrations folder instead of the database",
  },
  yes: {
    type: "boolean",
    short: "y",
    commands: ["baseline"],
    help: "do not ask for confirmation (required when stdin is not a terminal or CI=true)",
  },
  name: { type: "string", short: "n", commands: ["create"], help: "migration name" },
  empty: {
    type: "boolean",
    short: "e",
    commands: ["create"],
    help: "no example in the new file, just an empty list of operations",
  },
  dir: {
    type: "string",
    commands: ["create"],
    help: "folder to create the file in (default: the current folder)",
  },
  ts: {
    type: "boolean",
    commands: ["create", "convert"],
    help: "write a TypeScript migration (the default)",
    helpFor: { convert: "print the migration as TypeScript (the default)" },
  },
  yaml: {
    type: "boolean",
    commands: ["create", "update", "pull", "baseline", "convert"],
    help: "write YAML files",
    helpFor: {
      create: "write a YAML migration",
      update: "rewrite the files as YAML",
      pull: "write YAML files (the default)",
      baseline: "write the placeholder migration as YAML (the default)",
      convert: "print the migration as YAML",
    },
  },
  history: {
    type: "boolean",
    commands: ["status"],
    help: "also list every migration of the schema's history (a table, or JSON with --json)",
  },
  plugin: {
    type: "string",
    multiple: true,
    notFor: ["convert", "create", "init", "status", "analyze"],
    help: "load a plugin module (repeatable); the migrations folder's pgtandem.jsonc adds more",
  },
  out: {
    type: "string",
    commands: ["types"],
    help:
      "folder to write pgtandem.d.ts, pgtandem-schema.d.ts and (when it has none) tsconfig.json to (default: current folder)",
  },
} as const satisfies Record<string, FlagSpec>;

export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  env?: string;
  /** Only these commands take it (a command's own flag); absent: a global flag. */
  commands?: readonly string[];
  /** A global flag that means nothing to these commands: their help leaves it out. */
  notFor?: readonly string[];
  /** Listed in the general help only (it works without a command). */
  generalOnly?: boolean;
  /** What the flag does for one command, when that differs from `help`. */
  helpFor?: Readonly<Record<string, string>>;
  /** Repeatable: the value is the list of every occurrence. */
  multiple?: boolean;
  help: string;
}

export type FlagName = keyof typeof FLAGS;
export type FlagValues = Partial<Record<FlagName, string | boolean | string[]>>;

export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  flags: FlagValues;
}

const BOOLEAN_FLAGS = new Set(
  Object.entries(FLAGS).filter(([, f]) => f.type === "boolean").map(([name]) => name),
);

/**
 * Parses argv (without the program name). Unknown flags and misplaced flags are errors of one
 * line, with a suggestion when a known name is close.
 */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  checkFlags(argv);
  // parseArgs has no `--flag=false` for booleans; cobra (pgroll) does. Translate it.
  const explicitFalse: string[] = [];
  const args: string[] = [];
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(true|false)$/.exec(arg);
    if (match && BOOLEAN_FLAGS.has(match[1]!)) {
      if (match[2] === "true") args.push(`--${match[1]}`);
      else explicitFalse.push(match[1]!);
    } else args.push(arg);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(
        Object.entries(FLAGS).map(([name, f]) => [
          name,
          {
            type: f.type,
            ...("short" in f ? { short: f.short } : {}),
            ...("multiple" in f ? { multiple: f.multiple } : {}),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // checkFlags catches what we know of; this is the runtime's word on anything else.
    throw new PgtandemError("invalid_input", firstLine((error as Error).message));
  }
  const flags = parsed.values as FlagValues;
  for (const name of explicitFalse) flags[name as FlagName] = false;
  const [command, ...positionals] = parsed.positionals;
  for (const name of Object.keys(flags) as FlagName[]) {
    const spec: FlagSpec = FLAGS[name];
    if (spec.commands && command !== undefined && !spec.commands.includes(command)) {
      throw new PgtandemError(
        "invalid_input",
        `flag --${name} is not valid for command "${command}" (only for ${
          spec.commands.join(", ")
        })`,
      );
    }
  }
  return { command, positionals, flags };
}

/**
 * Walks argv as parseArgs will and refuses, in our words, an unknown flag (with the closest
 * known one), a flag missing its value and a value given to a switch.
 */
function checkFlags(argv: readonly string[]): void {
  const byShort = new Map<string, FlagName>(
    Object.entries(FLAGS).flatMap(([name, f]) =>
      "short" in f ? [[f.short, name as FlagName] as const] : []
    ),
  );
  let command: string | undefined;
  const unknown = (written: string): never => {
    const near = written.startsWith("--")
      ? closest(written.slice(2), flagNamesFor(command))
      : undefined;
    const help = command ? `pgtandem ${command} --help` : "pgtandem --help";
    throw new PgtandemError(
      "invalid_input",
      `unknown flag "${written}"${command ? ` for "${command}"` : ""}` +
        (near ? `: did you mean "--${near}"?` : `; run "${help}" to see the flags`),
    );
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (arg.startsWith("--")) {
      const [name, value] = splitOnce(arg.slice(2), "=");
      const spec: FlagSpec | undefined = (FLAGS as Record<string, FlagSpec>)[name];
      if (!spec) unknown(`--${name}`);
      if (spec!.type === "boolean") {
        if (value !== undefined && !/^(true|false)$/.test(value)) {
          throw new PgtandemError(
            "invalid_input",
            `flag --${name} takes no value (or =true / =false), got "${arg}"`,
          );
        }
      } else if (value === undefined) {
        if (i + 1 >= argv.length) {
          throw new PgtandemError("invalid_input", `flag --${name} needs a value`);
        }
        i++;
      }
    } else if (arg.startsWith("-") && arg.length > 1) {
      // A group of short flags (-cs); a string one takes the rest, or the next argument.
      for (let j = 1; j < arg.length; j++) {
        const name = byShort.get(arg[j]!);
        if (!name) unknown(`-${arg[j]}`);
        if (FLAGS[name!].type === "string") {
          if (j === arg.length - 1) {
            if (i + 1 >= argv.length) {
              throw new PgtandemError("invalid_input", `flag -${arg[j]} needs a value`);
            }
            i++;
          }
          break;
        }
      }
    } else command ??= arg;
  }
}

/** Flag names valid with `command` (all of them when it is unknown), for suggestions. */
function flagNamesFor(command: string | undefined): string[] {
  return Object.entries(FLAGS)
    .filter(([, f]) =>
      !("commands" in f) || command === undefined ||
      (f.commands as readonly string[]).includes(command)
    )
    .map(([name]) => name);
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * Did the command line ask for --json? Read before parsing, so that even a line that does not
 * parse gets its error as JSON.
 */
export function jsonRequested(argv: readonly string[]): boolean {
  let json = false;
  for (const arg of argv) {
    if (arg === "--") break;
    if (arg === "--json" || arg === "--json=true") json = true;
    else if (arg === "--json=false") json = false;
    else if (/^-[a-zA-Z]*j[a-zA-Z]*$/.test(arg)) json = true;
  }
  return json;
}

/** A flag's value: the command line first, then its environment variable. */
export function flagOrEnv(
  flags: FlagValues,
  name: FlagName,
  env: Record<string, string | undefined>,
): string | boolean | string[] | undefined {
  if (flags[name] !== undefined) return flags[name];
  const spec: FlagSpec = FLAGS[name];
  const raw = spec.env ? env[spec.env] : undefined;
  if (raw === undefined || raw === "") return undefined;
  if (spec.type === "boolean") {
    if (/^(1|true|yes)$/i.test(raw)) return true;
    if (/^(0|false|no)$/i.test(raw)) return false;
    throw new PgtandemError("invalid_input", `${spec.env}: expected true or false, got "${raw}"`);
  }
  return raw;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
