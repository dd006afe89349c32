/**
 * --role through the CLI, as pgroll does it: the migration's DDL and backfill run as the role,
 * the state store as the login user. The role has no privilege at all on the state schema; the
 * login user has nothing but membership in the role and its own state schema. A missing
 * privilege is one line naming who lacks what.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { asSessionUser, connect } from "../lib/engine/connection.ts";
import { dumpSchema } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;
let deploy: string;
let login: string;
let other: string;
let intruder: string;
let loginUrl: string;
let intruderUrl: string;

function urlAs(user: string): string {
  const url = new URL(db.url);
  url.username = user;
  return url.toString();
}

beforeAll(async () => {
  db = await testDatabase();
  [deploy, login, other, intruder] = ["deploy", "login", "other", "intruder"].map((r) =>
    `${r}_${db.name}`
  ) as [string, string, string, string];
  const database = `"${db.name}"`;
  await db.sql.unsafe(`
    REVOKE TEMPORARY ON DATABASE ${database} FROM PUBLIC;
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    CREATE ROLE "${deploy}" NOLOGIN;
    CREATE ROLE "${other}" NOLOGIN;
    CREATE ROLE "${login}" LOGIN IN ROLE "${deploy}", "${other}";
    CREATE ROLE "${intruder}" LOGIN IN ROLE "${deploy}";
    GRANT CREATE ON DATABASE ${database} TO "${login}", "${deploy}";
    ALTER SCHEMA public OWNER TO "${deploy}";
    ALTER ROLE "${login}" IN DATABASE ${database} SET statement_timeout = '1ms';
    ALTER ROLE "${login}" IN DATABASE ${database} SET idle_session_timeout = '1s';
    CREATE SCHEMA audit;
    CREATE TABLE audit.seen (label text, current text, session text);
    GRANT USAGE ON SCHEMA audit TO PUBLIC;
    GRANT INSERT ON audit.seen TO PUBLIC;
  `).simple();
  loginUrl = urlAs(login);
  intruderUrl = urlAs(intruder);
  // The state schema is the login user's; the role gets nothing on it.
  await cliOk(loginUrl, ["init"]);
}, 60_000);

afterAll(async () => {
  await db?.drop();
  const admin = postgres(new URL("/postgres", db.url).toString(), { max: 1, onnotice: () => {} });
  for (const role of [intruder, login, other, deploy]) {
    await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
  }
  await admin.end();
});

describe("--role", () => {
  test("DDL and backfill run as the role, the state store as the login user", async () => {
    const [premise] = await db.sql`
      select has_schema_privilege(${deploy}, 'pgroll', 'USAGE') as usage`;
    expect(premise?.usage).toBe(false);

    const role = ["--role", deploy];
    await cliOk(loginUrl, [
      "start",
      "--complete",
      ...role,
      await migrationFile("r01_items.json", {
        operations: [{
          create_table: {
            name: "items",
            columns: [{ name: "id", type: "serial", pk: true }, { name: "name", type: "text" }],
          },
        }],
      }),
    ]);
    await db.sql`insert into public.items (name) select 'item ' || g from generate_series(1, 50) g`;
    await cliOk(loginUrl, [
      "start",
      "--complete",
      ...role,
      await migrationFile("r02_who.json", {
        operations: [{
          sql: { up: "INSERT INTO audit.seen VALUES ('migration', current_user, session_user)" },
        }],
      }),
    ]);
    expect(await db.sql`select current, session from audit.seen`).toEqual([
      { current: deploy, session: login },
    ]);

    // A backfill (triggers, batches) as the role, then rolled back and done again.
    const upper = await migrationFile("r03_upper.json", {
      operations: [{
        add_column: {
          table: "items",
          column: { name: "upper_name", type: "text", nullable: true },
          up: "upper(name)",
        },
      }],
    });
    await cliOk(loginUrl, ["start", ...role, "--backfill-batch-size", "10", upper]);
    await cliOk(loginUrl, ["rollback", ...role]);
    await cliOk(loginUrl, ["start", ...role, upper]);
    await cliOk(loginUrl, ["complete", ...role]);

    const owners = await db.sql`
      select c.relname as name, pg_get_userbyid(c.relowner) as owner
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'public_r03_upper') and c.relkind in ('r', 'v')
       order by 1`;
    expect(owners.map((r) => r.owner)).toEqual(owners.map(() => deploy));
    const [schemaOwner] = await db.sql`
      select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = 'public_r03_upper'`;
    expect(schemaOwner?.owner).toBe(deploy);
    const [row] = await db.sql`
      select count(*)::int as wrong from public.items where upper_name is distinct from upper(name)`;
    expect(row?.wrong).toBe(0);
    const history = await db.sql`select name from pgroll.migrations order by created_at`;
    expect(history.map((r) => r.name)).toEqual(["r01_items", "r02_who", "r03_upper"]);
  });

  test("a missing privilege is one line naming who lacks what; nothing changes", async () => {
    const before = await dumpSchema(db.sql, "public");
    const file = await migrationFile("r04_index.json", {
      operations: [{
        create_index: { name: "items_name", table: "items", columns: [{ column: "name" }] },
      }],
    });

    // The role does not own the table.
    const notOwner = await cli(loginUrl, ["start", "--role", other, file]);
    expect(notOwner.code).toBe(1);
    expect(notOwner.stderr.trim().split("\n")).toHaveLength(1);
    expect(notOwner.stderr).toContain("must be owner of table items");
    // Checked before any DDL (shape-checks.ts), so named without the --role annotation.
    expect(notOwner.stderr).toContain(`role "${other}" needs to own table "items"`);

    // The login user cannot read the state store (granting the role would not help).
    const noState = await cli(intruderUrl, ["start", "--role", deploy, file]);
    expect(noState.code).toBe(1);
    expect(noState.stderr.trim().split("\n")).toHaveLength(1);
    expect(noState.stderr).toContain(
      `user "${intruder}" (the state store runs as the login user, not --role) needs USAGE on schema "pgroll" and SELECT, INSERT, UPDATE, DELETE on its tables`,
    );

    // The login user is not a member of the role.
    const notMember = await cli(intruderUrl, ["status", "--role", other]);
    expect(notMember.code).toBe(1);
    expect(notMember.stderr.trim().split("\n")).toHaveLength(1);
    expect(notMember.stderr).toContain(
      `user "${intruder}" needs membership in role "${other}" (GRANT "${other}" TO "${intruder}")`,
    );

    expect(await dumpSchema(db.sql, "public")).toEqual(before);
    const [active] = await db.sql`select count(*)::int as n from pgroll.migrations where not done`;
    expect(active?.n).toBe(0);
  });

  test("asSessionUser: state statements inside the role's transaction run as the login user", async () => {
    const sql = await connect({ url: loginUrl, schema: "public", lockTimeoutMs: 0, role: deploy });
    try {
      const seen = await sql.begin(async (tx) => {
        const who = async () => (await tx`select current_user as name`)[0]?.name;
        const inside = await asSessionUser(tx, async () => {
          await tx`select count(*) from pgroll.migrations`;
          return await who();
        });
        return [inside, await who()];
      });
      expect(seen).toEqual([login, deploy]);
      await expect(sql`select count(*) from pgroll.migrations`).rejects.toThrow(
        "permission denied",
      );
    } finally {
      await sql.end();
    }
  });
});
