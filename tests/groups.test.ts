/**
 * Migration groups (docs/migration-groups.md), the acceptance test of the design memo (§3.6),
 * through the CLI on real PostgreSQL. Folder v1..v4 over `users` (10k rows): v2 adds `email`
 * (with `up`) and renames name → full_name; v3 changes `amount`'s type and adds an index; v4
 * creates `orders` and renames full_name → display_name. v1 is deployed; `migrate` then starts
 * v2..v4 as ONE group: only v1 and v4 are served, one backfill, one complete or one rollback.
 * Each test works in a schema of its own.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dumpSchema, leftovers, tableRows } from "./helpers/catalog.ts";
import { cli, cliOk } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
});

afterAll(async () => {
  await db?.drop();
});

const v1 = {
  operations: [{
    create_table: {
      name: "users",
      columns: [
        { name: "id", type: "serial", pk: true },
        { name: "name", type: "text", nullable: true },
        { name: "amount", type: "integer", nullable: true },
      ],
    },
  }],
};
const v2 = {
  operations: [
    {
      add_column: {
        table: "users",
        column: { name: "email", type: "text", nullable: true },
        up: "lower(name) || '@example.com'",
      },
    },
    { rename_column: { table: "users", from: "name", to: "full_name" } },
  ],
};
/** int → bigint, the value multiplied by 10 on the way (so a missed conversion shows). */
const amountToBigint = {
  alter_column: {
    table: "users",
    column: "amount",
    type: "bigint",
    up: "amount * 10",
    down: "(amount / 10)::integer",
  },
};
const v3 = {
  operations: [
    amountToBigint,
    { create_index: { name: "users_amount_idx", table: "users", columns: [{ column: "amount" }] } },
  ],
};
const v4 = {
  operations: [
    {
      create_table: {
        name: "orders",
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "user_id", type: "integer", nullable: true },
        ],
      },
    },
    { rename_column: { table: "users", from: "full_name", to: "display_name" } },
  ],
};
/** Changes `email`, which v2 adds: a group cannot hold both yet (phase 1). */
const emailNotNull = {
  operations: [{
    alter_column: {
      table: "users",
      column: "email",
      nullable: false,
      up: "coalesce(email, '')",
      down: "email",
    },
  }],
};
const FILES = { "v1.json": v1, "v2.json": v2, "v3.json": v3, "v4.json": v4 };

/** A temporary folder holding `files` (objects as JSON). */
async function folder(files: Record<string, object>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pgtandem-groups-"));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, name), JSON.stringify(content, null, 2));
  }
  return dir;
}

/**
 * A schema of its own with v1 deployed (completed, its version schema served) and 10k users,
 * and a folder holding `files` (v1..v4 by default).
 */
async function deployedV1(
  schema: string,
  files: Record<string, object> = FILES,
  v1Args: string[] = [],
) {
  await db.sql.unsafe(`create schema "${schema}"`);
  const env = { PGROLL_SCHEMA: schema };
  const p = {
    schema,
    run: (args: string[]) => cli(db.url, args, env),
    ok: (args: string[]) => cliOk(db.url, args, env),
    dir: await folder({ "v1.json": v1, ...files }),
    history: async () =>
      (await db.sql`select name, parent, done, migration, created_at, resulting_schema
        from pgroll.migrations where schema = ${schema} order by created_at`).map((r) => ({
        ...r,
      })),
    versionSchemas: async () =>
      (await db.sql`select nspname from pg_namespace where nspname like ${`${schema}\\_%`}
        order by nspname`).map((r) => r.nspname as string),
    state: async () => {
      const [row] = await db.sql`select pgroll.latest_migration(${schema}) as latest_migration,
        pgroll.latest_version(${schema}) as latest_version,
        pgroll.previous_version(${schema}) as previous_version`;
      return { ...row };
    },
    snapshot: async () => ({
      schema: await dumpSchema(db.sql, schema),
      rows: await tableRows(db.sql, schema, "users"),
      versionSchemas: await p.versionSchemas(),
      history: (await p.history()).map((h) => h.name),
    }),
  };
  await p.ok(["migrate", await folder({ "v1.json": v1 }), "--complete", ...v1Args]);
  await db.sql.unsafe(`insert into "${schema}".users (name, amount)
    select 'User ' || g, g from generate_series(1, 10000) g`);
  return p;
}

/** Inserts through a version schema (as a client whose search_path is that version). */
async function insertVia(versionSchema: string, columns: string, values: string): Promise<void> {
  await db.sql.begin(async (tx) => {
    await tx.unsafe(`set local search_path to "${versionSchema}"`);
    await tx.unsafe(`insert into users (${columns}) values ${values}`);
  });
}

async function selectVia(versionSchema: string, query: string) {
  return await db.sql.begin(async (tx) => {
    await tx.unsafe(`set local search_path to "${versionSchema}"`);
    return (await tx.unsafe(query)).map((r) => ({ ...r }));
  });
}

describe("migrate DIR with several unapplied files starts one group", () => {
  test("only v1 and v4 are served; one active row; pgroll's functions agree", async () => {
    const p = await deployedV1("g_basic");
    const before = await p.snapshot();
    const result = await p.ok(["migrate", p.dir, "--verbose"]);
    expect(result.stdout).toContain('Migration group "v4" started: "v2", "v3" and "v4"');
    // One backfill per table for the whole group (v2's email and v3's amount: one pass).
    expect(result.stderr.match(/backfilling table "users"/g)).toHaveLength(1);
    expect(await p.versionSchemas()).toEqual(["g_basic_v1", "g_basic_v4"]);
    const history = await p.history();
    expect(history.filter((h) => !h.done).map((h) => [h.name, h.parent])).toEqual([["v4", "v1"]]);
    expect(history.map((h) => h.name)).toEqual(["v1", "v4"]);
    expect(await p.state()).toEqual({
      latest_migration: "v4",
      latest_version: "v4",
      previous_version: "v1",
    });
    // The active row is pgroll's ordinary migration: every member's operations, in order.
    const active = history.find((h) => !h.done)!;
    expect(active.migration).toEqual({
      version_schema: "v4",
      operations: [...v2.operations, ...v3.operations, ...v4.operations],
    });

    // While it is active, migrate says so and changes nothing (pgroll's message, exit 0).
    const during = await p.snapshot();
    const again = await p.run(["migrate", p.dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^migration "v4" is active/);
    expect(await p.snapshot()).toEqual(during);

    // Rollback: exactly as before migrate, history ends at v1.
    await p.ok(["rollback"]);
    expect(await p.snapshot()).toEqual(before);
    expect((await p.state()).latest_migration).toBe("v1");

    // And migrate again.
    await p.ok(["migrate", p.dir]);
    expect(await p.versionSchemas()).toEqual(["g_basic_v1", "g_basic_v4"]);
  });

  test("writers on v1 and v4 at once; complete expands history file by file", async () => {
    const p = await deployedV1("g_writers");
    await p.ok(["migrate", p.dir]);
    const old = "g_writers_v1";
    const latest = "g_writers_v4";
    // Concurrent writers on both versions: no errors, no lost rows.
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      writes.push(insertVia(old, "name, amount", `('Old ${i}', ${i})`));
      writes.push(
        insertVia(latest, "display_name, email, amount", `('New ${i}', 'new${i}@x', ${i * 10})`),
      );
    }
    await Promise.all(writes);
    expect(await selectVia(old, "select count(*)::int as n from users")).toEqual([{ n: 10040 }]);
    expect(await selectVia(latest, "select count(*)::int as n from users")).toEqual([{ n: 10040 }]);
    // v1 writes show up in v4 (email from up, amount converted) and the other way round.
    expect(
      await selectVia(
        latest,
        "select display_name, email, amount from users where display_name = 'Old 3'",
      ),
    ).toEqual([{ display_name: "Old 3", email: "old 3@example.com", amount: "30" }]);
    expect(await selectVia(old, "select name, amount from users where name = 'New 3'")).toEqual([
      { name: "New 3", amount: 3 },
    ]);
    // Backfilled rows too.
    expect(
      await selectVia(latest, "select display_name, email, amount from users where id = 7"),
    ).toEqual([{ display_name: "User 7", email: "user 7@example.com", amount: "70" }]);

    await p.ok(["complete"]);
    expect(await p.versionSchemas()).toEqual([latest]);
    expect(await leftovers(db.sql, p.schema)).toEqual([]);
    const history = await p.history();
    expect(history.map((h) => [h.name, h.parent, h.done])).toEqual([
      ["v1", null, true],
      ["v2", "v1", true],
      ["v3", "v2", true],
      ["v4", "v3", true],
    ]);
    // Each row holds its file's JSON; created_at strictly increasing.
    expect(history.slice(1).map((h) => h.migration)).toEqual([v2, v3, v4]);
    for (let i = 1; i < history.length; i++) {
      expect(history[i]!.created_at.getTime()).toBeGreaterThanOrEqual(
        history[i - 1]!.created_at.getTime(),
      );
    }
    const [strict] = await db.sql`select bool_and(a.created_at < b.created_at) as increasing
      from pgroll.migrations a join pgroll.migrations b on b.parent = a.name and b.schema = a.schema
      where a.schema = ${p.schema}`;
    expect(strict!.increasing).toBe(true);
    // pgroll's view: the tip is v4, and ordering by created_at alone gives the folder's order.
    expect((await p.state()).latest_migration).toBe("v4");
    const pgrollOrder = await db.sql`select name from pgroll.migrations where schema = ${p.schema}
      order by created_at`;
    expect(pgrollOrder.map((r) => r.name)).toEqual(["v1", "v2", "v3", "v4"]);
    expect(history.at(-1)!.resulting_schema).toHaveProperty("tables.users");
    expect(history[1]!.resulting_schema).toEqual({});
    // The folder and the history agree.
    expect((await p.ok(["migrate", p.dir])).stdout).toContain("Database is up to date");
    // The data: v1's writes converted, v4's writes kept.
    expect(
      await db.sql.unsafe(
        `select display_name, email, amount from "${p.schema}".users where display_name in ('Old 3', 'New 3') order by 1`,
      ),
    ).toEqual([
      { display_name: "New 3", email: "new3@x", amount: "30" },
      { display_name: "Old 3", email: "old 3@example.com", amount: "30" },
    ]);
  });
});

/** The CLI as a separate process, so it can be killed. */
function spawnCli(schema: string, args: string[]) {
  const child = spawn(process.execPath, [join(root, "main.ts"), ...args], {
    env: { ...process.env, PGROLL_PG_URL: db.url, PGROLL_SCHEMA: schema },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited };
}

/** Polls `check` until it holds; fails the test after a minute (a failure detector only). */
async function until(what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("SIGKILL during the group's backfill", () => {
  async function killedMidBackfill(schema: string) {
    const p = await deployedV1(schema);
    const before = await p.snapshot();
    const run = spawnCli(schema, [
      "migrate",
      p.dir,
      "--backfill-batch-size",
      "100",
      "--backfill-batch-delay",
      "300ms",
    ]);
    // About 100 batches 300 ms apart: the kill lands in the middle of the backfill.
    await until("the backfill has saved progress", async () => {
      const rows = await db.sql`select 1 from pgroll.pgtandem_runs
        where schema = ${schema} and name = 'v4' and backfill->'tables' <> '{}'::jsonb`;
      return rows.length > 0;
    });
    run.child.kill("SIGKILL");
    expect(await run.exited).not.toBe(0);
    return { p, before };
  }

  test("then rollback restores exactly", async () => {
    const { p, before } = await killedMidBackfill("g_kill_rb");
    await p.ok(["rollback"]);
    expect(await p.snapshot()).toEqual(before);
    expect(await leftovers(db.sql, p.schema)).toEqual([]);
  });

  test("then complete resumes the backfill and expands history", async () => {
    const { p } = await killedMidBackfill("g_kill_c");
    const completed = await p.ok(["complete", "--verbose"]);
    expect(completed.stderr).toContain('resuming the interrupted backfill of migration "v4"');
    expect((await p.history()).map((h) => [h.name, h.done])).toEqual([
      ["v1", true],
      ["v2", true],
      ["v3", true],
      ["v4", true],
    ]);
    const [row] = await db.sql.unsafe(
      `select count(*)::int as n, count(*) filter (where email = lower(display_name) || '@example.com'
        and amount = id * 10)::int as converted from "${p.schema}".users`,
    );
    expect(row).toEqual({ n: 10000, converted: 10000 });
    expect(await leftovers(db.sql, p.schema)).toEqual([]);
  });
});

describe("what a group refuses, before anything changes", () => {
  async function expectRefused(
    p: Awaited<ReturnType<typeof deployedV1>>,
    args: string[],
    message: RegExp,
  ) {
    const before = await p.snapshot();
    const result = await p.run(args);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(await p.snapshot()).toEqual(before);
  }

  test("a later member alters a column an earlier member added: both files named", async () => {
    const p = await deployedV1("g_add_alter", {
      "v2.json": v2,
      "v3.json": emailNotNull,
    });
    await expectRefused(
      p,
      ["migrate", p.dir],
      /v3\.json: operations\[0\]\.alter_column\.column: cannot be in one group with \S*v2\.json.*column "email".*--one-by-one/,
    );
    // One by one, the same folder goes through (what the message offers).
    await p.ok(["migrate", p.dir, "--one-by-one"]);
    expect((await p.history()).map((h) => [h.name, h.done])).toEqual([
      ["v1", true],
      ["v2", true],
      ["v3", false],
    ]);
  });

  test("a raw SQL member that must run alone: named, with the file to stop before", async () => {
    const p = await deployedV1("g_sql", {
      "v2.json": v2,
      "v3.json": { operations: [{ sql: { up: "create table t (id int)", down: "drop table t" } }] },
      "v4.json": v4,
    });
    await expectRefused(
      p,
      ["migrate", p.dir],
      /v3\.json: operations\[0\]\.sql: a raw SQL operation without onComplete cannot be part of a migration group.*--to v2/,
    );
    // --to stops after a member: v2 alone is an ordinary migration.
    await p.ok(["migrate", p.dir, "--to", "v2"]);
    expect((await p.history()).map((h) => h.name)).toEqual(["v1", "v2"]);
  });

  test("a member already in history, and start of a group while one is active", async () => {
    const p = await deployedV1("g_state");
    const files = ["v2.json", "v3.json"].map((f) => join(p.dir, f));
    await p.ok(["start", ...files]);
    const refused = await p.run(["start", join(p.dir, "v4.json")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/"v3" is already in progress/);
    await p.ok(["rollback"]);
    await p.ok(["start", join(p.dir, "v2.json"), "--complete"]);
    await expectRefused(
      p,
      ["start", ...files],
      /v2\.json: migration "v2" is already in the history of schema "g_state"/,
    );
  });
});

describe("groups with start, --one-by-one and --to", () => {
  test("start F2 F3 F4 is the same group as migrate; complete it", async () => {
    const p = await deployedV1("g_start");
    const files = ["v2.json", "v3.json", "v4.json"].map((f) => join(p.dir, f));
    const started = await p.ok(["start", ...files]);
    expect(started.stdout).toContain('"g_start_v4" schema');
    expect(await p.versionSchemas()).toEqual(["g_start_v1", "g_start_v4"]);
    // pull while the group is in flight writes the members, file by file.
    const pulled = await mkdtemp(join(tmpdir(), "pgtandem-groups-pull-"));
    await p.ok(["pull", pulled, "--json"]);
    expect((await readdir(pulled)).sort()).toEqual(["v1.json", "v2.json", "v3.json", "v4.json"]);
    expect(JSON.parse(await readFile(join(pulled, "v3.json"), "utf8"))).toEqual(v3);
    await p.ok(["complete"]);
    expect((await p.history()).map((h) => h.name)).toEqual(["v1", "v2", "v3", "v4"]);
    expect((await p.ok(["migrate", p.dir])).stdout).toContain("Database is up to date");
  });

  test("alter then alter of one column across members merges into one change", async () => {
    const p = await deployedV1("g_alter_alter", {
      "v2.json": { operations: [amountToBigint] },
      "v3.json": {
        operations: [{
          alter_column: {
            table: "users",
            column: "amount",
            nullable: false,
            up: "coalesce(amount, 0)",
            down: "amount",
          },
        }],
      },
    });
    await p.ok(["migrate", p.dir]);
    expect(await p.versionSchemas()).toEqual(["g_alter_alter_v1", "g_alter_alter_v3"]);
    await insertVia("g_alter_alter_v1", "name, amount", "('Old', null)");
    expect(await selectVia("g_alter_alter_v3", "select amount from users where name = 'Old'"))
      .toEqual([{ amount: "0" }]);
    await p.ok(["complete"]);
    const [column] = await db.sql`select data_type, is_nullable from information_schema.columns
      where table_schema = 'g_alter_alter' and table_name = 'users' and column_name = 'amount'`;
    expect({ ...column }).toEqual({ data_type: "bigint", is_nullable: "NO" });
    expect((await p.history()).map((h) => h.name)).toEqual(["v1", "v2", "v3"]);
  });

  test("--one-by-one keeps pgroll's behaviour; --complete too; --json reports a group", async () => {
    const p = await deployedV1("g_one");
    const result = await p.ok(["migrate", p.dir, "--one-by-one"]);
    expect(result.stderr).toMatch(/^Warning: applying 3 migrations completes "v2"/);
    expect(await p.versionSchemas()).toEqual(["g_one_v3", "g_one_v4"]);
    await p.ok(["rollback"]);

    // --complete: one by one too (the end state is the same), every version but the last gone.
    const r = await deployedV1("g_complete");
    await r.ok(["migrate", r.dir, "--complete"]);
    expect(await r.versionSchemas()).toEqual(["g_complete_v4"]);
    expect((await r.history()).map((h) => [h.name, h.done])).toEqual([
      ["v1", true],
      ["v2", true],
      ["v3", true],
      ["v4", true],
    ]);

    const q = await deployedV1("g_json");
    const report = JSON.parse((await q.ok(["migrate", q.dir, "--json"])).stdout);
    expect(report).toMatchObject({
      status: "applied",
      applied: [
        { name: "v2", completed: false, versionSchema: null },
        { name: "v3", completed: false, versionSchema: null },
        { name: "v4", completed: false, versionSchema: "g_json_v4" },
      ],
      removedVersionSchemas: [],
      activeMigration: "v4",
      group: { name: "v4", members: ["v2", "v3", "v4"] },
    });
  });

  test("migrate --help says when group mode applies", async () => {
    const help = (await cliOk(db.url, ["migrate", "--help"])).stdout;
    expect(help).toMatch(/--one-by-one/);
    expect(help).toMatch(/--to /);
    expect(help.replace(/\s+/g, " ")).toContain(
      "Group mode: when more than one file is unapplied, --complete and --one-by-one are not given and a version schema is deployed",
    );
  });

  test("--to NAME stops after a member; an unknown NAME changes nothing", async () => {
    const p = await deployedV1("g_to");
    const bad = await p.run(["migrate", p.dir, "--to", "v9"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--to "v9": no such unapplied migration/);
    await p.ok(["migrate", p.dir, "--to", "v3"]);
    expect(await p.versionSchemas()).toEqual(["g_to_v1", "g_to_v3"]);
    await p.ok(["complete"]);
    expect((await p.history()).map((h) => h.name)).toEqual(["v1", "v2", "v3"]);
  });
});

describe("pgroll's own complete of a group", () => {
  test("a done composite row is written file by file by the next migrate", async () => {
    const p = await deployedV1("g_pgroll");
    await p.ok(["migrate", p.dir]);
    // What pgroll's complete does to the state: the active row becomes done, nothing else.
    await db.sql`update pgroll.migrations set done = true,
      resulting_schema = pgroll.read_schema(${p.schema}) where schema = ${p.schema} and name = 'v4'`;
    const result = await p.ok(["migrate", p.dir]);
    expect(result.stdout).toContain('History of the completed migration group "v4" written');
    expect(result.stdout).toContain("Database is up to date");
    expect((await p.history()).map((h) => [h.name, h.parent])).toEqual([
      ["v1", null],
      ["v2", "v1"],
      ["v3", "v2"],
      ["v4", "v3"],
    ]);
  });
});

describe("plan and validate show the group", () => {
  test("validate DIR checks the group as start would; plan DIR plans it", async () => {
    const p = await deployedV1("g_plan");
    const before = await p.snapshot();
    const valid = await p.ok(["validate", p.dir]);
    expect(valid.stdout).toContain(
      `${p.dir}: valid (migrate starts "v2", "v3" and "v4" as one migration group)`,
    );
    const json = JSON.parse((await p.ok(["plan", p.dir, "--json"])).stdout);
    expect(json.migration).toBe("v4");
    expect(json.versionSchema).toBe("g_plan_v4");
    expect(json.group).toEqual({ members: ["v2", "v3", "v4"], migrate: "group" });
    // One backfill for the group's table.
    expect(json.backfill.map((b: { table: string }) => b.table)).toEqual(["users"]);
    // complete drops the deployed version in the switch-over transaction, and no other.
    const switchOver = json.phases.find((ph: { phase: string }) => ph.phase === "switch-over");
    const drops = switchOver.statements.map((s: { sql: string }) => s.sql).filter((sql: string) =>
      sql.startsWith("DROP SCHEMA")
    );
    expect(drops).toEqual(['DROP SCHEMA IF EXISTS "g_plan_v1" CASCADE']);
    const human = (await p.ok(["plan", p.dir])).stdout;
    expect(human).toMatch(
      /^Migration group "v4": "v2", "v3" and "v4" start, complete and roll back/,
    );
    // plan F2 F3 is the group start would run.
    const files = JSON.parse(
      (await p.ok(["plan", join(p.dir, "v2.json"), join(p.dir, "v3.json"), "--json"])).stdout,
    );
    expect(files.group).toEqual({ members: ["v2", "v3"], migrate: null });
    expect(await p.snapshot()).toEqual(before);
  });

  test("validate DIR names the member files of a refused group", async () => {
    const p = await deployedV1("g_validate", {
      "v2.json": v2,
      "v3.json": emailNotNull,
    });
    const result = await p.run(["validate", p.dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /v3\.json: operations\[0\]\.alter_column\.column: cannot be in one group with \S*v2\.json/,
    );
    const json = JSON.parse((await p.run(["validate", p.dir, "--json"])).stdout);
    expect(json).toMatchObject({ valid: false, mode: "group", migrations: ["v2", "v3"] });
    expect(json.issues[0].file).toBe(join(p.dir, "v3.json"));
  });
});

describe("what a group allows", () => {
  test("rename chains, add then rename, create then change, index then drop, own version_schema", async () => {
    const p = await deployedV1("g_allowed", {
      "v2.json": {
        version_schema: "second",
        operations: [
          { rename_table: { from: "users", to: "members" } },
          {
            add_column: {
              table: "members",
              column: { name: "nick", type: "text", nullable: true },
              up: "'n' || id",
            },
          },
          {
            create_table: {
              name: "tags",
              columns: [{ name: "id", type: "serial", pk: true }],
            },
          },
          {
            create_index: {
              name: "members_amount_idx",
              table: "members",
              columns: [{ column: "amount" }],
            },
          },
        ],
      },
      "v3.json": {
        operations: [
          { rename_table: { from: "members", to: "people" } },
          { rename_column: { table: "people", from: "nick", to: "nickname" } },
          {
            add_column: {
              table: "tags",
              column: { name: "label", type: "text", nullable: true },
            },
          },
          { drop_index: { name: "members_amount_idx" } },
        ],
      },
    });
    const before = await p.snapshot();
    const started = await p.ok(["migrate", p.dir]);
    expect(started.stderr).toMatch(/v2\.json sets version_schema "second", which is not created/);
    expect(await p.versionSchemas()).toEqual(["g_allowed_v1", "g_allowed_v3"]);
    await insertVia("g_allowed_v1", "name, amount", "('Old', 1)");
    expect(
      await selectVia("g_allowed_v3", "select name, nickname from people where name = 'Old'"),
    ).toEqual([{ name: "Old", nickname: expect.stringMatching(/^n\d+$/) }]);
    await p.ok(["rollback"]);
    await db.sql.unsafe(`delete from "g_allowed".users where name = 'Old'`);
    expect(await p.snapshot()).toEqual(before);

    await p.ok(["migrate", p.dir]);
    await p.ok(["complete"]);
    const tables = await db.sql`select table_name from information_schema.tables
      where table_schema = 'g_allowed' order by 1`;
    expect(tables.map((t) => t.table_name)).toEqual(["people", "tags"]);
    const columns = await db.sql`select column_name from information_schema.columns
      where table_schema = 'g_allowed' and table_name = 'people' order by ordinal_position`;
    expect(columns.map((c) => c.column_name)).toEqual(["id", "name", "amount", "nickname"]);
    expect(await leftovers(db.sql, p.schema)).toEqual([]);
    expect((await p.history()).map((h) => h.name)).toEqual(["v1", "v2", "v3"]);
  });

  test("a group as the schema's first migrations, started and completed at once", async () => {
    await db.sql.unsafe(`create schema g_first`);
    const dir = await folder(FILES);
    const env = { PGROLL_SCHEMA: "g_first" };
    const files = ["v1.json", "v2.json"].map((f) => join(dir, f));
    const done = await cliOk(db.url, ["start", ...files, "--complete"], env);
    expect(done.stdout).toContain('Migration group "v2" (2 migrations) started and completed');
    const history = await db.sql`select name, parent, done from pgroll.migrations
      where schema = 'g_first' order by created_at`;
    expect(history.map((h) => ({ ...h }))).toEqual([
      { name: "v1", parent: null, done: true },
      { name: "v2", parent: "v1", done: true },
    ]);
    const columns = await db.sql`select column_name from information_schema.columns
      where table_schema = 'g_first' and table_name = 'users' order by ordinal_position`;
    expect(columns.map((c) => c.column_name)).toEqual(["id", "full_name", "amount", "email"]);
  });

  test("start F2 F3 with --use-version-schema=false", async () => {
    const p = await deployedV1("g_noversion", FILES, ["--use-version-schema=false"]);
    const files = ["v2.json", "v3.json"].map((f) => join(p.dir, f));
    await p.ok(["start", ...files, "--use-version-schema=false"]);
    expect(await p.versionSchemas()).toEqual([]);
    await p.ok(["complete", "--use-version-schema=false"]);
    expect((await p.history()).map((h) => [h.name, h.done])).toEqual([
      ["v1", true],
      ["v2", true],
      ["v3", true],
    ]);
  });
});
