/**
 * Backfill benchmark, after pgroll's `Backfill/N`: a table `users(id serial PRIMARY KEY, name
 * varchar(255) NULL)` with N NULL names goes through what `alter_column name nullable:false` with
 * up `SELECT CASE WHEN name IS NULL THEN 'placeholder' ELSE name END` does, start to complete:
 * temporary column, NOT NULL check NOT VALID, version view, triggers, backfill, validation and the
 * column swap. Its rows/s is divided by the rows/s of one plain `UPDATE … SET name = CASE … END`
 * on an identical table: the share of raw UPDATE speed a zero-downtime migration keeps (pgroll:
 * 0.033 at 300k rows, falling with N). The backfill phase alone (from the engine's verbose log
 * lines "backfilling table" … "backfilled table") is divided by the same plain UPDATE: the share
 * of raw UPDATE speed the batches keep, flat in N. (The 0.85 once aimed at is above the floor that
 * scripts/bench/trigger-floor.ts measures: any BEFORE UPDATE row trigger on the table caps even one
 * statement at ~0.85, the sync triggers' WHEN clauses at ~0.74.)
 *
 * Then one more migration runs the CLI as a process of its own (`bun main.ts start --complete`),
 * whose peak resident memory (VmHWM, polled) is reported: it must not grow with N.
 *
 * Usage: `bun scripts/bench/backfill.ts [N …]` (default 100000 300000 1000000). Each N runs env
 * PGTANDEM_BENCH_RUNS times (default 3), alternating the plain UPDATE and the migration; medians
 * count. PGTANDEM_BENCH_RSS=0 skips the peak-RSS run.
 * Server: env PGTANDEM_BENCH_URL (a superuser URL; a scratch database is created and dropped),
 * else an embedded PostgreSQL (env PGTANDEM_PG_VERSION). Prints a table, then one JSON line.
 *
 * @module
 */
import process from "node:process";
import postgres from "postgres";
import { startPostgres } from "../embedded-postgres.ts";
import { mkdtemp, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../lib/cli/run.ts";
import { StateStore } from "../../lib/engine/state.ts";
import { ident } from "../../lib/sql.ts";

export const UP = "SELECT CASE WHEN name IS NULL THEN 'placeholder' ELSE name END";
const SCHEMA = "public";

/** A scratch database on the benchmark server; `close()` drops it (and stops an embedded server). */
export interface BenchDatabase {
  url: string;
  sql: postgres.Sql;
  postgresVersion: string;
  close(): Promise<void>;
}

export async function openBenchDatabase(): Promise<BenchDatabase> {
  const embedded = process.env.PGTANDEM_BENCH_URL ? undefined : await startPostgres();
  const serverUrl = process.env.PGTANDEM_BENCH_URL ?? embedded!.url;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const name = `pgtandem_bench_${crypto.randomUUID().slice(0, 8)}`;
  await admin.unsafe(`CREATE DATABASE ${ident(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  const [row] = await sql`SELECT current_setting('server_version') AS v`;
  return {
    url: url.toString(),
    sql,
    postgresVersion: String(row!.v),
    async close() {
      await sql.end();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
      await admin.end();
      await embedded?.stop();
    },
  };
}

/** `table(id serial PRIMARY KEY, name varchar(255))` with `rows` NULL names, vacuumed. */
export async function createUsers(sql: postgres.Sql, table: string, rows: number): Promise<void> {
  const t = ident(SCHEMA, table);
  await sql.unsafe(`DROP TABLE IF EXISTS ${t} CASCADE`);
  await sql.unsafe(`CREATE TABLE ${t} (id serial PRIMARY KEY, name varchar(255) NULL)`);
  await sql.unsafe(`INSERT INTO ${t} (name) SELECT NULL FROM generate_series(1, ${rows})`);
  // Both tables start alike: hint bits set, visibility map and statistics fresh, as in a live
  // database where autovacuum has run (not timing whichever table autovacuum happens to reach).
  await sql.unsafe(`VACUUM (ANALYZE) ${t}`);
}

/**
 * The real engine, driven through the CLI in-process (no process start-up in the timing): the
 * migration file is exactly pgroll's benchmark migration. Each call uses a fresh migration name
 * so runs chain in the history like a real project's.
 */
export class Pgtandem {
  #runs = 0;
  /** Duration of the last backfill of a run, from the verbose log; undefined if none ran. */
  lastBackfillMs: number | undefined;
  readonly #dir: Promise<string>;

  constructor(readonly url: string) {
    this.#dir = mkdtemp(join(tmpdir(), "pgtandem-bench-"));
  }

  /** init, and a baseline so tables made by the benchmark itself are accepted. */
  async prepare(sql: postgres.Sql): Promise<void> {
    await this.run("init");
    await new StateStore(sql, "pgroll").createBaseline(SCHEMA, "bench_baseline");
  }

  /** Starts (and with `complete`, completes) `alter_column name` on `table`. */
  async alterNameNotNull(table: string, complete: boolean): Promise<void> {
    const file = await this.migrationFile(table);
    await this.run("start", file, ...this.startArgs, ...(complete ? ["--complete"] : []));
  }

  /** Extra arguments of every `start` (e.g. `--backfill-batch-size 1000`). */
  startArgs: string[] = [];

  /** A fresh migration file of `alter_column name` on `table` (pgroll's benchmark migration). */
  async migrationFile(table: string): Promise<string> {
    this.#runs += 1;
    const file = join(await this.#dir, `bench_${String(this.#runs).padStart(3, "0")}.json`);
    await writeFile(
      file,
      JSON.stringify({
        operations: [{
          alter_column: { table, column: "name", nullable: false, up: UP, comment: "the name" },
        }],
      }),
    );
    return file;
  }

  async run(...args: string[]): Promise<void> {
    let stderr = "";
    let backfillStarted: number | undefined;
    this.lastBackfillMs = undefined;
    // The log lines are written as the engine gets there: their arrival times bound the backfill.
    const code = await runCli([...args, "--json", "--verbose"], {
      stdout: { write: () => true },
      stderr: {
        write: (s: string) => {
          if (s.startsWith("backfilling table")) backfillStarted = performance.now();
          if (s.startsWith("backfilled table") && backfillStarted !== undefined) {
            this.lastBackfillMs = (this.lastBackfillMs ?? 0) + performance.now() - backfillStarted;
          }
          stderr += s;
          return true;
        },
      },
      env: { PGROLL_PG_URL: this.url },
    });
    if (code !== 0) throw new Error(`pgtandem ${args.join(" ")} failed: ${stderr}`);
  }

  /**
   * Runs the migration of {@link alterNameNotNull} (with complete) through the CLI as a process of
   * its own, and returns that process's peak resident set size in bytes (VmHWM of
   * /proc/<pid>/status, read every 20 ms until it exits; Linux only, else 0).
   */
  async peakRssOfMigration(table: string): Promise<number> {
    const file = await this.migrationFile(table);
    const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
    const child = spawn(process.execPath, [main, "start", file, "--complete", "--json"], {
      env: { ...process.env, PGROLL_PG_URL: this.url },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += String(d)));
    let peak = 0;
    const poll = setInterval(() => (peak = Math.max(peak, vmHwm(child.pid))), 20);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearInterval(poll);
    if (code !== 0) throw new Error(`pgtandem start failed: ${stderr}`);
    return peak;
  }
}

/** Peak resident set size of a live process in bytes, or 0 when it cannot be read. */
function vmHwm(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The measured work: the whole migration, start (with its backfill) to complete. */
export async function migrateNameNotNull(tool: Pgtandem, table: string): Promise<void> {
  await tool.alterNameNotNull(table, true);
}

export interface BackfillBenchResult {
  rows: number;
  migrationRowsPerSecond: number;
  /** The backfill phase alone (batches, from the first to the last). */
  backfillRowsPerSecond: number;
  updateRowsPerSecond: number;
  /** Whole migration / plain UPDATE. */
  ratio: number;
  /** Backfill phase / plain UPDATE. */
  backfillRatio: number;
  /** Peak RSS of the CLI process migrating the same table, in MiB (0 when not measured). */
  peakRssMiB: number;
}

/** Runs per N; alternating plain UPDATE and migration, so outside load hits both alike. */
const RUNS = Number(process.env.PGTANDEM_BENCH_RUNS ?? 3);

/** One N: the plain UPDATE on one table, the migration on an identical one; medians of `runs`. */
export async function benchBackfill(
  sql: postgres.Sql,
  tool: Pgtandem,
  rows: number,
  runs = RUNS,
): Promise<BackfillBenchResult> {
  const updateMs: number[] = [];
  const migrationMs: number[] = [];
  const backfillMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    await createUsers(sql, "users2", rows);
    await sql.unsafe("CHECKPOINT");
    let started = performance.now();
    await sql.unsafe(
      `UPDATE ${ident(SCHEMA, "users2")}
       SET name = CASE WHEN name IS NULL THEN 'placeholder' ELSE name END`,
    );
    updateMs.push(performance.now() - started);
    await sql.unsafe(`DROP TABLE ${ident(SCHEMA, "users2")}`);

    await createUsers(sql, "users", rows);
    await sql.unsafe("CHECKPOINT");
    started = performance.now();
    await migrateNameNotNull(tool, "users");
    migrationMs.push(performance.now() - started);
    backfillMs.push(tool.lastBackfillMs ?? Number.NaN);
    const [check] = await sql.unsafe(
      `SELECT count(*)::int AS n FROM ${ident(SCHEMA, "users")} WHERE name = 'placeholder'`,
    );
    if (check?.n !== rows) throw new Error(`backfill left ${rows - Number(check?.n)} rows behind`);
    await sql.unsafe(`DROP TABLE ${ident(SCHEMA, "users")} CASCADE`);
  }
  let peakRssMiB = 0;
  if (process.env.PGTANDEM_BENCH_RSS !== "0") {
    await createUsers(sql, "users", rows);
    peakRssMiB = (await tool.peakRssOfMigration("users")) / 2 ** 20;
    await sql.unsafe(`DROP TABLE ${ident(SCHEMA, "users")} CASCADE`);
  }
  const migrationRowsPerSecond = rows / (median(migrationMs) / 1000);
  const backfillRowsPerSecond = rows / (median(backfillMs) / 1000);
  const updateRowsPerSecond = rows / (median(updateMs) / 1000);
  return {
    rows,
    migrationRowsPerSecond,
    backfillRowsPerSecond,
    updateRowsPerSecond,
    ratio: migrationRowsPerSecond / updateRowsPerSecond,
    backfillRatio: backfillRowsPerSecond / updateRowsPerSecond,
    peakRssMiB,
  };
}

/** The middle value (upper middle for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function parseSizes(args: readonly string[]): number[] {
  const sizes = args.length > 0 ? args.map(Number) : [100_000, 300_000, 1_000_000];
  for (const n of sizes) {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`invalid row count: ${n}`);
  }
  return sizes;
}

if (import.meta.main) {
  const sizes = parseSizes(process.argv.slice(2));
  const db = await openBenchDatabase();
  try {
    const tool = new Pgtandem(db.url);
    await tool.prepare(db.sql);
    const results: BackfillBenchResult[] = [];
    console.log(
      "rows        migration rows/s   backfill rows/s   plain UPDATE rows/s   migration   backfill   peak RSS",
    );
    for (const n of sizes) {
      const r = await benchBackfill(db.sql, tool, n);
      results.push(r);
      console.log(
        `${String(n).padEnd(12)}${fmt(r.migrationRowsPerSecond).padStart(16)}${
          fmt(r.backfillRowsPerSecond).padStart(18)
        }${fmt(r.updateRowsPerSecond).padStart(22)}${r.ratio.toFixed(3).padStart(12)}${
          r.backfillRatio.toFixed(3).padStart(11)
        }${`${r.peakRssMiB.toFixed(0)} MiB`.padStart(11)}`,
      );
    }
    console.log(JSON.stringify({
      benchmark: "backfill",
      postgresVersion: db.postgresVersion,
      timestamp: new Date().toISOString(),
      results,
    }));
  } finally {
    await db.close();
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
