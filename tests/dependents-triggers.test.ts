/**
 * AFTER triggers (plain and constraint triggers) and row-level security policies on a rewritten
 * column: during the migration a column-specific trigger fires for writes through either
 * version (a companion on the copy), and complete recreates triggers and policies on the new
 * column with their names, comments and enabled state (docs/dependent-objects.md). Through the CLI.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { inSchema } from "./helpers/catalog.ts";
import { cliOk } from "./helpers/cli.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;
let role: string;

beforeAll(async () => {
  db = await testDatabase();
  role = `tenant_${db.name}`;
  await db.sql.unsafe(`create role "${role}"`);
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "t01_setup", {
    operations: [{
      sql: {
        up: `
          create table invoices (id integer primary key, amount integer not null, note text);
          insert into invoices values (1, 10, 'a'), (2, -5, 'b');
          create table amount_log (invoice_id integer, amount text, via text);
          create function log_amount() returns trigger language plpgsql as $$
            begin insert into amount_log values (new.id, new.amount::text, tg_name); return null; end $$;
          create trigger audit_amount after update of amount on invoices
            for each row execute function log_amount();
          comment on trigger audit_amount on invoices is 'every amount change';
          create constraint trigger check_amount after update of amount on invoices
            deferrable initially immediate for each row
            when (new.amount > 1000) execute function log_amount();
          create trigger muted_amount after update of amount on invoices
            for each row execute function log_amount();
          alter table invoices disable trigger muted_amount;
          alter table invoices enable row level security;
          create policy positive on invoices for select to "${role}" using (amount > 0);
          comment on policy positive on invoices is 'hide credits';
          grant select on invoices to "${role}";`,
      },
    }],
  });
});

afterAll(async () => {
  await db?.drop();
  await db?.sql.unsafe(`drop role if exists "${role}"`).catch(() => {});
});

async function log(): Promise<{ amount: string; via: string }[]> {
  const rows = await db.sql`select amount, via from amount_log order by amount::numeric, via`;
  await db.sql`delete from amount_log`;
  return rows.map((r) => ({ amount: r.amount as string, via: r.via as string }));
}

async function visibleToTenant(): Promise<number[]> {
  return await db.sql.begin(async (tx) => {
    await tx.unsafe(`set local role "${role}"`);
    return (await tx`select id from invoices order by id`).map((r) => r.id as number);
  });
}

test("AFTER UPDATE OF triggers and policies on a rewritten column work during and after the migration", async () => {
  await runLifecycle(db, {
    name: "t02_bigint_amount",
    migration: {
      operations: [{
        alter_column: {
          table: "invoices",
          column: "amount",
          type: "bigint",
          up: "amount",
          down: "amount",
        },
      }],
    },
    afterStart: async () => {
      await log();
      await inSchema(db.url, "public_t02_bigint_amount", async (sql) => {
        await sql`update invoices set amount = 11 where id = 1`;
        await sql`update invoices set note = 'n' where id = 1`;
      });
      await inSchema(db.url, "public_t01_setup", async (sql) => {
        await sql`update invoices set amount = 2000 where id = 1`;
      });
      await inSchema(db.url, "public_t02_bigint_amount", async (sql) => {
        await sql`update invoices set amount = 3000 where id = 1`;
      });
      // Once per write, whichever version wrote; the constraint trigger's WHEN sees the value.
      expect(await log()).toEqual([
        { amount: "11", via: "_pgroll_dup_audit_amount" },
        { amount: "2000", via: "audit_amount" },
        { amount: "2000", via: "check_amount" },
        { amount: "3000", via: "_pgroll_dup_audit_amount" },
        { amount: "3000", via: "_pgroll_dup_check_amount" },
      ]);
      expect(await visibleToTenant()).toEqual([1]);
      await db.sql`update invoices set amount = 10, note = 'a' where id = 1`;
      await log();
    },
    afterComplete: async () => {
      await db.sql`update invoices set amount = 5000000000 where id = 1`;
      expect(await log()).toEqual([
        { amount: "5000000000", via: "audit_amount" },
        { amount: "5000000000", via: "check_amount" },
      ]);
      const triggers = await db.sql`
        select t.tgname, t.tgenabled, obj_description(t.oid, 'pg_trigger') as comment,
               pg_get_triggerdef(t.oid) ~ 'UPDATE OF amount' as on_amount,
               t.tgconstraint <> 0 as is_constraint
          from pg_trigger t where t.tgrelid = 'invoices'::regclass and not t.tgisinternal
         order by 1`;
      expect(triggers.map((t) => ({ ...t }))).toEqual([
        {
          tgname: "audit_amount",
          tgenabled: "O",
          comment: "every amount change",
          on_amount: true,
          is_constraint: false,
        },
        {
          tgname: "check_amount",
          tgenabled: "O",
          comment: null,
          on_amount: true,
          is_constraint: true,
        },
        {
          tgname: "muted_amount",
          tgenabled: "D",
          comment: null,
          on_amount: true,
          is_constraint: false,
        },
      ]);
      const [policy] = await db.sql`
        select qual, roles::text[] as roles, obj_description(p.oid, 'pg_policy') as comment
          from pg_policies join pg_policy p on p.polname = policyname
         where tablename = 'invoices'`;
      expect({ ...policy }).toEqual({
        qual: "(amount > 0)",
        roles: [role],
        comment: "hide credits",
      });
      expect(await visibleToTenant()).toEqual([1]);
    },
  });
});
