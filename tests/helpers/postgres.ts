/**
 * Real PostgreSQL for bun:test: one server per test process, a fresh database per test file.
 *
 * The server is env `PGTANDEM_TEST_URL` when set (any server where that URL is a superuser;
 * `npm test` sets it to the server it started), else an embedded one started on first use and
 * stopped when the process exits.
 *
 * ```ts
 * let db: TestDatabase;
 * beforeAll(async () => { db = await testDatabase(); });
 * afterAll(async () => { await db.drop(); });
 * ```
 *
 * @module
 */
import process from "node:process";
import postgres from "postgres";
import { startPostgres } from "../../scripts/embedded-postgres.ts";

/** A database of its own for one test file. */
export interface TestDatabase {
  /** Connection URL of this database (superuser). */
  url: string;
  /** A pool connected to this database; `drop()` closes it. */
  sql: postgres.Sql;
  /** The database name, `t_` + random hex. */
  name: string;
  /** Closes `sql` and drops the database, disconnecting anyone still connected. */
  drop(): Promise<void>;
}

let server: Promise<string> | undefined;
let admin: postgres.Sql | undefined;
let version: Promise<number> | undefined;

/**
 * URL of the shared server, started once per process. Memoised as a promise so concurrent first
 * callers share one start; the embedded module stops the server at process exit.
 */
function serverUrl(): Promise<string> {
  server ??= process.env.PGTANDEM_TEST_URL
    ? Promise.resolve(process.env.PGTANDEM_TEST_URL)
    : startPostgres().then((pg) => pg.url);
  return server;
}

/** A small pool on the server's maintenance database, for CREATE/DROP DATABASE. */
async function adminSql(): Promise<postgres.Sql> {
  const url = await serverUrl();
  // idle_timeout: an idle pool must not keep a finished test process alive.
  admin ??= postgres(url, { max: 2, idle_timeout: 1, onnotice: () => {} });
  return admin;
}

/** Creates an empty database with a random name on the shared server and connects to it. */
export async function testDatabase(): Promise<TestDatabase> {
  const sql = await adminSql();
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  await sql.unsafe(`create database "${name}"`);
  const url = withDatabase(await serverUrl(), name);
  const db = postgres(url, { onnotice: () => {} });
  let dropped: Promise<void> | undefined;
  return {
    url,
    sql: db,
    name,
    drop: () =>
      dropped ??= (async () => {
        await db.end({ timeout: 5 });
        // force: a test that leaked a connection must not make the next run fail here.
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      })(),
  };
}

/** Major version of the shared server, e.g. 17. */
export function serverVersion(): Promise<number> {
  version ??= adminSql().then(async (sql) => {
    const [row] = await sql`select current_setting('server_version_num')::int as num`;
    return Math.floor((row!.num as number) / 10000);
  });
  return version;
}

/** The same server URL with another database in the path; user, host and query are kept. */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * The latest migration of `schema` in `db`'s history (read from the database, so a test never
 * carries "the previous version" in a variable shared across tests).
 */
export async function latestMigration(db: TestDatabase, schema = "public"): Promise<string> {
  const [row] = await db.sql`select pgroll.latest_migration(${schema}) as name`;
  if (!row?.name) throw new Error(`no migration in the history of schema "${schema}"`);
  return row.name as string;
}
