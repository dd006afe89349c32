/**
 * `pgtandem types DIR`: the folder's schema as types. A small folder (TS with `migration(name, …)`,
 * YAML, a plugin from pgtandem.jsonc) is typed by the real command (`bun main.ts types`, as a user
 * runs it from a checkout), then tsc checks migrations and a file of misuse against the written
 * pgtandem.d.ts + pgtandem-schema.d.ts: a misspelt column, a column dropped in 05 used by 06, a
 * wrong plugin param are errors (`@ts-expect-error`), the correct uses compile. `create` refreshes
 * the file; and the same migrations still load and run on a real PostgreSQL.
 * The compiled binary is covered by tests/binary.test.ts (its `pgtandem types` session).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import * as pgtandem from "../lib/mod.ts";
import { pgtandemModulePlugin } from "../lib/runtime.ts";
import { replayFolder } from "../lib/cli/schema-types.ts";
import { builtinRegistry } from "../lib/operations/builtins.ts";
import { columnNames } from "./helpers/catalog.ts";
import { cliOk } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

// What main.ts does: serve "pgtandem" to migration files wherever they are.
Bun.plugin(pgtandemModulePlugin({ ...pgtandem }));

const ROOT = resolve(import.meta.dir, "..");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
/** Generating pgtandem.d.ts from a checkout runs tsc, and so does the check: both take a while. */
const TIMEOUT_MS = 180_000;

const FILES: Record<string, string> = {
  "migrations/pgtandem.jsonc": `{ "plugins": ["../plugins/audit.ts"] }\n`,
  "migrations/01_users.ts": `import { migration, t } from "pgtandem";

export default migration("01_users", ({ createTable }) => [
  createTable("users", {
    id: t.serial().primaryKey(),
    email: t.text(),
    legacy: t.text().nullable(),
  }),
]);
`,
  "migrations/02_posts.yaml": `operations:
  - create_table:
      name: posts
      columns:
        - { name: id, type: serial, pk: true }
        - { name: user_id, type: integer }
        - { name: title, type: text }
`,
  "migrations/03_audit.ts": `import { migration, operation } from "pgtandem";
import audit from "../plugins/audit.ts";

export default migration("03_audit", () => [
  audit.addTimestamps({ table: "users" }),
  operation("audit:add_timestamps", { table: "posts", created_at: "posted_at" }),
]);
`,
  "migrations/04_use_legacy.ts": `import { migration } from "pgtandem";

export default migration("04_use_legacy", ({ alterColumn, createIndex }) => [
  alterColumn("users", "legacy").comment("going away"),
  createIndex("idx_posts_user", "posts", ["user_id", { column: "title", sort: "DESC" }]),
]);
`,
  "migrations/05_drop_legacy.ts": `import { migration } from "pgtandem";

export default migration("05_drop_legacy", ({ dropColumn, renameColumn }) => [
  dropColumn("users", "legacy"),
  renameColumn("posts", "title", "headline"),
]);
`,
  "migrations/06_add_bio.ts": `import { migration, sql, t } from "pgtandem";

export default migration("06_add_bio", ({ addColumn, createConstraint }) => [
  addColumn("users", "bio", t.text().nullable()),
  createConstraint("posts", "posts_user_fkey").foreignKey(["user_id"], "users", ["id"], {
    up: { user_id: sql\`user_id\` },
    down: { user_id: sql\`user_id\` },
  }),
]);
`,
  // Not a migration: misuse that must not compile, next to the correct uses.
  "checks/misuse.ts": `import { migration, operation, t } from "pgtandem";
import audit from "../plugins/audit.ts";

export const m04 = migration("04_use_legacy", ({ alterColumn }) => [
  alterColumn("users", "legacy").comment("known before 05"),
  // @ts-expect-error: "emial" is not a column of users
  alterColumn("users", "emial").comment("x"),
]);
export const m06 = migration("06_add_bio", ({ alterColumn, dropColumn, renameColumn }) => [
  // @ts-expect-error: "legacy" was dropped in 05, so 06 does not know it
  alterColumn("users", "legacy").comment("x"),
  // @ts-expect-error: "title" was renamed in 05
  dropColumn("posts", "title"),
  renameColumn("posts", "headline", "title"),
  // @ts-expect-error: "bio" comes with 06 itself
  dropColumn("users", "bio"),
  alterColumn("users", "created_at").comment("added by the audit plugin in 03"),
]);
export const m07 = migration("07_next", ({ alterColumn, createIndex, table, untyped }) => [
  alterColumn("users", "bio").comment("the schema after 06"),
  // @ts-expect-error: "mail" is not a column of users
  createIndex("idx_users_mail", "users", ["mail"]),
  // @ts-expect-error: a table the folder does not know
  alterColumn("audit_log", "at").comment("x"),
  alterColumn(untyped("audit_log"), "at").comment("made by raw SQL: the escape hatch"),
  alterColumn(table("audit_log", ["at"]), "at").comment("or list its columns"),
  t.integer().references("fk", table("users"), "id") && alterColumn("posts", "user_id").comment("x"),
]);
export const plugin = [
  audit.addTimestamps({ table: "users", created_at: "born_at" }),
  // @ts-expect-error: "tabel" is not a param of audit:add_timestamps
  audit.addTimestamps({ tabel: "users" }),
  operation("audit:drop_timestamps", { table: "users" }),
  // @ts-expect-error: "table" is required
  operation("audit:drop_timestamps", { created_at: "born_at" }),
  operation("unknown:kind", { anything: 1 }),
];
`,
};

let db: TestDatabase;
let work: string;

/** Runs a process in the work folder; returns its exit code and output. */
async function run(command: string[]) {
  const child = Bun.spawn(command, { cwd: work, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

/** tsc over the work folder with the tsconfig `types` wrote. */
function typeCheck() {
  return run([process.execPath, TSC, "-p", work, "--pretty", "false"]);
}

beforeAll(async () => {
  db = await testDatabase();
  work = await mkdtemp(join(tmpdir(), "pgtandem-schema-types-"));
  await mkdir(join(work, "plugins"));
  await copyFile(join(ROOT, "plugins", "audit.ts"), join(work, "plugins", "audit.ts"));
  for (const [path, text] of Object.entries(FILES)) {
    await mkdir(join(work, path, ".."), { recursive: true });
    await writeFile(join(work, path), text);
  }
});

afterAll(async () => {
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("pgtandem types DIR", () => {
  test("types the folder's schema before each migration; tsc checks against it", async () => {
    // No DIR: ./migrations, which exists here.
    const types = await run([process.execPath, join(ROOT, "main.ts"), "types"]);
    expect(types.stderr).toBe("");
    expect(types.stdout).toBe(
      "Wrote pgtandem.d.ts\nWrote pgtandem-schema.d.ts (the schema of migrations)\n" +
        "Wrote tsconfig.json\n",
    );
    const schema = await readFile(join(work, "pgtandem-schema.d.ts"), "utf8");
    expect(schema).toContain('readonly "06_add_bio": ');
    expect(schema).toContain('PluginOperations<typeof import("./plugins/audit.ts").default>');
    expect(schema).not.toContain("07_next");

    // create adds 07_next and refreshes the types: a new migration sees the schema after 06.
    const created = await cliOk(db.url, ["create", "07_next", "--dir", join(work, "migrations")]);
    expect(created.stdout).toContain(`Updated ${join(work, "pgtandem-schema.d.ts")}`);
    expect(await readFile(join(work, "pgtandem-schema.d.ts"), "utf8")).toContain(
      'readonly "07_next": ',
    );

    const checked = await typeCheck();
    expect(checked.stdout).toBe("");
    expect(checked.code).toBe(0);

    // The checks really bite: the misuse without its directive is an error naming the column.
    const misuse = join(work, "checks", "misuse.ts");
    const text = await readFile(misuse, "utf8");
    await writeFile(
      misuse,
      text.replace(
        '  // @ts-expect-error: "legacy" was dropped in 05, so 06 does not know it\n',
        "",
      ),
    );
    const failed = await typeCheck();
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toMatch(
      /misuse\.ts\(\d+,\d+\): error TS2345: Argument of type '"legacy"' is not assignable/,
    );
    await writeFile(misuse, text);
    await rm(join(work, "migrations", "07_next.ts"));
  }, TIMEOUT_MS);

  test("the typed migrations and plugin builders load and run unchanged", async () => {
    await cliOk(db.url, ["init"]);
    await cliOk(db.url, ["migrate", join(work, "migrations"), "--complete"]);
    expect(await columnNames(db.sql, "public", "users")).toEqual([
      "id",
      "email",
      "created_at",
      "updated_at",
      "bio",
    ]);
    // (create_constraint rewrites user_id, which moves it last)
    expect((await columnNames(db.sql, "public", "posts")).sort()).toEqual([
      "headline",
      "id",
      "posted_at",
      "updated_at",
      "user_id",
    ]);
    const [fk] = await db.sql`select conname from pg_constraint where conname = 'posts_user_fkey'`;
    expect(fk?.conname).toBe("posts_user_fkey");
  }, TIMEOUT_MS);
});

describe("the replay behind the types", () => {
  test("a broken file or an operation on a raw-SQL table is a warning; the rest is typed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pgtandem-replay-"));
    try {
      const files: Record<string, string> = {
        "01_users.yaml": `operations:
  - create_table:
      name: users
      columns: [{ name: id, type: serial, pk: true }, { name: email, type: text }]
`,
        "02_broken.yaml": "operations: [ {\n",
        "03_raw.yaml": `operations:
  - sql:
      up: CREATE TABLE audit_log (id bigint)
      down: DROP TABLE IF EXISTS audit_log
`,
        "04_mixed.yaml": `operations:
  - drop_table: { name: audit_log }
  - add_column: { table: users, column: { name: bio, type: text, nullable: true } }
  - rename_column: { table: users, from: email, to: mail }
`,
      };
      for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
      const replay = await replayFolder(dir, builtinRegistry());
      expect(replay.before.map((b) => b.name)).toEqual([
        "01_users",
        "02_broken",
        "03_raw",
        "04_mixed",
      ]);
      expect(replay.before[0]!.schema).toEqual({});
      expect(replay.before[3]!.schema).toEqual({ users: { id: "serial", email: "text" } });
      expect(replay.latest).toEqual({ users: { id: "serial", mail: "text", bio: "text" } });
      expect(replay.warnings).toHaveLength(2);
      expect(replay.warnings[0]).toStartWith(`${join(dir, "02_broken.yaml")}: `);
      expect(replay.warnings[0]).toEndWith("the types skip this migration");
      expect(replay.warnings[1]).toBe(
        `${join(dir, "04_mixed.yaml")}: operations.0.drop_table.name: table "audit_log" does ` +
          `not exist in the schema the migrations before it leave (tables made by raw SQL are ` +
          `unknown to the types); the types skip this operation`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
