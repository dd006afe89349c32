/**
 * pgtandem on a hardened production server, through the CLI: a non-superuser owner role whose
 * ALTER ROLE defaults are hostile (1 ms statement and transaction timeouts, 1 s idle-session
 * timeout, serializable transactions, a wrong search_path), TEMPORARY revoked from
 * PUBLIC, and connections terminated in the middle of a run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { dumpSchema, tableRows } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { serverVersion, type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Only a failure detector for "never hang": a run ends within seconds when it works. */
const HANG_DETECTOR_MS = 30_000;

let db: TestDatabase;
let owner: string;
/** The test database's URL, logging in as the owner role. */
let ownerUrl: string;
let major: number;

beforeAll(async () => {
  db = await testDatabase();
  major = await serverVersion();
  owner = `owner_${db.name}`;
  const database = `"${db.name}"`;
  const hostile: Record<string, string> = {
    statement_timeout: "1ms",
    lock_timeout: "1ms",
    idle_session_timeout: "1s",
    idle_in_transaction_session_timeout: "1ms",
    default_transaction_isolation: "serializable",
    // default_transaction_read_only = on is refused, not overridden (adversarial-roles.test.ts).
    search_path: "nowhere",
    client_encoding: "SQL_ASCII",
    ...(major >= 17 ? { transaction_timeout: "1ms" } : {}),
  };
  await db.sql.unsafe(`
    REVOKE TEMPORARY ON DATABASE ${database} FROM PUBLIC;
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    CREATE ROLE "${owner}" LOGIN;
    GRANT CREATE ON DATABASE ${database} TO "${owner}";
    ALTER SCHEMA public OWNER TO "${owner}";
    CREATE SCHEMA audit;
    CREATE TABLE audit.seen (label text, name text, setting text);
    GRANT USAGE ON SCHEMA audit TO PUBLIC;
    GRANT INSERT ON audit.seen TO PUBLIC;
    ${
    Object.entries(hostile).map(([name, value]) =>
      `ALTER ROLE "${owner}" IN DATABASE ${database} SET ${name} = '${value}';`
    ).join("\n")
  }
  `).simple();
  const url = new URL(db.url);
  url.username = owner;
  ownerUrl = url.toString();
  await cliOk(ownerUrl, ["init"]);
  await run(["start", "--complete", await migrationFile("s01_items.json", createItems)]);
  await db.sql`insert into public.items (name) select 'item ' || g from generate_series(1, 1000) g`;
}, 60_000);

afterAll(async () => {
  await db?.drop();
  const admin = postgres(new URL("/postgres", db.url).toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP ROLE IF EXISTS "${owner}"`).catch(() => {});
  await admin.end();
});

const createItems = {
  operations: [{
    create_table: {
      name: "items",
      columns: [
        { name: "id", type: "serial", pk: true },
        { name: "name", type: "text" },
      ],
    },
  }],
};

/** A migration whose raw SQL records the session settings it runs with, under `label`. */
function recordSettings(label: string) {
  const names = [
    "statement_timeout",
    "lock_timeout",
    "idle_session_timeout",
    "idle_in_transaction_session_timeout",
    "default_transaction_isolation",
    "default_transaction_read_only",
    "row_security",
    "search_path",
    "client_encoding",
    ...(major >= 17 ? ["transaction_timeout"] : []),
  ];
  return {
    operations: [{
      sql: {
        up: `INSERT INTO audit.seen SELECT '${label}', name, current_setting(name)
               FROM unnest(ARRAY[${names.map((n) => `'${n}'`).join(", ")}]) AS name`,
      },
    }],
  };
}

async function seen(label: string): Promise<Record<string, string>> {
  const rows = await db.sql<{ name: string; setting: string }[]>`
    select name, setting from audit.seen where label = ${label}`;
  return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
}

/**
 * Runs the CLI as a separate process logged in as the owner (so it can be cut off from the
 * server and must still end). `whileRunning` runs once the process is started; the result
 * comes when the process exits, or the test fails after HANG_DETECTOR_MS.
 */
async function run(args: string[], whileRunning?: () => Promise<void>) {
  const child = spawn(process.execPath, [join(root, "main.ts"), ...args], {
    env: { ...process.env, PGROLL_PG_URL: ownerUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await whileRunning?.();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = await Promise.race([
    exited,
    new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), HANG_DETECTOR_MS))),
  ]);
  clearTimeout(timer);
  if (code === "hung") {
    child.kill("SIGKILL");
    throw new Error(`pgtandem ${args.join(" ")} did not end: ${stderr}`);
  }
  return { code, stdout, stderr };
}

async function runOk(args: string[]) {
  const result = await run(args);
  if (result.code !== 0) throw new Error(`pgtandem ${args.join(" ")}: ${result.stderr}`);
  return result;
}

describe("session settings", () => {
  test("the role's hostile defaults do not reach pgtandem's sessions; an idle lock survives", async () => {
    await runOk([
      "start",
      "--complete",
      await migrationFile("s02_settings.json", recordSettings("default")),
    ]);
    const expected: Record<string, string> = {
      statement_timeout: "0",
      lock_timeout: "500ms",
      idle_session_timeout: "0",
      idle_in_transaction_session_timeout: "0",
      default_transaction_isolation: "read committed",
      default_transaction_read_only: "off",
      row_security: "off",
      search_path: '"public"',
      client_encoding: "UTF8",
      ...(major >= 17 ? { transaction_timeout: "0" } : {}),
    };
    expect(await seen("default")).toEqual(expected);

    // --statement-timeout is the cap on every statement of the run.
    await runOk([
      "start",
      "--complete",
      "--statement-timeout",
      "5m",
      await migrationFile("s03_settings.json", recordSettings("flag")),
    ]);
    expect((await seen("flag")).statement_timeout).toBe("5min");
    const bad = await cli(ownerUrl, ["status", "--statement-timeout", "soon"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'Error: --statement-timeout: expected a duration like 100ms, 1s or 2m, got "soon"\n',
    );

    // A backfill that pauses longer than the role's 1 s idle_session_timeout between batches:
    // the connection holding the run lock is idle all along, the working one during each pause.
    await runOk([
      "start",
      "--backfill-batch-size",
      "400",
      "--backfill-batch-delay",
      "1500ms",
      await migrationFile("s04_upper.json", {
        operations: [{
          add_column: {
            table: "items",
            column: { name: "upper_name", type: "text", nullable: true },
            up: "upper(name)",
          },
        }],
      }),
    ]);
    await runOk(["complete"]);
    const [row] = await db.sql`
      select count(*)::int as wrong from public.items where upper_name is distinct from upper(name)`;
    expect(row?.wrong).toBe(0);
  });
});

describe("add_column with a constant default (fast-default probe)", () => {
  test("needs neither TEMPORARY nor CREATE on the schema; a volatile default is still refused", async () => {
    const [premise] = await db.sql`
      select has_database_privilege(${owner}, current_database(), 'TEMPORARY') as temp`;
    expect(premise?.temp).toBe(false);

    await runOk([
      "start",
      "--complete",
      await migrationFile("s05_const.json", addDefault("qty", "integer", "42")),
    ]);
    expect(await tableRows(db.sql, "public", "items").then((rows) => rows[0]?.qty)).toBe(42);

    const before = await dumpSchema(db.sql, "public");
    const volatile = await cli(ownerUrl, [
      "start",
      await migrationFile("s06_random.json", addDefault("noise", "float8", "random()")),
    ]);
    expect(volatile.code).toBe(1);
    expect(volatile.stderr).toContain('default of column "noise" is volatile');
    expect(await dumpSchema(db.sql, "public")).toEqual(before);

    // Without CREATE on the schema the probe uses a schema of its own (CREATE on the database,
    // which the version schema needs anyway).
    await db.sql.unsafe(`ALTER SCHEMA public OWNER TO CURRENT_USER;
      GRANT USAGE ON SCHEMA public TO "${owner}"`).simple();
    try {
      await runOk([
        "start",
        "--complete",
        await migrationFile("s07_const.json", addDefault("label", "text", "'none'")),
      ]);
      // With no place at all to probe: refused, nothing changed.
      await db.sql.unsafe(`REVOKE CREATE ON DATABASE "${db.name}" FROM "${owner}"`);
      const unchanged = await dumpSchema(db.sql, "public");
      const refused = await cli(ownerUrl, [
        "start",
        "--use-version-schema=false",
        await migrationFile("s08_const.json", addDefault("flag", "boolean", "true")),
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("cannot check that a column default is not volatile");
      expect(refused.stderr.trim().split("\n")).toHaveLength(1);
      expect(await dumpSchema(db.sql, "public")).toEqual(unchanged);
    } finally {
      await db.sql.unsafe(`GRANT CREATE ON DATABASE "${db.name}" TO "${owner}";
        ALTER SCHEMA public OWNER TO "${owner}"`).simple();
    }
  });
});

function addDefault(name: string, type: string, value: string) {
  return {
    operations: [{ add_column: { table: "items", column: { name, type, default: value } } }],
  };
}

describe("a connection terminated during start", () => {
  const slowBackfill = (file: string, column: string) => ({
    file,
    args: ["start", "--backfill-batch-size", "1", "--backfill-batch-delay", "1s"],
    migration: {
      operations: [{
        add_column: {
          table: "items",
          column: { name: column, type: "text", nullable: true },
          up: "name || '!'",
        },
      }],
    },
  });

  /** Waits until the run has saved the progress of its first backfill batch. */
  async function backfillStarted(name: string): Promise<void> {
    for (;;) {
      const [row] = await db.sql`
        select backfill ? 'tables' as started from pgroll.pgtandem_runs where name = ${name}`;
      if (row?.started) return;
      await Bun.sleep(20);
    }
  }

  const terminate = {
    all: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = 'pgtandem' AND datname = current_database()`,
    lock: `SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    work: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'pgtandem' AND datname = current_database()
              AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`,
  };

  for (
    const [which, next] of [["all", "rollback"], ["lock", "complete"], [
      "work",
      "rollback",
    ]] as const
  ) {
    test(`${which}: the run ends with one line saying what to run next; ${next} then works`, async () => {
      const name = `s1${which}`;
      const { file, args, migration } = slowBackfill(`${name}.json`, `c_${which}`);
      const before = await dumpSchema(db.sql, "public");
      const result = await run([...args, await migrationFile(file, migration)], async () => {
        await backfillStarted(name);
        const killed = await db.sql.unsafe(terminate[which]);
        expect(killed.length).toBeGreaterThan(0);
      });
      expect(result.code).toBe(1);
      const errors = result.stderr.split("\n").filter((line) => line.startsWith("Error:"));
      expect(errors).toHaveLength(1);
      expect(result.stderr.trim().split("\n").at(-1)).toBe(errors[0]);
      expect(errors[0]).toContain(
        `migration "${name}" is started but its backfill did not finish; ` +
          `run "pgtandem complete" to finish it or "pgtandem rollback" to undo it`,
      );
      expect(errors[0]).toMatch(/^Error: lost the connection/);

      await runOk([next]);
      if (next === "rollback") {
        expect(await dumpSchema(db.sql, "public")).toEqual(before);
      } else {
        const [row] = await db.sql.unsafe(
          `select count(*)::int as wrong from public.items where c_${which} is distinct from name || '!'`,
        );
        expect(row?.wrong).toBe(0);
      }
      const [locks] = await db.sql`
        select count(*)::int as n from pg_locks where locktype = 'advisory'`;
      expect(locks?.n).toBe(0);
    });
  }
});
