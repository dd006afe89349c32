/**
 * Failures at named steps of start, complete and rollback, each followed by what an operator
 * would run. Faults are made deterministic by a lock held at that step: the CLI (a separate
 * process, so it can be killed) waits on it, we see it waiting in pg_stat_activity, and then
 * kill it (SIGKILL) or terminate its connections (pg_terminate_backend).
 *
 * The promises checked: a failed or killed complete leaves both versions working (schema dump
 * and data as before complete, status "In progress") and `complete` or `rollback` then works; a
 * killed start or rollback is finished by `rollback`, leaving the schema exactly as before start.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import { dumpSchema, leftovers, schemaExists, tableRows } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
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

let count = 0;

/** The migration under test, on table `table`: a column rewrite and an added column. */
function operationsOn(table: string) {
  return [
    {
      alter_column: {
        table,
        column: "amount",
        type: "bigint",
        nullable: false,
        up: "coalesce(amount, 0)",
        down: "amount",
      },
    },
    {
      add_column: {
        table,
        column: { name: "label", type: "text", nullable: true },
        up: "'account ' || id",
      },
    },
  ];
}

interface Fixture {
  table: string;
  /** The completed migration that created the table: its version schema is the old version. */
  setup: string;
  /** The migration under test and its file. */
  name: string;
  file: string;
}

/** A fresh table of 3000 rows (every 7th amount NULL) and the migration file for it. */
async function fixture(extra: object[] = []): Promise<Fixture> {
  // A case that failed may have left its migration active; do not let it spoil the next one.
  if ((await status()) === "In progress") await cli(db.url, ["rollback"]);
  const n = ++count;
  const table = `accounts_${n}`;
  const setup = `f${n}_a_setup`;
  await applyMigration(db, setup, {
    operations: [{
      create_table: {
        name: table,
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "amount", type: "integer", nullable: true },
          { name: "note", type: "text", nullable: true },
        ],
      },
    }],
  });
  await db.sql.unsafe(`insert into "${table}" (amount, note)
    select case when g % 7 = 0 then null else g end, 'n' || g from generate_series(1, 3000) g`);
  const name = `f${n}_b_migration`;
  const file = await migrationFile(`${name}.json`, {
    operations: [...operationsOn(table), ...extra],
  });
  return { table, setup, name, file };
}

/** The CLI as a separate process. */
function spawnCli(args: string[]) {
  const child = spawn(process.execPath, [join(root, "main.ts"), ...args], {
    env: { ...process.env, PGROLL_PG_URL: db.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

/** Polls `check` until it holds; fails the test after `limitMs` (a failure detector only). */
async function until(what: string, check: () => Promise<boolean>, limitMs = 60_000) {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Is a pgtandem backend of this database waiting for a lock: in the lock queue, or outside it
 * (lock-wait.ts polls pg_locks while a long transaction holds a conflicting lock)?
 */
async function cliWaitsOnLock(): Promise<boolean> {
  const rows = await db.sql`
    select 1 from pg_stat_activity
     where datname = ${db.name} and application_name like 'pgtandem%'
       and (wait_event_type = 'Lock' or query like '%waiting-outside-the-queue%')`;
  return rows.length > 0;
}

/** Holds the history row of migration `name` (the switch-over's last write waits on it). */
function historyRowLock(name: string): string {
  return `select * from pgroll.migrations where name = '${name}' for update`;
}

/** Holds `lockSql` in an open transaction until `release` is called. */
async function holdLock(lockSql: string) {
  const reserved = await db.sql.reserve();
  await reserved.unsafe("begin");
  await reserved.unsafe(lockSql);
  return {
    release: async () => {
      await reserved.unsafe("rollback");
      reserved.release();
    },
  };
}

type Fault = "kill" | "terminate";

/** Ends the waiting CLI the way `fault` says and waits for the process to be gone. */
async function inject(fault: Fault, run: { child: ChildProcess; exited: Promise<number | null> }) {
  if (fault === "kill") {
    run.child.kill("SIGKILL");
  } else {
    await db.sql`
      select pg_terminate_backend(pid) from pg_stat_activity
       where datname = ${db.name} and application_name like 'pgtandem%'`;
  }
  // A lost connection must end the command within seconds (here: a generous failure detector).
  const code = await Promise.race([
    run.exited,
    new Promise<string>((r) => setTimeout(() => r("hung"), 30_000)),
  ]);
  if (code === "hung") run.child.kill("SIGKILL");
  expect(code).not.toBe("hung");
  expect(code).not.toBe(0);
}

async function status(): Promise<string> {
  const result = await cliOk(db.url, ["status"]);
  return JSON.parse(result.stdout).status;
}

async function snapshot(sql: postgres.Sql, table: string) {
  return {
    schema: await dumpSchema(sql, "public"),
    rows: await tableRows(sql, "public", table),
  };
}

describe("fault injection", () => {
  for (const fault of ["kill", "terminate"] as const) {
    test(`${fault} during start's column DDL, then rollback`, async () => {
      const f = await fixture();
      const before = await snapshot(db.sql, f.table);
      const blocker = await holdLock(`select * from "${f.table}" limit 1`);
      const run = spawnCli(["start", f.file, "--lock-timeout", "60000"]);
      await until("start waits for its lock", cliWaitsOnLock);
      await inject(fault, run);
      await blocker.release();
      await cliOk(db.url, ["rollback"]);
      expect(await snapshot(db.sql, f.table)).toEqual(before);
      expect(await leftovers(db.sql, "public")).toEqual([]);
      expect(await schemaExists(db.sql, `public_${f.name}`)).toBe(false);
    });

    test(`${fault} during the backfill, then complete resumes it`, async () => {
      const f = await fixture();
      const run = spawnCli([
        "start",
        f.file,
        "--backfill-batch-size",
        "100",
        "--backfill-batch-delay",
        "300ms",
      ]);
      // About 30 batches 300 ms apart: the fault lands in the middle of the backfill.
      await until("the backfill has saved progress", async () => {
        const rows = await db.sql`
          select 1 from pgroll.pgtandem_runs
           where name = ${f.name} and backfill->'tables' <> '{}'::jsonb`;
        return rows.length > 0;
      });
      await inject(fault, run);
      await cliOk(db.url, ["complete"]);
      const rows = await db.sql.unsafe(`
        select count(*) filter (where label = 'account ' || id)::int as labelled,
               count(*) filter (where amount is null)::int as nulls,
               count(*)::int as total
          from "${f.table}"`);
      expect(rows[0]).toEqual({ labelled: 3000, nulls: 0, total: 3000 });
      expect(await leftovers(db.sql, "public")).toEqual([]);
    });

    for (
      const [step, lockSql] of [
        ["validation (prepare)", (f: Fixture) => `lock table "${f.table}" in share mode`],
        // A long reader: complete waits outside the lock queue, before its transaction.
        ["wait for a long reader", (f: Fixture) => `select * from "${f.table}" limit 1`],
        // The last statement of the switch-over transaction, after all its DDL.
        ["switch-over transaction", (f: Fixture) => historyRowLock(f.name)],
      ] as const
    ) {
      test(`${fault} during complete's ${step}: both versions still work, complete again`, async () => {
        const f = await fixture();
        await cliOk(db.url, ["start", f.file]);
        const before = await snapshot(db.sql, f.table);
        const blocker = await holdLock(lockSql(f));
        const run = spawnCli(["complete", "--lock-timeout", "60000"]);
        await until("complete waits for its lock", cliWaitsOnLock);
        await inject(fault, run);
        await blocker.release();
        await expectBothVersionsWork(f, before);
        await cliOk(db.url, ["complete"]);
        expect(await status()).toBe("Complete");
        expect(await schemaExists(db.sql, `public_${f.setup}`)).toBe(false);
        expect(await leftovers(db.sql, "public")).toEqual([]);
      });
    }

    for (
      const [step, lockSql] of [
        ["while it waits for a long reader", (f: Fixture) => `select * from "${f.table}" limit 1`],
        ["after its undo, before it forgets the migration", (f: Fixture) => historyRowLock(f.name)],
      ] as const
    ) {
      test(`${fault} during rollback ${step}, then rollback again`, async () => {
        const f = await fixture();
        const before = await snapshot(db.sql, f.table);
        await cliOk(db.url, ["start", f.file]);
        const blocker = await holdLock(lockSql(f));
        const run = spawnCli(["rollback", "--lock-timeout", "60000"]);
        await until("rollback waits for its lock", cliWaitsOnLock);
        await inject(fault, run);
        await blocker.release();
        // A backend whose client was killed may still finish the statement it waited in
        // (forgetting the migration): then there is nothing left to roll back, which is fine.
        const again = await cli(db.url, ["rollback"]);
        if (again.code !== 0) expect(again.stderr).toMatch(/no migration is in progress/);
        expect(await snapshot(db.sql, f.table)).toEqual(before);
        expect(await leftovers(db.sql, "public")).toEqual([]);
        expect(await status()).not.toBe("In progress");
      });
    }
  }

  test("a complete that fails in its switch-over changes nothing; fixed, it completes", async () => {
    const f = await fixture();
    await cliOk(db.url, ["start", f.file]);
    const before = await snapshot(db.sql, f.table);
    // An event trigger that refuses dropping a column: the old column's drop, mid switch-over.
    await db.sql.unsafe(`
      create function public.refuse_column_drop() returns event_trigger language plpgsql as $$
      begin
        if exists (select from pg_event_trigger_dropped_objects() where object_type = 'table column')
        then raise exception 'column drops are frozen';
        end if;
      end $$;
      create event trigger refuse_column_drop on sql_drop execute function public.refuse_column_drop();`);
    const failed = await cli(db.url, ["complete"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/column drops are frozen/);
    expect(failed.stderr).toMatch(/both versions still work/);
    expect(failed.stderr.trim().split("\n")).toHaveLength(1);
    await db.sql.unsafe(`drop event trigger refuse_column_drop`);
    await db.sql.unsafe(`drop function public.refuse_column_drop()`);
    await expectBothVersionsWork(f, before);
    await cliOk(db.url, ["complete"]);
    expect(await status()).toBe("Complete");
  });

  test("a complete that fails in its prepare phase changes nothing; rollback then works", async () => {
    const f = await fixture([
      { sql: { up: "select 1 / (select count(*) from public.go_ahead)", onComplete: true } },
    ]);
    await db.sql`create table public.go_ahead (ok boolean)`;
    const rollbackBefore = await snapshot(db.sql, f.table);
    await cliOk(db.url, ["start", f.file]);
    const before = await snapshot(db.sql, f.table);
    const failed = await cli(db.url, ["complete"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/division by zero/);
    await expectBothVersionsWork(f, before);
    await cliOk(db.url, ["rollback"]);
    expect(await snapshot(db.sql, f.table)).toEqual(rollbackBefore);
    await db.sql`drop table public.go_ahead`;
  });
});

/**
 * The state after a failed complete: the same schema and data as before it, both version
 * schemas there, the migration in progress, and writes through both versions work.
 */
async function expectBothVersionsWork(
  f: Fixture,
  before: Awaited<ReturnType<typeof snapshot>>,
) {
  const now = await snapshot(db.sql, f.table);
  // VALIDATE may have run; a validated constraint is the one difference we allow.
  const unvalidate = (dump: unknown) =>
    JSON.parse(
      JSON.stringify(dump).replaceAll('"validated":false', '"validated":true')
        .replaceAll(' NOT VALID"', '"'),
    );
  expect(unvalidate(now)).toEqual(unvalidate(before));
  expect(await status()).toBe("In progress");
  expect(await schemaExists(db.sql, `public_${f.setup}`)).toBe(true);
  expect(await schemaExists(db.sql, `public_${f.name}`)).toBe(true);
  await db.sql.unsafe(`insert into "public_${f.setup}"."${f.table}" (amount) values (5)`);
  await db.sql.unsafe(
    `insert into "public_${f.name}"."${f.table}" (amount, label) values (6, 'x')`,
  );
  await db.sql.unsafe(`delete from "${f.table}" where id > 3000`);
}
