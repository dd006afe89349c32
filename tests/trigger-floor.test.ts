/**
 * scripts/bench/trigger-floor.ts explains, in docs/performance.md, why the backfill cannot reach a
 * plain UPDATE's speed: PostgreSQL locks each row before its BEFORE UPDATE row triggers are
 * considered, even a disabled trigger, which writes one more WAL record per row. Timings are never
 * asserted (the machine is shared); the WAL each statement writes is, for it does not depend on
 * the machine: these are the facts the page's explanation rests on.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { benchFloor, type FloorResult } from "../scripts/bench/trigger-floor.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;
let results: FloorResult[];
const ROWS = 2_000;

beforeAll(async () => {
  db = await testDatabase();
  results = await benchFloor(db.sql, ROWS, 1);
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

const wal = (variant: string) => {
  const found = results.find((r) => r.variant === variant);
  if (!found) throw new Error(`no variant ${variant}`);
  return found.walMiB * 2 ** 20;
};

test("every variant ran and updated every row (benchFloor throws otherwise)", () => {
  expect(results.map((r) => r.variant)).toEqual([
    "plain",
    "shape",
    "shape + disabled trigger",
    "shape + sync triggers",
    "write, no trigger",
    "write, empty plpgsql trigger",
  ]);
  for (const r of results) expect(r.ms).toBeGreaterThan(0);
});

test("a disabled BEFORE UPDATE row trigger still makes PostgreSQL lock, and log, every row", () => {
  // At least a dozen bytes per row more: a row lock's WAL record.
  expect(wal("shape + disabled trigger") - wal("shape")).toBeGreaterThan(12 * ROWS);
});

test("the sync triggers skipped by their WHEN clauses write no more than a disabled trigger", () => {
  // Skipped, they change nothing in the row: the extra WAL is the row lock alone.
  expect(Math.abs(wal("shape + sync triggers") - wal("shape + disabled trigger"))).toBeLessThan(
    2 * ROWS,
  );
});

test("an empty plpgsql BEFORE trigger costs a client's UPDATE the same row lock", () => {
  expect(wal("write, empty plpgsql trigger") - wal("write, no trigger")).toBeGreaterThan(12 * ROWS);
});
