/**
 * Backfill batches under hostile settings, driven directly (lib/engine/backfill.ts) where the CLI
 * cannot reach the case: a batch that outlasts statement_timeout is retried smaller, and a role
 * row-level security would filter gets one line naming the privilege instead of a partial fill.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { runBackfill } from "../lib/engine/backfill.ts";
import { triggerActions } from "../lib/engine/triggers.ts";
import { temporaryColumnName } from "../lib/naming.ts";
import type { TriggerSpec } from "../lib/operations/operation.ts";
import { engineSql } from "../lib/user-sql.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const V2 = { baseSchema: "public", versionSchema: "public_v2" };
const NEW_V = temporaryColumnName("v");

/** `table` (id, v) with `rows` rows, a temporary column and the up trigger `up` filling it. */
async function tableWithTrigger(table: string, rows: number, up: string): Promise<void> {
  await db.sql.unsafe(`create table ${table} (id int primary key, v text, ${NEW_V} text)`);
  await db.sql.unsafe(`insert into ${table} select g, 'v' || g from generate_series(1, ${rows}) g`);
  const spec: TriggerSpec = {
    table,
    direction: "up",
    targetColumn: NEW_V,
    expression: engineSql(up),
    columns: [{ name: "v", physicalName: "v" }],
  };
  for (const action of triggerActions([spec], V2)) await db.sql.unsafe(action.sql);
}

describe("backfill batches", () => {
  test("a batch that hits statement_timeout is retried smaller until it fits", async () => {
    await db.sql`create function slow_upper(text) returns text language plpgsql as
      $$ begin perform pg_sleep(0.005); return upper($1); end $$`;
    await tableWithTrigger("slow", 300, "slow_upper(v)");
    const sizes: number[] = [];
    // 250 rows take at least 1.25 s: far over the 300 ms cap, so the first batch must shrink.
    const result = await runBackfill(db.sql, {
      schema: "public",
      table: "slow",
      lockTimeoutMs: 1000,
      batchSize: 250,
      targetBatchMs: 0,
      statementTimeoutMs: 300,
      onProgress: (p) => sizes.push(p.batchSize),
    });
    expect(result.rows).toBe(300);
    expect(Math.max(...sizes)).toBeLessThan(250);
    const [left] = await db.sql`select count(*)::int as n from slow
      where ${db.sql(NEW_V)} is distinct from upper(v)`;
    expect(left?.n).toBe(0);
  }, 60_000);

  test("row-level security that would hide rows fails with the privilege to grant", async () => {
    const role = `rls_${db.name}`;
    await tableWithTrigger("guarded", 50, "upper(v)");
    await db.sql.unsafe(`create role ${role} login`);
    await db.sql.unsafe(`alter table guarded owner to ${role}`);
    await db.sql.unsafe(`alter table guarded enable row level security`);
    await db.sql.unsafe(`alter table guarded force row level security`);
    await db.sql.unsafe(`create policy few on guarded using (id <= 5)`);
    const url = new URL(db.url);
    url.username = role;
    const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
    try {
      const run = runBackfill(sql, { schema: "public", table: "guarded", lockTimeoutMs: 1000 });
      await expect(run).rejects.toThrow(
        /cannot backfill table "guarded": role "rls_\w+" would not see every row .*BYPASSRLS/,
      );
    } finally {
      await sql.end();
    }
    const [state] = await db.sql`select count(*) filter (where ${db.sql(NEW_V)} is null)::int
      as unfilled, count(*) filter (where _pgroll_needs_backfill)::int as marked from guarded`;
    expect(state).toEqual({ unfilled: 50, marked: 50 }); // nothing half-done
  });
});
