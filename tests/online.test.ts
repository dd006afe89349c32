/**
 * The zero-downtime promises, tested the hard way on real PostgreSQL:
 *  - clients keep writing through both versions while start (with its backfill) and complete run:
 *    no client error, no lost write;
 *  - a run killed in the middle of the backfill can be rolled back to the exact prior state, or
 *    completed (the backfill resumes where it stopped).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { dumpSchema, leftovers, schemaExists, tableRows } from "./helpers/catalog.ts";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let db: TestDatabase;
const ROWS = 20_000;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "o01_events", {
    operations: [{
      create_table: {
        name: "events",
        columns: [
          { name: "id", type: "bigserial", pk: true },
          { name: "kind", type: "text", nullable: true },
          { name: "amount", type: "integer" },
        ],
      },
    }],
  });
  await db.sql`insert into events (kind, amount)
               select case when g % 4 = 0 then null else 'k' || (g % 7) end, g
                 from generate_series(1, ${ROWS}) g`;
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

/** A client that writes in a loop through one version until stopped; records every write. */
function writer(searchPath: string, label: string) {
  const sql = postgres(db.url, {
    max: 1,
    onnotice: () => {},
    connection: { search_path: searchPath },
  });
  const written: number[] = [];
  const errors: string[] = [];
  let running = true;
  const done = (async () => {
    let i = 0;
    while (running) {
      i++;
      try {
        const [row] =
          await sql`insert into events (kind, amount) values (${label}, ${i}) returning id`;
        written.push(Number(row!.id));
        await sql`update events set amount = amount + 1 where id = ${1 + (i % 100)}`;
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    await sql.end();
  })();
  return {
    written,
    errors,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Runs the CLI as a separate process (so it can be killed), resolving with its exit code. */
function spawnCli(args: string[]) {
  const child = spawn(process.execPath, [join(root, "main.ts"), ...args], {
    env: { ...process.env, PGROLL_PG_URL: db.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

const notNullMigration = {
  operations: [{
    alter_column: {
      table: "events",
      column: "kind",
      nullable: false,
      up: "SELECT CASE WHEN kind IS NULL THEN 'unknown' ELSE kind END",
      comment: "what happened",
    },
  }],
};

describe("online", () => {
  test("writers on both versions during start and complete: no error, no lost write", async () => {
    const file = await migrationFile("o02_kind_not_null.json", notNullMigration);
    const oldWriter = writer("public_o01_events", "old");
    await new Promise((r) => setTimeout(r, 100));
    await cliOk(db.url, ["start", file, "--backfill-batch-size", "500"]);
    const newWriter = writer("public_o02_kind_not_null", "new");
    await new Promise((r) => setTimeout(r, 300));
    // The app switches to the new version, then the old one is retired.
    await oldWriter.stop();
    await cliOk(db.url, ["complete"]);
    await new Promise((r) => setTimeout(r, 200));
    await newWriter.stop();

    expect(oldWriter.errors).toEqual([]);
    expect(newWriter.errors).toEqual([]);
    expect(oldWriter.written.length).toBeGreaterThan(0);
    expect(newWriter.written.length).toBeGreaterThan(0);
    const ids = [...oldWriter.written, ...newWriter.written];
    const found = await db.sql`select count(*)::int as n from events where id = any(${ids})`;
    expect(found[0]!.n).toBe(ids.length);
    const kinds = await db.sql`
      select count(*) filter (where kind is null)::int as nulls,
             count(*) filter (where kind = 'unknown')::int as unknown,
             count(*) filter (where kind = 'old')::int as old_rows
        from events`;
    expect(kinds[0]).toEqual({ nulls: 0, unknown: ROWS / 4, old_rows: oldWriter.written.length });
    expect(await leftovers(db.sql, "public")).toEqual([]);
  }, 120_000);

  test("killed mid-backfill, then rolled back: the exact prior state", async () => {
    await applyMigration(db, "o03_note", {
      operations: [{
        add_column: { table: "events", column: { name: "note", type: "text", nullable: true } },
      }],
    });
    const schemaBefore = await dumpSchema(db.sql, "public");
    const rowsBefore = await tableRows(db.sql, "public", "events");
    const file = await migrationFile("o04_amount_text.json", {
      operations: [{
        alter_column: {
          table: "events",
          column: "amount",
          type: "text",
          up: "amount::text",
          down: "amount::integer",
        },
      }],
    });
    const run = spawnCli([
      "start",
      file,
      "--backfill-batch-size",
      "200",
      "--backfill-batch-delay",
      "50ms",
    ]);
    await waitForBackfillProgress("o04_amount_text");
    run.child.kill("SIGKILL");
    await run.exited;
    expect(await schemaExists(db.sql, "public_o04_amount_text")).toBe(true);

    await cliOk(db.url, ["rollback"]);
    expect(await dumpSchema(db.sql, "public")).toEqual(schemaBefore);
    expect(await tableRows(db.sql, "public", "events")).toEqual(rowsBefore);
    expect(await leftovers(db.sql, "public")).toEqual([]);
    const active = await db.sql`select 1 from pgroll.migrations where not done`;
    expect(active.length).toBe(0);
  }, 120_000);

  test("killed mid-backfill, then completed: the backfill resumes and finishes", async () => {
    const file = await migrationFile("o05_amount_bigint.json", {
      operations: [{
        alter_column: {
          table: "events",
          column: "amount",
          type: "bigint",
          up: "amount * 10",
          down: "amount / 10",
        },
      }],
    });
    const run = spawnCli([
      "start",
      file,
      "--backfill-batch-size",
      "200",
      "--backfill-batch-delay",
      "50ms",
    ]);
    const doneAtKill = await waitForBackfillProgress("o05_amount_bigint");
    run.child.kill("SIGKILL");
    await run.exited;
    expect(doneAtKill).toBeLessThan(ROWS);

    await cliOk(db.url, ["complete"]);
    const [check] = await db.sql`
      select count(*)::int as total, count(*) filter (where amount % 10 <> 0)::int as not_converted,
             format_type((select atttypid from pg_attribute where attrelid = 'events'::regclass
                          and attname = 'amount'), null) as type
        from events`;
    expect(check).toEqual({ total: check!.total, not_converted: 0, type: "bigint" });
    expect(await leftovers(db.sql, "public")).toEqual([]);
  }, 120_000);
});

/** Polls the saved backfill progress until some rows are done; returns how many. */
async function waitForBackfillProgress(name: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const rows = await db.sql`
      select backfill from pgroll.pgtandem_runs where name = ${name}`;
    const tables = (rows[0]?.backfill as { tables?: Record<string, { done: number }> })?.tables;
    const done = Object.values(tables ?? {})[0]?.done ?? 0;
    if (done > 0) return done;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`backfill of ${name} never made progress`);
}
