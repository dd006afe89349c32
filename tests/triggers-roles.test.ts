/**
 * The backfill as an ordinary role (not a superuser), through the CLI on real PostgreSQL (issue
 * 16): user triggers it cannot silence are named and need --allow-user-triggers, row-level
 * security is refused before any DDL with the privilege to grant, and the role's own defaults for
 * statement_timeout, isolation and row_security do not reach the batches.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { dumpSchema } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { serverVersion, type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

// --- A role that is not a superuser: user triggers, RLS, role defaults -------------------------

describe("as an ordinary role", () => {
  let role: string;
  let url: string;
  const flags = ["--schema", "app", "--pgroll-schema", "app_state"];

  beforeAll(async () => {
    role = `mig_${db.name}`;
    await db.sql.unsafe(`create role ${role} login`);
    await db.sql.unsafe(`create schema app authorization ${role}`);
    await db.sql.unsafe(`grant create on database "${db.name}" to ${role}`);
    const parsed = new URL(db.url);
    parsed.username = role;
    parsed.password = "";
    url = parsed.toString();
    await cliOk(url, ["init", ...flags]);
  });

  afterAll(async () => {
    await db.sql.unsafe(`alter role ${role} reset all`);
  });

  async function table(name: string, rows: number, extra = ""): Promise<void> {
    const file = await migrationFile(`${name}.json`, {
      operations: [{
        create_table: {
          name,
          columns: [
            { name: "id", type: "serial", pk: true },
            { name: "v", type: "text" },
            { name: "updated_at", type: "timestamptz", nullable: true },
          ],
        },
      }],
    });
    await cliOk(url, ["start", file, "--complete", ...flags]);
    await db.sql.unsafe(`insert into app.${name} (v, updated_at)
      select 'v' || g, '2000-01-01' from generate_series(1, ${rows}) g; ${extra}`).simple();
  }

  function alterV(name: string, table: string, up = "upper(v)") {
    return migrationFile(`${name}.json`, {
      operations: [{ alter_column: { table, column: "v", type: "varchar(100)", up, down: "v" } }],
    });
  }

  /** The refusal contract for the app schema: exit 1, one line, nothing changed. */
  async function expectRefused(args: string[], pattern: RegExp): Promise<string> {
    const before = await dumpSchema(db.sql, "app");
    const result = await cli(url, [...args, ...flags]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(await dumpSchema(db.sql, "app")).toEqual(before);
    const [active] = await db.sql`select count(*)::int as n from app_state.migrations
      where schema = 'app' and not done`;
    expect(active?.n).toBe(0);
    return result.stderr;
  }

  test("user triggers the backfill would fire are named; --allow-user-triggers goes on", async () => {
    await table(
      "tickets",
      50,
      `
      create function app.touch() returns trigger language plpgsql as
        $$ begin new.updated_at := now(); return new; end $$;
      alter function app.touch() owner to ${role};
      create trigger touch_updated_at before update on app.tickets
        for each row execute function app.touch();
      create trigger only_updated_at before update of updated_at on app.tickets
        for each row execute function app.touch();`,
    );
    const file = await alterV("a02_tickets_v", "tickets");
    const refusal = await expectRefused(["start", file], /touch_updated_at/);
    expect(refusal).toMatch(/--allow-user-triggers/);
    // UPDATE OF a user column: the backfill sets none of them.
    expect(refusal).not.toMatch(/only_updated_at/);
    await expectRefused(["plan", file], /touch_updated_at/);
    await cliOk(url, ["start", file, "--allow-user-triggers", ...flags]);
    const [fired] = await db.sql`select count(*)::int as n from app.tickets
      where updated_at <> '2000-01-01'`;
    expect(fired?.n).toBe(50); // accepted: the operator was told
    await cliOk(url, ["rollback", ...flags]);

    if ((await serverVersion()) >= 15) {
      await db.sql.unsafe(`grant set on parameter session_replication_role to ${role}`);
      await db.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`; // the user trigger stays quiet
        await tx`update app.tickets set updated_at = '2000-01-01'`;
      });
      await cliOk(url, ["start", file, ...flags]);
      const [state] = await db.sql`select
        count(*) filter (where updated_at <> '2000-01-01')::int as touched,
        count(*) filter (where _pgroll_new_v is distinct from upper(v))::int as unfilled
        from app.tickets`;
      expect(state).toEqual({ touched: 0, unfilled: 0 });
      await cliOk(url, ["rollback", ...flags]);
      await db.sql.unsafe(`revoke set on parameter session_replication_role from ${role}`);
    }
  });

  test("FORCE ROW LEVEL SECURITY: refused with the privilege to grant, never a partial backfill", async () => {
    await table(
      "secrets",
      200,
      `
      alter table app.secrets enable row level security;
      alter table app.secrets force row level security;
      create policy few on app.secrets using (id <= 10);`,
    );
    const file = await alterV("a04_secrets_v", "secrets");
    await expectRefused(["start", file], /BYPASSRLS/);
    await db.sql`alter table app.secrets no force row level security`;
    await cliOk(url, ["start", file, ...flags]);
    const [state] = await db.sql`select count(*)::int as rows,
      count(*) filter (where _pgroll_new_v is distinct from upper(v))::int as unfilled
      from app.secrets`;
    expect(state).toEqual({ rows: 200, unfilled: 0 });
    await cliOk(url, ["complete", ...flags]);
    const [after] = await db.sql`select count(*) filter (where v is null)::int as lost
      from app.secrets`;
    expect(after?.lost).toBe(0);
  });

  test("batches choose their own settings, whatever the role's defaults", async () => {
    await table("probe", 20);
    await db.sql.unsafe(`alter role ${role} set statement_timeout = '1s'`);
    await db.sql.unsafe(`alter role ${role} set default_transaction_isolation = 'serializable'`);
    await db.sql.unsafe(`alter role ${role} set row_security = on`);
    try {
      // The up expression records the settings it runs under, in the backfill's batches.
      const settings = ["transaction_isolation", "statement_timeout", "row_security", "search_path"]
        .map((name) => `current_setting('${name}')`).join(", ");
      const file = await alterV("a05_probe_v", "probe", `concat_ws(' | ', ${settings})`);
      await cliOk(url, ["start", file, ...flags]);
      const rows = await db.sql`select distinct _pgroll_new_v as seen from app.probe`;
      expect(rows.map((r) => r.seen)).toEqual(['read committed | 1min | off | "app", pg_catalog']);
      await cliOk(url, ["rollback", ...flags]);
    } finally {
      await db.sql.unsafe(`alter role ${role} reset all`);
    }
  });

  test("statement_timeout = 1s and serializable on the role, with the app writing", async () => {
    await table(
      "slow",
      1500,
      `
      create function app.slow_upper(text) returns text language plpgsql as
        $$ begin perform pg_sleep(0.001); return upper($1); end $$;`,
    );
    await db.sql.unsafe(`alter role ${role} set statement_timeout = '1s'`);
    await db.sql.unsafe(`alter role ${role} set default_transaction_isolation = 'serializable'`);
    try {
      const app = postgres(url, { max: 1, onnotice: () => {} });
      let writing = true;
      const errors: string[] = [];
      const writes = (async () => {
        for (let i = 0; writing; i++) {
          await app`update app.slow set updated_at = now() where id = ${1 + (i * 7) % 1500}`
            .catch((e) => errors.push((e as Error).message));
        }
      })();
      const file = await alterV("a06_slow_v", "slow", "slow_upper(v)");
      // A first batch of 1000 rows takes over a second: the role's timeout must not apply.
      const result = await cli(url, ["start", file, "--backfill-batch-size", "1000", ...flags]);
      writing = false;
      await writes;
      await app.end();
      if (result.code !== 0) throw new Error(result.stderr);
      const [state] = await db.sql`select
        count(*) filter (where _pgroll_new_v is distinct from upper(v))::int as unfilled
        from app.slow`;
      expect(state?.unfilled).toBe(0);
      await cliOk(url, ["rollback", ...flags]);
    } finally {
      await db.sql.unsafe(`alter role ${role} reset all`);
    }
  }, 60_000);
});
