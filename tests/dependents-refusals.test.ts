/**
 * Dependent objects pgtandem does not carry over are refused at start, in `validate` and in
 * `plan`: exit code 1, one line naming the object and what to do, the database unchanged
 * (docs/dependent-objects.md). And `plan` shows what complete will recreate.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { leftovers } from "./helpers/catalog.ts";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectCliRejected, expectStartRejected } from "./helpers/reject.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "r01_setup", {
    operations: [{
      sql: {
        up: `
          create table accounts (id integer primary key, owner text not null, deleted_at timestamptz);
          create table payments (id integer primary key, account_id integer
            constraint payments_account_fkey references accounts (id),
            amount integer not null, tax integer generated always as (amount / 10) stored,
            memo text, status text, ref text);
          create table archive (id integer primary key, label text);
          create table archive_items (id integer primary key, archive_id integer references archive (id));
          create view payment_memos as select id, memo from payments;
          create table tags (id integer primary key, label text);
          create view tag_labels as select label from tags;
          create materialized view payment_ref_count as select count(ref) as n from payments;
          create function audit() returns trigger language plpgsql as $$ begin return new; end $$;
          create trigger audit_status before update of status on payments
            for each row execute function audit();
          create rule soft_delete as on delete to accounts
            do instead update accounts set deleted_at = now() where id = old.id;
          create table ledgers (id integer primary key, region text, note text);
          alter table ledgers enable row level security;
          create policy by_region on ledgers using (region = current_user);`,
      },
    }],
  });
});

afterAll(async () => {
  await db?.drop();
});

const alter = (table: string, column: string, type: string) => ({
  operations: [{ alter_column: { table, column, type, up: column, down: column } }],
});

describe("refused at start with one line naming the object", () => {
  const cases: [string, object, RegExp][] = [
    [
      "a view using a dropped column",
      { operations: [{ drop_column: { table: "payments", column: "memo" } }] },
      /cannot drop column "memo" of table "payments": view "payment_memos" uses it; drop the view before this migration/,
    ],
    [
      "a view using a dropped table",
      { operations: [{ drop_table: { name: "tags" } }] },
      /cannot drop table "tags": view "tag_labels" uses it; drop the view before this migration/,
    ],
    [
      "a materialized view using a rewritten column",
      alter("payments", "ref", "varchar(100)"),
      /cannot change column "ref" of table "payments": materialized view "payment_ref_count" uses it; drop the materialized view before this migration/,
    ],
    [
      "a STORED generated column computed from a rewritten column",
      alter("payments", "amount", "bigint"),
      /generated column "tax" of table "payments" is computed from it/,
    ],
    [
      "a BEFORE trigger on UPDATE OF a rewritten column",
      alter("payments", "status", "varchar(20)"),
      /cannot change column "status" of table "payments": BEFORE trigger "audit_status" on table "payments" depends on it; drop the trigger before this migration and create it again after complete/,
    ],
    [
      "a rule naming a rewritten column",
      alter("accounts", "deleted_at", "timestamp"),
      /cannot change column "deleted_at" of table "accounts": rule "soft_delete" on table "accounts" depends on it/,
    ],
    [
      "a policy naming a dropped column",
      { operations: [{ drop_column: { table: "ledgers", column: "region" } }] },
      /cannot drop column "region" of table "ledgers": policy "by_region"/,
    ],
    [
      "a foreign key of a remaining table referencing a dropped table",
      {
        operations: [{ drop_table: { name: "accounts" } }],
      },
      /cannot drop table "accounts": foreign key "payments_account_fkey" of table "payments" references it; drop that constraint first/,
    ],
  ];
  cases.forEach(([title, migration, pattern], i) => {
    test(title, async () => {
      const file = `r1${i}_refused.json`;
      await expectStartRejected(db, file, migration, pattern);
      await expectCliRejected(db, ["validate", await migrationFile(file, migration)], pattern);
      await expectCliRejected(db, ["plan", await migrationFile(file, migration)], pattern);
    });
  });
});

test("a table dropped together with the table whose foreign key references it", async () => {
  const file = await migrationFile("r02_drop_both.json", {
    operations: [{ drop_table: { name: "archive" } }, { drop_table: { name: "archive_items" } }],
  });
  await cliOk(db.url, ["start", file]);
  await cliOk(db.url, ["complete"]);
  const rows = await db
    .sql`select relname from pg_class where relname like '%archive%' and relnamespace = 'public'::regnamespace`;
  expect(rows).toEqual([]);
});

test("a table in a publication can be dropped (PostgreSQL drops the entry along)", async () => {
  await applyMigration(db, "r05_published", {
    operations: [{
      sql: {
        up: `create table published (id integer primary key, body text);
             create publication everything_${db.name} for table published;`,
      },
    }],
  });
  await cliOk(db.url, [
    "start",
    await migrationFile("r06_drop_published.json", {
      operations: [{ drop_table: { name: "published" } }],
    }),
    "--complete",
  ]);
  expect(await db.sql`select * from pg_publication_tables where tablename = 'published'`)
    .toEqual([]);
});

test("plan shows the views complete recreates and the foreign keys it re-points", async () => {
  await applyMigration(db, "r03_more", {
    operations: [{
      sql: {
        up: `create table members (id integer primary key, name text);
             create table cards (id integer primary key, member_id integer references members (id));
             create view member_names as select id, name from members;`,
      },
    }],
  });
  const file = await migrationFile("r04_bigint.json", alter("members", "id", "bigint"));
  const { stdout } = await cliOk(db.url, ["plan", file, "--json"]);
  const plan = JSON.parse(stdout) as {
    phases: { command: string; phase: string; statements: { sql: string }[] }[];
  };
  const sqlOf = (command: string, phase: string) =>
    plan.phases.find((p) => p.command === command && p.phase === phase)!.statements.map((s) =>
      s.sql
    ).join("\n");
  expect(sqlOf("complete", "prepare")).toContain(
    'ADD CONSTRAINT "_pgroll_dup_cards_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "public"."members" ("_pgroll_new_id")',
  );
  expect(sqlOf("complete", "switch-over")).toContain('CREATE VIEW "public"."member_names"');
  expect(sqlOf("rollback", "undo")).toContain("_pgroll_new_id");
  const human = (await cliOk(db.url, ["plan", file])).stdout;
  expect(human).toContain('DROP VIEW "public"."member_names"');
  expect(await leftovers(db.sql, "public")).toEqual(["trigger audit_status"]);
});
