/**
 * The state store on a real server: the init script builds pgroll's layout (and is safe to run
 * again and concurrently), the history functions and transitions behave as pgroll's, read_schema
 * returns the documented JSON, and odd identifiers survive everywhere.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { runLockKey, withAdvisoryLock } from "../lib/engine/advisory-lock.ts";
import { StateStore } from "../lib/engine/state.ts";
import { normalizeSchema } from "../lib/schema/normalize.ts";
import { StateError } from "../lib/errors.ts";
import { ident } from "../lib/sql.ts";
import { engineSql } from "../lib/user-sql.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const START_TIMEOUT = 60_000;

let db: TestDatabase;
let sql: postgres.Sql;
let state: StateStore;

beforeAll(async () => {
  db = await testDatabase();
  sql = db.sql;
  state = new StateStore(sql, "pgroll");
  await state.init("0.1.0");
}, START_TIMEOUT);

afterAll(async () => {
  await db?.drop();
});

/** Creates the version schema `<base>_<version>`, which latest_version looks for. */
async function createVersionSchema(base: string, version: string): Promise<void> {
  await sql.unsafe(`CREATE SCHEMA ${ident(`${base}_${version}`)}`);
}

/** Waits until `count` advisory locks are granted (or waited for, with granted = false). */
async function advisoryLocks(granted: boolean, count: number): Promise<void> {
  for (;;) {
    const [row] = await sql.unsafe(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted = $1`,
      [granted],
    );
    if (row?.n === count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function expectStateError(promise: Promise<unknown>, message: string | RegExp) {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  if (typeof message === "string") expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

describe("init", () => {
  test("is idempotent and records only the latest version", async () => {
    await state.init("0.1.0");
    await state.init("0.2.0");
    const rows = await sql.unsafe(`SELECT version FROM pgroll.pgroll_version`);
    expect(rows.map((r) => r.version)).toEqual(["0.2.0"]);
    expect(await state.storedVersion()).toBe("0.2.0");
    expect(await state.isInitialized()).toBe(true);
    await state.assertInitialized();
  });

  test("runs concurrently", async () => {
    const store = new StateStore(sql, "concurrent");
    await Promise.all([store.init("1"), store.init("2"), store.init("3")]);
    expect(await store.isInitialized()).toBe(true);
    const rows = await sql.unsafe(`SELECT version FROM concurrent.pgroll_version`);
    expect(rows.length).toBe(1);
  });

  test("an uninitialised store says so", async () => {
    const store = new StateStore(sql, "nowhere");
    expect(await store.isInitialized()).toBe(false);
    expect(await store.storedVersion()).toBeUndefined();
    await expectStateError(
      store.assertInitialized(),
      'pgtandem is not initialized in schema "nowhere": run "pgtandem init" first',
    );
  });

  test("creates pgroll's tables, indexes and functions and no event trigger", async () => {
    const columns = await sql.unsafe(
      `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
        a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = 'pgroll'::regnamespace AND c.relkind = 'r'
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
    );
    expect(columns.map((r) => [r.table, r.column, r.type, r.not_null, r.default])).toEqual([
      ["migrations", "schema", "name", true, null],
      ["migrations", "name", "text", true, null],
      ["migrations", "migration", "jsonb", true, null],
      ["migrations", "created_at", "timestamp with time zone", true, "CURRENT_TIMESTAMP"],
      ["migrations", "updated_at", "timestamp with time zone", true, "CURRENT_TIMESTAMP"],
      ["migrations", "parent", "text", false, null],
      ["migrations", "done", "boolean", true, "false"],
      ["migrations", "resulting_schema", "jsonb", true, "'{}'::jsonb"],
      [
        "migrations",
        "migration_type",
        "character varying(32)",
        false,
        "'pgroll'::character varying",
      ],
      ["pgroll_version", "version", "text", true, null],
      ["pgroll_version", "initialized_at", "timestamp with time zone", true, "CURRENT_TIMESTAMP"],
      ["pgtandem_runs", "schema", "name", true, null],
      ["pgtandem_runs", "name", "text", true, null],
      ["pgtandem_runs", "started_schema", "jsonb", true, null],
      ["pgtandem_runs", "backfill", "jsonb", true, "'{}'::jsonb"],
      ["pgtandem_runs", "plugins", "jsonb", true, "'[]'::jsonb"],
      ["pgtandem_runs", "created_at", "timestamp with time zone", true, "now()"],
    ]);

    const indexes = await sql.unsafe(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'pgroll' ORDER BY indexname`,
    );
    expect(Object.fromEntries(indexes.map((r) => [r.indexname, r.indexdef]))).toEqual({
      history_is_linear:
        "CREATE UNIQUE INDEX history_is_linear ON pgroll.migrations USING btree (schema, parent)",
      migrations_pkey:
        "CREATE UNIQUE INDEX migrations_pkey ON pgroll.migrations USING btree (schema, name)",
      only_first_migration_without_parent:
        "CREATE UNIQUE INDEX only_first_migration_without_parent ON pgroll.migrations USING btree (schema) WHERE (parent IS NULL)",
      only_one_active:
        "CREATE UNIQUE INDEX only_one_active ON pgroll.migrations USING btree (schema, name, done) WHERE (done = false)",
      pgroll_version_pkey:
        "CREATE UNIQUE INDEX pgroll_version_pkey ON pgroll.pgroll_version USING btree (version)",
      pgtandem_runs_pkey:
        "CREATE UNIQUE INDEX pgtandem_runs_pkey ON pgroll.pgtandem_runs USING btree (schema, name)",
    });

    const constraints = await sql.unsafe(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE connamespace = 'pgroll'::regnamespace AND contype IN ('c', 'f') ORDER BY conname`,
    );
    expect(constraints.map((r) => [r.conname, r.def])).toEqual([
      [
        "migration_type_check",
        "CHECK (((migration_type)::text = ANY ((ARRAY['pgroll'::character varying, 'inferred'::character varying, 'baseline'::character varying])::text[])))",
      ],
      [
        "migrations_schema_parent_fkey",
        "FOREIGN KEY (schema, parent) REFERENCES pgroll.migrations(schema, name)",
      ],
      [
        "pgtandem_runs_schema_name_fkey",
        "FOREIGN KEY (schema, name) REFERENCES pgroll.migrations(schema, name) ON DELETE CASCADE",
      ],
    ]);

    const functions = await sql.unsafe(
      `SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
        pg_get_function_result(p.oid) AS result, p.prosecdef AS definer
      FROM pg_proc p WHERE p.pronamespace = 'pgroll'::regnamespace ORDER BY p.proname`,
    );
    expect(functions.map((r) => [r.proname, r.args, r.result, r.definer])).toEqual([
      ["find_version_schema", "p_schema_name name, p_depth integer DEFAULT 0", "text", false],
      ["is_active_migration_period", "schemaname name", "boolean", false],
      ["latest_migration", "schemaname name", "text", true],
      ["latest_version", "schemaname name", "text", false],
      ["previous_migration", "schemaname name", "text", false],
      ["previous_version", "schemaname name", "text", false],
      ["read_schema", "schemaname text", "jsonb", false],
    ]);

    expect((await sql.unsafe(`SELECT evtname FROM pg_event_trigger`)).length).toBe(0);
  });

  test("tolerates pgroll's event triggers and does not record its own DDL", async () => {
    const store = new StateStore(sql, "with_triggers");
    await store.init("1");
    // Stand-in for pgroll's raw_migration(): fails any DDL not flagged as the tool's own.
    await sql.unsafe(`
      CREATE FUNCTION with_triggers.raw_migration() RETURNS event_trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('pgroll.no_inferred_migrations', true) IS DISTINCT FROM 'TRUE' THEN
          RAISE EXCEPTION 'would record an inferred migration';
        END IF;
      END $$;
      CREATE EVENT TRIGGER pg_roll_handle_ddl ON ddl_command_end
        EXECUTE FUNCTION with_triggers.raw_migration();
      CREATE EVENT TRIGGER pg_roll_handle_drop ON sql_drop
        EXECUTE FUNCTION with_triggers.raw_migration();
    `);
    try {
      await store.init("2");
      const triggers = await sql.unsafe(`SELECT evtname FROM pg_event_trigger ORDER BY evtname`);
      expect(triggers.map((r) => r.evtname)).toEqual(["pg_roll_handle_ddl", "pg_roll_handle_drop"]);
      // The check itself works: DDL outside the tool is caught.
      await expect(sql.unsafe(`CREATE TABLE public.outside (id int)`)).rejects.toThrow(
        "would record an inferred migration",
      );
    } finally {
      await sql.unsafe(
        `DROP EVENT TRIGGER pg_roll_handle_ddl; DROP EVENT TRIGGER pg_roll_handle_drop`,
      );
    }
  });

  test("upgrades a table left by an old pgroll", async () => {
    await sql.unsafe(`
      CREATE SCHEMA old_state;
      CREATE TABLE old_state.migrations (
        schema name NOT NULL, name text NOT NULL, migration jsonb NOT NULL,
        created_at timestamp NOT NULL DEFAULT current_timestamp,
        updated_at timestamp NOT NULL DEFAULT current_timestamp,
        parent text, done boolean NOT NULL DEFAULT false,
        resulting_schema jsonb NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (schema, name),
        FOREIGN KEY (schema, parent) REFERENCES old_state.migrations (schema, name),
        CONSTRAINT migration_type_check CHECK (true)
      );
      INSERT INTO old_state.migrations (schema, name, migration, created_at, done)
        VALUES ('public', 'first', '{"operations": []}', '2024-01-02 03:04:05', true);
    `);
    const store = new StateStore(sql, "old_state");
    await store.init("1");
    const [row] = await sql.unsafe(
      `SELECT created_at = '2024-01-02 03:04:05+00'::timestamptz AS same, migration_type,
        pg_typeof(created_at)::text AS type
      FROM old_state.migrations`,
    );
    // ADD COLUMN … DEFAULT fills existing rows, as it does under pgroll.
    expect({ ...row }).toEqual({
      same: true,
      migration_type: "pgroll",
      type: "timestamp with time zone",
    });
    await expect(
      sql.unsafe(`UPDATE old_state.migrations SET migration_type = 'baseline'`),
    ).resolves.toBeDefined();
    await expect(sql.unsafe(`UPDATE old_state.migrations SET migration_type = 'other'`)).rejects
      .toThrow("migration_type_check");
  });
});

describe("transitions", () => {
  const base = "app";
  const doc = (version?: string) => ({
    ...(version ? { version_schema: version } : {}),
    operations: [{ sql: { up: "SELECT 1" } }],
  });

  test("start, complete, roll back and read back the history", async () => {
    await sql.unsafe(`CREATE SCHEMA ${base}; CREATE TABLE app.t (id int PRIMARY KEY)`);
    expect(await state.activeMigration(base)).toBeUndefined();
    expect(await state.latestMigration(base)).toBeUndefined();
    expect(await state.needsBaseline(base)).toBe(true);

    await state.startMigration(base, "01_first", doc(), { name: base, tables: [] }, {
      plugins: ["acme"],
    });
    expect(await state.needsBaseline(base)).toBe(false);
    const active = await state.activeMigration(base);
    expect(active).toMatchObject({
      name: "01_first",
      schema: base,
      migration: doc(),
      parent: null,
      done: false,
      resultingSchema: null,
      migrationType: "pgroll",
    });
    expect(active?.createdAt).toBeInstanceOf(Date);
    expect(await state.latestMigration(base)).toBe("01_first");
    // Only versions whose schema exists count.
    expect(await state.latestVersion(base)).toBeUndefined();
    await createVersionSchema(base, "01_first");
    expect(await state.latestVersion(base)).toBe("01_first");
    expect(await state.previousVersion(base)).toBeUndefined();

    expect(await state.runInfo(base, "01_first")).toMatchObject({
      startedSchema: { name: base, tables: [] },
      backfill: {},
      plugins: ["acme"],
    });
    await state.saveBackfillProgress(base, "01_first", { t: { done: 10 } });
    await state.saveBackfillProgress(base, "01_first", { u: { done: 1 } });
    await state.saveBackfillProgress(base, "01_first", { t: { done: 20 } });
    expect((await state.runInfo(base, "01_first"))?.backfill).toEqual({
      format: 1,
      t: { done: 20 },
      u: { done: 1 },
    });

    await expectStateError(
      state.startMigration(base, "02_second", doc(), {}),
      'a migration for schema "app" is already in progress ("01_first")',
    );

    await state.completeMigration(base, "01_first");
    expect(await state.activeMigration(base)).toBeUndefined();
    await expectStateError(state.completeMigration(base, "01_first"), /01_first/);

    await expectStateError(state.startMigration(base, "01_first", doc(), {}), /"01_first"/);

    await state.startMigration(base, "02_second", doc("v2"), {});
    await createVersionSchema(base, "v2");
    expect(await state.latestMigration(base)).toBe("02_second");
    expect(await state.previousMigration(base)).toBe("01_first");
    expect(await state.latestVersion(base)).toBe("v2");
    expect(await state.previousVersion(base)).toBe("01_first");

    expect(await state.deleteMigration(base, "02_second")).toBe(true);
    expect(await state.deleteMigration(base, "02_second")).toBe(false);
    expect(await state.runInfo(base, "02_second")).toBeUndefined();
    expect(await state.latestMigration(base)).toBe("01_first");
    await expectStateError(
      state.saveBackfillProgress(base, "02_second", {}),
      /no pgtandem run is recorded/,
    );

    await state.startMigration(base, "02_other", doc(), {});
    await state.completeMigration(base, "02_other");
    const history = await state.history(base);
    expect(history.map((r) => [r.name, r.parent, r.done])).toEqual([
      ["01_first", null, true],
      ["02_other", "01_first", true],
    ]);
    expect(history[0]?.resultingSchema?.tables.t?.primaryKey).toEqual(["id"]);
    expect((await state.schemaAfter(base, "01_first"))?.tables.t?.columns.id?.type).toBe(
      engineSql("integer"),
    );
    // 02_other has no version schema: the latest existing one is still 01_first's.
    expect(await state.latestVersion(base)).toBe("01_first");
    const [fns] = await sql.unsafe(
      `SELECT pgroll.is_active_migration_period('app') AS active,
        pgroll.find_version_schema('app') AS v0, pgroll.find_version_schema('app', 1) AS v1`,
    );
    expect({ ...fns }).toEqual({ active: false, v0: "01_first", v1: null });
  });

  test("racing starts: exactly one wins, first migration or not", async () => {
    for (const round of ["first", "second"]) {
      const results = await Promise.allSettled(
        ["a", "b", "c", "d", "e"].map((n) =>
          state.startMigration("race", `${round}_${n}`, doc(), {})
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
      for (const r of results) {
        if (r.status === "rejected") expect(r.reason).toBeInstanceOf(StateError);
      }
      const active = await sql.unsafe(
        `SELECT name FROM pgroll.migrations WHERE schema = 'race' AND NOT done`,
      );
      expect(active.length).toBe(1);
      await state.completeMigration("race", active[0]?.name);
    }
  });

  test("baseline", async () => {
    await sql.unsafe(`CREATE SCHEMA legacy; CREATE TABLE legacy.users (id int PRIMARY KEY)`);
    expect(await state.catalog.schemaHasTables("legacy")).toBe(true);
    expect(await state.catalog.schemaHasTables("nothing_here")).toBe(false);
    expect(await state.needsBaseline("legacy")).toBe(true);

    await state.startMigration("legacy", "00_before", doc(), {});
    await expectStateError(
      state.createBaseline("legacy", "01_base"),
      'cannot create baseline "01_base" for schema "legacy": a migration is in progress',
    );
    await state.completeMigration("legacy", "00_before");

    await state.createBaseline("legacy", "01_base");
    const [row] = await sql.unsafe(
      `SELECT * FROM pgroll.migrations WHERE schema = 'legacy' AND name = '01_base'`,
    );
    expect(row).toMatchObject({
      migration: { operations: [] },
      done: true,
      parent: "00_before",
      migration_type: "baseline",
    });
    expect(row?.created_at).toEqual(row?.updated_at);
    expect(Object.keys(row?.resulting_schema.tables)).toEqual(["users"]);
    expect(await state.needsBaseline("legacy")).toBe(false);
    expect(await state.history("legacy")).toEqual([]);
    await expectStateError(state.createBaseline("legacy", "01_base"), /"01_base"/);

    await state.startMigration("legacy", "02_after", doc(), {});
    expect((await state.history("legacy")).map((r) => [r.name, r.parent])).toEqual([
      ["02_after", "01_base"],
    ]);
  });
});

describe("read_schema", () => {
  test("describes every feature of a table", async () => {
    await sql.unsafe(`
      CREATE SCHEMA rs;
      CREATE TYPE rs.mood AS ENUM ('sad', 'ok', 'happy');
      CREATE TABLE rs.parent (id int PRIMARY KEY, code text NOT NULL);
      CREATE TABLE rs.items (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name varchar(100) NOT NULL DEFAULT 'unnamed',
        created timestamptz NOT NULL DEFAULT now(),
        mood rs.mood,
        during int4range,
        lo int,
        hi int,
        parent_id int,
        CONSTRAINT items_name_key UNIQUE (name),
        CONSTRAINT lo_below_hi CHECK (lo < hi),
        CONSTRAINT items_parent_fkey FOREIGN KEY (parent_id) REFERENCES rs.parent (id)
          ON DELETE CASCADE,
        CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&)
      );
      COMMENT ON TABLE rs.items IS 'things';
      COMMENT ON COLUMN rs.items.name IS 'display name';
      CREATE INDEX items_active_idx ON rs.items (hi, lo) WHERE lo IS NOT NULL;
      CREATE VIEW rs.not_a_table AS SELECT 1 AS one;
    `);
    const [oids] = await sql.unsafe(
      `SELECT 'rs.items'::regclass::oid::text AS items, 'rs.parent'::regclass::oid::text AS parent`,
    );
    const column = (name: string, type: string, extra: object = {}) => ({
      name,
      type,
      unique: false,
      nullable: true,
      postgresType: "base",
      ...extra,
    });
    const expected = {
      name: "rs",
      tables: {
        items: {
          name: "items",
          oid: oids?.items,
          comment: "things",
          columns: {
            id: column("id", "bigint", { unique: true, nullable: false }),
            name: column("name", "varchar(100)", {
              unique: true,
              nullable: false,
              default: "'unnamed'::character varying",
              comment: "display name",
            }),
            created: column("created", "timestamptz", { nullable: false, default: "now()" }),
            mood: column("mood", "rs.mood", {
              enumValues: ["sad", "ok", "happy"],
              postgresType: "enum",
            }),
            during: column("during", "int4range", { postgresType: "range" }),
            lo: column("lo", "integer"),
            hi: column("hi", "integer"),
            parent_id: column("parent_id", "integer"),
          },
          primaryKey: ["id"],
          indexes: {
            items_pkey: {
              name: "items_pkey",
              unique: true,
              exclusion: false,
              columns: ["id"],
              method: "btree",
              definition: "CREATE UNIQUE INDEX items_pkey ON rs.items USING btree (id)",
            },
            items_name_key: {
              name: "items_name_key",
              unique: true,
              exclusion: false,
              columns: ["name"],
              method: "btree",
              definition: "CREATE UNIQUE INDEX items_name_key ON rs.items USING btree (name)",
            },
            no_overlap: {
              name: "no_overlap",
              unique: false,
              exclusion: true,
              columns: ["during"],
              method: "gist",
              definition: "CREATE INDEX no_overlap ON rs.items USING gist (during)",
            },
            items_active_idx: {
              name: "items_active_idx",
              unique: false,
              exclusion: false,
              columns: ["hi", "lo"],
              predicate: "(lo IS NOT NULL)",
              method: "btree",
              definition:
                "CREATE INDEX items_active_idx ON rs.items USING btree (hi, lo) WHERE (lo IS NOT NULL)",
            },
          },
          checkConstraints: {
            lo_below_hi: {
              name: "lo_below_hi",
              columns: ["lo", "hi"],
              definition: "CHECK ((lo < hi))",
              noInherit: false,
            },
          },
          uniqueConstraints: { items_name_key: { name: "items_name_key", columns: ["name"] } },
          foreignKeys: {
            items_parent_fkey: {
              name: "items_parent_fkey",
              columns: ["parent_id"],
              referencedTable: "parent",
              referencedColumns: ["id"],
              matchType: "SIMPLE",
              onDelete: "CASCADE",
              onUpdate: "NO ACTION",
            },
          },
          excludeConstraints: {
            no_overlap: {
              name: "no_overlap",
              columns: ["during"],
              definition: "EXCLUDE USING gist (during WITH &&)",
              method: "gist",
            },
          },
        },
        parent: {
          name: "parent",
          oid: oids?.parent,
          columns: {
            id: column("id", "integer", { unique: true, nullable: false }),
            code: column("code", "text", { nullable: false }),
          },
          primaryKey: ["id"],
          indexes: {
            parent_pkey: {
              name: "parent_pkey",
              unique: true,
              exclusion: false,
              columns: ["id"],
              method: "btree",
              definition: "CREATE UNIQUE INDEX parent_pkey ON rs.parent USING btree (id)",
            },
          },
        },
      },
    };
    // The raw JSON, exactly; the result does not depend on the caller's search_path.
    const [raw] = await sql.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL search_path = rs, public`);
      return await tx.unsafe(`SELECT pgroll.read_schema('rs') AS schema`);
    });
    expect(raw?.schema).toEqual(expected);

    // Normalised: nulls and empty groups filled in.
    const schema = await state.catalog.readSchema("rs");
    expect(schema.tables.parent?.comment).toBeNull();
    expect(schema.tables.parent?.checkConstraints).toEqual({});
    expect(schema.tables.items?.columns.id).toEqual({
      name: "id",
      type: engineSql("bigint"),
      default: null,
      nullable: false,
      unique: true,
      comment: null,
      postgresType: "base",
    });

    expect(await state.catalog.columnOrder("rs")).toEqual({
      items: ["id", "name", "created", "mood", "during", "lo", "hi", "parent_id"],
      parent: ["id", "code"],
    });
    const virtual = await state.catalog.readVirtualSchema("rs");
    expect(virtual.tables.map((t) => t.name)).toEqual(["items", "parent"]);
    expect(virtual.tables[0]?.columns.map((c) => c.physicalName)).toEqual([
      "id",
      "name",
      "created",
      "mood",
      "during",
      "lo",
      "hi",
      "parent_id",
    ]);
  });

  test("an empty or missing schema has no tables", async () => {
    const [row] = await sql.unsafe(`SELECT pgroll.read_schema('no_such_schema') AS schema`);
    expect(row?.schema).toEqual({ name: "no_such_schema", tables: {} });
    expect(await state.catalog.readSchema("no_such_schema")).toEqual({
      name: "no_such_schema",
      tables: {},
    });
    expect(await state.catalog.columnOrder("no_such_schema")).toEqual({});
  });

  test("accepts pgroll's spellings and Go-encoded baselines", () => {
    const schema = normalizeSchema({
      name: "public",
      tables: {
        t: {
          oid: "1",
          name: "t",
          comment: "",
          columns: {
            m: {
              name: "m",
              type: "mood",
              default: null,
              nullable: true,
              unique: false,
              comment: "",
              enumvalues: ["a"],
              postgrestype: "enum",
            },
          },
          indexes: null,
          primaryKey: null,
          foreignKeys: null,
          checkConstraints: null,
          uniqueConstraints: null,
          excludeConstraints: {
            x: { name: "x", method: "gist", predicate: "", columns: ["m"], definition: "EXCLUDE" },
          },
        },
      },
    });
    expect(schema.tables.t).toEqual({
      name: "t",
      oid: "1",
      comment: null,
      columns: {
        m: {
          name: "m",
          type: engineSql("mood"),
          default: null,
          nullable: true,
          unique: false,
          comment: null,
          enumValues: ["a"],
          postgresType: "enum",
        },
      },
      primaryKey: [],
      indexes: {},
      checkConstraints: {},
      uniqueConstraints: {},
      foreignKeys: {},
      excludeConstraints: {
        x: { name: "x", columns: ["m"], definition: "EXCLUDE", method: "gist" },
      },
    });
  });
});

describe("odd identifiers", () => {
  test("survive in the state schema, base schema and table names", async () => {
    const stateSchema = `st "x"; DROP TABLE y; -- $$`;
    const base = `my "app"; $$x`;
    const table = `we"ird; t able`;
    const store = new StateStore(sql, stateSchema);
    await store.init("1");
    await store.init("1");
    expect(await store.isInitialized()).toBe(true);
    await sql.unsafe(
      `CREATE SCHEMA ${ident(base)};
      CREATE TABLE ${ident(base, table)} (${ident('i"d')} int PRIMARY KEY, ${
        ident("a b")
      } text UNIQUE)`,
    );
    expect(await store.needsBaseline(base)).toBe(true);
    await store.startMigration(base, `01 "v"; x`, { operations: [] }, {});
    await createVersionSchema(base, `01 "v"; x`);
    expect(await store.latestVersion(base)).toBe(`01 "v"; x`);
    await store.completeMigration(base, `01 "v"; x`);
    const schema = await store.catalog.readSchema(base);
    expect(Object.keys(schema.tables)).toEqual([table]);
    expect(schema.tables[table]?.primaryKey).toEqual(['i"d']);
    expect(schema.tables[table]?.columns["a b"]?.unique).toBe(true);
    expect(Object.keys(schema.tables[table]?.indexes ?? {}).sort()).toEqual(
      [`we"ird; t able_a b_key`, `we"ird; t able_pkey`].sort(),
    );
    expect(await store.catalog.columnOrder(base)).toEqual({ [table]: ['i"d', "a b"] });
    await store.createBaseline(base, "02_base");
    expect(await store.latestMigration(base)).toBe("02_base");
  });
});

describe("advisory lock", () => {
  test("serialises holders of one key and releases on error", async () => {
    const key = runLockKey("pgroll", "public");
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = withAdvisoryLock(sql, key, async () => {
      events.push("first in");
      await held;
      events.push("first out");
    });
    // The first holder has the lock before the second asks for it …
    await advisoryLocks(true, 1);
    const second = withAdvisoryLock(sql, key, () => {
      events.push("second in");
      return Promise.resolve();
    });
    // … and the second is queued on it, not yet in.
    await advisoryLocks(false, 1);
    expect(events).toEqual(["first in"]);
    release();
    await Promise.all([first, second]);
    expect(events).toEqual(["first in", "first out", "second in"]);

    await expect(
      withAdvisoryLock(sql, key, async (connection) => {
        // Leave a failed transaction behind: the lock must still be released.
        await connection.unsafe("BEGIN");
        await connection.unsafe("SELECT 1/0").catch(() => undefined);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const [row] = await sql.unsafe(
      `SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory' AND granted`,
    );
    expect(row?.held).toBe(0);
    // Other keys are independent.
    await withAdvisoryLock(
      sql,
      key,
      () => withAdvisoryLock(sql, runLockKey("pgroll", "b"), () => Promise.resolve()),
    );
  });
});
