/**
 * Objects that depend on a column or table a migration replaces or drops (docs/dependent-objects.md):
 * foreign keys of other tables are re-pointed to the rewritten column, user views are recreated at
 * complete; everything that cannot be carried over is refused at start with one line, leaving the
 * database unchanged. Through the CLI, on real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dumpSchema, inSchema, leftovers } from "./helpers/catalog.ts";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectStartRejected } from "./helpers/reject.ts";

let db: TestDatabase;
let role: string;

beforeAll(async () => {
  db = await testDatabase();
  role = `reader_${db.name}`;
  await db.sql.unsafe(`create role "${role}"`);
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "d01_setup", {
    operations: [{
      sql: {
        up: `
          create table users (id integer primary key, name text not null, amount integer);
          create table posts (id serial primary key, user_id integer not null
            constraint posts_user_id_fkey references users (id) on delete cascade, body text);
          insert into users values (1, 'ann', 10), (2, 'bob', 20);
          insert into posts (user_id, body) values (1, 'hello'), (2, 'world');
          create view user_names with (security_barrier = true) as
            select id, name, amount from users where amount > 0;
          comment on view user_names is 'people with an amount';
          grant select on user_names to "${role}";
          create view rich_users as select id, name from user_names where amount >= 20;`,
      },
    }],
  });
});

afterAll(async () => {
  await db?.drop();
  await db?.sql.unsafe(`drop role if exists "${role}"`).catch(() => {});
});

/** alter_column on users.id to `type`, converting with a cast in both directions. */
function alterUsersId(type: string, back = "bigint") {
  return {
    alter_column: {
      table: "users",
      column: "id",
      type,
      up: `id::${type}`,
      down: `id::${back}`,
    },
  };
}

async function typeOf(table: string, column: string): Promise<string> {
  const [row] = await db.sql`
    select format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
     where a.attrelid = ${`public.${table}`}::regclass and a.attname = ${column}`;
  return row!.type as string;
}

describe("foreign keys referencing a rewritten column", () => {
  test("alter_column int → bigint on users.id re-points posts.user_id's foreign key", async () => {
    await runLifecycle(db, {
      name: "d02_bigint_id",
      migration: {
        operations: [{
          alter_column: { table: "users", column: "id", type: "bigint", up: "id", down: "id" },
        }],
      },
      afterStart: async () => {
        await inSchema(db.url, "public_d02_bigint_id", async (sql) => {
          await sql`insert into users (id, name, amount) values (3, 'cy', 30)`;
        });
        await inSchema(db.url, "public_d01_setup", async (sql) => {
          await sql`insert into posts (user_id, body) values (3, 'from old')`;
          await sql`delete from posts where body = 'from old'`;
          await sql`delete from users where id = 3`;
        });
      },
      afterRollback: async () => {
        // A complete that stopped after its prepare phase left the re-pointed copy behind:
        // rollback removes it before it drops the rewritten column.
        const file = await migrationFile("d02_bigint_id.json", {
          operations: [{
            alter_column: { table: "users", column: "id", type: "bigint", up: "id", down: "id" },
          }],
        });
        const before = await dumpSchema(db.sql, "public");
        await cliOk(db.url, ["start", file]);
        await db.sql.unsafe(`alter table posts add constraint _pgroll_dup_posts_user_id_fkey
          foreign key (user_id) references users (_pgroll_new_id) not valid`);
        await cliOk(db.url, ["rollback"]);
        expect(await dumpSchema(db.sql, "public")).toEqual(before);
      },
      afterComplete: async () => {
        expect(await typeOf("users", "id")).toBe("bigint");
        const [fk] = await db.sql`
          select pg_get_constraintdef(oid) as def, convalidated from pg_constraint
           where conname = 'posts_user_id_fkey'`;
        expect(fk).toEqual({
          def: "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
          convalidated: true,
        });
        await expect(db.sql`insert into posts (user_id, body) values (99, 'orphan')`).rejects
          .toThrow(/posts_user_id_fkey/);
        await inSchema(db.url, "public_d02_bigint_id", async (sql) => {
          await sql`insert into posts (user_id, body) values (2, 'new')`;
        });
        expect(await leftovers(db.sql, "public")).toEqual([]);
      },
    });
  });

  test("int → text is refused at start, naming the foreign key", async () => {
    const result = await expectStartRejected(
      db,
      "d03_text_id.json",
      { operations: [alterUsersId("text")] },
      /foreign key "posts_user_id_fkey" of table "posts" references it from column "user_id".*same migration/,
    );
    expect(result.stderr).toMatch(/cannot change the type of column "id" of table "users"/);
  });

  test("both sides changed in one migration work", async () => {
    await runLifecycle(db, {
      name: "d04_text_ids",
      migration: {
        operations: [
          alterUsersId("text"),
          {
            alter_column: {
              table: "posts",
              column: "user_id",
              type: "text",
              up: "user_id::text",
              down: "user_id::integer",
            },
          },
        ],
      },
      afterComplete: async () => {
        expect(await typeOf("posts", "user_id")).toBe("text");
        await expect(db.sql`insert into posts (user_id, body) values ('99', 'orphan')`).rejects
          .toThrow(/posts_user_id_fkey/);
        await db.sql`insert into posts (user_id, body) values ('1', 'fine')`;
        expect(await leftovers(db.sql, "public")).toEqual([]);
      },
    });
  });
});

describe("foreign keys and dropped objects", () => {
  beforeAll(async () => {
    await applyMigration(db, "d10_more", {
      operations: [{
        sql: {
          up: `
            create table staff (id integer primary key, boss_id integer
              constraint staff_boss_fkey references staff (id) deferrable initially deferred,
              code text unique);
            insert into staff values (1, null, 'a'), (2, 1, 'b');
            create table badges (id integer primary key, staff_code text
              constraint badges_staff_code_fkey references staff (code) match full on update cascade);
            insert into badges values (1, 'b');`,
        },
      }],
    });
  });

  test("a self-referencing foreign key follows its rewritten key, keeping DEFERRABLE", async () => {
    await runLifecycle(db, {
      name: "d11_staff_bigint",
      migration: {
        operations: [{
          alter_column: { table: "staff", column: "id", type: "bigint", up: "id", down: "id" },
        }],
      },
      afterComplete: async () => {
        const [fk] = await db.sql`
          select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'staff_boss_fkey'`;
        expect(fk!.def).toBe(
          "FOREIGN KEY (boss_id) REFERENCES staff(id) DEFERRABLE INITIALLY DEFERRED",
        );
        await expect(db.sql`insert into staff (id, boss_id, code) values (3, 42, 'c')`).rejects
          .toThrow(
            /staff_boss_fkey/,
          );
      },
    });
  });

  test("a unique column rewritten: the foreign key to it keeps MATCH FULL and ON UPDATE CASCADE", async () => {
    await cliOk(db.url, [
      "start",
      await migrationFile("d12_code.json", {
        operations: [{
          alter_column: {
            table: "staff",
            column: "code",
            type: "varchar(10)",
            up: "code",
            down: "code",
          },
        }],
      }),
      "--complete",
    ]);
    const [fk] = await db.sql`
      select pg_get_constraintdef(oid) as def from pg_constraint
       where conname = 'badges_staff_code_fkey'`;
    expect(fk!.def).toBe(
      "FOREIGN KEY (staff_code) REFERENCES staff(code) MATCH FULL ON UPDATE CASCADE",
    );
    await db.sql`update staff set code = 'bb' where id = 2`;
    expect((await db.sql`select staff_code from badges`)[0]!.staff_code).toBe("bb");
  });

  test("drop_column of a referenced column is refused, naming the foreign key", async () => {
    await expectStartRejected(
      db,
      "d13_drop_code.json",
      { operations: [{ drop_column: { table: "staff", column: "code" } }] },
      /cannot drop column "code" of table "staff": foreign key "badges_staff_code_fkey" of table "badges" references it; drop that constraint first/,
    );
  });

  test("dropping the foreign key in the same migration lets the table go", async () => {
    await cliOk(db.url, [
      "start",
      await migrationFile("d14_drop_staff.json", {
        operations: [
          {
            drop_constraint: {
              table: "badges",
              name: "badges_staff_code_fkey",
              up: "staff_code",
              down: "staff_code",
            },
          },
          { drop_table: { name: "staff" } },
        ],
      }),
      "--complete",
    ]);
    const rows = await db.sql`
      select conname from pg_constraint where conrelid = 'badges'::regclass and contype = 'f'`;
    expect(rows).toEqual([]);
    expect(await leftovers(db.sql, "public")).toEqual([]);
  });
});
