/**
 * Client stalls during a migration: what an application notices. Rate-limited clients (4 of
 * them, 200 transactions/s in all, each an UPDATE of one row by key) run against a table of N rows
 * while pgtandem starts and completes `alter_column name` (the backfill benchmark's migration).
 * Measured twice: with nothing else in the way, and with a 3-second transaction holding ACCESS
 * SHARE on the table (a report query, a long request) when start and when complete begin.
 * Prints p50 / p99 / max client latency before the migration (the baseline) and during it, and
 * whether start and complete succeeded.
 *
 * Usage: `bun scripts/bench/lock-stalls.ts [N]` (default 200000). The server is chosen as in
 * scripts/bench/backfill.ts. Prints a table, then one JSON line.
 *
 * The batch-duration trade-off: env PGTANDEM_BENCH_BATCH_SIZES (comma-separated; `adaptive` is
 * the default sizing toward ~200 ms batches) runs the case without a blocker once per batch size
 * (`--backfill-batch-size`, a fixed size), reporting client latency and the backfill's duration
 * for each; the blocker case is then skipped.
 *
 * @module
 */
import process from "node:process";
import postgres from "postgres";
import { createUsers, openBenchDatabase, Pgtandem } from "./backfill.ts";

const CLIENTS = 4;
const RATE_PER_SECOND = 200;
const BLOCKER_MS = 3000;

interface Latencies {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface LockStallResult {
  blocker: boolean;
  /** `--backfill-batch-size`, or "adaptive". */
  batchSize: string;
  /** Duration of the backfill phase, ms. */
  backfillMs: number;
  before: Latencies;
  during: Latencies;
  migrated: boolean;
}

function summarise(samples: number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0, count: sorted.length };
}

/** Clients updating random rows at a fixed total rate; each latency is recorded with its phase. */
function clients(url: string, rows: number) {
  let phase: "before" | "during" | "stop" = "before";
  const samples = { before: [] as number[], during: [] as number[] };
  const interval = (1000 * CLIENTS) / RATE_PER_SECOND;
  const workers = Array.from({ length: CLIENTS }, async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    let next = performance.now();
    while (phase !== "stop") {
      const id = 1 + Math.floor(Math.random() * rows);
      const started = performance.now();
      const at: "before" | "during" = phase === "before" ? "before" : "during";
      await sql`update users set name = 'client' where id = ${id}`;
      samples[at].push(performance.now() - started);
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else next = performance.now();
    }
    await sql.end();
  });
  return {
    samples,
    setPhase: (p: "during") => (phase = p),
    stop: async () => {
      phase = "stop";
      await Promise.all(workers);
    },
  };
}

/** A transaction that reads the table, then stays open for `ms`. */
async function blocker(url: string, ms: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.begin(async (tx) => {
    await tx`select count(*) from users`;
    await new Promise((r) => setTimeout(r, ms));
  });
  await sql.end();
}

export async function benchLockStalls(
  sql: postgres.Sql,
  url: string,
  tool: Pgtandem,
  rows: number,
  withBlocker: boolean,
  batchSize = "adaptive",
): Promise<LockStallResult> {
  tool.startArgs = batchSize === "adaptive" ? [] : ["--backfill-batch-size", batchSize];
  let backfillMs = Number.NaN;
  await createUsers(sql, "users", rows);
  const load = clients(url, rows);
  await new Promise((r) => setTimeout(r, 2000));
  load.setPhase("during");
  let migrated = true;
  try {
    const blocked = withBlocker ? blocker(url, BLOCKER_MS) : Promise.resolve();
    await new Promise((r) => setTimeout(r, 50));
    await tool.alterNameNotNull("users", false);
    backfillMs = tool.lastBackfillMs ?? Number.NaN;
    await blocked;
    const blockedAgain = withBlocker ? blocker(url, BLOCKER_MS) : Promise.resolve();
    await new Promise((r) => setTimeout(r, 50));
    await tool.run("complete");
    await blockedAgain;
  } catch (error) {
    migrated = false;
    console.error((error as Error).message);
  }
  await load.stop();
  await sql.unsafe(`DROP TABLE IF EXISTS public.users CASCADE`);
  tool.startArgs = [];
  return {
    blocker: withBlocker,
    batchSize,
    backfillMs,
    before: summarise(load.samples.before),
    during: summarise(load.samples.during),
    migrated,
  };
}

if (import.meta.main) {
  const rows = Number(process.argv[2] ?? 200_000);
  if (!Number.isInteger(rows) || rows <= 0) throw new Error("invalid row count");
  const db = await openBenchDatabase();
  try {
    const tool = new Pgtandem(db.url);
    await tool.prepare(db.sql);
    const results: LockStallResult[] = [];
    const sizes = process.env.PGTANDEM_BENCH_BATCH_SIZES?.split(",").map((s) => s.trim());
    const cases = sizes
      ? sizes.map((size) => ({ withBlocker: false, size }))
      : [{ withBlocker: false, size: "adaptive" }, { withBlocker: true, size: "adaptive" }];
    console.log(
      "blocker  batch size  before p50/p99/max ms      during p50/p99/max ms      backfill ms  migrated",
    );
    for (const { withBlocker, size } of cases) {
      const r = await benchLockStalls(db.sql, db.url, tool, rows, withBlocker, size);
      results.push(r);
      const f = (l: Latencies) =>
        `${l.p50.toFixed(1)}/${l.p99.toFixed(1)}/${l.max.toFixed(1)}`.padEnd(27);
      console.log(
        `${String(withBlocker).padEnd(9)}${size.padEnd(12)}${f(r.before)}${f(r.during)}${
          r.backfillMs.toFixed(0).padStart(11)
        }  ${r.migrated}`,
      );
    }
    console.log(JSON.stringify({
      benchmark: "lock-stalls",
      postgresVersion: db.postgresVersion,
      timestamp: new Date().toISOString(),
      rows,
      clients: CLIENTS,
      ratePerSecond: RATE_PER_SECOND,
      blockerMs: BLOCKER_MS,
      results,
    }));
  } finally {
    await db.close();
  }
}
