/**
 * `latest schema|migration|url`: what deploy scripts need to point an application at the newest
 * version, from the database or (with --local) from a migrations folder, as pgroll's `latest`.
 */
import { PgtandemError, StateError } from "../../errors.ts";
import { compareBytes, listMigrationFolder } from "../../migration/folder.ts";
import { loadMigrationFile } from "../../migration/loader.ts";
import { migrationVersionName } from "../../migration/migration.ts";
import { versionSchemaName } from "../../naming.ts";
import type { Registry } from "../../operations/registry.ts";
import { type Command, type CommandContext, UsageError } from "../command.ts";
import { withSession } from "../session.ts";

const SUBCOMMANDS = ["schema", "migration", "url"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const latestCommand: Command = {
  name: "latest",
  summary: "Print the latest version schema, migration name, or a connection URL using it",
  usage: "latest schema|migration|url [CONNECTION_STRING] [--local DIR] [--json]",
  migrationsPath: (args) => args.flags.local as string | undefined,
  examples: [
    "pgtandem latest schema                       # public_03_add_email (from the database)",
    "pgtandem latest migration --local ./migrations",
    'export DATABASE_URL="$(pgtandem latest url "$DATABASE_URL" --local ./migrations)"',
    "latest url prints the whole connection string, PASSWORD INCLUDED: it is the string you gave",
    "(the argument, else --postgres-url), with options=-c search_path=<version schema> added.",
    "The database is read through --postgres-url even when a CONNECTION_STRING is given.",
    "Exit codes: 0 printed; 1 nothing to print (no version schema, no migration, empty folder),",
    "            not initialized, bad usage",
  ],
  async run(context) {
    const [what, ...rest] = context.args.positionals;
    if (!SUBCOMMANDS.includes(what as Subcommand)) {
      throw new UsageError(
        what === undefined
          ? `"latest" needs one of ${SUBCOMMANDS.join(", ")}`
          : `unknown subcommand "latest ${what}": expected one of ${SUBCOMMANDS.join(", ")}`,
      );
    }
    const maxArgs = what === "url" ? 1 : 0;
    if (rest.length > maxArgs) {
      throw new UsageError(
        `"latest ${what}" takes ${
          maxArgs === 0 ? "no arguments" : "at most one connection string"
        }, got "${rest.join(" ")}"`,
      );
    }
    const local = context.args.flags.local as string | undefined;
    let key: string;
    let value: string;
    if (what === "migration") {
      key = "migration";
      value = local === undefined
        ? await remoteMigration(context)
        : await localLast(local, false, context.registry);
    } else {
      const versionSchema = local === undefined
        ? await remoteVersionSchema(context)
        : versionSchemaName(context.config.schema, await localLast(local, true, context.registry));
      if (what === "schema") {
        key = "versionSchema";
        value = versionSchema;
      } else {
        key = "url";
        value = withSearchPath(rest[0] ?? context.config.postgresUrl, versionSchema);
      }
    }
    context.io.stdout.write(
      context.config.json ? `${JSON.stringify({ [key]: value }, null, 2)}\n` : `${value}\n`,
    );
    return 0;
  },
};

function remoteMigration(context: CommandContext): Promise<string> {
  return withSession(context.config, context.registry, context.io, async ({ state }) => {
    await state.assertInitialized();
    const name = await state.latestMigration(context.config.schema);
    if (name === undefined) {
      throw new StateError(`no migrations applied in schema "${context.config.schema}"`);
    }
    return name;
  });
}

function remoteVersionSchema(context: CommandContext): Promise<string> {
  return withSession(context.config, context.registry, context.io, async ({ state }) => {
    await state.assertInitialized();
    const version = await state.latestVersion(context.config.schema);
    if (version === undefined) {
      throw new StateError(`no version schemas found for schema "${context.config.schema}"`);
    }
    return versionSchemaName(context.config.schema, version);
  });
}

/**
 * The last migration of a folder (file name order): its name, or with `version` its version
 * name (`version_schema` when the file sets one, so the file is parsed then).
 */
async function localLast(dir: string, version: boolean, registry: Registry): Promise<string> {
  const entries = await listMigrationFolder(dir);
  const last = entries.at(-1);
  if (!last) throw new PgtandemError("invalid_input", `no migration files found in "${dir}"`);
  if (!version) return last.name;
  const loaded = await loadMigrationFile(last.path, registry);
  return migrationVersionName(loaded.migration);
}

/**
 * The connection string with `search_path` set to `versionSchema` through libpq's `options`
 * parameter. URLs keep everything as written except the query, which is re-encoded the way
 * pgroll (Go's url.Values) does it: keys sorted, spaces as %20. Other `options` are kept; an
 * earlier search_path in them is replaced. key=value strings get an `options='…'` pair.
 */
export function withSearchPath(connection: string, versionSchema: string): string {
  const setting = `-c search_path=${searchPathValue(versionSchema)}`;
  if (/^postgres(ql)?:\/\//i.test(connection)) {
    const hashAt = connection.indexOf("#");
    const fragment = hashAt >= 0 ? connection.slice(hashAt) : "";
    const withoutFragment = hashAt >= 0 ? connection.slice(0, hashAt) : connection;
    const queryAt = withoutFragment.indexOf("?");
    const base = queryAt >= 0 ? withoutFragment.slice(0, queryAt) : withoutFragment;
    const query = queryAt >= 0 ? withoutFragment.slice(queryAt + 1) : "";
    const params = parseQuery(query);
    const existing = params.get("options")?.[0];
    params.set("options", [joinOptions(existing, setting)]);
    return `${base}?${encodeQuery(params)}${fragment}`;
  }
  if (/^\s*[A-Za-z_]+\s*=/.test(connection)) {
    if (/(^|\s)options\s*=/.test(connection)) {
      throw new PgtandemError(
        "invalid_input",
        "cannot add search_path to a key=value connection string that already sets options: use a postgres:// URL",
      );
    }
    const quoted = setting.replaceAll("\\", "\\\\").replaceAll("'", "\\'");
    return `${connection.trimEnd()} options='${quoted}'`;
  }
  throw new PgtandemError(
    "invalid_input",
    "expected a connection string: a postgres:// URL or key=value pairs",
  );
}

/**
 * A schema name as a search_path entry inside libpq's options: quoted when PostgreSQL would not
 * read it back unchanged, with spaces and backslashes escaped for libpq's option splitting.
 */
function searchPathValue(schema: string): string {
  const entry = /^[a-z_][a-z0-9_$]*$/.test(schema) ? schema : `"${schema.replaceAll('"', '""')}"`;
  return entry.replace(/[\\\s]/g, (c) => `\\${c}`);
}

/** Existing options minus any search_path setting, then ours. */
function joinOptions(existing: string | undefined, setting: string): string {
  if (existing === undefined || existing.trim() === "") return setting;
  const kept = existing
    .replace(/(^|\s)(-c\s*|--)search_path=(\\.|\S)*/g, " ")
    .trim();
  return kept === "" ? setting : `${kept} ${setting}`;
}

/** Go's url.ParseQuery: `+` is a space, later keys keep their order within a key. */
function parseQuery(query: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = eq >= 0 ? part.slice(0, eq) : part;
    const rawValue = eq >= 0 ? part.slice(eq + 1) : "";
    const key = decodeQueryComponent(rawKey);
    params.set(key, [...(params.get(key) ?? []), decodeQueryComponent(rawValue)]);
  }
  return params;
}

function decodeQueryComponent(text: string): string {
  const spaced = text.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Go's url.Values.Encode (keys sorted) with pgroll's `+` → `%20`. */
function encodeQuery(params: Map<string, string[]>): string {
  return [...params.keys()]
    .sort(compareBytes)
    .flatMap((key) =>
      (params.get(key) ?? []).map((value) => `${goQueryEscape(key)}=${goQueryEscape(value)}`)
    )
    .join("&");
}

/** Go's url.QueryEscape, spaces as %20: only A-Z a-z 0-9 - _ . ~ stay as they are. */
function goQueryEscape(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
