/**
 * Write amplification benchmark, after pgroll's `WriteAmplification/{NoTrigger,WithTrigger}/N`:
 * `UPDATE users SET name = 'person'` on N rows through the old side (the base schema), once on
 * the plain table and once while the `alter_column name nullable:false` migration of the backfill
 * benchmark is started (its up trigger recomputing the new column for every row). The ratio is
 * rows/s with triggers over rows/s without: what clients keep of their write speed during a
 * migration. Target ≥ 0.50 (pgroll: 0.24).
 *
 * Usage: `bun scripts/bench/write-amplification.ts [N …]` (default 100000 300000 1000000).
 * Each UPDATE runs env PGTANDEM_BENCH_RUNS times (default 5), alternating between the plain and
 * the migrating table, each on a freshly vacuumed table; medians count. The server is chosen as in
 * scripts/bench/backfill.ts. Prints a table, then one JSON line.
 *
 * @module
 */
import process from "node:process";
import type postgres from "postgres";
import { ident } from "../../lib/sql.ts";
import { createUsers, median, openBenchDatabase, Pgtandem } from "./backfill.ts";

const RUNS = Number(process.env.PGTANDEM_BENCH_RUNS ?? 5);

export interface WriteAmplificationResult {
  rows: number;
  withoutTriggerRowsPerSecond: number;
  withTriggerRowsPerSecond: number;
  ratio: number;
}

/** Duration in ms of `UPDATE <table> SET name = 'person'`, after a VACUUM. */
async function timeUpdate(sql: postgres.Sql, table: string, rows: number): Promise<number> {
  // Each UPDATE leaves a dead version of every row; VACUUM makes every run start alike.
  await sql.unsafe(`VACUUM ${ident("public", table)}`);
  await sql.unsafe("CHECKPOINT");
  const started = performance.now();
  const result = await sql.unsafe(`UPDATE ${ident("public", table)} SET name = 'person'`);
  const ms = performance.now() - started;
  if (result.count !== rows) throw new Error(`updated ${result.count} rows, expected ${rows}`);
  return ms;
}

/**
 * One N. `plain` is the table before any migration; `users` has the migration started (triggers
 * installed, rows backfilled). Runs alternate between the two, so load from elsewhere on the
 * machine hits both alike; medians count.
 */
export async function benchWriteAmplification(
  sql: postgres.Sql,
  tool: Pgtandem,
  rows: number,
  runs = RUNS,
): Promise<WriteAmplificationResult> {
  await createUsers(sql, "plain", rows);
  await createUsers(sql, "users", rows);
  // The real engine starts the migration: triggers installed, existing rows backfilled.
  await tool.alterNameNotNull("users", false);
  const without: number[] = [];
  const withTrigger: number[] = [];
  for (let i = 0; i < runs; i++) {
    without.push(await timeUpdate(sql, "plain", rows));
    withTrigger.push(await timeUpdate(sql, "users", rows));
  }
  const [check] = await sql.unsafe(
    `SELECT count(*)::int AS n FROM ${ident("public", "users")} WHERE _pgroll_new_name = 'person'`,
  );
  if (check?.n !== rows) throw new Error("the up trigger did not run for every row");
  await tool.run("rollback");
  await sql.unsafe(`DROP TABLE ${ident("public", "users")}, ${ident("public", "plain")} CASCADE`);
  const withoutTriggerRowsPerSecond = rows / (median(without) / 1000);
  const withTriggerRowsPerSecond = rows / (median(withTrigger) / 1000);
  return {
    rows,
    withoutTriggerRowsPerSecond,
    withTriggerRowsPerSecond,
    ratio: withTriggerRowsPerSecond / withoutTriggerRowsPerSecond,
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const sizes = args.length > 0 ? args.map(Number) : [100_000, 300_000, 1_000_000];
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error("invalid row count");
  const db = await openBenchDatabase();
  try {
    const tool = new Pgtandem(db.url);
    await tool.prepare(db.sql);
    const results: WriteAmplificationResult[] = [];
    console.log("rows        no trigger rows/s   with trigger rows/s   ratio");
    for (const n of sizes) {
      const r = await benchWriteAmplification(db.sql, tool, n);
      results.push(r);
      console.log(
        `${String(n).padEnd(12)}${fmt(r.withoutTriggerRowsPerSecond).padStart(17)}${
          fmt(r.withTriggerRowsPerSecond).padStart(22)
        }${r.ratio.toFixed(3).padStart(8)}`,
      );
    }
    console.log(JSON.stringify({
      benchmark: "write-amplification",
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
