/**
 * Upserts through the version views, conflict target by conflict target, on a migration that
 * changes the type of a unique column and of a column in a multi-column unique constraint, and
 * renames the other column of that constraint. PostgreSQL infers the arbiter index of an
 * auto-updatable view from the view's columns, so every target written with columns (or
 * expressions, or a partial index's predicate) works; `ON CONSTRAINT name` looks the constraint up
 * on the view, which has none, and fails. MERGE into a view needs PostgreSQL 17.
 * docs/orm-clients.md lists the same.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { serverVersion, type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const CREATE = `
CREATE TABLE accounts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  code integer UNIQUE,
  org integer NOT NULL,
  slug text NOT NULL,
  handle text,
  deleted boolean NOT NULL DEFAULT false,
  hits integer NOT NULL DEFAULT 0,
  CONSTRAINT accounts_org_slug UNIQUE (org, slug)
);
CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(email));
CREATE UNIQUE INDEX accounts_live_handle ON accounts (handle) WHERE NOT deleted;
INSERT INTO accounts (email, code, org, slug, handle) VALUES ('Ann@x', 1, 1, 'ann', 'ann');
`;

const CHANGE = {
  operations: [
    {
      alter_column: {
        table: "accounts",
        column: "code",
        type: "bigint",
        up: "code",
        down: "code::integer",
      },
    },
    {
      alter_column: {
        table: "accounts",
        column: "org",
        type: "bigint",
        up: "org",
        down: "org::integer",
      },
    },
    { rename_column: { table: "accounts", from: "slug", to: "path" } },
  ],
};

let db: TestDatabase;
let next: postgres.Sql;
let old: postgres.Sql;

/** One upsert through the new version: the row it returns, or the error's message. */
async function upsertNew(conflict: string, values = "('ann@x', 1, 1, 'ann', 'ann')") {
  const rows = await next.unsafe(
    `INSERT INTO accounts (email, code, org, path, handle) VALUES ${values}
     ON CONFLICT ${conflict} RETURNING id, hits`,
  );
  return rows.map((r) => ({ ...r }));
}

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  const create = { operations: [{ sql: { up: CREATE, down: "DROP TABLE accounts" } }] };
  await cliOk(db.url, ["start", await migrationFile("01_accounts.json", create), "--complete"]);
  await cliOk(db.url, ["start", await migrationFile("02_change.json", CHANGE)]);
  const pool = (schema: string) =>
    postgres(db.url, {
      max: 1,
      idle_timeout: 1,
      onnotice: () => {},
      connection: { search_path: schema },
    });
  next = pool("public_02_change");
  old = pool("public_01_accounts");
}, 60_000);

afterAll(async () => {
  await next?.end({ timeout: 5 });
  await old?.end({ timeout: 5 });
  await db?.drop();
});

describe("ON CONFLICT through a version view", () => {
  const hit = "DO UPDATE SET hits = accounts.hits + 1";

  test("a unique column whose type the migration changes (its copy has its own unique index)", async () => {
    expect(await upsertNew(`(code) ${hit}`, "('other@x', 1, 9, 'z', 'z')")).toEqual([{
      id: "1",
      hits: 1,
    }]);
  });

  test("a multi-column constraint over a changed and a renamed column, named by its columns", async () => {
    expect(await upsertNew(`(org, path) ${hit}`, "('other@x', 7, 1, 'ann', 'z')")).toEqual([{
      id: "1",
      hits: 2,
    }]);
  });

  test("an expression index and a partial index (its predicate repeated)", async () => {
    expect(await upsertNew(`(lower(email)) ${hit}`, "('ANN@X', 8, 8, 'y', 'y')")).toEqual([{
      id: "1",
      hits: 3,
    }]);
    expect(await upsertNew(`(handle) WHERE NOT deleted ${hit}`, "('b@x', 9, 9, 'x', 'ann')"))
      .toEqual([{ id: "1", hits: 4 }]);
    await expect(upsertNew(`(handle) ${hit}`)).rejects.toThrow(
      "there is no unique or exclusion constraint matching the ON CONFLICT specification",
    );
  });

  test("the identity key (OVERRIDING SYSTEM VALUE), DO UPDATE … WHERE, and DO NOTHING with no target", async () => {
    const [row] = await next.unsafe(
      `INSERT INTO accounts (id, email, org, path) OVERRIDING SYSTEM VALUE VALUES (1, 'q@x', 5, 'q')
       ON CONFLICT (id) DO UPDATE SET hits = excluded.hits + 100 WHERE accounts.hits < 100
       RETURNING hits`,
    );
    expect(row?.hits).toBe(100);
    // DO NOTHING with no target: any unique index counts, the copies' included.
    expect(await upsertNew(`DO NOTHING`)).toEqual([]);
    // A target names the one arbiter: a conflict on another unique index is an error, as on a
    // table (here the identity makes a new id, and code 1 is taken).
    await expect(upsertNew(`(id) DO NOTHING`)).rejects.toThrow("duplicate key value");
  });

  test("the old version's view: the same targets under the old names", async () => {
    const [row] = await old.unsafe(
      `INSERT INTO accounts (email, code, org, slug) VALUES ('n@x', 1, 1, 'ann')
       ON CONFLICT (org, slug) DO UPDATE SET code = excluded.code + 1 RETURNING code`,
    );
    expect(row?.code).toBe(2);
    const [copy] = await next`SELECT code FROM accounts WHERE id = 1`;
    expect(copy?.code).toBe("2");
  });

  test("ON CONFLICT ON CONSTRAINT fails: the view has no constraints", async () => {
    await expect(upsertNew("ON CONSTRAINT accounts_org_slug DO NOTHING")).rejects.toThrow(
      'constraint "accounts_org_slug" for table "accounts" does not exist',
    );
  });

  test("MERGE into a view works from PostgreSQL 17 on", async () => {
    const merge = next.unsafe(
      `MERGE INTO accounts a USING (VALUES (1)) v (id) ON a.id = v.id
       WHEN MATCHED THEN UPDATE SET hits = a.hits + 1`,
    );
    if (await serverVersion() >= 17) {
      await merge;
      const [row] = await old`SELECT hits FROM accounts WHERE id = 1`;
      expect(row?.hits).toBe(101);
    } else {
      await expect(merge).rejects.toThrow(
        /syntax error at or near "MERGE"|cannot execute MERGE on relation "accounts"/,
      );
    }
  });
});
