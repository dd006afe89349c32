/**
 * validate, plan and start check every piece of user SQL before anything changes: a misspelt
 * column, function or type in an up, down, default, check, predicate, generated expression or
 * column type, and raw SQL that does not parse, are refused with one line naming the file, the
 * operation and the field — the same line from all three commands, and start changes nothing.
 * Correct expressions over what the same migration adds, renames or creates pass; the check
 * takes no lock a writer would notice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dumpSchema } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { expectCliRejected } from "./helpers/reject.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

/** The first migration: also the first file of the folder validated below. */
const base = {
  operations: [
    {
      create_table: {
        name: "users",
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "email", type: "text", nullable: true },
          { name: "name", type: "text", nullable: true },
        ],
      },
    },
    { create_table: { name: "teams", columns: [{ name: "id", type: "serial", pk: true }] } },
  ],
};
const enumPlugin = fileURLToPath(new URL("../plugins/enum.ts", import.meta.url));

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await cliOk(db.url, [
    "start",
    await migrationFile("01_base.json", base),
    "--complete",
  ]);
  await db.sql`insert into users (email, name) values ('a@x', 'A'), ('b@x', 'B')`;
  // Objects of the user schema that expressions may name: resolved as start resolves them.
  await db.sql.unsafe(`CREATE TYPE public.mood AS ENUM ('happy', 'sad')`);
  await db.sql.unsafe(
    `CREATE FUNCTION public.normalize_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)'`,
  );
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

const one = (operation: object) => ({ operations: [operation] });

/** A typo in each kind of field, and the line that must name it. */
const typos: [string, object, RegExp][] = [
  [
    "alter_column up",
    one({
      alter_column: {
        table: "users",
        column: "email",
        type: "varchar(300)",
        up: "lower(emial)",
        down: "email",
      },
    }),
    /operations\[0\]\.alter_column\.up: column "emial" does not exist/,
  ],
  [
    "add_column default",
    one({
      add_column: {
        table: "users",
        column: { name: "nickname", type: "text", nullable: true, default: "uppper('x')" },
      },
    }),
    /operations\[0\]\.add_column\.column\.default: function uppper\(unknown\) does not exist/,
  ],
  [
    "add_column check",
    one({
      add_column: {
        table: "users",
        column: {
          name: "nickname",
          type: "text",
          nullable: true,
          check: { name: "nickname_length", constraint: "length(nicknam) > 2" },
        },
      },
    }),
    /operations\[0\]\.add_column\.column\.check\.constraint: column "nicknam" does not exist/,
  ],
  [
    "add_column up",
    one({
      add_column: {
        table: "users",
        column: { name: "display", type: "text" },
        up: "coalesce(nmae, email)",
      },
    }),
    /operations\[0\]\.add_column\.up: column "nmae" does not exist/,
  ],
  [
    "create_index predicate",
    one({
      create_index: {
        name: "users_email_idx",
        table: "users",
        columns: [{ column: "email" }],
        predicate: "emial IS NOT NULL",
      },
    }),
    /operations\[0\]\.create_index\.predicate: column "emial" does not exist/,
  ],
  [
    "create_table generated expression",
    one({
      create_table: {
        name: "accounts",
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "email", type: "text" },
          { name: "domain", type: "text", generated: { expression: "split_part(emial, '@', 2)" } },
        ],
      },
    }),
    /operations\[0\]\.create_table\.columns\[2\]\.generated\.expression: column "emial" does not exist/,
  ],
  [
    "create_table column type",
    one({
      create_table: {
        name: "accounts",
        columns: [{ name: "id", type: "serial", pk: true }, { name: "total", type: "intger" }],
      },
    }),
    /operations\[0\]\.create_table\.columns\[1\]\.type: type "intger" does not exist/,
  ],
  [
    "create_table constraint check",
    one({
      create_table: {
        name: "accounts",
        columns: [{ name: "id", type: "serial", pk: true }, { name: "total", type: "int" }],
        constraints: [{ name: "total_positive", type: "check", check: "totl > 0" }],
      },
    }),
    /operations\[0\]\.create_table\.constraints\[0\]\.check: column "totl" does not exist/,
  ],
  [
    "create_constraint up",
    one({
      create_constraint: {
        table: "users",
        name: "users_name_check",
        type: "check",
        check: "name <> ''",
        columns: ["name"],
        up: { name: "coalesce(nam, 'x')" },
        down: { name: "name" },
      },
    }),
    /operations\[0\]\.create_constraint\.up\.name: column "nam" does not exist/,
  ],
  [
    "a check that is not boolean",
    one({
      alter_column: {
        table: "users",
        column: "name",
        check: { name: "name_length", constraint: "length(name)" },
        up: "name",
        down: "name",
      },
    }),
    /operations\[0\]\.alter_column\.check\.constraint: must be a boolean expression, not type integer/,
  ],
  [
    "column type",
    one({
      add_column: { table: "users", column: { name: "bio", type: "vachar(10)", nullable: true } },
    }),
    /operations\[0\]\.add_column\.column\.type: type "vachar" does not exist/,
  ],
  [
    "raw sql syntax",
    one({ sql: { up: "ALTER TABL users ADD COLUMN x int", down: "SELECT 1" } }),
    /operations\[0\]\.sql\.up: syntax error at or near "TABL" at line 1, column 7/,
  ],
  [
    "raw sql down syntax",
    one({ sql: { up: "ALTER TABLE users ADD COLUMN x int", down: "ALTER TABLE users DRP x" } }),
    /operations\[0\]\.sql\.down: syntax error at or near "DRP"/,
  ],
];

describe("a typo in any field is refused by validate, plan and start, naming file/op/field", () => {
  typos.forEach(([name, migration, pattern], i) => {
    test(name, async () => {
      const fileName = `${String(10 + i)}_typo.json`;
      const file = await migrationFile(fileName, migration);
      const line = new RegExp(`^${escape(file)}: ${pattern.source}`);

      const validate = await cli(db.url, ["validate", file]);
      expect(validate.code).toBe(1);
      expect(validate.stdout).toBe("");
      // The issue comes first; a lint finding about the rest of raw SQL may follow.
      expect(validate.stderr.split("\n")[0]).toMatch(line);

      const json = await cli(db.url, ["validate", file, "--json"]);
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as { valid: boolean; issues: { message: string }[] };
      expect(report.valid).toBe(false);
      expect(report.issues).toHaveLength(1);

      // plan and start print the same line (main.ts prefixes "Error: ").
      await expectCliRejected(db, ["plan", file], new RegExp(`Error: ${line.source.slice(1)}`));
      await expectCliRejected(db, ["start", file], new RegExp(`Error: ${line.source.slice(1)}`));
    });
  });
});

test("a broken down is a warning, as at start (pgroll accepts it): valid, exit 0", async () => {
  const file = await migrationFile(
    "30_down.json",
    one({
      alter_column: {
        table: "users",
        column: "name",
        type: "varchar(100)",
        up: "name",
        down: "nmae",
      },
    }),
  );
  const validate = await cliOk(db.url, ["validate", file]);
  expect(validate.stdout).toBe(`${file}: valid\n`);
  expect(validate.stderr).toContain(
    `${file}: warning: operations[0].alter_column.down: column "nmae" does not exist`,
  );
  const json = JSON.parse((await cliOk(db.url, ["validate", file, "--json"])).stdout) as {
    valid: boolean;
    warnings: { path: unknown[]; message: string }[];
  };
  expect(json.valid).toBe(true);
  expect(json.warnings).toEqual([{
    path: ["operations", 0, "alter_column", "down"],
    message: expect.stringContaining(`column "nmae" does not exist`),
  }]);
  // plan too (on stderr; under "warnings" with --json).
  const plan = await cliOk(db.url, ["plan", file]);
  expect(plan.stderr).toContain(
    `${file}: warning: operations[0].alter_column.down: column "nmae" does not exist`,
  );
  const planJson = JSON.parse((await cliOk(db.url, ["plan", file, "--json"])).stdout) as {
    warnings: { file: string; path: unknown[] }[];
  };
  expect(planJson.warnings.map((w) => [w.file, w.path.at(-1)])).toEqual([[file, "down"]]);
  // start warns with the field too, and goes on.
  const started = await cliOk(db.url, ["start", file]);
  expect(started.stderr).toContain(`(${file}: operations[0].alter_column.down)`);
  await cliOk(db.url, ["rollback"]);
});

test("expressions over what the same migration adds, renames and creates pass", async () => {
  const file = await migrationFile("40_same_migration.json", {
    operations: [
      { rename_table: { from: "users", to: "people" } },
      {
        add_column: { table: "people", column: { name: "nickname", type: "text", nullable: true } },
      },
      { rename_column: { table: "people", from: "name", to: "full_name" } },
      {
        add_column: {
          table: "people",
          column: {
            name: "handle",
            type: "text",
            nullable: true,
            // Written as pgroll's files sometimes do: with the CHECK keyword.
            check: { name: "handle_not_name", constraint: "CHECK (handle <> full_name)" },
          },
          up: "'@' || coalesce(nickname, full_name, 'n/a')",
        },
      },
      {
        alter_column: {
          table: "people",
          column: "email",
          type: "varchar(320)",
          up: "normalize_email(email) || coalesce(nickname, full_name, '')",
          down: "email",
        },
      },
      {
        add_column: {
          table: "people",
          column: { name: "mood", type: "mood", nullable: true, default: "'happy'" },
        },
      },
      {
        add_column: {
          table: "people",
          column: { name: "contact", type: "text", nullable: true },
          up: "normalize_email(email) || ' ' || full_name",
        },
      },
      {
        create_table: {
          name: "badges",
          columns: [
            { name: "id", type: "bigserial", pk: true },
            {
              name: "label",
              type: "varchar(40)",
              check: { name: "label_len", constraint: "length(label) > 1" },
            },
            { name: "slug", type: "text", generated: { expression: "lower(label)" } },
            { name: "level", type: "int", default: "1" },
            // The sequence of "id" exists only once the table does.
            { name: "rank", type: "bigint", default: "nextval('badges_id_seq')" },
          ],
          constraints: [{ name: "level_range", type: "check", check: "level BETWEEN 1 AND 10" }],
        },
      },
      {
        create_index: {
          name: "badges_label_idx",
          table: "badges",
          columns: [{ column: "label" }],
          predicate: "level > 1 AND slug <> ''",
        },
      },
    ],
  });
  const validate = await cliOk(db.url, ["validate", file]);
  expect(validate.stdout).toBe(`${file}: valid\n`);
  expect(validate.stderr).not.toMatch(/warning/);
  await cliOk(db.url, ["plan", file]);
  await cliOk(db.url, ["start", file]);
  await cliOk(db.url, ["rollback"]);
});

test("a type a plugin operation creates earlier in the migration is not a missing type", async () => {
  const file = await migrationFile("50_plugin_type.json", {
    operations: [
      { "enum:create_type": { name: "size", values: ["s", "m", "l"] } },
      {
        add_column: {
          table: "users",
          column: {
            name: "size",
            type: "size",
            nullable: true,
            check: { name: "size_not_s", constraint: "size <> 's'::size" },
          },
        },
      },
    ],
  });
  const plugin = ["--plugin", enumPlugin];
  expect((await cliOk(db.url, ["validate", file, ...plugin])).stdout).toBe(`${file}: valid\n`);
  await cliOk(db.url, ["start", file, ...plugin]);
  await cliOk(db.url, ["rollback", ...plugin]);
  // A column typo after it is still caught.
  const typo = await migrationFile("51_plugin_typo.json", {
    operations: [
      { "enum:create_type": { name: "size", values: ["s", "m"] } },
      {
        add_column: {
          table: "users",
          column: {
            name: "size",
            type: "size",
            nullable: true,
            check: { name: "size_email", constraint: "emial <> ''" },
          },
        },
      },
    ],
  });
  const refused = await cli(db.url, ["validate", typo, ...plugin]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(
    `${typo}: operations[1].add_column.column.check.constraint: column "emial" does not exist`,
  );
});

test("a raw SQL failure at start is reported by its field, not an internal id", async () => {
  const file = await migrationFile(
    "60_raw_fails.json",
    one({ sql: { up: "ALTER TABLE nosuch ADD COLUMN x int", down: "SELECT 1" } }),
  );
  // It parses, so validate cannot know the table is missing; start names the field.
  await cliOk(db.url, ["validate", file]);
  await expectCliRejected(
    db,
    ["start", file],
    new RegExp(`${escape(file)}: operations\\[0\\]\\.sql\\.up: relation "nosuch" does not exist`),
  );
});

test("any statement failing at start names its file and operation, not an internal id", async () => {
  // Parse analysis accepts a volatile generated expression; only CREATE TABLE refuses it.
  const file = await migrationFile("61_generated_volatile.json", {
    operations: [
      { create_table: { name: "first_ok", columns: [{ name: "id", type: "int", pk: true }] } },
      {
        create_table: {
          name: "second_bad",
          columns: [
            { name: "id", type: "int", pk: true },
            { name: "r", type: "float8", generated: { expression: "random()" } },
          ],
        },
      },
    ],
  });
  const result = await expectCliRejected(
    db,
    ["start", file],
    new RegExp(
      `changes rolled back: ${
        escape(file)
      }: operations\\[1\\]\\.create_table: generation expression is not immutable`,
    ),
  );
  expect(result.stderr).not.toContain("failed to execute");
});

/** pgtandem's table locks on users and teams, as pg_locks shows them. */
async function ourLocks() {
  return await db.sql<{ relation: string; mode: string; granted: boolean }[]>`
    select l.relation::regclass::text as relation, l.mode, l.granted from pg_locks l
    join pg_stat_activity a on a.pid = l.pid
    where a.application_name like 'pgtandem%' and l.locktype = 'relation'
      and l.relation in ('public.users'::regclass, 'public.teams'::regclass)`;
}

/** Runs `fn` with a second session, the lock holder, ended afterwards. */
async function withHolder(fn: (holder: postgres.Sql) => Promise<void>): Promise<void> {
  const holder = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await fn(holder);
  } finally {
    await holder.end();
  }
}

test("checking takes no lock a writer would notice: validate runs beside an EXCLUSIVE lock", async () => {
  // EXCLUSIVE conflicts with every lock but ACCESS SHARE: a check that took more would wait
  // (and fail on lock_timeout) instead of completing.
  const file = await migrationFile(
    "70_locked.json",
    one({
      alter_column: {
        table: "users",
        column: "name",
        type: "varchar(200)",
        check: { name: "name_len", constraint: "length(name) < 200" },
        up: "(SELECT name FROM teams LIMIT 0) || name",
        down: "name",
      },
    }),
  );
  await withHolder(async (holder) => {
    await holder.begin(async (tx) => {
      await tx.unsafe("LOCK TABLE users, teams IN EXCLUSIVE MODE");
      const before = await dumpSchema(db.sql, "public");
      const result = await cli(db.url, ["validate", file]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      // Nothing of ours is left holding or waiting for a lock on the tables.
      expect(await ourLocks()).toEqual([]);
      expect(await dumpSchema(db.sql, "public")).toEqual(before);
    });
  });
});

test("pg_locks: the only lock the check asks for on a table is ACCESS SHARE", async () => {
  // An `up` reading another table makes parse analysis lock that table, ACCESS SHARE like any
  // query. Held away by an ACCESS EXCLUSIVE lock, the request waits where pg_locks shows it.
  const file = await migrationFile(
    "71_locks.json",
    one({
      add_column: {
        table: "users",
        column: { name: "team_count", type: "bigint", nullable: true },
        up: "(SELECT count(*) FROM teams)",
      },
    }),
  );
  await withHolder(async (holder) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holding = holder.begin(async (tx) => {
      await tx.unsafe("LOCK TABLE teams IN ACCESS EXCLUSIVE MODE");
      await released;
    });
    await waitFor(async () =>
      (await db.sql`select 1 from pg_locks where relation = 'public.teams'::regclass
        and mode = 'AccessExclusiveLock' and granted`).length > 0
    );
    const validating = cli(db.url, ["validate", file, "--lock-timeout", "0"]);
    await waitFor(async () => (await ourLocks()).some((l) => !l.granted));
    expect(await ourLocks()).toEqual([
      { relation: "teams", mode: "AccessShareLock", granted: false },
    ]);
    release();
    await holding;
    const result = await validating;
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${file}: valid\n`);
  });
});

test("plan in its READ ONLY transaction checks the same, and leaves the session as it was", async () => {
  const file = await migrationFile(
    "80_plan.json",
    one({
      add_column: {
        table: "users",
        column: { name: "score", type: "int", nullable: true, default: "abs(-3)" },
      },
    }),
  );
  const planned = await cliOk(db.url, ["plan", file, "--json"]);
  expect(JSON.parse(planned.stdout).migration).toBe("80_plan");
});

describe("validate DIR: a typo in the third file is found before anything is applied", () => {
  const tags = one({
    create_table: {
      name: "tags",
      columns: [{ name: "id", type: "serial", pk: true }, { name: "label", type: "text" }],
    },
  });
  const typo = one({
    add_column: {
      table: "tags",
      column: {
        name: "slug",
        type: "text",
        nullable: true,
        check: { name: "slug_label", constraint: "slug <> lable" },
      },
    },
  });

  async function folder(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "pgtandem-expr-dir-"));
    await writeFile(join(dir, "01_base.json"), JSON.stringify(base));
    await writeFile(join(dir, "02_tags.json"), JSON.stringify(tags));
    await writeFile(join(dir, "03_slug.json"), JSON.stringify(typo));
    return dir;
  }

  test("validate DIR (the group migrate would start) and migrate, one by one or as a group", async () => {
    const dir = await folder();
    const before = await dumpSchema(db.sql, "public");
    const line = `${
      join(dir, "03_slug.json")
    }: operations[0].add_column.column.check.constraint: column "lable" does not exist`;
    const result = await cli(db.url, ["validate", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(line);
    // migrate checks every file before it applies the first one.
    for (const mode of [[], ["--one-by-one"]]) {
      const migrate = await cli(db.url, ["migrate", dir, ...mode]);
      expect(migrate.code).toBe(1);
      expect(migrate.stderr).toContain(`column "lable" does not exist`);
      expect(migrate.stderr).toContain("03_slug");
      expect(await dumpSchema(db.sql, "public")).toEqual(before);
    }
  });
});

describe("the lint and validate's verdict agree", () => {
  test("the standard raw-SQL rollback (DROP COLUMN IF EXISTS of what up added) is no finding", async () => {
    const file = await migrationFile(
      "90_raw_rollback.json",
      one({
        sql: {
          up: "ALTER TABLE users ADD COLUMN nickname text",
          down: "ALTER TABLE users DROP COLUMN IF EXISTS nickname",
        },
      }),
    );
    const result = await cliOk(db.url, ["validate", file]);
    expect(result.stdout).toBe(`${file}: valid\n`);
    expect(result.stderr).not.toContain("drop-in-use");
    // A warning (the ADD COLUMN's lock) leaves the file valid, in text and in JSON alike.
    expect(result.stderr).toContain("warning access-exclusive-lock");
    const json = JSON.parse((await cliOk(db.url, ["validate", file, "--json"])).stdout) as {
      valid: boolean;
      lint: { rule: string; severity: string; path: unknown[] }[];
    };
    expect(json.valid).toBe(true);
    expect(json.lint.map((f) => [f.rule, f.severity, f.path.at(-1)])).toEqual([
      ["access-exclusive-lock", "warning", "up"],
      ["access-exclusive-lock", "warning", "down"],
    ]);
  });

  test("a lint error makes the file invalid, and every output says so", async () => {
    const file = await migrationFile(
      "91_drop_in_use.json",
      one({ sql: { up: "ALTER TABLE users DROP COLUMN name", down: "SELECT 1" } }),
    );
    const result = await cli(db.url, ["validate", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("valid");
    expect(result.stderr).toContain(
      `${file}: error drop-in-use: operations[0].sql.up: ALTER TABLE users DROP COLUMN name: column "name" of table "users" is used by the current version`,
    );
    expect(result.stderr).toContain(`${file}: invalid: 1 lint error\n`);
    const json = await cli(db.url, ["validate", file, "--json"]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      valid: boolean;
      issues: unknown[];
      lint: { rule: string; severity: string; path: unknown[] }[];
    };
    expect(report.valid).toBe(false);
    expect(report.issues).toEqual([]);
    expect(report.lint.map((f) => [f.rule, f.severity])).toEqual([["drop-in-use", "error"]]);
    // plan reports the same findings as data.
    const plan = JSON.parse((await cliOk(db.url, ["plan", file, "--json"])).stdout) as {
      lint: unknown[];
    };
    expect(plan.lint).toEqual(report.lint);
  });
});

/** Escapes a path for a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Polls `condition` until it holds (a lock shows up in pg_locks); no fixed sleep decides. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("condition not reached");
}
