/**
 * The sync triggers and the backfill on real PostgreSQL, with the scenario built by hand (no
 * engine): a physical table, a temporary column, a version schema with a view over it, then the
 * actions of lib/engine/triggers.ts and runs of lib/engine/backfill.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import {
  type BackfillProgress,
  type BackfillProgressEvent,
  runBackfill,
} from "../lib/engine/backfill.ts";
import {
  shortenIdentifier,
  simplifyExpression,
  syncTriggerName,
  triggerActions,
  triggerDropActions,
  triggerFunctionNames,
} from "../lib/engine/triggers.ts";
import { MAX_IDENTIFIER_BYTES, NEEDS_BACKFILL_COLUMN, temporaryColumnName } from "../lib/naming.ts";
import type { TriggerSpec } from "../lib/operations/operation.ts";
import { ident } from "../lib/sql.ts";
import { engineSql } from "../lib/user-sql.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { duration, progressReporter } from "../lib/engine/progress.ts";

let db: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await testDatabase();
  sql = db.sql;
});

afterAll(async () => {
  await db?.drop();
});

const V2 = { baseSchema: "public", versionSchema: "public_v2" };
const NEW_NAME = temporaryColumnName("name");

/** up: upper(name) into the temporary column; down: lower(name) back into "name". */
function nameSpecs(table: string, up = "upper(name)", down = "lower(name)"): TriggerSpec[] {
  return [
    {
      table,
      direction: "up",
      targetColumn: NEW_NAME,
      expression: engineSql(up),
      columns: [{ name: "id", physicalName: "id" }, { name: "name", physicalName: "name" }],
    },
    {
      table,
      direction: "down",
      targetColumn: "name",
      expression: engineSql(down),
      columns: [{ name: "id", physicalName: "id" }, { name: "name", physicalName: NEW_NAME }],
    },
  ];
}

async function run(actions: readonly { sql: string }[]): Promise<void> {
  for (const action of actions) await sql.unsafe(action.sql);
}

/** Runs `statement` in a transaction whose search_path is `searchPath` (set verbatim). */
async function withSearchPath(searchPath: string, statement: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(`SET LOCAL search_path = ${searchPath}`);
    await tx.unsafe(statement);
  });
}

/** Creates `table` with a temporary name column and a view of the new version over it. */
async function versionedNames(table: string, rows: number): Promise<void> {
  await sql.unsafe(`CREATE TABLE ${ident(table)} (id serial PRIMARY KEY, name text)`);
  await sql.unsafe(
    `INSERT INTO ${ident(table)} (name) SELECT 'Name ' || i FROM generate_series(1, ${rows}) i`,
  );
  await sql.unsafe(`ALTER TABLE ${ident(table)} ADD COLUMN ${ident(NEW_NAME)} text`);
  await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS public_v2`);
  await sql.unsafe(`CREATE VIEW ${ident("public_v2", table)} AS
    SELECT id, ${ident(NEW_NAME)} AS name FROM ${ident("public", table)}`);
  await run(triggerActions(nameSpecs(table), V2));
}

describe("triggers", () => {
  beforeAll(async () => {
    await versionedNames("users", 0);
  });

  test("a write from the old side fills the new column through up", async () => {
    await sql`INSERT INTO users (name) VALUES ('Alice')`;
    const [row] = await sql`SELECT * FROM users WHERE name = 'Alice'`;
    expect(row?.[NEW_NAME]).toBe("ALICE");
    expect(row?.[NEEDS_BACKFILL_COLUMN]).toBe(false);
    await sql`UPDATE users SET name = 'Alicia' WHERE name = 'Alice'`;
    const [updated] = await sql`SELECT * FROM users WHERE name = 'Alicia'`;
    expect(updated?.[NEW_NAME]).toBe("ALICIA");
  });

  test("a write through the new version's view fills the old column through down", async () => {
    await withSearchPath("public_v2", `INSERT INTO users (name) VALUES ('BOB')`);
    const [row] = await sql`SELECT * FROM users WHERE ${sql(NEW_NAME)} = 'BOB'`;
    expect(row?.name).toBe("bob");
    // Born in the new shape: the backfill must leave it alone.
    expect(row?.[NEEDS_BACKFILL_COLUMN]).toBe(false);
  });

  test("the new version is recognised however its search_path is spelled", async () => {
    const paths = [
      `"public_v2"`,
      `public_v2, public`,
      `  "public_v2" ,public`,
      `public_v2,pg_temp`,
    ];
    for (const [i, path] of paths.entries()) {
      await withSearchPath(path, `INSERT INTO users (name) VALUES ('NEW ${i}')`);
    }
    const rows = await sql`SELECT name FROM users WHERE ${sql(NEW_NAME)} LIKE 'NEW %' ORDER BY 1`;
    expect(rows.map((r) => r.name)).toEqual(paths.map((_, i) => `new ${i}`));
    // A version that is not first, or the base schema, is the old side.
    await withSearchPath(`public, public_v2`, `INSERT INTO users (name) VALUES ('Old 1')`);
    const [old] = await sql`SELECT * FROM users WHERE name = 'Old 1'`;
    expect(old?.[NEW_NAME]).toBe("OLD 1");
  });

  test("one function per table and direction; the down trigger only fires for the new side", async () => {
    const triggers = await sql`
      SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger
      WHERE tgrelid = 'public.users'::regclass AND NOT tgisinternal ORDER BY tgname`;
    const names = triggerFunctionNames(nameSpecs("users"));
    expect(triggers.map((t) => t.tgname).sort()).toEqual(
      [names.get("up:users"), names.get("down:users")].map((n) => syncTriggerName(n!)).sort(),
    );
    expect(names.get("up:users")).toBe("_pgroll_trigger_users_name");
    expect(names.get("down:users")).toBe("_pgroll_trigger_users__pgroll_new_name");
    const down = triggers.find((t) => t.tgname === syncTriggerName(names.get("down:users")!));
    expect(down?.def).toContain("WHEN");
  });

  test("two specs of one table and direction share one function, applied in order", async () => {
    await sql`CREATE TABLE counters (id int PRIMARY KEY, a int, b int)`;
    await sql`ALTER TABLE counters ADD COLUMN _pgroll_new_a int, ADD COLUMN _pgroll_new_b int`;
    const specs: TriggerSpec[] = [
      {
        table: "counters",
        direction: "up",
        targetColumn: "_pgroll_new_a",
        expression: engineSql("a + 1"),
        columns: [{ name: "a", physicalName: "a" }],
      },
      {
        // A later operation sees the column as the first one left it.
        table: "counters",
        direction: "up",
        targetColumn: "_pgroll_new_b",
        expression: engineSql("SELECT a * 10"),
        columns: [{ name: "a", physicalName: "_pgroll_new_a" }, { name: "b", physicalName: "b" }],
      },
    ];
    await run(triggerActions(specs, V2));
    await sql`INSERT INTO counters (id, a) VALUES (1, 1)`;
    const [row] = await sql`SELECT * FROM counters`;
    expect([row?._pgroll_new_a, row?._pgroll_new_b]).toEqual([2, 20]);
    // One up trigger for both specs (plus the down trigger that marks new-side inserts).
    const triggers = await sql`SELECT tgname FROM pg_trigger
      WHERE tgrelid = 'counters'::regclass AND NOT tgisinternal ORDER BY tgname`;
    expect(triggers.map((t) => t.tgname)).toEqual([
      "~_pgroll_trigger_counters__pgroll_needs_backfill",
      "~_pgroll_trigger_counters_a",
    ]);
    await run(triggerDropActions(specs, V2));
  });

  test("rows the new version inserts are never marked for backfill; old-side ones are filled", async () => {
    await sql`CREATE TABLE marks (id int PRIMARY KEY, a int, _pgroll_new_b int)`;
    await sql`CREATE SCHEMA IF NOT EXISTS public_v2`;
    await sql`CREATE OR REPLACE VIEW public_v2.marks AS SELECT id, a, _pgroll_new_b AS b FROM marks`;
    // Only an up trigger (as add_column makes): new-side inserts still need their marker cleared.
    const specs: TriggerSpec[] = [{
      table: "marks",
      direction: "up",
      targetColumn: "_pgroll_new_b",
      expression: engineSql("a + 1"),
      columns: [{ name: "id", physicalName: "id" }, { name: "a", physicalName: "a" }],
    }];
    await run(triggerActions(specs, V2));
    await withSearchPath("public_v2", "INSERT INTO marks (id, a, b) VALUES (1, 10, 99)");
    await sql`INSERT INTO marks (id, a) VALUES (2, 20)`;
    const rows = await sql`SELECT id, _pgroll_new_b AS b, _pgroll_needs_backfill AS pending
      FROM marks ORDER BY id`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, b: 99, pending: false },
      { id: 2, b: 21, pending: false },
    ]);
    await run(triggerDropActions(specs, V2));
    const left = await sql`SELECT count(*)::int AS n FROM pg_trigger
      WHERE tgrelid = 'marks'::regclass AND NOT tgisinternal`;
    expect(left[0]?.n).toBe(0);
    await sql`DROP VIEW public_v2.marks`;
  });

  test("names with spaces, quotes and capitals", async () => {
    const base = `Base "S" x`;
    const version = `Base "S" x_V 2`;
    const table = `My "Table"`;
    const options = { baseSchema: base, versionSchema: version };
    await sql.unsafe(`CREATE SCHEMA ${ident(base)}`);
    await sql.unsafe(`CREATE SCHEMA ${ident(version)}`);
    await sql.unsafe(`CREATE TABLE ${ident(base, table)} (
      "Key ID" int PRIMARY KEY, "Full Name" text, "_pgroll_new_Full Name" text)`);
    await sql.unsafe(`CREATE VIEW ${ident(version, table)} AS SELECT "Key ID",
      "_pgroll_new_Full Name" AS "Full Name" FROM ${ident(base, table)}`);
    await sql.unsafe(`INSERT INTO ${ident(base, table)} VALUES (1, 'a ''quoted'' one')`);
    const specs: TriggerSpec[] = [
      {
        table,
        direction: "up",
        targetColumn: "_pgroll_new_Full Name",
        expression: engineSql(`upper("Full Name") || '$pgtandem$' -- trailing comment`),
        columns: [{ name: "Key ID", physicalName: "Key ID" }, {
          name: "Full Name",
          physicalName: "Full Name",
        }],
      },
      {
        table,
        direction: "down",
        targetColumn: "Full Name",
        expression: engineSql(`lower("Full Name")`),
        columns: [{ name: "Full Name", physicalName: "_pgroll_new_Full Name" }],
      },
    ];
    await run(triggerActions(specs, options));
    await withSearchPath(ident(version), `INSERT INTO ${ident(table)} VALUES (2, 'NEW')`);
    const result = await runBackfill(sql, { schema: base, table, lockTimeoutMs: 1000 });
    expect(result.rows).toBe(1);
    const rows = await sql.unsafe(`SELECT * FROM ${ident(base, table)} ORDER BY 1`);
    expect(rows.map((r) => [r["Full Name"], r["_pgroll_new_Full Name"]])).toEqual([
      ["a 'quoted' one", "A 'QUOTED' ONE$pgtandem$"],
      ["new", "NEW"],
    ]);
    await run(triggerDropActions(specs, options));
    await expectCleanedUp(base, specs);
  });

  test("an expression naming an unknown column fails before any trigger exists", async () => {
    const actions = triggerActions(nameSpecs("users", "upper(nmae)"), V2);
    expect(actions[1]?.id).toStartWith("check_expression_");
    await expect(sql.unsafe(actions[1]!.sql)).rejects.toThrow(/nmae/);
  });

  test("names too long for PostgreSQL are shortened deterministically", async () => {
    const table = "t".repeat(50);
    await sql.unsafe(`CREATE TABLE ${ident(table)} (id int PRIMARY KEY, name text)`);
    await sql.unsafe(`ALTER TABLE ${ident(table)} ADD COLUMN ${ident(NEW_NAME)} text`);
    const names = triggerFunctionNames(nameSpecs(table));
    for (const name of names.values()) {
      expect(new TextEncoder().encode(name).length).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    }
    expect(names.get("up:" + table)).not.toBe(names.get("down:" + table));
    await run(triggerActions(nameSpecs(table), V2));
    await sql.unsafe(`INSERT INTO ${ident(table)} VALUES (1, 'x')`);
    const [row] = await sql.unsafe(`SELECT ${ident(NEW_NAME)} AS v FROM ${ident(table)}`);
    expect(row?.v).toBe("X");
    await run(triggerDropActions(nameSpecs(table), V2));
    await expectCleanedUp("public", nameSpecs(table));
  });

  test("drop actions leave no function, trigger or marker and can run twice", async () => {
    const drops = triggerDropActions(nameSpecs("users"), V2);
    await run(drops);
    await run(drops);
    await expectCleanedUp("public", nameSpecs("users"));
  });
});

/** No trigger on the table, none of the specs' functions, no marker column. */
async function expectCleanedUp(schema: string, specs: readonly TriggerSpec[]): Promise<void> {
  const table = specs[0]!.table;
  const functions = [...triggerFunctionNames(specs).values()];
  const [state] = await sql`
    SELECT
      (SELECT count(*)::int FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${schema} AND c.relname = ${table} AND NOT t.tgisinternal) AS triggers,
      (SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ${schema} AND p.proname = ANY(${functions})) AS functions,
      (SELECT count(*)::int FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${schema} AND c.relname = ${table}
          AND a.attname = ${NEEDS_BACKFILL_COLUMN} AND NOT a.attisdropped) AS markers`;
  expect(state).toEqual({ triggers: 0, functions: 0, markers: 0 });
}

describe("backfill", () => {
  test("fills rows that existed and skips rows written through a trigger since", async () => {
    await versionedNames("people", 2500);
    // Written since the triggers exist: marker false, values the backfill must not touch.
    await sql`UPDATE people SET name = 'Changed' WHERE id <= 10`;
    await withSearchPath("public_v2", `UPDATE people SET name = 'kept' WHERE id = 1`);
    const events: BackfillProgressEvent[] = [];
    const result = await runBackfill(sql, {
      schema: "public",
      table: "people",
      batchSize: 300,
      targetBatchMs: 0,
      lockTimeoutMs: 1000,
      onProgress: (p) => events.push(p),
    });
    expect(result.rows).toBe(2490);
    expect(result.batches).toBeGreaterThanOrEqual(9);
    expect(events.at(-1)?.done).toBe(2490);
    const [state] = await sql`SELECT
      count(*) FILTER (WHERE ${sql(NEW_NAME)} = upper(name))::int AS synced,
      count(*) FILTER (WHERE ${sql(NEEDS_BACKFILL_COLUMN)})::int AS marked,
      max(${sql(NEW_NAME)}) FILTER (WHERE id = 1) AS first FROM people`;
    expect(state).toEqual({ synced: 2499, marked: 0, first: "kept" });
    // A second run finds nothing to do.
    const again = await runBackfill(sql, {
      schema: "public",
      table: "people",
      lockTimeoutMs: 1000,
    });
    expect(again.rows).toBe(0);
  });

  test("a table without a primary key is walked by block ranges", async () => {
    await sql`CREATE TABLE logs (msg text, ${sql(NEW_NAME)} text)`;
    await sql`INSERT INTO logs (msg) SELECT 'm' || i FROM generate_series(1, 5000) i`;
    await run(triggerActions([upSpec("logs", "upper(msg)", "msg")], V2));
    const saved: BackfillProgress[] = [];
    const result = await runBackfill(sql, {
      schema: "public",
      table: "logs",
      batchSize: 700,
      targetBatchMs: 0,
      lockTimeoutMs: 1000,
      saveProgress: (p) => Promise.resolve(void saved.push(p)),
    });
    expect(result.rows).toBe(5000);
    expect(result.batches).toBeGreaterThan(1);
    expect(saved.at(-1)?.identity).toEqual(["ctid"]);
    const [left] = await sql`SELECT count(*)::int AS n FROM logs
      WHERE ${sql(NEW_NAME)} IS DISTINCT FROM upper(msg)`;
    expect(left?.n).toBe(0);
  });

  test("a unique NOT NULL column serves as identity when there is no primary key", async () => {
    await sql`CREATE TABLE codes (alt int UNIQUE, code text NOT NULL UNIQUE, ${
      sql(NEW_NAME)
    } text)`;
    await sql`INSERT INTO codes (code) SELECT 'c' || i FROM generate_series(1, 1000) i`;
    await run(triggerActions([upSpec("codes", "upper(code)", "code")], V2));
    const saved: BackfillProgress[] = [];
    const result = await runBackfill(sql, {
      schema: "public",
      table: "codes",
      batchSize: 128,
      lockTimeoutMs: 1000,
      saveProgress: (p) => Promise.resolve(void saved.push(p)),
    });
    expect(result.rows).toBe(1000);
    expect(saved[0]?.identity).toEqual(["code"]);
    // Text keys compare in the column's collation, not numerically: 'c999' is the largest.
    expect(saved[0]?.upperBound).toEqual(["c999"]);
  });

  test("a composite primary key", async () => {
    await sql`CREATE TABLE pairs (a int, b text, name text, PRIMARY KEY (a, b))`;
    await sql`INSERT INTO pairs SELECT i % 7, 'k' || i, 'n' || i FROM generate_series(1, 2000) i`;
    await sql`ALTER TABLE pairs ADD COLUMN ${sql(NEW_NAME)} text`;
    await run(triggerActions([upSpec("pairs", "upper(name)", "name")], V2));
    const saved: BackfillProgress[] = [];
    const result = await runBackfill(sql, {
      schema: "public",
      table: "pairs",
      batchSize: 150,
      targetBatchMs: 0,
      lockTimeoutMs: 1000,
      saveProgress: (p) => Promise.resolve(void saved.push(p)),
    });
    expect(result.rows).toBe(2000);
    expect(result.batches).toBe(14);
    expect(saved[0]?.identity).toEqual(["a", "b"]);
    const [left] = await sql`SELECT count(*)::int AS n FROM pairs
      WHERE ${sql(NEW_NAME)} IS DISTINCT FROM upper(name)`;
    expect(left?.n).toBe(0);
  });

  test("an aborted run resumes from its saved progress without rewriting done rows", async () => {
    await versionedNames("resumed", 3000);
    let saved: BackfillProgress | undefined;
    const controller = new AbortController();
    const options = {
      schema: "public",
      table: "resumed",
      batchSize: 500,
      targetBatchMs: 0,
      lockTimeoutMs: 1000,
      saveProgress: (p: BackfillProgress) => Promise.resolve(void (saved = p)),
    };
    const aborted = runBackfill(sql, {
      ...options,
      signal: controller.signal,
      onProgress: (p) => p.batch === 1 && controller.abort(),
    });
    await expect(aborted).rejects.toThrow();
    expect(saved?.done).toBe(500);
    expect(saved?.lastKey).toEqual(["500"]);
    const before = await sql`SELECT id, xmin::text AS x FROM resumed WHERE id <= 500 ORDER BY id`;
    // Rows inserted after the start are the triggers' business, even with a marker still set.
    await sql`INSERT INTO resumed (name) VALUES ('late')`;
    await sql`UPDATE resumed SET ${sql(NEEDS_BACKFILL_COLUMN)} = true WHERE name = 'late'`;
    const result = await runBackfill(sql, {
      ...options,
      resumeFrom: JSON.parse(JSON.stringify(saved)),
    });
    expect(result.rows).toBe(2500);
    expect(saved?.done).toBe(3000);
    const after = await sql`SELECT id, xmin::text AS x FROM resumed WHERE id <= 500 ORDER BY id`;
    expect(after).toEqual(before);
    const [state] = await sql`SELECT count(*)::int AS n FROM resumed
      WHERE ${sql(NEW_NAME)} IS DISTINCT FROM upper(name) AND name <> 'late'`;
    expect(state?.n).toBe(0);
  });

  test("block ranges resume too", async () => {
    await sql`CREATE TABLE notes (body text, ${sql(NEW_NAME)} text)`;
    await sql`INSERT INTO notes (body) SELECT 'n' || i FROM generate_series(1, 4000) i`;
    await run(triggerActions([upSpec("notes", "upper(body)", "body")], V2));
    let saved: BackfillProgress | undefined;
    const controller = new AbortController();
    const options = {
      schema: "public",
      table: "notes",
      batchSize: 100,
      targetBatchMs: 0,
      lockTimeoutMs: 1000,
      saveProgress: (p: BackfillProgress) => Promise.resolve(void (saved = p)),
    };
    await runBackfill(sql, {
      ...options,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }).catch(() => {});
    const first = saved!.done;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(4000);
    const result = await runBackfill(sql, { ...options, resumeFrom: saved! });
    expect(result.rows).toBe(4000 - first);
    const [left] = await sql`SELECT count(*)::int AS n FROM notes
      WHERE ${sql(NEW_NAME)} IS DISTINCT FROM upper(body)`;
    expect(left?.n).toBe(0);
  });

  test("a row locked by a client is waited for, never skipped", async () => {
    await versionedNames("locked", 1000);
    const holder = await sql.reserve();
    try {
      await holder`BEGIN`;
      await holder`SELECT * FROM locked WHERE id = 600 FOR UPDATE`;
      const release = setTimeout(() => holder`COMMIT`.catch(() => {}), 400);
      const result = await runBackfill(sql, {
        schema: "public",
        table: "locked",
        batchSize: 200,
        targetBatchMs: 0,
        lockTimeoutMs: 50,
      });
      clearTimeout(release);
      expect(result.rows).toBe(1000);
    } finally {
      await holder`COMMIT`.catch(() => {});
      holder.release();
    }
    const [left] = await sql`SELECT count(*)::int AS n FROM locked
      WHERE ${sql(NEW_NAME)} IS DISTINCT FROM upper(name)`;
    expect(left?.n).toBe(0);
  });

  test("a partitioned table without a key is walked partition by partition", async () => {
    await sql`CREATE TABLE events (day int, name text) PARTITION BY RANGE (day)`;
    await sql`CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (0) TO (50)`;
    await sql`CREATE TABLE events_b PARTITION OF events FOR VALUES FROM (50) TO (100)`;
    await sql`INSERT INTO events SELECT i % 100, 'e' || i FROM generate_series(1, 3000) i`;
    await sql`ALTER TABLE events ADD COLUMN ${sql(NEW_NAME)} text`;
    await run(triggerActions([upSpec("events", "upper(name)", "name")], V2));
    const result = await runBackfill(sql, {
      schema: "public",
      table: "events",
      batchSize: 400,
      lockTimeoutMs: 1000,
    });
    expect(result.rows).toBe(3000);
    const [left] = await sql`SELECT count(*)::int AS n FROM events
      WHERE ${sql(NEW_NAME)} IS DISTINCT FROM upper(name)`;
    expect(left?.n).toBe(0);
  });

  test("an empty table", async () => {
    await versionedNames("nobody", 0);
    const result = await runBackfill(sql, {
      schema: "public",
      table: "nobody",
      lockTimeoutMs: 100,
    });
    expect(result).toMatchObject({ rows: 0, batches: 0 });
  });
});

function upSpec(table: string, expression: string, column: string): TriggerSpec {
  return {
    table,
    direction: "up",
    targetColumn: NEW_NAME,
    expression: engineSql(expression),
    columns: [{ name: column, physicalName: column }],
  };
}

describe("expressions", () => {
  test("SELECT <expr> is evaluated as <expr> only when that is the same thing", () => {
    const same = (e: string) => expect(simplifyExpression(e)).toBe(e);
    expect(simplifyExpression("SELECT CASE WHEN name IS NULL THEN 'placeholder' ELSE name END"))
      .toBe("CASE WHEN name IS NULL THEN 'placeholder' ELSE name END");
    expect(simplifyExpression("(select upper(name) || 'x')")).toBe("upper(name) || 'x'");
    expect(simplifyExpression("SELECT CAST(x AS int)")).toBe("CAST(x AS int)");
    expect(simplifyExpression("SELECT date '2020-01-01'")).toBe("date '2020-01-01'");
    same("SELECT name FROM other");
    same("SELECT name n");
    same("SELECT 1 AS n");
    same("SELECT DISTINCT name");
    same("SELECT a, b");
    same("SELECT 1 UNION SELECT 2");
    same("SELECT x::double precision");
    same("upper(name)");
    same("SELECT 'unterminated");
  });

  test("long identifiers are shortened to 63 bytes, keeping distinct names distinct", () => {
    const a = shortenIdentifier("é".repeat(40));
    const b = shortenIdentifier("é".repeat(41));
    expect(new TextEncoder().encode(a).length).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    expect(a).not.toBe(b);
    expect(shortenIdentifier("short")).toBe("short");
  });
});

describe("progress reporter", () => {
  function capture(isTTY: boolean, json = false) {
    let clock = 0;
    const out: string[] = [];
    const reporter = progressReporter({
      stream: { write: (t: string) => out.push(t), isTTY },
      json,
      label: "backfill users",
      now: () => clock,
    });
    return { out, reporter, tick: (ms: number) => void (clock += ms) };
  }

  test("a terminal gets a bar redrawn in place, at most ten times a second", () => {
    const { out, reporter, tick } = capture(true);
    reporter.onProgress({ done: 100, total: 1000, rowsPerSecond: 50 });
    tick(10);
    reporter.onProgress({ done: 200, total: 1000, rowsPerSecond: 50 });
    tick(200);
    reporter.onProgress({ done: 500, total: 1000, rowsPerSecond: 50 });
    reporter.finish();
    expect(out.length).toBe(3);
    expect(out[0]).toStartWith("\rbackfill users [##");
    expect(out[1]).toContain(" 50%  500/1,000 rows  50 rows/s  ETA 10s");
    expect(out[2]).toEndWith("\n");
  });

  test("a log gets a line every few seconds and the final figures", () => {
    const { out, reporter, tick } = capture(false);
    reporter.onProgress({ done: 1, total: 10, rowsPerSecond: 1 });
    tick(1000);
    reporter.onProgress({ done: 2, total: 10, rowsPerSecond: 1 });
    tick(5000);
    reporter.onProgress({ done: 7, total: 10, rowsPerSecond: 1 });
    reporter.onProgress({ done: 10, total: 10, rowsPerSecond: 2 });
    reporter.finish();
    expect(out).toEqual([
      "backfill users:  10%  1/10 rows  1 rows/s  ETA 9s\n",
      "backfill users:  70%  7/10 rows  1 rows/s  ETA 3s\n",
      "backfill users: 100%  10/10 rows  2 rows/s\n",
    ]);
  });

  test("JSON mode prints nothing", () => {
    const { out, reporter } = capture(true, true);
    reporter.onProgress({ done: 1, total: 10, rowsPerSecond: 1 });
    reporter.finish();
    expect(out).toEqual([]);
    expect(duration(3725)).toBe("1h02m");
  });
});
