/**
 * Parity with pgroll's validation: every migration pgroll refuses is refused here too, at start,
 * with one line, exit 1 and the database unchanged (see docs/validation.md for the rule table).
 * Each refusal has a neighbour that pgroll accepts, so a rule cannot quietly grow too wide.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { columnNames } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectStartRejected } from "./helpers/reject.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "p01_base", {
    operations: [
      {
        create_table: {
          name: "teams",
          columns: [{ name: "id", type: "serial", pk: true }],
        },
      },
      {
        create_table: {
          name: "members",
          columns: [
            { name: "id", type: "serial", pk: true },
            { name: "email", type: "text", nullable: true },
            {
              name: "team_id",
              type: "integer",
              nullable: true,
              check: { name: "members_team_id_check", constraint: "team_id > 0" },
            },
          ],
          constraints: [
            { name: "members_email_team_key", type: "unique", columns: ["email", "team_id"] },
          ],
        },
      },
    ],
  });
  await db.sql`insert into teams default values`;
  await db.sql`insert into members (email, team_id) values ('a@x', 1), ('b@x', 1)`;
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

const check = { name: "email_has_at", constraint: "email LIKE '%@%'" };
const references = { name: "members_team_fk", table: "teams", column: "id" };

function alterEmail(fields: object) {
  return { operations: [{ alter_column: { table: "members", column: "email", ...fields } }] };
}

function alterTeam(fields: object) {
  return { operations: [{ alter_column: { table: "members", column: "team_id", ...fields } }] };
}

describe("alter_column: a check or a foreign key needs both up and down", () => {
  const cases: [string, object, RegExp][] = [
    [
      "check without down",
      alterEmail({ check, up: "email" }),
      /operations\[0\]\.alter_column\.down: adding check constraint "email_has_at" to column "email" needs both "up" and "down"/,
    ],
    [
      "check without up",
      alterEmail({ check, down: "email" }),
      /operations\[0\]\.alter_column\.up: adding check constraint "email_has_at" to column "email" needs both "up" and "down"/,
    ],
    [
      "check with an empty up (pgroll reads it as missing)",
      alterEmail({ check, up: "", down: "email" }),
      /alter_column\.up: adding check constraint "email_has_at" .*needs both/,
    ],
    [
      "check without up or down, even with a change that defaults them",
      alterEmail({ check, comment: "an email" }),
      /alter_column\.up: adding check constraint "email_has_at" .*needs both/,
    ],
    [
      "foreign key without down",
      alterTeam({ references, up: "team_id" }),
      /operations\[0\]\.alter_column\.down: adding foreign key "members_team_fk" to column "team_id" needs both "up" and "down"/,
    ],
    [
      "foreign key without up",
      alterTeam({ references, down: "team_id" }),
      /operations\[0\]\.alter_column\.up: adding foreign key "members_team_fk" to column "team_id" needs both "up" and "down"/,
    ],
  ];
  cases.forEach(([name, migration, pattern], i) => {
    test(name, async () => {
      await expectStartRejected(db, `p1${i}_refused.json`, migration, pattern);
    });
  });

  test("validate reports the same problem without a database change", async () => {
    const file = await migrationFile("p19_validate.json", alterEmail({ check, up: "email" }));
    const result = await cli(db.url, ["validate", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/alter_column\.down: adding check constraint "email_has_at"/);
  });

  test("with both up and down, the check and the foreign key are added", async () => {
    await applyMigration(db, "p20_both", {
      operations: [
        { alter_column: { table: "members", column: "email", check, up: "email", down: "email" } },
        {
          alter_column: {
            table: "members",
            column: "team_id",
            references,
            up: "team_id",
            down: "team_id",
          },
        },
      ],
    });
    const constraints = await db.sql<{ conname: string }[]>`
      select conname from pg_constraint
       where conrelid = 'public.members'::regclass and conname in ('email_has_at', 'members_team_fk')
       order by conname`;
    expect(constraints.map((c) => c.conname)).toEqual(["email_has_at", "members_team_fk"]);
  });
});

describe("add_column: up and a volatile default", () => {
  test("an up that differs from a volatile default is refused", async () => {
    await expectStartRejected(
      db,
      "p30_volatile_up.json",
      {
        operations: [{
          add_column: {
            table: "members",
            column: { name: "score", type: "double precision", default: "random()" },
            up: "0",
          },
        }],
      },
      /default of column "score" is volatile, so "up" fills the existing rows: "up" must be equal to "default"/,
    );
  });

  test("an up equal to the volatile default is accepted and fills existing rows", async () => {
    await applyMigration(db, "p31_volatile_same", {
      operations: [{
        add_column: {
          table: "members",
          column: { name: "token", type: "double precision", default: "random()" },
          up: "random()",
        },
      }],
    });
    const rows = await db.sql<{ missing: number }[]>`
      select count(*)::int as missing from members where token is null`;
    expect(rows[0]!.missing).toBe(0);
  });

  test("an up that differs from a constant default is accepted: existing rows get up", async () => {
    await applyMigration(db, "p32_constant_default", {
      operations: [{
        add_column: {
          table: "members",
          column: { name: "level", type: "integer", default: "1" },
          up: "7",
        },
      }],
    });
    expect(await columnNames(db.sql, "public", "members")).toContain("level");
    const rows = await db.sql<{ level: number }[]>`select distinct level from members`;
    expect(rows.map((r) => r.level)).toEqual([7]);
    await db.sql`insert into members (email) values ('c@x')`;
    const added = await db.sql<{ level: number }[]>`select level from members where email = 'c@x'`;
    expect(added[0]!.level).toBe(1);
  });
});

describe("names an earlier operation frees only at complete", () => {
  const checkOn = (name: string) => ({
    create_constraint: {
      table: "members",
      name,
      type: "check",
      check: "id > 0",
      columns: ["id"],
      up: { id: "id" },
      down: { id: "id" },
    },
  });
  const cases: [string, object[], RegExp][] = [
    [
      "a new constraint may not take the name of one dropped earlier",
      [
        { drop_constraint: { table: "members", name: "members_team_id_check", down: "team_id" } },
        checkOn("members_team_id_check"),
      ],
      /operations\[1\]\.create_constraint\.name: constraint name "members_team_id_check" is still in use on table "members" until this migration completes/,
    ],
    [
      "a new constraint may not take the old name of one renamed earlier",
      [
        {
          rename_constraint: {
            table: "members",
            from: "members_team_id_check",
            to: "members_team_positive",
          },
        },
        checkOn("members_team_id_check"),
      ],
      /operations\[1\]\.create_constraint\.name: constraint name "members_team_id_check" is still in use/,
    ],
    [
      "a new index may not take the name of a dropped unique constraint's index",
      [
        {
          drop_multicolumn_constraint: {
            table: "members",
            name: "members_email_team_key",
            down: { email: "email", team_id: "team_id" },
          },
        },
        {
          create_index: {
            name: "members_email_team_key",
            table: "teams",
            columns: [{ column: "id" }],
          },
        },
      ],
      /operations\[1\]\.create_index\.name: name "members_email_team_key" is still in use until this migration completes/,
    ],
  ];
  cases.forEach(([name, operations, pattern], i) => {
    test(name, async () => {
      await expectStartRejected(db, `p5${i}_reserved.json`, { operations }, pattern);
    });
  });
});

describe("accepted on purpose although pgroll refuses (docs/validation.md)", () => {
  test("later operations see earlier ones: an index created, then dropped", async () => {
    await applyMigration(db, "p43_index_both_ways", {
      operations: [
        {
          create_index: {
            name: "members_email_idx",
            table: "members",
            columns: [{ column: "email" }],
          },
        },
        { drop_index: { name: "members_email_idx" } },
      ],
    });
    const rows = await db.sql`select 1 from pg_class where relname = 'members_email_idx'`;
    expect(rows).toHaveLength(0);
  });

  test("later operations see earlier ones: a constraint renamed, then dropped", async () => {
    await applyMigration(db, "p45_rename_then_drop", {
      operations: [
        {
          rename_constraint: {
            table: "members",
            from: "members_team_id_check",
            to: "members_team_positive",
          },
        },
        { drop_constraint: { table: "members", name: "members_team_positive", down: "team_id" } },
      ],
    });
    const rows = await db.sql`
      select 1 from pg_constraint where conrelid = 'public.members'::regclass
         and conname in ('members_team_id_check', 'members_team_positive')`;
    expect(rows).toHaveLength(0);
  });

  test("later operations see earlier ones: a column dropped, then added again", async () => {
    await db.sql`update members set email = 'old' || id || '@x'`;
    await applyMigration(db, "p44_replace_column", {
      operations: [
        { drop_column: { table: "members", column: "email" } },
        {
          add_column: {
            table: "members",
            column: { name: "email", type: "text", nullable: true },
            up: "'new@x'",
          },
        },
      ],
    });
    const rows = await db.sql<{ email: string }[]>`select distinct email from members`;
    expect(rows.map((r) => r.email)).toEqual(["new@x"]);
  });

  test("create_table: a column may reference the table being created", async () => {
    await applyMigration(db, "p40_self_reference", {
      operations: [{
        create_table: {
          name: "nodes",
          columns: [
            { name: "id", type: "serial", pk: true },
            {
              name: "parent_id",
              type: "integer",
              nullable: true,
              references: { name: "nodes_parent_fk", table: "nodes", column: "id" },
            },
          ],
        },
      }],
    });
    await db.sql`insert into nodes (id) values (1)`;
    await db.sql`insert into nodes (id, parent_id) values (2, 1)`;
    await expect(db.sql`insert into nodes (id, parent_id) values (3, 99)`).rejects.toThrow(
      /nodes_parent_fk/,
    );
  });

  test("rename_constraint: a primary key can be renamed, with its index", async () => {
    await applyMigration(db, "p41_rename_pk", {
      operations: [{ rename_constraint: { table: "teams", from: "teams_pkey", to: "teams_pk" } }],
    });
    const rows = await db.sql<{ conname: string; index: string }[]>`
      select conname, conindid::regclass::text as index from pg_constraint
       where conrelid = 'public.teams'::regclass and contype = 'p'`;
    expect(rows).toEqual([{ conname: "teams_pk", index: "teams_pk" }]);
  });

  test("add_column: a NOT NULL serial column needs no up, whatever the type's case", async () => {
    await applyMigration(db, "p42_serial_upper", {
      operations: [{
        add_column: { table: "teams", column: { name: "seq", type: "SERIAL" } },
      }],
    });
    const rows = await db.sql<{ missing: number }[]>`
      select count(*)::int as missing from teams where seq is null`;
    expect(rows[0]!.missing).toBe(0);
  });
});
