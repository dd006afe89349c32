/**
 * The sync triggers and the backfill against what real applications and databases do (issues 10
 * and 16): writers on both versions while the backfill runs, partitions, user functions and types
 * in expressions, clients with odd search_paths, user triggers. Everything through the CLI on real
 * PostgreSQL, as a superuser (tests/triggers-roles.test.ts: as an ordinary role).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { schemaExists } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectCliRejected } from "./helpers/reject.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

/** A client connection whose search_path is `searchPath` (set verbatim), as an app would have. */
function client(searchPath: string, options: { lockTimeoutMs?: number } = {}) {
  const connection: Record<string, string> = { search_path: searchPath };
  if (options.lockTimeoutMs) connection.lock_timeout = `${options.lockTimeoutMs}ms`;
  return postgres(db.url, { max: 1, onnotice: () => {}, connection });
}

/** Applies a migration creating `table` with a serial primary key "id" and `columns`. */
async function createTable(migration: string, table: string, columns: object[]): Promise<void> {
  await applyMigration(db, migration, {
    operations: [{
      create_table: {
        name: table,
        columns: [{ name: "id", type: "serial", pk: true }, ...columns],
      },
    }],
  });
}

/** The sync functions of `table` and whether they carry `SET search_path`. */
async function pinned(table: string) {
  const rows = await db.sql`select p.proname as name,
      coalesce(array_to_string(p.proconfig, ',') like 'search_path=%', false) as pinned
    from pg_proc p where p.proname like ${`\\_pgroll\\_trigger\\_${table}\\_%`}
    order by p.proname`;
  return rows.map((r) => ({ ...r }));
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// --- Issue 10 §1: the serial model of writes through both versions -----------------------------

/** A row as both versions see it: the old column, the new column, a column both share. */
interface RowState {
  old: string | null;
  new: string | null;
  note: string | null;
}

type Side = "old" | "new";
interface Write {
  side: Side;
  column: "email" | "note";
  value: string;
}

const up = (v: string | null) => v?.toLowerCase() ?? null; // up: lower(email)
const down = (v: string | null) => v?.toUpperCase() ?? null; // down: upper(email)

/**
 * What a serial execution gives: the row is in the new shape from the start (new = up(old)), an
 * old-side write recomputes the new column from the old one, a new-side write the old column
 * from the new one.
 */
function applyWrite(state: RowState, write: Write): RowState {
  const next = { ...state };
  if (write.column === "note") next.note = write.value;
  if (write.side === "old") {
    if (write.column === "email") next.old = write.value;
    next.new = up(next.old);
  } else {
    if (write.column === "email") next.new = write.value;
    next.old = down(next.new);
  }
  return next;
}

describe("writes through the new version are never lost or overwritten (issue 10 §1)", () => {
  test(
    "writers on both versions during a slow backfill: every row as a serial execution gives",
    async () => {
      const ROWS = 2000;
      await createTable("r01_items", "items", [{ name: "email", type: "text" }, {
        name: "note",
        type: "text",
        nullable: true,
      }]);
      await db.sql`insert into items (email, note)
      select 'User' || g || '@Example.COM', 'n' || g from generate_series(1, ${ROWS}) g`;
      const initial = new Map<number, RowState>();
      for (let id = 1; id <= ROWS; id++) {
        const email = `User${id}@Example.COM`;
        initial.set(id, { old: email, new: up(email), note: `n${id}` });
      }
      const file = await migrationFile("r02_items_email.json", {
        operations: [{
          alter_column: {
            table: "items",
            column: "email",
            type: "varchar(255)",
            up: "lower(email)",
            down: "upper(email)",
          },
        }],
      });
      // A slow backfill that will wait on a row we hold, so the writers below meet rows it has
      // done, rows its batch holds and rows it has not reached, deterministically.
      const start = cli(db.url, [
        "start",
        file,
        "--lock-timeout",
        "120000",
        "--backfill-batch-size",
        "10",
        "--backfill-batch-delay",
        "200ms",
      ]);
      await waitFor("the new version", () => schemaExists(db.sql, "public_r02_items_email"));
      const locker = await db.sql.reserve();
      await locker`begin`;
      const [held] = await locker`select pg_backend_pid() as pid,
      _pgroll_needs_backfill as pending from items where id = 1000 for update`;
      expect(held?.pending).toBe(true); // the backfill has not reached it
      await waitFor("the backfill to wait on row 1000", async () => {
        const [row] = await db.sql`select count(*)::int as n from pg_stat_activity
        where ${held!.pid}::int = any(pg_blocking_pids(pid))`;
        return row!.n > 0;
      });

      const sides = {
        old: client("public_r01_items", { lockTimeoutMs: 20 }),
        new: client("public_r02_items_email", { lockTimeoutMs: 20 }),
      };
      const applied = new Map<number, Write[]>();
      let unfilled = 0;
      const write = async (id: number, w: Write) => {
        const sql = sides[w.side];
        const [row] = await sql`select _pgroll_needs_backfill as pending from public.items
        where id = ${id}`;
        try {
          await sql.unsafe(`update items set ${w.column} = $1 where id = $2`, [w.value, id]);
        } catch (error) {
          // A row the blocked batch holds: the write did not happen, so the model skips it.
          if ((error as { code?: string }).code === "55P03") return;
          throw error;
        }
        if (row?.pending) unfilled++;
        applied.set(id, [...(applied.get(id) ?? []), w]);
      };
      const writer = async (ids: number[], plan: (id: number) => Write[]) => {
        for (const id of ids) for (const w of plan(id)) await write(id, w);
      };
      const ids = (k: number) =>
        Array.from({ length: ROWS }, (_, i) => i + 1).filter((id) => id % 3 === k && id !== 1000);
      await Promise.all([
        writer(ids(0), (id) => [
          id % 2 === 0
            ? { side: "old", column: "email", value: `A${id}@Old.ORG` }
            : { side: "old", column: "note", value: `a${id}` },
        ]),
        writer(ids(1), (id) => [
          id % 2 === 0
            ? { side: "new", column: "email", value: `B${id}@New.Org` }
            : { side: "new", column: "note", value: `b${id}` },
        ]),
        writer(ids(2), (id) =>
          id % 2 === 0
            ? [
              { side: "new", column: "note", value: `c${id}` },
              { side: "old", column: "email", value: `C${id}@Mixed.org` },
            ]
            : [
              { side: "old", column: "note", value: `d${id}` },
              { side: "new", column: "email", value: `D${id}@Mixed.org` },
            ]),
      ]);
      await locker`commit`;
      locker.release();
      const started = await start;
      if (started.code !== 0) throw new Error(started.stderr);
      await sides.old.end();
      await sides.new.end();
      // The interleavings the issue is about did happen.
      expect(unfilled).toBeGreaterThan(500);

      const expected = (id: number) => (applied.get(id) ?? []).reduce(applyWrite, initial.get(id)!);
      const rows = await db.sql`select id, email, _pgroll_new_email as new, note,
      _pgroll_needs_backfill as pending from items order by id`;
      expect(rows.length).toBe(ROWS);
      const mismatches = rows.filter((r) => {
        const e = expected(r.id);
        return r.email !== e.old || r.new !== e.new || r.note !== e.note || r.pending;
      });
      expect(mismatches.map((r) => ({ ...r, expected: expected(r.id) })).slice(0, 5)).toEqual([]);

      await cliOk(db.url, ["complete"]);
      const after = await db.sql`select id, email, note from items order by id`;
      expect(after.filter((r) => r.email !== expected(r.id).new || r.note !== expected(r.id).note))
        .toEqual([]);
    },
    120_000,
  );

  test("a new-side update of a row not yet backfilled keeps the old column (no NULL wipe)", async () => {
    await createTable("r03_tags", "tags", [{ name: "label", type: "text", nullable: true }, {
      name: "note",
      type: "text",
      nullable: true,
    }]);
    await db.sql`insert into tags (label) values ('Alpha'), ('Beta')`;
    // The backfill never runs on these rows before the writes: start, then mark them again as a
    // slow backfill would have left them, by clearing what it did.
    const file = await migrationFile("r04_tags_label.json", {
      operations: [{
        alter_column: {
          table: "tags",
          column: "label",
          type: "varchar(50)",
          up: "label || '!'",
          down: "rtrim(label, '!')",
        },
      }],
    });
    await cliOk(db.url, ["start", file]);
    // Expressions naming only pg_catalog objects need no pinned search_path (and its cost).
    expect(await pinned("tags")).toEqual([
      { name: "_pgroll_trigger_tags__pgroll_new_label", pinned: false },
      { name: "_pgroll_trigger_tags_label", pinned: false },
    ]);
    await db.sql.begin(async (tx) => {
      await tx`alter table tags disable trigger user`;
      await tx`update tags set _pgroll_new_label = null, _pgroll_needs_backfill = true`;
      for (const t of await tx`select tgname from pg_trigger where tgrelid = 'tags'::regclass`) {
        await tx`alter table tags enable always trigger ${tx(t.tgname)}`;
      }
    });
    const sql = client("public_r04_tags_label");
    await sql`update tags set note = 'touched' where id = 1`;
    await sql`update tags set label = 'Gamma!' where id = 2`;
    await sql.end();
    const rows = await db.sql`select label, _pgroll_new_label as new, note,
      _pgroll_needs_backfill as pending from tags order by id`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { label: "Alpha", new: "Alpha!", note: "touched", pending: false },
      { label: "Gamma", new: "Gamma!", note: null, pending: false },
    ]);
    await cliOk(db.url, ["rollback"]);
  });
});

describe("partitions", () => {
  test("a partition attached with another column order: the catch-up reads columns by name", async () => {
    await applyMigration(db, "r12_parts", {
      operations: [{
        sql: {
          up: `create table parts (id int not null, region text not null, v text, note text,
                 primary key (id, region)) partition by list (region);
               create table parts_eu partition of parts for values in ('eu');
               create table parts_us (note text, v text, region text not null, id int not null);
               alter table parts attach partition parts_us for values in ('us');
               insert into parts select g, case when g % 2 = 0 then 'eu' else 'us' end, 'Val' || g
                 from generate_series(1, 20) g;`,
          down: "drop table parts",
        },
      }],
    });
    const file = await migrationFile("r13_parts_v.json", {
      operations: [{
        alter_column: {
          table: "parts",
          column: "v",
          type: "varchar(50)",
          up: "upper(v)",
          down: "lower(v)",
        },
      }],
    });
    await cliOk(db.url, ["start", file]);
    // Back to the old shape, as rows a slow backfill has not reached yet.
    await db.sql.begin(async (tx) => {
      const triggers = await tx`select tgname from pg_trigger
        where tgrelid = 'parts'::regclass and tgname like '~%'`;
      for (const t of triggers) await tx`alter table parts disable trigger ${tx(t.tgname)}`;
      await tx`update parts set _pgroll_new_v = null, _pgroll_needs_backfill = true`;
      for (const t of triggers) await tx`alter table parts enable always trigger ${tx(t.tgname)}`;
    });
    const sql = client("public_r13_parts_v");
    await sql`update parts set note = 'touched' where id in (1, 2)`;
    await sql.end();
    const rows = await db.sql`select id, v, _pgroll_new_v as new, note from parts
      where id in (1, 2) order by id`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, v: "val1", new: "VAL1", note: "touched" },
      { id: 2, v: "val2", new: "VAL2", note: "touched" },
    ]);
    await cliOk(db.url, ["rollback"]);
  });
});

// --- Issue 10 §4 and 16 §5: name resolution and the side of a session --------------------------

describe("expressions resolve names in the migrated schema; any session not on the new version is the old one", () => {
  test("user function and enum in up; writes from version schemas, '' and a missing \"$user\"", async () => {
    await db.sql`create function public.normalize_email(text) returns text
      language sql immutable as $$ select lower(trim($1)) $$`;
    await db.sql`create type public.mood as enum ('happy', 'sad')`;
    await createTable("r05_people", "people", [{ name: "email", type: "text", nullable: true }, {
      name: "note",
      type: "text",
      nullable: true,
    }]);
    await db.sql`insert into people (email, note) values (' Ann@X.org ', 'hi'), (null, null)`;
    const file = await migrationFile("r06_people_mood.json", {
      operations: [
        {
          alter_column: {
            table: "people",
            column: "email",
            nullable: false,
            up: "SELECT CASE WHEN email IS NULL THEN 'none' ELSE normalize_email(email) END",
            down: "email",
          },
        },
        {
          add_column: {
            table: "people",
            column: { name: "mood", type: "mood", nullable: true },
            up: "CASE WHEN note IS NULL THEN 'sad'::mood ELSE 'happy'::mood END",
          },
        },
      ],
    });
    await cliOk(db.url, ["start", file]);
    expect(await pinned("people")).toEqual([
      { name: "_pgroll_trigger_people__pgroll_new_email", pinned: true }, // down: catches up with up
      { name: "_pgroll_trigger_people_email", pinned: true },
    ]);
    const paths = [`public_r05_people`, `''`, `"$user"`, `"$user", public`];
    for (const [i, path] of paths.entries()) {
      const sql = client(path);
      await sql.unsafe(`insert into public.people (email, note) values ('  P${i}@X.ORG', 'x')`);
      await sql.end();
    }
    const fresh = client("public_r06_people_mood");
    await fresh`insert into people (email, mood) values ('New@X.org', 'sad')`;
    await fresh.end();
    const rows = await db.sql`select p.email, v.email as new, v.mood::text
      from public.people p join public_r06_people_mood.people v using (id) order by id`;
    expect(rows.map((r) => [r.email, r.new, r.mood])).toEqual([
      [" Ann@X.org ", "ann@x.org", "happy"],
      [null, "none", "sad"],
      ...paths.map((_, i) => [`  P${i}@X.ORG`, `p${i}@x.org`, "happy"]),
      ["New@X.org", "New@X.org", "sad"],
    ]);
    await cliOk(db.url, ["complete"]);
  });
});

// --- Issue 10 §6 and 16 §4: user triggers -------------------------------------------------------

describe("user triggers", () => {
  test("the backfill does not fire them when the role may set session_replication_role", async () => {
    await createTable("r08_docs", "docs", [{ name: "title", type: "text" }, {
      name: "updated_at",
      type: "timestamptz",
      nullable: true,
    }]);
    await db.sql.unsafe(`
      create table doc_audit (doc int, at timestamptz default now());
      create function touch() returns trigger language plpgsql as
        $$ begin new.updated_at := now(); return new; end $$;
      create function audit() returns trigger language plpgsql as
        $$ begin insert into public.doc_audit (doc) values (new.id); return null; end $$;
      create trigger touch_updated_at before update on docs for each row execute function touch();
      create trigger audit_docs after update on docs for each row execute function audit();
      insert into docs (title, updated_at)
        select 'doc ' || g, '2000-01-01' from generate_series(1, 300) g;`).simple();
    const file = await migrationFile("r09_docs_title.json", {
      operations: [{
        alter_column: {
          table: "docs",
          column: "title",
          type: "varchar(100)",
          up: "upper(title)",
          down: "title",
        },
      }],
    });
    await cliOk(db.url, ["start", file]);
    const [state] = await db.sql`select
      count(*) filter (where updated_at <> '2000-01-01')::int as touched,
      count(*) filter (where _pgroll_new_title is distinct from upper(title))::int as unfilled,
      (select count(*)::int from doc_audit) as audited from docs`;
    expect(state).toEqual({ touched: 0, unfilled: 0, audited: 0 });
    // Clients' writes still fire them, on both versions.
    for (const path of ["public_r08_docs", "public_r09_docs_title"]) {
      const sql = client(path);
      await sql`update docs set title = 'x' where id = 1`;
      await sql.end();
    }
    const [after] = await db.sql`select
      (select count(*)::int from doc_audit) as audited,
      (select updated_at <> '2000-01-01' from docs where id = 1) as touched`;
    expect(after).toEqual({ audited: 2, touched: true });
    await cliOk(db.url, ["rollback"]);
  });

  test("triggers replica mode cannot silence are named, even for a superuser", async () => {
    await createTable("r14_notes", "notes", [{ name: "body", type: "text" }, {
      name: "updated_at",
      type: "timestamptz",
      nullable: true,
    }]);
    await db.sql.unsafe(`
      create or replace function touch() returns trigger language plpgsql as
        $$ begin new.updated_at := now(); return new; end $$;
      create trigger always_touch before update on notes for each row execute function touch();
      alter table notes enable always trigger always_touch;
      insert into notes (body) values ('a'), ('b');`).simple();
    const file = await migrationFile("r15_notes_body.json", {
      operations: [{
        alter_column: {
          table: "notes",
          column: "body",
          type: "varchar(9)",
          up: "body",
          down: "body",
        },
      }],
    });
    await expectCliRejected(db, ["start", file], /user trigger "always_touch"/);
    await expectCliRejected(db, ["plan", file], /user trigger "always_touch"/);
    // A deferrable unique constraint needs internal triggers replica mode skips: no silencing.
    await db.sql.unsafe(`alter table notes enable trigger always_touch`);
    await db.sql.unsafe(`alter table notes add constraint notes_body_key unique (body)
      deferrable initially deferred`);
    const refusal = await expectCliRejected(db, ["start", file], /user trigger "always_touch"/);
    expect(refusal.stderr).toMatch(/deferrable constraint "notes_body_key"/);
    await cliOk(db.url, ["start", file, "--allow-user-triggers"]);
    await cliOk(db.url, ["rollback"]);
  });

  test("sync triggers fire after user BEFORE triggers; new-side writes keep the value written", async () => {
    await createTable("r10_codes", "codes", [{ name: "code", type: "text" }]);
    await db.sql.unsafe(`
      create function upper_code() returns trigger language plpgsql as
        $$ begin new.code := upper(new.code); return new; end $$;
      create trigger "Upper code" before insert or update on codes
        for each row execute function upper_code();
      create trigger normalize_code before insert or update on codes
        for each row execute function upper_code();
      insert into codes (code) values ('pre');`).simple();
    const file = await migrationFile("r11_codes_type.json", {
      operations: [{
        alter_column: {
          table: "codes",
          column: "code",
          type: "varchar(20)",
          up: "code",
          down: "code",
        },
      }],
    });
    await cliOk(db.url, ["start", file]);
    const old = client("public_r10_codes");
    await old`insert into codes (code) values ('abc')`;
    await old.end();
    const fresh = client("public_r11_codes_type");
    await fresh`insert into codes (code) values ('xyz')`;
    await fresh.end();
    const rows = await db.sql`select code, _pgroll_new_code as new from codes order by id`;
    // Old side: the user trigger's value is the one copied. New side: the user trigger sees the
    // old physical column, which the down trigger then sets from what the client wrote.
    expect(rows.map((r) => [r.code, r.new])).toEqual([["PRE", "PRE"], ["ABC", "ABC"], [
      "xyz",
      "xyz",
    ]]);
    await cliOk(db.url, ["complete"]);
    const done = await db.sql`select code from codes order by id`;
    expect(done.map((r) => r.code)).toEqual(["PRE", "ABC", "xyz"]);
  });
});
