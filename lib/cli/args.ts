/**
 * Command-line parsing with node:util parseArgs. Flags may come before or after the command, as
 * with pgroll. Global flags fall back to PGROLL_* environment variables, then to defaults.
 */
import { parseArgs } from "node:util";
import { PgtandemError } from "../errors.ts";

/** Every flag; `commands` lists where a non-global flag is allowed. */
export const FLAGS = {
  "postgres-url": { type: "string", env: "PGROLL_PG_URL", help: "PostgreSQL connection URL" },
  schema: { type: "string", env: "PGROLL_SCHEMA", help: "schema to migrate (default public)" },
  "pgroll-schema": {
    type: "string",
    env: "PGROLL_STATE_SCHEMA",
    help: "schema of the state store (default pgroll)",
  },
  "lock-timeout": {
    type: "string",
    env: "PGROLL_LOCK_TIMEOUT",
    help: "lock_timeout in milliseconds for DDL and backfill batches (default 500)",
  },
  "statement-timeout": {
    type: "string",
    env: "PGTANDEM_STATEMENT_TIMEOUT",
    help:
      "statement_timeout for pgtandem's statements: milliseconds or a duration like 30s or 5m (default 0: no limit, whatever the role's default)",
  },
  role: {
    type: "string",
    env: "PGROLL_ROLE",
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
    help: "create a schema of views per version (default true)",
  },
  json: {
    type: "boolean",
    short: "j",
    help: "machine-readable output (pull, baseline, create, update: also write JSON files)",
  },
  help: { type: "boolean", short: "h", help: "show help" },
  version: { type: "boolean", help: "print the version" },
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
  "allow-drift": {
    type: "boolean",
    commands: ["migrate", "validate"],
    help:
      "go on although applied migrations' files changed or are missing (drift is still reported)",
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
  },
  yaml: {
    type: "boolean",
    commands: ["create", "update", "pull", "baseline", "convert"],
    help: "write YAML files (pull and baseline: the default)",
  },
  history: {
    type: "boolean",
    commands: ["status"],
    help: "also list every migration of the schema's history (a table, or JSON with --json)",
  },
  plugin: {
    type: "string",
    multiple: true,
    help: "load a plugin module (repeatable); the migrations folder's pgtandem.jsonc adds more",
  },
  out: {
    type: "string",
    commands: ["types"],
    help:
      "folder to write pgtandem.d.ts and tsconfig.json (when it has none) to (default: current folder)",
  },
} as const satisfies Record<string, FlagSpec>;

interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  env?: string;
  commands?: readonly string[];
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

/** Parses argv (without the program name). Unknown flags and misplaced flags are errors. */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
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
