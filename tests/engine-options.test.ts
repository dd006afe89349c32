/**
 * Engine behaviour behind the global flags: lock_timeout with retry, --role, --schema (a schema
 * other than public, with an awkward name), --use-version-schema=false, --pgroll-schema, and
 * runs serialised by the advisory lock.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { columnNames, schemaExists, tableExists } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

const table = (name: string) => ({
  operations: [{
    create_table: {
      name,
      columns: [{ name: "id", type: "int", pk: true }, { name: "v", type: "text", nullable: true }],
    },
  }],
});

describe("lock_timeout", () => {
  test("behind a long transaction, DDL waits outside the lock queue: clients are not blocked", async () => {
    await cliOk(db.url, ["init"]);
    await cliOk(db.url, ["start", await migrationFile("l01.json", table("busy")), "--complete"]);
    const file = await migrationFile("l02.json", {
      operations: [{
        add_column: { table: "busy", column: { name: "w", type: "int", nullable: true } },
      }],
    });
    // A long reader: ACCESS SHARE, which the ADD COLUMN's ACCESS EXCLUSIVE must wait for.
    const blocker = await db.sql.reserve();
    await blocker.unsafe("begin");
    await blocker.unsafe("select * from busy limit 1");
    // "Long": its transaction has run longer than a typical OLTP transaction (lock-wait.ts).
    const [{ pid }] = await blocker.unsafe("select pg_backend_pid() as pid") as [{ pid: number }];
    for (;;) {
      const [age] = await db.sql`select extract(epoch from clock_timestamp() - xact_start) as s
        from pg_stat_activity where pid = ${pid}`;
      if (Number(age!.s) > 0.2) break;
    }
    // A lock_timeout long enough that, had start joined the queue, the client below would stall.
    const started = cli(db.url, ["start", file, "--lock-timeout", "60000", "--verbose"]);
    for (;;) {
      const [waiting] = await db.sql`select count(*)::int as n from pg_stat_activity
        where datname = ${db.name} and application_name like 'pgtandem%'
          and query like '%waiting-outside-the-queue%'`;
      if (waiting!.n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [queued] = await db.sql`select count(*)::int as n from pg_locks l
      join pg_stat_activity a on a.pid = l.pid
      where not l.granted and a.application_name like 'pgtandem%' and a.datname = ${db.name}`;
    expect(queued!.n).toBe(0);
    // A client write goes through while the migration waits (it would queue behind an
    // ACCESS EXCLUSIVE request and hit its own 2 s lock_timeout).
    await db.sql.begin(async (tx) => {
      await tx`set local lock_timeout = '2s'`;
      await tx`insert into busy (id, v) values (1000, 'client')`;
    });
    await blocker.unsafe("commit");
    blocker.release();
    const result = await started;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /waiting outside the lock queue: pid \d+ holds AccessShareLock on "busy" \(its transaction has run \d+ ms\)/,
    );
    await cliOk(db.url, ["complete"]);
    expect(await columnNames(db.sql, "public", "busy")).toContain("w");
  });

  test("an invalid --lock-timeout is a clear error", async () => {
    const result = await cli(db.url, ["status", "--lock-timeout", "soon"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--lock-timeout: expected an integer/);
  });
});

describe("schemas", () => {
  test("--schema with an awkward name and a separate --pgroll-schema", async () => {
    const schema = `my "app"; schema`;
    await db.sql.unsafe(`create schema "my ""app""; schema"`);
    const flags = ["--schema", schema, "--pgroll-schema", "state two"];
    await cliOk(db.url, ["init", ...flags]);
    await cliOk(db.url, ["start", await migrationFile("s01.json", table("things")), ...flags]);
    expect(await schemaExists(db.sql, `${schema}_s01`)).toBe(true);
    expect(await tableExists(db.sql, schema, "things")).toBe(true);
    await cliOk(db.url, ["complete", ...flags]);
    const { stdout } = await cliOk(db.url, ["status", ...flags]);
    expect(JSON.parse(stdout)).toEqual({ schema, version: "s01", status: "Complete" });
    const rows = await db.sql`select name from "state two".migrations`;
    expect(rows.map((r) => r.name)).toEqual(["s01"]);
  });

  test("--use-version-schema=false creates no version schema", async () => {
    await db.sql`create schema plain`;
    const flags = ["--schema", "plain", "--use-version-schema=false"];
    const result = await cliOk(db.url, [
      "start",
      await migrationFile("p01.json", table("t1")),
      ...flags,
    ]);
    expect(result.stdout).toMatch(/Migration "p01" started successfully/);
    expect(await schemaExists(db.sql, "plain_p01")).toBe(false);
    await cliOk(db.url, ["rollback", ...flags]);
    expect(await tableExists(db.sql, "plain", "t1")).toBe(false);
  });
});

describe("--role", () => {
  test("statements run as the given role", async () => {
    await db.sql`create role migrator`;
    await db.sql`create schema owned authorization migrator`;
    await db.sql.unsafe(`grant create on database "${db.name}" to migrator`);
    const flags = ["--schema", "owned", "--pgroll-schema", "owned_state", "--role", "migrator"];
    await cliOk(db.url, ["init", ...flags]);
    await cliOk(db.url, [
      "start",
      await migrationFile("r01.json", table("mine")),
      "--complete",
      ...flags,
    ]);
    const [owner] = await db.sql`
      select pg_get_userbyid(relowner) as owner from pg_class where oid = 'owned.mine'::regclass`;
    expect(owner!.owner).toBe("migrator");
  });
});

describe("serialised runs", () => {
  test("two starts racing: exactly one wins, the other is refused cleanly", async () => {
    const a = await migrationFile("race_a.json", table("race_a"));
    const b = await migrationFile("race_b.json", table("race_b"));
    const results = await Promise.all([cli(db.url, ["start", a]), cli(db.url, ["start", b])]);
    const codes = results.map((r) => r.code).sort();
    expect(codes).toEqual([0, 1]);
    const loser = results.find((r) => r.code === 1)!;
    expect(loser.stderr).toMatch(/is already in progress/);
    await cliOk(db.url, ["rollback"]);
    expect(await tableExists(db.sql, "public", "race_a")).toBe(false);
    expect(await tableExists(db.sql, "public", "race_b")).toBe(false);
  });
});
