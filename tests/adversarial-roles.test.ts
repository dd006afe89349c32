/**
 * pgtandem the way production runs it, through the CLI: a non-superuser deployer role that is a
 * member of the role owning the tables (no replication, no pg_monitor, no SET on
 * session_replication_role), the state schema created by it, application roles with narrow
 * grants (SELECT only; column-level INSERT/UPDATE; USAGE on the schema only) using the versions
 * between start and complete and after, role and database settings, row-level security, and
 * failures at each step: a failed start leaves no trace, a failed complete leaves both versions
 * working and the next command succeeds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { dumpSchema, leftovers } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { runCli } from "../lib/cli/run.ts";
import { serverVersion, type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;
let major: number;
/** Role names, cluster-wide: unique per database. */
let team: string;
let deployer: string;
let reader: string;
let writer: string;
let visitor: string;
let deployerUrl: string;
const flags = ["--schema", "app"];

function urlAs(role: string): string {
  const url = new URL(db.url);
  url.username = role;
  url.password = "";
  return url.toString();
}

beforeAll(async () => {
  db = await testDatabase();
  major = await serverVersion();
  const suffix = db.name.slice(2, 12);
  team = `adv_roles_team_${suffix}`;
  deployer = `adv_roles_deployer_${suffix}`;
  reader = `adv_roles_reader_${suffix}`;
  writer = `adv_roles_writer_${suffix}`;
  visitor = `adv_roles_visitor_${suffix}`;
  await db.sql.unsafe(`
    CREATE ROLE ${team} NOLOGIN;
    CREATE ROLE ${deployer} LOGIN NOSUPERUSER NOREPLICATION NOBYPASSRLS IN ROLE ${team};
    CREATE ROLE ${reader} LOGIN;
    CREATE ROLE ${writer} LOGIN;
    CREATE ROLE ${visitor} LOGIN;
    REVOKE ALL ON SCHEMA public FROM PUBLIC;
    REVOKE TEMPORARY ON DATABASE "${db.name}" FROM PUBLIC;
    GRANT CREATE ON DATABASE "${db.name}" TO ${deployer};
    CREATE SCHEMA app AUTHORIZATION ${team};
    GRANT USAGE ON SCHEMA app TO ${reader}, ${writer}, ${visitor};
  `).simple();
  deployerUrl = urlAs(deployer);
  await cliOk(deployerUrl, ["init", ...flags]);
}, 60_000);

afterAll(async () => {
  if (!db) return;
  await db.drop();
  const admin = postgres(new URL("/postgres", db.url).toString(), { max: 1, onnotice: () => {} });
  for (const role of [deployer, reader, writer, visitor, team]) {
    await admin.unsafe(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  }
  await admin.end();
});

/**
 * Creates app.<name> (id, name, note) with `rows` rows through a migration `t_<name>` (its
 * version schema is `app_t_<name>`) whose SQL runs `extra` too (grants, policies: they exist
 * before the version's views), then hands the table to the team role.
 */
async function teamTable(name: string, rows: number, extra = ""): Promise<string> {
  const create = await file(`t_${name}`, [{
    sql: {
      up: `CREATE TABLE app.${name} (id serial PRIMARY KEY, name text NOT NULL, note text);
        INSERT INTO app.${name} (name, note)
        SELECT 'n' || g, 'x' || g FROM generate_series(1, ${rows}) g; ${extra}`,
    },
  }]);
  await cliOk(deployerUrl, ["start", "--complete", create, ...flags]);
  await db.sql.unsafe(`ALTER TABLE app.${name} OWNER TO ${team}`);
  return `app_t_${name}`;
}

/** Runs `fn` as `role` with search_path set to `schema` (a version schema), like a client. */
async function as<T>(role: string, schema: string, fn: (sql: postgres.Sql) => Promise<T>) {
  const sql = postgres(urlAs(role), {
    max: 1,
    onnotice: () => {},
    connection: { search_path: `"${schema}"` },
  });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The error message of `query`, or "ok" when it succeeds. */
async function outcome(query: Promise<unknown>): Promise<string> {
  try {
    await query;
    return "ok";
  } catch (error) {
    return (error as Error).message;
  }
}

async function file(name: string, operations: object[]): Promise<string> {
  return await migrationFile(`${name}.json`, { operations });
}

async function active(): Promise<number> {
  const [row] = await db.sql`select count(*)::int as n from pgroll.migrations
    where schema = 'app' and not done`;
  return row!.n as number;
}

async function versionSchemas(): Promise<string[]> {
  const rows = await db.sql`select nspname from pg_namespace where nspname like 'app\\_%'
    order by nspname`;
  return rows.map((r) => r.nspname as string);
}

/** The refusal contract: exit 1, one line, the schema, version schemas and state unchanged. */
async function expectNoTrace(args: string[], pattern: RegExp): Promise<string> {
  const before = await dumpSchema(db.sql, "app");
  const schemas = await versionSchemas();
  const [history] = await db.sql`select count(*)::int as n from pgroll.migrations`;
  const result = await cli(deployerUrl, [...args, ...flags]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(await dumpSchema(db.sql, "app")).toEqual(before);
  expect(await versionSchemas()).toEqual(schemas);
  const [after] = await db.sql`select count(*)::int as n from pgroll.migrations`;
  expect(after!.n).toBe(history!.n);
  expect(await active()).toBe(0);
  return result.stderr;
}

describe("a non-superuser deployer, member of the owning role", () => {
  test("the state schema is the deployer's; it has none of the privileged attributes", async () => {
    const [row] = await db.sql`select r.rolsuper, r.rolreplication, r.rolbypassrls,
        pg_has_role(${deployer}, 'pg_monitor', 'USAGE') as monitor,
        pg_get_userbyid(n.nspowner) as owner
      from pg_roles r, pg_namespace n where r.rolname = ${deployer} and n.nspname = 'pgroll'`;
    expect(row).toEqual({
      rolsuper: false,
      rolreplication: false,
      rolbypassrls: false,
      monitor: false,
      owner: deployer,
    });
    const status = await cliOk(deployerUrl, ["status", ...flags]);
    expect(status.stdout).toContain("app");
  });

  test("narrow grants carry to both versions' views, during and after the migration", async () => {
    const old = await teamTable(
      "people",
      20,
      `GRANT SELECT ON app.people TO ${reader};
       GRANT SELECT, INSERT (name), UPDATE (note) ON app.people TO ${writer};
       GRANT USAGE ON SEQUENCE app.people_id_seq TO ${writer};`,
    );
    const migration = await file("r02_people", [
      { rename_column: { table: "people", from: "note", to: "remark" } },
      {
        add_column: {
          table: "people",
          column: { name: "shout", type: "text", nullable: true },
          up: "upper(name)",
        },
      },
    ]);
    await cliOk(deployerUrl, ["start", migration, ...flags]);
    const next = "app_r02_people";
    // The reader reads both versions and writes neither.
    expect(await as(reader, old, (sql) => sql`select count(*)::int as n from people`))
      .toEqual([{ n: 20 }]);
    expect(await as(reader, next, (sql) => sql`select shout from people where id = 1`))
      .toEqual([{ shout: "N1" }]);
    expect(await as(reader, next, (sql) => outcome(sql`insert into people (name) values ('r')`)))
      .toMatch(/permission denied/);
    // The writer: INSERT (name) and UPDATE (note, "remark" in the new version), nothing else.
    await as(writer, old, (sql) => sql`insert into people (name) values ('w-old')`);
    await as(writer, next, (sql) => sql`insert into people (name) values ('w-new')`);
    await as(writer, next, (sql) => sql`update people set remark = 'r' where name = 'w-new'`);
    await as(writer, old, (sql) => sql`update people set note = 'o' where name = 'w-old'`);
    expect(await as(writer, next, (sql) => outcome(sql`update people set name = 'z'`)))
      .toMatch(/permission denied/);
    expect(
      await as(
        writer,
        old,
        (sql) => outcome(sql`insert into people (name, note) values ('a', 'b')`),
      ),
    )
      .toMatch(/permission denied/);
    // USAGE only: sees the schema, reads nothing.
    expect(await as(visitor, next, (sql) => outcome(sql`select * from people`)))
      .toMatch(/permission denied/);
    // Written through the new version, shout is what that client gave (nothing); through the
    // old one, the up expression's.
    const rows = await db.sql`select name, note, _pgroll_new_shout as shout from app.people
      where name like 'w-%' order by name`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { name: "w-new", note: "r", shout: null },
      { name: "w-old", note: "o", shout: "W-OLD" },
    ]);

    await cliOk(deployerUrl, ["complete", ...flags]);
    expect(await as(reader, next, (sql) => sql`select count(*)::int as n from people`))
      .toEqual([{ n: 22 }]);
    await as(writer, next, (sql) => sql`insert into people (name) values ('w-after')`);
    await as(writer, next, (sql) => sql`update people set remark = 'a' where name = 'w-after'`);
    expect(await as(writer, next, (sql) => outcome(sql`update people set name = 'z'`)))
      .toMatch(/permission denied/);
    expect(await as(visitor, next, (sql) => outcome(sql`select * from people`)))
      .toMatch(/permission denied/);
    const [after] = await db.sql`select remark, shout from app.people where name = 'w-after'`;
    expect({ ...after }).toEqual({ remark: "a", shout: null });
    const [owner] = await db.sql`select pg_get_userbyid(relowner) as owner from pg_class
      where oid = 'app.people'::regclass`;
    expect(owner!.owner).toBe(team);
  });
});

describe("column grants and row-level security", () => {
  test("a type change keeps column grants on the new column, in both versions and after", async () => {
    const old = await teamTable(
      "notes",
      30,
      `GRANT SELECT, UPDATE (note) ON app.notes TO ${writer};`,
    );
    await cliOk(deployerUrl, [
      "start",
      await file("r03_notes_type", [{
        alter_column: {
          table: "notes",
          column: "note",
          type: "varchar(50)",
          up: "note",
          down: "note",
        },
      }]),
      ...flags,
    ]);
    const next = "app_r03_notes_type";
    await as(writer, old, (sql) => sql`update people set note = 'p' where false`.catch(() => {}));
    await as(writer, old, (sql) => sql`update notes set note = 'old' where id = 1`);
    await as(writer, next, (sql) => sql`update notes set note = 'new' where id = 2`);
    expect(await as(writer, next, (sql) => outcome(sql`update notes set name = 'z' where id = 3`)))
      .toMatch(/permission denied/);
    expect(
      await as(writer, next, (sql) => sql`select id, note from notes where id <= 2 order by id`),
    )
      .toEqual([{ id: 1, note: "old" }, { id: 2, note: "new" }]);
    await cliOk(deployerUrl, ["complete", ...flags]);
    const [grant] = await db
      .sql`select has_column_privilege(${writer}, 'app.notes', 'note', 'UPDATE') as up,
        has_column_privilege(${writer}, 'app.notes', 'name', 'UPDATE') as name,
        format_type(atttypid, atttypmod) as type
      from pg_attribute where attrelid = 'app.notes'::regclass and attname = 'note'`;
    expect({ ...grant }).toEqual({ up: true, name: false, type: "character varying(50)" });
    await as(writer, next, (sql) => sql`update notes set note = 'after' where id = 3`);
    const [row] = await db.sql`select note from app.notes where id = 3`;
    expect(row!.note).toBe("after");
  });

  test("RLS with policies for an app role: the deployer (owner by membership) backfills every row; policies hold in the versions", async () => {
    const old = await teamTable(
      "tickets",
      40,
      `GRANT SELECT, UPDATE (note) ON app.tickets TO ${reader};
       ALTER TABLE app.tickets ENABLE ROW LEVEL SECURITY;
       CREATE POLICY mine ON app.tickets TO ${reader} USING (id <= 5);`,
    );
    await cliOk(deployerUrl, [
      "start",
      await file("r04_tickets", [{
        add_column: {
          table: "tickets",
          column: { name: "loud", type: "text", nullable: true },
          up: "upper(name)",
        },
      }]),
      ...flags,
    ]);
    const next = "app_r04_tickets";
    const [filled] = await db.sql`select count(*)::int as n,
      count(*) filter (where _pgroll_new_loud is distinct from upper(name))::int as unfilled
      from app.tickets`;
    expect({ ...filled }).toEqual({ n: 40, unfilled: 0 });
    // PostgreSQL 14 has no security_invoker: views apply their owner's (RLS-exempt) rights.
    const visible = major >= 15 ? 5 : 40;
    for (const schema of [old, next]) {
      expect(await as(reader, schema, (sql) => sql`select count(*)::int as n from tickets`))
        .toEqual([{ n: visible }]);
    }
    await as(reader, next, (sql) => sql`update tickets set note = 'seen'`);
    const [updated] = await db.sql`select count(*)::int as n from app.tickets where note = 'seen'`;
    expect(updated!.n).toBe(visible);
    await cliOk(deployerUrl, ["complete", ...flags]);
    expect(
      await as(
        reader,
        next,
        (sql) => sql`select count(*)::int as n, count(loud)::int as loud from tickets`,
      ),
    )
      .toEqual([{ n: visible, loud: visible }]);
  });

  test("FORCE ROW LEVEL SECURITY and row_security = off on the role: refused before any change", async () => {
    await teamTable(
      "vault",
      10,
      `ALTER TABLE app.vault ENABLE ROW LEVEL SECURITY;
       ALTER TABLE app.vault FORCE ROW LEVEL SECURITY;
       CREATE POLICY few ON app.vault USING (id <= 3);`,
    );
    await db.sql.unsafe(`ALTER ROLE ${deployer} SET row_security = off`);
    try {
      await expectNoTrace([
        "start",
        await file("r05_vault", [{
          add_column: {
            table: "vault",
            column: { name: "extra", type: "text", nullable: true },
            up: "name",
          },
        }]),
      ], /"vault".*BYPASSRLS/);
    } finally {
      await db.sql.unsafe(`ALTER ROLE ${deployer} RESET row_security`);
    }
    const [rows] = await db.sql`select count(*)::int as n from app.vault`;
    expect(rows!.n).toBe(10);
  });
});

describe("a failed start leaves no trace", () => {
  test("a unique column over duplicates", async () => {
    await teamTable("dupes", 10, `UPDATE app.dupes SET note = 'same' WHERE id <= 2;`);
    await expectNoTrace([
      "start",
      await file("r06_unique", [{
        alter_column: { table: "dupes", column: "note", unique: { name: "dupes_note_key" } },
      }]),
    ], /dupes/);
    expect(await leftovers(db.sql, "app")).toEqual([]);
  });

  test("a unique index over duplicates", async () => {
    await expectNoTrace([
      "start",
      await file("r07_index", [{
        create_index: {
          name: "dupes_note_idx",
          table: "dupes",
          columns: [{ column: "note" }],
          unique: true,
        },
      }]),
    ], /dupes/);
  });

  test("the second table of a migration belongs to a role the deployer is not in", async () => {
    await teamTable("mine", 5);
    await db.sql.unsafe(`CREATE TABLE app.theirs (id int PRIMARY KEY, v text);
      INSERT INTO app.theirs VALUES (1, 'a')`);
    await expectNoTrace(
      [
        "start",
        await file("r08_two", [
          { add_column: { table: "mine", column: { name: "a", type: "text", nullable: true } } },
          { add_column: { table: "theirs", column: { name: "b", type: "text", nullable: true } } },
        ]),
      ],
      new RegExp(
        `must be owner of table theirs: role "${deployer}" needs to own table "theirs" .*GRANT "postgres" TO "${deployer}"`,
      ),
    );
    await db.sql.unsafe(`DROP TABLE app.theirs`);
  });

  test("an up expression failing on one row in the middle of the backfill", async () => {
    await teamTable(
      "bumpy",
      300,
      `UPDATE app.bumpy SET note = '0' WHERE id = 250;
      UPDATE app.bumpy SET note = '1' WHERE id <> 250;`,
    );
    const before = await dumpSchema(db.sql, "app");
    const result = await cli(deployerUrl, [
      "start",
      "--backfill-batch-size",
      "100",
      await file("r09_bumpy", [{
        add_column: {
          table: "bumpy",
          column: { name: "ratio", type: "int", nullable: true },
          up: "100 / note::int",
        },
      }]),
      ...flags,
    ]);
    expect(result.code).toBe(1);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("Error:"));
    expect(errors).toEqual([
      'Error: failed to start migration "r09_bumpy", changes rolled back: cannot backfill table "bumpy": division by zero',
    ]);
    expect(await dumpSchema(db.sql, "app")).toEqual(before);
    expect(await versionSchemas()).not.toContain("app_r09_bumpy");
    expect(await active()).toBe(0);
  });
});

describe("role and database settings", () => {
  /** Applies `settings` with ALTER `target` … SET for the test's duration, then resets them. */
  async function withSettings(
    target: "role" | "database",
    settings: Record<string, string>,
    fn: () => Promise<void>,
  ): Promise<void> {
    const subject = target === "role" ? `ROLE ${deployer}` : `DATABASE "${db.name}"`;
    for (const [name, value] of Object.entries(settings)) {
      await db.sql.unsafe(`ALTER ${subject} SET ${name} = '${value}'`);
    }
    try {
      await fn();
    } finally {
      await db.sql.unsafe(`ALTER ${subject} RESET ALL`);
    }
  }

  const cases: [string, "role" | "database", Record<string, string>][] = [
    ["serializable, a 2 s statement_timeout and search_path = '' on the database", "database", {
      default_transaction_isolation: "serializable",
      statement_timeout: "2s",
      lock_timeout: "50ms",
      idle_in_transaction_session_timeout: "200ms",
      search_path: "",
    }],
    ["repeatable read, a 2 s statement_timeout and search_path = app on the role", "role", {
      default_transaction_isolation: "repeatable read",
      statement_timeout: "2s",
      lock_timeout: "50ms",
      idle_in_transaction_session_timeout: "200ms",
      search_path: "app",
    }],
  ];
  for (const [title, target, settings] of cases) {
    test(`${title}: a backfill longer than the timeout in all, then complete`, async () => {
      const table = `slow_${target}`;
      const old = await teamTable(
        table,
        600,
        `CREATE FUNCTION app.slow_${target}(text) RETURNS text LANGUAGE plpgsql AS
           $$ BEGIN PERFORM pg_sleep(0.005); RETURN upper($1); END $$;
         GRANT SELECT, INSERT (name), UPDATE (note) ON app.${table} TO ${writer};
         GRANT USAGE ON SEQUENCE app.${table}_id_seq TO ${writer};`,
      );
      await withSettings(target, settings, async () => {
        const name = `r10_${target}`;
        await cliOk(deployerUrl, [
          "start",
          "--backfill-batch-size",
          "100",
          await file(name, [{
            add_column: {
              table,
              column: { name: "loud", type: "text", nullable: true },
              up: `slow_${target}(name)`,
            },
          }]),
          ...flags,
        ]);
        const [state] = await db.sql.unsafe(`select count(*)::int as n,
          count(*) filter (where _pgroll_new_loud is distinct from upper(name))::int as unfilled
          from app.${table}`);
        expect({ ...state }).toEqual({ n: 600, unfilled: 0 });
        // The writer's sessions get the same defaults; both versions take its writes.
        await as(writer, old, (sql) => sql`insert into ${sql(table)} (name) values ('old')`);
        await as(
          writer,
          `app_${name}`,
          (sql) => sql`insert into ${sql(table)} (name) values ('new')`,
        );
        const status = await cliOk(deployerUrl, ["status", "--json", ...flags]);
        expect(status.stdout).toContain(name);
        await cliOk(deployerUrl, ["complete", ...flags]);
        const rows = await db.sql.unsafe(`select name, loud from app.${table}
          where name in ('old', 'new') order by name`);
        expect(rows.map((r) => ({ ...r }))).toEqual([
          { name: "new", loud: null },
          { name: "old", loud: "OLD" },
        ]);
        const [settled] = await db.sql.unsafe(`select count(*)::int as wrong from app.${table}
          where name not in ('old', 'new') and loud is distinct from upper(name)`);
        expect(settled!.wrong).toBe(0);
      });
    }, 60_000);
  }
});

describe("a complete that fails, or waits, half-way", () => {
  /** Starts r_<name>: adds "loud" (upper(name)) to a fresh team table; returns both versions. */
  async function started(table: string, name: string, grants = "") {
    const old = await teamTable(
      table,
      50,
      `GRANT SELECT, INSERT (name), UPDATE (note) ON app.${table} TO ${writer};
       GRANT USAGE ON SEQUENCE app.${table}_id_seq TO ${writer}; ${grants}`,
    );
    await cliOk(deployerUrl, [
      "start",
      await file(name, [{
        add_column: {
          table,
          column: { name: "loud", type: "text", nullable: true },
          up: "upper(name)",
        },
      }]),
      ...flags,
    ]);
    return { old, next: `app_${name}` };
  }

  /** The writer writes through both versions; each row is then as the trigger made it. */
  async function bothVersionsWork(
    table: string,
    versions: { old: string; next: string },
    tag: string,
  ) {
    await as(
      writer,
      versions.old,
      (sql) => sql`insert into ${sql(table)} (name) values (${`o-${tag}`})`,
    );
    await as(
      writer,
      versions.next,
      (sql) => sql`insert into ${sql(table)} (name) values (${`n-${tag}`})`,
    );
    await as(
      writer,
      versions.old,
      (sql) => sql`update ${sql(table)} set note = ${tag} where id = 1`,
    );
    const rows = await db.sql.unsafe(
      `select name, _pgroll_new_loud as loud from app.${table} where name like '_-${tag}' order by name`,
    );
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { name: `n-${tag}`, loud: null },
      { name: `o-${tag}`, loud: `O-${tag.toUpperCase()}` },
    ]);
    const [one] = await as(
      reader,
      versions.next,
      (sql) => sql`select note from ${sql(table)} where id = 1`,
    )
      .catch(() => [{ note: tag }]);
    expect(one?.note).toBe(tag);
  }

  test("the deployer loses its membership between start and complete; granted again, complete works", async () => {
    const versions = await started("lost", "r11_lost", `GRANT SELECT ON app.lost TO ${reader};`);
    await db.sql.unsafe(`REVOKE ${team} FROM ${deployer}`);
    try {
      const before = await dumpSchema(db.sql, "app");
      const failed = await cli(deployerUrl, ["complete", ...flags]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/permission denied for schema app\. Nothing was switched over/);
      expect(failed.stderr).toContain(`user "${deployer}" needs USAGE and CREATE on schema "app"`);
      expect(failed.stderr.trim().split("\n")).toHaveLength(1);
      expect(await dumpSchema(db.sql, "app")).toEqual(before);
      expect(await active()).toBe(1);
      // On PostgreSQL 14 the views read the table with their owner's (the deployer's) rights,
      // which the REVOKE took away: clients through the views wait for the GRANT there.
      if (major >= 15) await bothVersionsWork("lost", versions, "a");
    } finally {
      await db.sql.unsafe(`GRANT ${team} TO ${deployer}`);
    }
    await bothVersionsWork("lost", versions, "c");
    await cliOk(deployerUrl, ["complete", ...flags]);
    expect(await active()).toBe(0);
    expect(await versionSchemas()).not.toContain(versions.old);
    const [done] = await db.sql`select count(*)::int as wrong from app.lost
      where name not like 'n-%' and loud is distinct from upper(name)`;
    expect(done!.wrong).toBe(0);
  });

  test(
    "a transaction holding a lock on the table: complete waits outside the queue, clients keep working",
    async () => {
      const versions = await started("held", "r12_held", `GRANT SELECT ON app.held TO ${reader};`);
      const holder = await db.sql.reserve();
      await holder`begin`;
      await holder`lock table app.held in access share mode`;
      let released = false;
      const [{ pid }] = await holder`select pg_backend_pid() as pid`;
      // In process, so the test sees the progress lines as they come: it releases the lock only
      // once complete says it waits outside the queue (deterministic, no sleeps).
      let stderr = "";
      let saidWaiting: () => void = () => {};
      const waiting = new Promise<void>((resolve) => (saidWaiting = resolve));
      const completing = runCli(["complete", "--verbose", ...flags], {
        stdout: { write: () => {} },
        stderr: {
          write: (s: string) => {
            stderr += s;
            if (stderr.includes("waiting outside the lock queue")) saidWaiting();
          },
        },
        env: { PGROLL_PG_URL: deployerUrl },
      });
      try {
        await Promise.race([waiting, completing]);
        await bothVersionsWork("held", versions, "b");
        expect(await active()).toBe(1);
        await holder`commit`;
        released = true;
      } finally {
        if (!released) await holder`rollback`;
        holder.release();
      }
      expect(await completing).toBe(0);
      // Waited outside the queue even though this role cannot see other users' transaction
      // starts (no pg_read_all_stats): it never queued clients behind a lock_timeout attempt.
      expect(stderr).toContain(
        `waiting outside the lock queue: pid ${pid} holds AccessShareLock on "held"`,
      );
      expect(await active()).toBe(0);
      const [done] = await db.sql`select count(*)::int as wrong from app.held
      where name not like 'n-%' and loud is distinct from upper(name)`;
      expect(done!.wrong).toBe(0);
    },
    60_000,
  );

  test("an old client writing NULL into a column the new version makes NOT NULL is refused; complete then works", async () => {
    const old = await teamTable(
      "strict",
      20,
      `GRANT SELECT, INSERT (name, note), UPDATE (note) ON app.strict TO ${writer};
       GRANT USAGE ON SEQUENCE app.strict_id_seq TO ${writer};`,
    );
    await cliOk(deployerUrl, [
      "start",
      await file("r13_strict", [{
        alter_column: {
          table: "strict",
          column: "note",
          nullable: false,
          up: "note",
          down: "note",
        },
      }]),
      ...flags,
    ]);
    const next = "app_r13_strict";
    const refused = await as(
      writer,
      old,
      (sql) => outcome(sql`insert into strict (name, note) values ('bad', null)`),
    );
    expect(refused).toMatch(/constraint|null/i);
    await as(writer, old, (sql) => sql`insert into strict (name, note) values ('good', 'g')`);
    await as(writer, next, (sql) => sql`insert into strict (name, note) values ('new', 'n')`);
    expect(
      await as(writer, next, (sql) => outcome(sql`update strict set note = null where id = 1`)),
    )
      .toMatch(/constraint|null/i);
    await cliOk(deployerUrl, ["complete", ...flags]);
    const [state] = await db
      .sql`select count(*)::int as n, count(*) filter (where note is null)::int as nulls,
      bool_or(name = 'bad') as bad from app.strict`;
    expect({ ...state }).toEqual({ n: 22, nulls: 0, bad: false });
    const [column] = await db.sql`select attnotnull from pg_attribute
      where attrelid = 'app.strict'::regclass and attname = 'note'`;
    expect(column!.attnotnull).toBe(true);
  });
});

describe("a NOT NULL made at complete", () => {
  test("fails on a NULL an old client wrote: both versions still work; fixed, complete works", async () => {
    const old = await teamTable(
      "tasks",
      10,
      `GRANT SELECT, INSERT (name, note), UPDATE (note) ON app.tasks TO ${writer};
       GRANT USAGE ON SEQUENCE app.tasks_id_seq TO ${writer};`,
    );
    await cliOk(deployerUrl, [
      "start",
      await file("r22_tasks", [
        {
          add_column: {
            table: "tasks",
            column: { name: "loud", type: "text", nullable: true },
            up: "upper(name)",
          },
        },
        { sql: { up: "ALTER TABLE app.tasks ALTER COLUMN note SET NOT NULL", onComplete: true } },
      ]),
      ...flags,
    ]);
    const next = "app_r22_tasks";
    await as(writer, old, (sql) => sql`insert into tasks (name, note) values ('nul', null)`);
    const before = await dumpSchema(db.sql, "app");
    const failed = await cli(deployerUrl, ["complete", ...flags]);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split("\n")).toHaveLength(1);
    expect(failed.stderr).toMatch(/"note".*null/i);
    expect(failed.stderr).toContain("both versions still work");
    expect(await active()).toBe(1);
    expect(await dumpSchema(db.sql, "app")).toEqual(before);
    // Both versions take reads and writes.
    await as(writer, old, (sql) => sql`insert into tasks (name, note) values ('o', 'x')`);
    await as(writer, next, (sql) => sql`insert into tasks (name, note) values ('n', 'y')`);
    expect(await as(writer, next, (sql) => sql`select count(*)::int as n from tasks`))
      .toEqual([{ n: 13 }]);
    // The operator fixes the data; complete then goes through.
    await db.sql`update app.tasks set note = 'fixed' where note is null`;
    await cliOk(deployerUrl, ["complete", ...flags]);
    const [column] = await db.sql`select attnotnull from pg_attribute
      where attrelid = 'app.tasks'::regclass and attname = 'note'`;
    expect(column!.attnotnull).toBe(true);
    const [row] = await db.sql`select loud from app.tasks where name = 'nul'`;
    expect(row!.loud).toBe("NUL");
  });
});

describe("two deployers of the same team", () => {
  test("a second member of the owning role completes and rolls back what the first started", async () => {
    const second = `adv_roles_second_${db.name.slice(2, 12)}`;
    await db.sql.unsafe(`CREATE ROLE ${second} LOGIN IN ROLE ${team};
      GRANT USAGE ON SCHEMA pgroll TO ${second};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgroll TO ${second};`);
    const secondUrl = urlAs(second);
    try {
      const old = await teamTable("shared", 10, `GRANT SELECT ON app.shared TO ${reader};`);
      const add = (name: string) =>
        file(name, [{
          add_column: {
            table: "shared",
            column: { name: name.slice(4), type: "text", nullable: true },
            up: "upper(name)",
          },
        }]);
      // init in every pipeline run, by either login: the store exists, nothing to do.
      const state = await dumpSchema(db.sql, "pgroll");
      await cliOk(secondUrl, ["init", ...flags]);
      expect(await dumpSchema(db.sql, "pgroll")).toEqual(state);
      await cliOk(deployerUrl, ["start", await add("r14_first"), ...flags]);
      const next = "app_r14_first";
      // What the first deployer created (version schema, views, trigger functions) is its own:
      // the second cannot drop it. One line naming the object and the way out; nothing changed.
      const before = await dumpSchema(db.sql, "app");
      const refused = await cli(secondUrl, ["complete", ...flags]);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split("\n")).toHaveLength(1);
      expect(refused.stderr).toContain(
        `must be owner of schema ${old}. Nothing was switched over: both versions still work`,
      );
      expect(refused.stderr).toContain(`user "${second}" needs to own schema "${old}"`);
      expect(await dumpSchema(db.sql, "app")).toEqual(before);
      expect(await as(reader, old, (sql) => sql`select count(*)::int as n from shared`))
        .toEqual([{ n: 10 }]);
      expect(await as(reader, next, (sql) => sql`select first from shared where id = 1`))
        .toEqual([{ first: "N1" }]);
      await cliOk(deployerUrl, ["complete", ...flags]);

      // With --role the team role runs the DDL and owns what it creates: either member may go on.
      // Switching to it: the latest version schema, made before, is handed to the team once.
      await db.sql.unsafe(`GRANT CREATE ON DATABASE "${db.name}" TO ${team}`);
      await as(deployer, "app", (sql) => sql.unsafe(`ALTER SCHEMA ${next} OWNER TO ${team}`));
      const asTeam = [...flags, "--role", team];
      await cliOk(deployerUrl, ["start", await add("r15_again"), ...asTeam]);
      await cliOk(secondUrl, ["rollback", ...asTeam]);
      await cliOk(deployerUrl, ["start", await add("r16_third"), ...asTeam]);
      await cliOk(secondUrl, ["complete", ...asTeam]);
      expect(await versionSchemas()).toEqual(["app_r16_third"]);
      const [owner] = await db.sql`select pg_get_userbyid(nspowner) as owner from pg_namespace
        where nspname = 'app_r16_third'`;
      expect(owner!.owner).toBe(team);
      expect(
        await as(
          reader,
          "app_r16_third",
          (sql) => sql`select first, third from shared where id = 2`,
        ),
      )
        .toEqual([{ first: "N2", third: "N2" }]);
    } finally {
      await db.sql.unsafe(`REVOKE CREATE ON DATABASE "${db.name}" FROM ${team}`);
      await db.sql.unsafe(`DROP OWNED BY ${second} CASCADE`).catch(() => {});
      await db.sql.unsafe(`DROP ROLE ${second}`).catch(() => {});
    }
  });
});

describe("default privileges of the deployer", () => {
  test("do not give the version views more than the table grants", async () => {
    const old = await teamTable(
      "private",
      5,
      `GRANT SELECT (id, name) ON app.private TO ${writer};`,
    );
    // The operator's intent: tables the deployer creates are readable by the visitor role. The
    // views pgtandem creates must not hand that to tables the visitor cannot read.
    await db.sql.unsafe(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${deployer} GRANT SELECT ON TABLES TO ${visitor}`,
    );
    try {
      await cliOk(deployerUrl, [
        "start",
        await file("r17_private", [{
          rename_column: { table: "private", from: "note", to: "secret" },
        }]),
        ...flags,
      ]);
      const next = "app_r17_private";
      expect(await as(visitor, next, (sql) => outcome(sql`select * from private`)))
        .toMatch(/permission denied/);
      // The column-level reader keeps its columns only (PostgreSQL 14 checks the view's grants).
      if (major < 15) {
        expect(await as(writer, next, (sql) => sql`select id, name from private where id = 1`))
          .toEqual([{ id: 1, name: "n1" }]);
        expect(await as(writer, next, (sql) => outcome(sql`select secret from private`)))
          .toMatch(/permission denied/);
      }
      await cliOk(deployerUrl, ["complete", ...flags]);
      expect(await as(visitor, next, (sql) => outcome(sql`select * from private`)))
        .toMatch(/permission denied/);
      const [acl] = await db.sql`select relacl::text[] as acl from pg_class
        where oid = 'app_r17_private.private'::regclass`;
      expect((acl!.acl as string[] | null ?? []).some((a) => a.startsWith(`${visitor}=`))).toBe(
        false,
      );
      expect(old).toBe("app_t_private");
    } finally {
      await db.sql.unsafe(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${deployer} REVOKE SELECT ON TABLES FROM ${visitor}`,
      );
    }
  });
});

describe("more steps that fail", () => {
  test("a rollback that fails half-way changes nothing; granted again, rollback works", async () => {
    const versions = { old: await teamTable("undo", 20, `GRANT SELECT ON app.undo TO ${reader};`) };
    const before = await dumpSchema(db.sql, "app");
    await cliOk(deployerUrl, [
      "start",
      await file("r18_undo", [
        { rename_column: { table: "undo", from: "note", to: "memo" } },
        {
          add_column: {
            table: "undo",
            column: { name: "loud", type: "text", nullable: true },
            up: "upper(name)",
          },
        },
      ]),
      ...flags,
    ]);
    await db.sql.unsafe(`REVOKE ${team} FROM ${deployer}`);
    try {
      const during = await dumpSchema(db.sql, "app");
      const failed = await cli(deployerUrl, ["rollback", ...flags]);
      const schemas = await versionSchemas();
      expect(failed.code).toBe(1);
      expect(failed.stderr.trim().split("\n")).toHaveLength(1);
      expect(failed.stderr).toMatch(/permission denied|must be owner/);
      expect(failed.stderr).toContain(
        `Nothing was rolled back: both versions still work; the migration is still in progress: fix the cause and run "pgtandem rollback" again`,
      );
      expect(failed.stderr).toContain(deployer);
      expect(await dumpSchema(db.sql, "app")).toEqual(during);
      expect(await active()).toBe(1);
      // Both versions are still there (the version schema used to be dropped first, alone).
      expect(schemas).toContain("app_r18_undo");
      expect(schemas).toContain(versions.old);
    } finally {
      await db.sql.unsafe(`GRANT ${team} TO ${deployer}`);
    }
    expect(await as(reader, "app_r18_undo", (sql) => sql`select memo, loud from undo where id = 1`))
      .toEqual([{ memo: "x1", loud: "N1" }]);
    await cliOk(deployerUrl, ["rollback", ...flags]);
    expect(await dumpSchema(db.sql, "app")).toEqual(before);
    expect(await versionSchemas()).not.toContain("app_r18_undo");
    expect(await as(reader, versions.old, (sql) => sql`select note from undo where id = 1`))
      .toEqual([{ note: "x1" }]);
  });

  test("migrate a folder of YAML migrations into another schema, as the deployer", async () => {
    await db.sql.unsafe(`CREATE SCHEMA shop AUTHORIZATION ${team}`);
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "adv-roles-"));
    await writeFile(
      join(dir, "01_orders.yaml"),
      `operations:
  - create_table:
      name: orders
      columns:
        - { name: id, type: serial, pk: true }
        - { name: total, type: integer, nullable: true }
`,
    );
    await writeFile(
      join(dir, "02_status.yaml"),
      `operations:
  - add_column:
      table: orders
      column: { name: status, type: text, default: "'new'" }
  - alter_column:
      table: orders
      column: total
      nullable: false
      up: "coalesce(total, 0)"
      down: total
`,
    );
    const shop = ["--schema", "shop"];
    await cliOk(deployerUrl, ["init", ...shop]);
    await cliOk(deployerUrl, ["migrate", dir, "--complete", ...shop, "--to", "01_orders"]);
    await db.sql`insert into shop.orders (total) values (5), (null)`;
    await cliOk(deployerUrl, ["migrate", dir, "--complete", ...shop]);
    const rows = await db.sql`select id, total, status from shop.orders order by id`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, total: 5, status: "new" },
      { id: 2, total: 0, status: "new" },
    ]);
    const [column] = await db.sql`select attnotnull from pg_attribute
      where attrelid = 'shop.orders'::regclass and attname = 'total'`;
    expect(column!.attnotnull).toBe(true);
    const status = await cliOk(deployerUrl, ["status", "--json", ...shop]);
    expect(JSON.parse(status.stdout)).toMatchObject({ schema: "shop", version: "02_status" });
  });
});

describe("column grants meet new columns", () => {
  test("an INSERT (name) writer through versions whose new columns have defaults and up expressions", async () => {
    const old = await teamTable(
      "orders",
      10,
      `GRANT SELECT, INSERT (name), UPDATE (note) ON app.orders TO ${writer};
       GRANT USAGE ON SEQUENCE app.orders_id_seq TO ${writer};`,
    );
    await cliOk(deployerUrl, [
      "start",
      await file("r19_orders", [
        {
          add_column: {
            table: "orders",
            column: { name: "status", type: "text", default: "'new'" },
          },
        },
        {
          add_column: {
            table: "orders",
            column: { name: "loud", type: "text", nullable: true },
            up: "upper(name)",
          },
        },
      ]),
      ...flags,
    ]);
    const next = "app_r19_orders";
    // The view's default for "status" needs no INSERT grant on it; the up expression neither.
    await as(writer, next, (sql) => sql`insert into orders (name) values ('n')`);
    await as(writer, old, (sql) => sql`insert into orders (name) values ('o')`);
    expect(
      await as(
        writer,
        next,
        (sql) => outcome(sql`insert into orders (name, status) values ('x', 'y')`),
      ),
    )
      .toMatch(/permission denied/);
    const rows = await db.sql`select name, status, loud from app_r19_orders.orders
      where name in ('n', 'o') order by name`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { name: "n", status: "new", loud: null },
      { name: "o", status: "new", loud: "O" },
    ]);
    await cliOk(deployerUrl, ["complete", ...flags]);
    await as(writer, next, (sql) => sql`insert into orders (name) values ('a')`);
    const [after] = await db.sql`select status from app.orders where name = 'a'`;
    expect(after!.status).toBe("new");
  });
});

describe("init without the privileges it needs", () => {
  test("no CREATE on the database: one line naming it, nothing created", async () => {
    const lone = `adv_roles_lone_${db.name.slice(2, 12)}`;
    await db.sql.unsafe(`CREATE ROLE ${lone} LOGIN`);
    try {
      const result = await cli(urlAs(lone), ["init", ...flags, "--pgroll-schema", "lone_state"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `Error: permission denied for database ${db.name}: user "${lone}" needs CREATE on database "${db.name}" to create the state schema "lone_state"\n`,
      );
      expect(await db.sql`select 1 from pg_namespace where nspname = 'lone_state'`).toHaveLength(0);
    } finally {
      await db.sql.unsafe(`DROP ROLE ${lone}`);
    }
  });
});

describe("start without a privilege it needs", () => {
  test("no CREATE on the database (for the version schema): refused before any change", async () => {
    await teamTable("plain", 5);
    await db.sql.unsafe(`REVOKE CREATE ON DATABASE "${db.name}" FROM ${deployer}`);
    try {
      const migration = await file("r20_plain", [{
        add_column: {
          table: "plain",
          column: { name: "extra", type: "text", nullable: true },
          up: "name",
        },
      }]);
      const needed =
        `role "${deployer}" needs CREATE on database "${db.name}" to create the version schema "app_r20_plain" (GRANT CREATE ON DATABASE "${db.name}" TO "${deployer}"), or run with --use-version-schema=false`;
      expect(await expectNoTrace(["start", migration], /needs CREATE on database/))
        .toContain(needed);
      expect(await expectNoTrace(["plan", migration], /needs CREATE on database/))
        .toContain(needed);
      const validate = await cli(deployerUrl, ["validate", migration, ...flags]);
      expect(validate.code).toBe(1);
      expect(validate.stderr).toBe(`${migration}: ${needed}\n`);
    } finally {
      await db.sql.unsafe(`GRANT CREATE ON DATABASE "${db.name}" TO ${deployer}`);
    }
  });

  test("USAGE but no CREATE on the migrated schema (for the trigger functions): refused before any change", async () => {
    await db.sql.unsafe(`CREATE SCHEMA stock; GRANT USAGE ON SCHEMA stock TO ${deployer};
      CREATE TABLE stock.items (id int PRIMARY KEY, name text);
      INSERT INTO stock.items VALUES (1, 'a');
      ALTER TABLE stock.items OWNER TO ${team};`);
    const stock = ["--schema", "stock"];
    await cliOk(deployerUrl, ["init", ...stock]);
    const { mkdtemp } = await import("node:fs/promises");
    await cliOk(deployerUrl, [
      "baseline",
      "00_base",
      await mkdtemp("/tmp/adv-roles-base-"),
      "--yes",
      ...stock,
    ]);
    const before = await dumpSchema(db.sql, "stock");
    const result = await cli(deployerUrl, [
      "start",
      await file("s01_items", [{
        add_column: {
          table: "items",
          column: { name: "extra", type: "text", nullable: true },
          up: "name",
        },
      }]),
      ...stock,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(
      `role "${deployer}" needs CREATE on schema "stock" for the functions and tables the migration creates there (GRANT CREATE ON SCHEMA "stock" TO "${deployer}")`,
    );
    expect(await dumpSchema(db.sql, "stock")).toEqual(before);
    expect(await db.sql`select 1 from pg_namespace where nspname = 'stock_s01_items'`)
      .toHaveLength(0);
  });
});

describe("default_transaction_read_only = on", () => {
  for (const target of ["role", "database"] as const) {
    test(`on the ${target}: writing commands refuse with one line and change nothing; reading ones work`, async () => {
      await teamTable(`frozen_${target}`, 3);
      const where = target === "role" ? `ROLE ${deployer}` : `DATABASE "${db.name}"`;
      const reset = target === "role" ? `ALTER ROLE "${deployer}"` : `ALTER DATABASE "${db.name}"`;
      await db.sql.unsafe(`ALTER ${where} SET default_transaction_read_only = on`);
      try {
        const migration = await file(`r21_${target}`, [{
          add_column: {
            table: `frozen_${target}`,
            column: { name: "extra", type: "text", nullable: true },
          },
        }]);
        const line =
          `Error: default_transaction_read_only is on for user "${deployer}" in database "${db.name}" (${reset} SET): ` +
          `pgtandem will not change a database set read-only; run ${reset} RESET default_transaction_read_only, or connect as a user allowed to write\n`;
        for (const args of [["start", migration], ["start", "--complete", migration], ["init"]]) {
          expect(await expectNoTrace(args, /default_transaction_read_only/)).toBe(line);
        }
        const status = await cli(deployerUrl, ["status", "--json", ...flags]);
        expect(status.code).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({ schema: "app", status: "Complete" });
      } finally {
        await db.sql.unsafe(`ALTER ${where} RESET default_transaction_read_only`);
      }
    });
  }
});
