/**
 * Issue 12 §3 and §2 through the CLI on real PostgreSQL: the replica-aware throttle
 * (--backfill-max-replica-lag) against a real streaming standby (tests/helpers/standby.ts), and
 * an explicit --backfill-batch-size kept as given while the default adapts.
 *
 * How the throttle is measured, deterministically. Lag is counted in rows: rows the primary has
 * backfilled (read first) minus rows the standby shows backfilled (read second), sampled all
 * through the backfill. With --backfill-batch-delay d the throttle lets at most floor(L/d) + 1
 * batches start after the oldest batch a standby has not replayed (each cycle sleeps d, and a
 * batch starts only while that batch is at most L old), so the standby is never more than
 * (floor(L/d) + 2) batches behind: the limit plus one batch. Without the flag, a standby that
 * replays nothing ends the whole table behind. The standby is slowed by recovery_min_apply_delay
 * (1 s, over the 200 ms limit: each pause lasts until the standby replays) and, where the test
 * needs it stopped, by pg_wal_replay_pause().
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { runCli } from "../lib/cli/run.ts";
import { progressReporter } from "../lib/engine/progress.ts";
import { NEEDS_BACKFILL_COLUMN } from "../lib/naming.ts";
import { ident } from "../lib/sql.ts";
import { dumpSchema } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { type StandbyPair, startStandbyPair } from "./helpers/standby.ts";

const ROWS = 2000;
const BATCH = 100;
const LIMIT_MS = 200;
/** Not a divisor of LIMIT_MS: a timer firing a hair early cannot let one more batch through. */
const DELAY_MS = 45;
/** Batches a standby may be behind: floor(L/d) + 1 started after its oldest unreplayed, + it. */
const MAX_BATCHES_BEHIND = Math.floor(LIMIT_MS / DELAY_MS) + 2;
const MAX_ROWS_BEHIND = MAX_BATCHES_BEHIND * BATCH;
const DATABASE = "replica_lag";

describe("replica-aware throttle with a streaming standby", () => {
  let pair: StandbyPair;
  let url: string;
  let primary: postgres.Sql;
  let standby: postgres.Sql;

  beforeAll(async () => {
    pair = await startStandbyPair({ standbySettings: { recovery_min_apply_delay: "1s" } });
    const admin = postgres(pair.primaryUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${DATABASE}`);
    await admin.end();
    url = withDatabase(pair.primaryUrl, DATABASE);
    primary = postgres(url, { max: 2, onnotice: () => {} });
    standby = postgres(withDatabase(pair.standbyUrl, DATABASE), { max: 2, onnotice: () => {} });
    await cliOk(url, ["init"]);
    await caughtUp();
  }, 120_000);

  afterAll(async () => {
    await primary?.end({ timeout: 5 });
    await standby?.end({ timeout: 5 });
    await pair?.stop();
  });

  /** Waits until the standby has replayed everything the primary wrote so far. */
  async function caughtUp(): Promise<void> {
    const [{ lsn }] = await primary`select pg_current_wal_insert_lsn()::text as lsn` as [
      { lsn: string },
    ];
    await waitFor(async () => {
      try {
        const [row] = await standby`
          select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as done`;
        return row?.done === true;
      } catch {
        return false; // the database is not there yet (its creation is still delayed)
      }
    });
  }

  /** A table of ROWS rows, created and replayed, and a migration that backfills a new column. */
  async function tableAndMigration(name: string): Promise<string> {
    await filledTable(url, primary, name, ROWS);
    await caughtUp();
    return await addColumnW(name, "v * 2");
  }

  /** Rows the backfill has done on one server (0 before the marker column exists there). */
  async function backfilled(sql: postgres.Sql, table: string): Promise<number> {
    try {
      const [row] = await sql.unsafe(
        `select count(*)::int as n from ${table} where not ${NEEDS_BACKFILL_COLUMN}`,
      );
      return row!.n as number;
    } catch (error) {
      if ((error as { code?: string }).code === "42703") return 0;
      throw error;
    }
  }

  /** Rows backfilled on the primary that the standby has not replayed: primary first. */
  async function rowsBehind(table: string): Promise<number> {
    const done = await backfilled(primary, table);
    return done - await backfilled(standby, table);
  }

  const throttled = [
    "--backfill-batch-size",
    String(BATCH),
    "--backfill-batch-delay",
    `${DELAY_MS}ms`,
  ];
  const throttledWithFlag = [
    ...throttled,
    "--backfill-max-replica-lag",
    `${LIMIT_MS}ms`,
    "--verbose",
  ];

  test("without the flag, the backfill runs ahead of a standby that replays nothing", async () => {
    const file = await tableAndMigration("unthrottled");
    await standby`select pg_wal_replay_pause()`;
    try {
      await cliOk(url, ["start", file, ...throttled]);
      const behind = await rowsBehind("unthrottled");
      console.log(`without the flag: standby ${behind} rows behind (limit ${MAX_ROWS_BEHIND})`);
      expect(behind).toBe(ROWS);
      expect(behind).toBeGreaterThan(MAX_ROWS_BEHIND);
    } finally {
      await standby`select pg_wal_replay_resume()`;
    }
    await cliOk(url, ["rollback"]);
    await caughtUp();
  }, 120_000);

  test("with the flag, a delayed standby stays within the limit plus one batch", async () => {
    const file = await tableAndMigration("delayed");
    const run = backgroundCli(url, ["start", file, ...throttledWithFlag]);
    let worst = 0;
    let samples = 0;
    while (!run.done) {
      worst = Math.max(worst, await rowsBehind("delayed"));
      samples++;
      await new Promise((r) => setTimeout(r, 10));
    }
    const code = await run.exit;
    const pauses = run.stderr().match(/pausing the backfill/g)?.length ?? 0;
    console.log(
      `with the flag: standby at most ${worst} rows behind (bound ${MAX_ROWS_BEHIND}), ${samples} samples, ${pauses} pauses`,
    );
    expect({ code, stderr: code === 0 ? "" : run.stderr() }).toEqual({ code: 0, stderr: "" });
    expect(worst).toBeLessThanOrEqual(MAX_ROWS_BEHIND);
    expect(await backfilled(primary, "delayed")).toBe(ROWS);
    const [wrong] =
      await primary`select count(*)::int as n from public_delayed_w.delayed where w is distinct from v * 2`;
    expect(wrong?.n).toBe(0);
    // The 1 s apply delay is over the 200 ms limit: the backfill had to wait, and went on by itself.
    expect(run.stderr()).toMatch(/pausing the backfill: standby "pgtandem_test_standby" .* behind/);
    expect(run.stderr()).toMatch(/the standbys caught up; the backfill goes on after a pause/);
    await cliOk(url, ["rollback"]);
    await caughtUp();
  }, 120_000);

  test(
    "a standby that stops replaying holds the backfill, shown in the progress line, until it replays again",
    async () => {
      const file = await tableAndMigration("stopped");
      await standby`select pg_wal_replay_pause()`;
      let run: ReturnType<typeof backgroundCli> | undefined;
      try {
        run = backgroundCli(url, ["start", file, ...throttledWithFlag]);
        await waitFor(() =>
          Promise.resolve(/pausing the backfill/.test(run!.stderr()) || run!.done)
        );
        expect(run.done).toBe(false);
        // Paused: the line says why, instead of a rate and an ETA.
        expect(run.stderr()).toMatch(
          /backfill "stopped": .* rows {2}paused: standby "pgtandem_test_standby" .* behind the backfill \(limit 200 ms\)/,
        );
        const behind = await rowsBehind("stopped");
        expect(behind).toBeGreaterThan(0);
        expect(behind).toBeLessThanOrEqual(MAX_ROWS_BEHIND);
        expect(await backfilled(primary, "stopped")).toBeLessThan(ROWS);
      } finally {
        await standby`select pg_wal_replay_resume()`;
      }
      expect(await run!.exit).toBe(0);
      expect(await backfilled(primary, "stopped")).toBe(ROWS);
      await cliOk(url, ["complete"]);
      await caughtUp();
    },
    120_000,
  );
});

describe("progress line", () => {
  test("a pause is shown at once, instead of the rate and ETA, and so is its end", () => {
    const out: string[] = [];
    let clock = 0;
    const reporter = progressReporter({
      stream: { write: (t: string) => out.push(t), isTTY: false },
      json: false,
      label: 'backfill "users"',
      now: () => clock,
    });
    reporter.onProgress({ done: 100, total: 1000, rowsPerSecond: 50 });
    clock += 10; // well within the 5 s between log lines
    const waiting = 'standby "s1" (10.0.0.7, pid 4711) is 2.3 s behind the backfill (limit 2.0 s)';
    reporter.onProgress({ done: 100, total: 1000, rowsPerSecond: 50, waiting });
    clock += 10;
    reporter.onProgress({ done: 100, total: 1000, rowsPerSecond: 50, waiting });
    clock += 10;
    reporter.onProgress({ done: 100, total: 1000, rowsPerSecond: 50 });
    expect(out).toEqual([
      'backfill "users":  10%  100/1,000 rows  50 rows/s  ETA 18s\n',
      `backfill "users":  10%  100/1,000 rows  paused: ${waiting}\n`,
      'backfill "users":  10%  100/1,000 rows  50 rows/s  ETA 18s\n',
    ]);
  });
});

describe("flag checks", () => {
  let db: TestDatabase;
  const role = "replica_lag_no_monitor";

  beforeAll(async () => {
    db = await testDatabase();
    await db.sql.unsafe(`drop role if exists ${role}`);
    await db.sql.unsafe(`create role ${role}`);
    await cliOk(db.url, ["init"]);
    await filledTable(db.url, db.sql, "accounts", 10);
    // Everything start needs but pg_monitor, so the refusal tested is the replica-lag one (start
    // checks ownership and CREATE privileges before it).
    const [{ name }] = await db.sql`select current_database() as name`;
    await db.sql.unsafe(`grant create on database ${ident(name)} to ${role}`);
    await db.sql.unsafe(`grant usage, create on schema public to ${role}`);
    await db.sql.unsafe(`alter table accounts owner to ${role}`);
  }, 60_000);

  afterAll(async () => {
    // DROP OWNED takes the table and the grants (the database's too) with it.
    await db?.sql.unsafe(`drop owned by ${role} cascade`);
    await db?.sql.unsafe(`drop role if exists ${role}`);
    await db?.drop();
    await db?.drop();
  });

  test("a role that cannot read pg_stat_replication is refused before any change, naming pg_monitor", async () => {
    const file = await addColumnW("accounts", "v");
    const before = await dumpSchema(db.sql, "public");
    const result = await cli(db.url, [
      "start",
      file,
      "--role",
      role,
      "--backfill-max-replica-lag",
      "2s",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(
          `--backfill-max-replica-lag: role "${role}" cannot read .*pg_stat_replication; grant it pg_monitor`,
        ),
      ),
    ]);
    expect(await dumpSchema(db.sql, "public")).toEqual(before);
    const [active] = await db.sql`select count(*)::int as n from pgroll.migrations where not done`;
    expect(active?.n).toBe(0);
  });

  test("the duration is checked, and only commands that backfill take the flag", async () => {
    const bad = await cli(db.url, ["status", "--backfill-max-replica-lag", "2s"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/flag --backfill-max-replica-lag is not valid for command "status"/);
    const file = await migrationFile("accounts_x.json", { operations: [] });
    const fast = await cli(db.url, ["start", file], { PGTANDEM_BACKFILL_MAX_REPLICA_LAG: "fast" });
    expect(fast.code).toBe(1);
    expect(fast.stderr).toMatch(
      /--backfill-max-replica-lag: expected a duration like 100ms, 1s or 2m, got "fast"/,
    );
  });
});

describe("batch size", () => {
  let db: TestDatabase;
  const rows = 2000;

  beforeAll(async () => {
    db = await testDatabase();
    await cliOk(db.url, ["init"]);
    // At least 0.5 ms per row: a batch of 1000 rows takes over half a second, far over the 200 ms the
    // adaptive sizing aims at, whatever the machine.
    await db.sql.unsafe(`create function slow_double(x int) returns int language sql volatile
        as 'select x * 2 from pg_catalog.pg_sleep(0.0005)'`);
    await filledTable(db.url, db.sql, "items", rows);
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  function batches(stderr: string): number {
    const m = /backfilled table "items": (\d+) rows in (\d+) batches/.exec(stderr);
    expect(m?.[1]).toBe(String(rows));
    return Number(m![2]);
  }

  test("an explicit --backfill-batch-size is honoured; without it the size adapts", async () => {
    const file = await addColumnW("items", "slow_double(v)");
    // Default: 1000 rows to begin with, halved after a batch that took over half a second.
    const adaptive = batches((await cliOk(db.url, ["start", file, "--verbose"])).stderr);
    expect(adaptive).toBeGreaterThan(Math.ceil(rows / 1000));
    await cliOk(db.url, ["rollback"]);
    // Explicit: every batch is 200 rows however long it takes.
    const explicit = batches(
      (await cliOk(db.url, ["start", file, "--backfill-batch-size", "200", "--verbose"])).stderr,
    );
    expect(explicit).toBe(Math.ceil(rows / 200));
    const [wrong] = await db
      .sql`select count(*)::int as n from public_items_w.items where w is distinct from v * 2`;
    expect(wrong?.n).toBe(0);
    await cliOk(db.url, ["rollback"]);
  }, 120_000);
});

/** A migration `<table>_w` adding column "w" to `table`, backfilled with `up`. */
function addColumnW(table: string, up: string): Promise<string> {
  return migrationFile(`${table}_w.json`, {
    operations: [{
      add_column: { table, column: { name: "w", type: "int", nullable: true }, up },
    }],
  });
}

/** Creates `name (id int primary key, v int not null)` through a migration and fills it. */
async function filledTable(url: string, sql: postgres.Sql, name: string, rows: number) {
  const file = await migrationFile(`${name}_create.json`, {
    operations: [{
      create_table: {
        name,
        columns: [{ name: "id", type: "int", pk: true }, { name: "v", type: "int" }],
      },
    }],
  });
  await cliOk(url, ["start", file, "--complete"]);
  await sql.unsafe(`insert into ${name} select g, g from generate_series(1, ${rows}) g`);
}

/** The CLI in this process, its stderr readable while it runs. */
function backgroundCli(url: string, args: string[]) {
  let stderr = "";
  const state = {
    done: false,
    stderr: () => stderr,
    exit: undefined as unknown as Promise<number>,
  };
  state.exit = runCli(args, {
    stdout: { write: () => {} },
    stderr: { write: (s: string) => (stderr += s) },
    env: { PGROLL_PG_URL: url },
  }).finally(() => (state.done = true));
  return state;
}

/** Polls `check` until true; fails after a minute (a hang, not a slow machine). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
