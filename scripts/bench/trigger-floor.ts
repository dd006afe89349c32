/**
 * The floors under the two other benchmarks: how close to a plain UPDATE any backfill, and any
 * trigger, can get on this server — measured with no pgtandem code at all, only the table shapes
 * and triggers a migration has.
 *
 * Backfill floor. The batches of scripts/bench/backfill.ts fill `_pgroll_new_name` of a table that
 * carries pgtandem's two BEFORE ROW triggers (skipped for the backfill by their WHEN clauses). Here
 * ONE statement fills the whole table, with no batches, no key lookups, no progress record, over:
 *  - `plain`: `UPDATE users SET name = CASE …` of the plain table (the backfill benchmark's
 *    baseline);
 *  - `shape`: the migrated table (new column, marker, NOT NULL check NOT VALID), no trigger;
 *  - `shape + disabled trigger`: the same with one BEFORE UPDATE ROW trigger that is DISABLED.
 *    PostgreSQL locks each row before its BEFORE ROW UPDATE triggers are considered (to hand them a
 *    stable OLD row), whatever their WHEN clause or state: one more WAL record per row;
 *  - `shape + sync triggers`: two triggers with pgtandem's WHEN clauses, skipped as for the
 *    backfill (`pgtandem.backfill = on`).
 * Write floor. `UPDATE users SET name = <a new value>` with and without an EMPTY plpgsql BEFORE
 * ROW trigger (`RETURN NEW`): what calling any plpgsql row trigger costs, before it does anything.
 *
 * Usage: `bun scripts/bench/trigger-floor.ts [N]` (default 300000). Every variant runs env
 * PGTANDEM_BENCH_RUNS times (default 3) on a fresh, vacuumed table, variants alternating; medians
 * count. Prints a table (ratio to the plain UPDATE, WAL written), then one JSON line.
 *
 * @module
 */
import process from "node:process";
import type postgres from "postgres";
import { ident } from "../../lib/sql.ts";
import { createUsers, median, openBenchDatabase, UP } from "./backfill.ts";

const RUNS = Number(process.env.PGTANDEM_BENCH_RUNS ?? 3);
const TABLE = ident("public", "floor_users");
const FILL = UP.replace(/^SELECT /, "");

interface Variant {
  name: string;
  /** What the variant compares to (another variant's name). */
  baseline?: string;
  /** Extra DDL after the plain table exists. */
  setup: string[];
  /** Session settings for the timed statement. */
  settings?: string[];
  statement: string;
}

const SHAPE = [
  `ALTER TABLE ${TABLE} ADD COLUMN _pgroll_new_name varchar(255),
     ADD COLUMN _pgroll_needs_backfill boolean DEFAULT true`,
  `ALTER TABLE ${TABLE} ADD CONSTRAINT floor_not_null CHECK (_pgroll_new_name IS NOT NULL) NOT VALID`,
];
const FILL_NEW = `UPDATE ${TABLE} SET _pgroll_new_name = (${FILL}), _pgroll_needs_backfill = false
  WHERE _pgroll_needs_backfill`;
const NOT_BACKFILL = `pg_catalog.current_setting('pgtandem.backfill', true) IS DISTINCT FROM 'on'`;
const trigger = (name: string, when: string) =>
  `CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON ${TABLE} FOR EACH ROW
   ${when ? `WHEN (${when})` : ""} EXECUTE FUNCTION public.floor_empty()`;

const VARIANTS: Variant[] = [
  {
    name: "plain",
    setup: [],
    statement: `UPDATE ${TABLE} SET name = (${FILL})`,
  },
  { name: "shape", baseline: "plain", setup: SHAPE, statement: FILL_NEW },
  {
    name: "shape + disabled trigger",
    baseline: "plain",
    setup: [...SHAPE, trigger("floor_off", ""), `ALTER TABLE ${TABLE} DISABLE TRIGGER floor_off`],
    statement: FILL_NEW,
  },
  {
    name: "shape + sync triggers",
    baseline: "plain",
    setup: [
      ...SHAPE,
      trigger("floor_up", `${NOT_BACKFILL} AND pg_catalog.current_schema() <> 'v2'`),
      trigger("floor_down", `${NOT_BACKFILL} AND pg_catalog.current_schema() = 'v2'`),
    ],
    settings: ["SET pgtandem.backfill = on"],
    statement: FILL_NEW,
  },
  {
    name: "write, no trigger",
    setup: [`UPDATE ${TABLE} SET name = 'person'`, `VACUUM ${TABLE}`],
    statement: `UPDATE ${TABLE} SET name = 'someone'`,
  },
  {
    name: "write, empty plpgsql trigger",
    baseline: "write, no trigger",
    setup: [`UPDATE ${TABLE} SET name = 'person'`, `VACUUM ${TABLE}`, trigger("floor_empty", "")],
    statement: `UPDATE ${TABLE} SET name = 'someone'`,
  },
];

export interface FloorResult {
  variant: string;
  baseline?: string;
  ms: number;
  walMiB: number;
  /** Rows/s of the variant over rows/s of its baseline. */
  ratio?: number;
}

/** One timing of `variant` on a fresh table of `rows` rows: [ms, WAL bytes]. */
async function once(sql: postgres.Sql, variant: Variant, rows: number): Promise<[number, number]> {
  await createUsers(sql, "floor_users", rows);
  for (const statement of variant.setup) await sql.unsafe(statement);
  await sql.unsafe(`VACUUM (ANALYZE) ${TABLE}`);
  await sql.unsafe("CHECKPOINT");
  return await sql.begin(async (tx) => {
    for (const setting of variant.settings ?? []) await tx.unsafe(setting);
    const [before] = await tx.unsafe(`SELECT pg_catalog.pg_current_wal_insert_lsn()::text AS lsn`);
    const started = performance.now();
    const result = await tx.unsafe(variant.statement);
    const ms = performance.now() - started;
    if (result.count !== rows) throw new Error(`${variant.name}: updated ${result.count} rows`);
    const [wal] = await tx.unsafe(
      `SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_insert_lsn(), $1)::float8 AS b`,
      [before!.lsn],
    );
    return [ms, Number(wal!.b)] as [number, number];
  });
}

export async function benchFloor(
  sql: postgres.Sql,
  rows: number,
  runs = RUNS,
): Promise<FloorResult[]> {
  await sql.unsafe(`CREATE OR REPLACE FUNCTION public.floor_empty() RETURNS trigger
    LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$`);
  const timings = new Map<string, [number, number][]>(VARIANTS.map((v) => [v.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const variant of VARIANTS) timings.get(variant.name)!.push(await once(sql, variant, rows));
  }
  await sql.unsafe(`DROP TABLE IF EXISTS ${TABLE}`);
  const ms = (name: string) => median(timings.get(name)!.map(([t]) => t));
  return VARIANTS.map((v) => ({
    variant: v.name,
    ...(v.baseline ? { baseline: v.baseline, ratio: ms(v.baseline) / ms(v.name) } : {}),
    ms: ms(v.name),
    walMiB: median(timings.get(v.name)!.map(([, b]) => b)) / 2 ** 20,
  }));
}

if (import.meta.main) {
  const rows = Number(process.argv[2] ?? 300_000);
  if (!Number.isInteger(rows) || rows <= 0) throw new Error("invalid row count");
  const db = await openBenchDatabase();
  try {
    const results = await benchFloor(db.sql, rows);
    console.log(`${rows} rows, one statement each, medians of ${RUNS}`);
    console.log("variant                          ms      WAL MiB   ratio to baseline");
    for (const r of results) {
      console.log(
        `${r.variant.padEnd(31)}${r.ms.toFixed(0).padStart(6)}${r.walMiB.toFixed(1).padStart(11)}${
          r.ratio === undefined ? "" : `   ${r.ratio.toFixed(3)} of "${r.baseline}"`
        }`,
      );
    }
    console.log(JSON.stringify({
      benchmark: "trigger-floor",
      postgresVersion: db.postgresVersion,
      timestamp: new Date().toISOString(),
      rows,
      results,
    }));
  } finally {
    await db.close();
  }
}
