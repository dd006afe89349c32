/**
 * Opening the database. Session settings (search_path, lock_timeout, role, application name, the
 * flag that tells pgroll's event triggers to ignore us) are sent as startup parameters, so every
 * connection of the pool carries them, not just the first one.
 */
import postgres from "postgres";
import { PgtandemError } from "../errors.ts";

export interface ConnectionOptions {
  url: string;
  /** The schema being migrated; first on the search_path. */
  schema: string;
  lockTimeoutMs: number;
  /** SET ROLE for every statement, when given. */
  role?: string;
  applicationName?: string;
  /** Connections in the pool; backfill and DDL of one run are sequential, so 1 suffices. */
  max?: number;
}

export type Sql = postgres.Sql;

/** Connects and checks the server answers; errors never contain the password. */
export async function connect(options: ConnectionOptions): Promise<Sql> {
  const connection: Record<string, string> = {
    application_name: options.applicationName ?? "pgtandem",
    search_path: quoteSearchPathEntry(options.schema),
    "pgroll.no_inferred_migrations": "TRUE",
  };
  if (options.lockTimeoutMs > 0) connection.lock_timeout = `${options.lockTimeoutMs}ms`;
  if (options.role) connection.role = options.role;
  let sql: Sql;
  try {
    sql = postgres(options.url, {
      max: options.max ?? 1,
      onnotice: () => {},
      connection,
      connect_timeout: 10,
      // Dates and numerics stay strings; we never interpret user data.
      types: {},
    });
  } catch (error) {
    throw new PgtandemError(
      "invalid_input",
      `invalid --postgres-url ${redactUrl(options.url)}: ${(error as Error).message}`,
    );
  }
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    const message = redactSecrets((error as Error).message, options.url);
    throw new PgtandemError(
      "query",
      `cannot connect to ${redactUrl(options.url)}: ${message}`,
      { cause: error },
    );
  }
  return sql;
}

/** search_path entries are identifiers; quote them so odd names survive. */
function quoteSearchPathEntry(schema: string): string {
  return `"${schema.replaceAll('"', '""')}"`;
}

/** The server's major version, e.g. 17. */
export async function serverMajorVersion(sql: Sql): Promise<number> {
  const [row] = await sql<{ v: string }[]>`select current_setting('server_version_num') as v`;
  return Math.floor(Number(row?.v ?? "0") / 10000);
}

/** The URL with any password replaced, safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "*****";
    return parsed.toString();
  } catch {
    return url.replace(/password=[^\s&]+/gi, "password=*****");
  }
}

/** Removes the password of `url` from a message, should a driver ever echo it. */
export function redactSecrets(message: string, url: string): string {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? message.replaceAll(password, "*****") : message;
  } catch {
    return message;
  }
}
