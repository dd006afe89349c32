/**
 * Opening the database. Every session setting pgtandem depends on is sent as a startup
 * parameter, so every connection of a pool carries it (not just the first one) and it wins over
 * `ALTER ROLE/DATABASE … SET` defaults, which a hardened server may use to cut idle sessions or
 * long statements: a session default we do not set is one that can break a run.
 */
import postgres from "postgres";
import { setTimeout as sleep } from "node:timers/promises";
import { PgtandemError, sqlstateOf } from "../errors.ts";
import { ident } from "../sql.ts";
import {
  boundedSocketFactory,
  type ConnectAttempts,
  MAX_CONNECT_ATTEMPTS,
  remaining,
} from "./connect-socket.ts";

export interface ConnectionOptions {
  url: string;
  /** The schema being migrated; first on the search_path. */
  schema: string;
  /** lock_timeout in ms; 0 waits for locks without limit. */
  lockTimeoutMs: number;
  /** statement_timeout in ms (--statement-timeout); 0 or absent: no limit. */
  statementTimeoutMs?: number;
  /** The role every statement runs as (the `role` setting: SET ROLE at connect), when given. */
  role?: string;
  applicationName?: string;
  /**
   * How long connecting may take in all, retries included (--connect-timeout); default
   * DEFAULT_CONNECT_TIMEOUT_MS.
   */
  connectTimeoutMs?: number;
  /** Connections in the pool; backfill and DDL of one run are sequential, so 1 suffices. */
  max?: number;
  /**
   * Called when a connection of the pool closes although nobody ended the pool (the server
   * terminated it, restarted, the network failed). Not called for the connection attempt that
   * `connect` makes itself, nor after `end()` if the caller ignores calls it caused.
   */
  onClose?: () => void;
}

export type Sql = postgres.Sql;

/** --connect-timeout's default: 10 s, as libpq users expect from connect_timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Settings that exist only from some major on: sent when the server knows them. An unknown
 * startup parameter fails the connection, so `connect` drops the one the server names and retries.
 */
const NEWER_SETTINGS = new Set(["transaction_timeout"]);

/** Settings an older server rejected, by URL, so a second pool does not fail the same way. */
const rejectedSettings = new Map<string, Set<string>>();

/**
 * The startup parameters of our sessions. Why each one:
 * - lock_timeout: DDL must not queue behind application traffic for long (retried, see retry.ts).
 * - statement_timeout: 0 unless --statement-timeout; a role default could cut a long DDL or batch.
 * - idle_session_timeout, idle_in_transaction_session_timeout, transaction_timeout: 0. The
 *   connection holding the run lock is idle for the whole run; killing it would release the lock
 *   under a running migration.
 * - default_transaction_isolation read committed, default_transaction_read_only off: the
 *   backfill and the state store assume both (a read-only default set for the user makes the
 *   writing commands refuse instead: read-only-default.ts).
 * - row_security off: a backfill must not silently skip rows a policy hides; it fails instead.
 * - search_path, standard_conforming_strings, client_encoding: how user expressions and our
 *   generated SQL are read.
 */
export function sessionSettings(options: ConnectionOptions): Record<string, string> {
  // Strings only: postgres.js drops falsy startup values, so a numeric 0 would not be sent.
  const settings: Record<string, string> = {
    application_name: options.applicationName ?? "pgtandem",
    search_path: quoteSearchPathEntry(options.schema),
    "pgroll.no_inferred_migrations": "TRUE",
    lock_timeout: `${options.lockTimeoutMs}ms`,
    statement_timeout: `${options.statementTimeoutMs ?? 0}ms`,
    idle_session_timeout: "0",
    idle_in_transaction_session_timeout: "0",
    transaction_timeout: "0",
    default_transaction_isolation: "read committed",
    default_transaction_read_only: "off",
    row_security: "off",
    standard_conforming_strings: "on",
    client_encoding: "UTF8",
  };
  if (options.role) settings.role = options.role;
  for (const name of rejectedSettings.get(options.url) ?? []) delete settings[name];
  return settings;
}

/**
 * Connects and checks the server answers, within `connectTimeoutMs` in all and at most
 * MAX_CONNECT_ATTEMPTS sockets (connect-socket.ts); a server still starting up is waited for
 * within the same time. The error names the host and port, never the password.
 */
export async function connect(options: ConnectionOptions): Promise<Sql> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let live = false;
    const attempts: ConnectAttempts = { count: 0, live: false, exhausted: false };
    const sql = openPool(
      options,
      boundedSocketFactory(attempts, deadline, timeoutMs),
      timeoutMs,
      () => {
        if (live) options.onClose?.();
      },
    );
    try {
      const [row] = await withDeadline(
        sql<{ replication_role: string }[]>`
          select current_setting('session_replication_role') as replication_role`,
        deadline,
      );
      live = attempts.live = true;
      checkSessionReplicationRole(row?.replication_role);
      return sql;
    } catch (error) {
      live = false;
      await sql.end({ timeout: 0 }).catch(() => {});
      const rejected = rejectedSetting(error);
      if (rejected) {
        rejectedSettings.set(
          options.url,
          new Set([...(rejectedSettings.get(options.url) ?? []), rejected]),
        );
        continue;
      }
      if (error instanceof PgtandemError) throw error;
      // 57P03: the server is starting up or recovering; it will take connections shortly.
      if (sqlstateOf(error) === "57P03" && remaining(deadline) > 500) {
        await sleep(500);
        continue;
      }
      throw connectError(options, sql, attempts, error, timeoutMs);
    }
  }
}

/** `promise`, or a rejection with code CONNECT_DEADLINE once `deadline` (epoch ms) passes. */
async function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error("no answer"), { code: "CONNECT_DEADLINE" })),
      remaining(deadline),
    );
  });
  promise.catch(() => {}); // rejected by the pool's end once the deadline won the race
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One line: where (host and port, the role), then what happened, from what the attempts saw
 * rather than from the driver's last words (after a foreign reply those are meaningless).
 */
function connectError(
  options: ConnectionOptions,
  sql: Sql,
  attempts: ConnectAttempts,
  error: unknown,
  timeoutMs: number,
): PgtandemError {
  const code = (error as { code?: unknown }).code;
  const count = Math.min(attempts.count, MAX_CONNECT_ATTEMPTS);
  const tries = count > 1 ? ` (${count} attempts)` : "";
  const seconds = `${Math.round(timeoutMs / 100) / 10}s`;
  const reason = attempts.foreignReply !== undefined
    ? `the server's reply is not PostgreSQL's protocol ("${attempts.foreignReply}"): is this the right port?`
    : attempts.socketError && attempts.socketError.code !== "CONNECT_TIMEOUT"
    ? socketErrorText(attempts.socketError, tries)
    : attempts.exhausted
    ? `the server closed the connection before the startup finished${tries}: is this a PostgreSQL server?`
    : code === "CONNECT_DEADLINE" || code === "CONNECT_TIMEOUT" ||
        attempts.socketError?.code === "CONNECT_TIMEOUT"
    ? `no answer within ${seconds} (--connect-timeout${count > 1 ? `, ${count} attempts` : ""})`
    : redactSecrets((error as Error).message, options.url);
  return new PgtandemError(
    "connection",
    `cannot connect to PostgreSQL at ${serverAddress(sql)}${
      options.role ? ` as role "${options.role}"` : ""
    }: ${reason}`,
    { cause: error },
  );
}

/** A TCP-level failure in words; the code stays for searching. */
function socketErrorText(error: Error & { code?: string }, tries: string): string {
  switch (error.code) {
    case "ECONNREFUSED":
      return `connection refused${tries}: is PostgreSQL running and listening there?`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host not found (${error.code})`;
    default:
      return `${error.message}${tries}`;
  }
}

/** host:port (or the Unix socket) the pool connects to, as postgres.js parsed the URL. */
function serverAddress(sql: Sql): string {
  const { host, port, path } = sql.options as unknown as {
    host: string[];
    port: number[];
    path?: string | false;
  };
  if (path) return path;
  return host.map((h, i) => `${h.includes(":") ? `[${h}]` : h}:${port[i] ?? port[0]}`).join(",");
}

function openPool(
  options: ConnectionOptions,
  socket: ReturnType<typeof boundedSocketFactory>,
  timeoutMs: number,
  onclose: () => void,
): Sql {
  try {
    return postgres(options.url, {
      max: options.max ?? 1,
      onnotice: () => {},
      connection: sessionSettings(options),
      // The driver's timer (seconds) covers the startup after the TCP connect; `connect` bounds
      // the whole, so this one only backs it up.
      connect_timeout: Math.ceil(timeoutMs / 1000) + 1,
      // A documented option ("Custom socket" in its README) its types leave out.
      ...({ socket } as Record<string, unknown>),
      // Never recycled by the driver: a closed connection is always news (see onClose).
      idle_timeout: 0,
      max_lifetime: null,
      onclose,
      // Dates and numerics stay strings; we never interpret user data.
      types: {},
    });
  } catch (error) {
    throw new PgtandemError(
      "invalid_input",
      `invalid --postgres-url ${redactUrl(options.url)}: ${(error as Error).message}`,
    );
  }
}

/** The name of a NEWER_SETTINGS parameter the server refused at connect, if that is the error. */
function rejectedSetting(error: unknown): string | undefined {
  if (sqlstateOf(error) !== "42704") return undefined;
  const name = /configuration parameter "([^"]+)"/.exec((error as Error).message)?.[1];
  return name && NEWER_SETTINGS.has(name) ? name : undefined;
}

/**
 * The backfill fires the sync triggers by updating rows; with session_replication_role =
 * replica (possible only as an ALTER ROLE/DATABASE default set by a superuser) they would not
 * fire and the new columns would silently stay empty.
 */
function checkSessionReplicationRole(value: string | undefined): void {
  if (value === undefined || value === "origin") return;
  throw new PgtandemError(
    "invalid_input",
    `session_replication_role is "${value}" for this user (an ALTER ROLE or ALTER DATABASE default): ` +
      `the backfill needs triggers to fire; reset it for the user pgtandem connects as`,
  );
}

/**
 * Is this error a connection dying (rather than a statement failing)? postgres.js reports a
 * closed socket with its own codes; the server says 57P0x (terminated, shutting down, idle
 * timeout) or class 08 before closing.
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string") return false;
  return /^(CONNECTION_|CONNECT_TIMEOUT|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH)/.test(code) ||
    /^57P0[1-5]$/.test(code) || /^08...$/.test(code);
}

/**
 * Runs `fn` inside transaction `tx` as the login user (session_user), then switches back to the
 * role the transaction ran as. For state-store statements that must share a transaction with
 * DDL run as --role: the state schema is the login user's, not the role's.
 */
export async function asSessionUser<T>(tx: postgres.TransactionSql, fn: () => Promise<T>) {
  const [row] = await tx.unsafe<{ role: string; same: boolean }[]>(
    "SELECT current_user AS role, current_user = session_user AS same",
  );
  if (!row || row.same) return await fn();
  await tx.unsafe("SET LOCAL ROLE NONE");
  const result = await fn();
  await tx.unsafe(`SET LOCAL ROLE ${ident(row.role)}`);
  return result;
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

/**
 * Is this the TypeError postgres.js 3.4.9 throws from a setImmediate callback when it writes to
 * a connection that has just died (porsager/postgres#1208, e.g. the ROLLBACK `sql.begin` sends
 * after a query of a terminated transaction failed)? It escapes every await; the loss of the
 * connection itself is handled by whoever owns it (see lib/cli/session.ts), so main.ts ignores
 * exactly this error.
 */
export function isDeadSocketWrite(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  const where = `${error.message}\n${error.stack ?? ""}`;
  return /nextWrite/.test(where) && /socket\.write|reading 'write'/.test(where);
}
