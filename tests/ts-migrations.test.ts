/**
 * TypeScript migrations on a real PostgreSQL: a module's default export is the migration (the
 * DSL's `defineMigration` or a plain object literal), imported from a folder outside the
 * repository with `import … from "pgtandem"`. Every way such a file can be broken is a one-line
 * error naming the file, with the database unchanged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import * as pgtandem from "../lib/mod.ts";
import { pgtandemModulePlugin } from "../lib/runtime.ts";
import { columnNames, dumpSchema, schemaExists, tableExists } from "./helpers/catalog.ts";
import { cli, cliOk } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

// What main.ts does: serve "pgtandem" to migration files wherever they are.
Bun.plugin(pgtandemModulePlugin({ ...pgtandem }));

const ROOT = resolve(import.meta.dir, "..");

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await testDatabase();
  dir = await mkdtemp(join(tmpdir(), "pgtandem-ts-"));
  await cliOk(db.url, ["init"]);
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function tsFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function history() {
  return await db.sql`select name, done from pgroll.migrations order by created_at`;
}

describe("TypeScript migrations", () => {
  test("a DSL migration: start, rollback, start, complete", async () => {
    const file = await tsFile(
      "t01_users.ts",
      `import { createTable, defineMigration, sql, t } from "pgtandem";

export default defineMigration({
  operations: [
    createTable("users", {
      id: t.serial().primaryKey(),
      email: t.text().unique(),
      created_at: t.timestamptz().default(sql\`now()\`),
    }),
  ],
});
`,
    );
    const before = await dumpSchema(db.sql, "public");
    await cliOk(db.url, ["start", file]);
    expect(await tableExists(db.sql, "public_t01_users", "users")).toBe(true);
    await cliOk(db.url, ["rollback"]);
    expect(await dumpSchema(db.sql, "public")).toEqual(before);
    await cliOk(db.url, ["start", file]);
    await cliOk(db.url, ["complete"]);
    expect(await columnNames(db.sql, "public", "users")).toEqual(["id", "email", "created_at"]);
  });

  test("a plain object literal, with its name given inside", async () => {
    const file = await tsFile(
      "t02_any_file_name.ts",
      `export default {
  name: "t02_add_nickname",
  operations: [
    { add_column: { table: "users", column: { name: "nickname", type: "text", nullable: true } } },
  ],
};
`,
    );
    await cliOk(db.url, ["start", file]);
    expect(await schemaExists(db.sql, "public_t02_add_nickname")).toBe(true);
    await cliOk(db.url, ["complete"]);
    expect((await history()).at(-1)).toEqual({ name: "t02_add_nickname", done: true });
  });

  test("a default export that is a promise is awaited", async () => {
    const file = await tsFile(
      "t03_async.ts",
      `import { addColumn, defineMigration, t } from "pgtandem";

const bio = await Promise.resolve(t.text().nullable());
export default Promise.resolve(defineMigration({ operations: [addColumn("users", "bio", bio)] }));
`,
    );
    await cliOk(db.url, ["start", file, "--complete"]);
    expect(await columnNames(db.sql, "public", "users")).toContain("bio");
  });
});

describe("bun main.ts", () => {
  test('serves "pgtandem" to migrations and plugins outside the repository', async () => {
    const folder = await mkdtemp(join(tmpdir(), "pgtandem-main-"));
    try {
      await copyFile(join(ROOT, "plugins", "audit.ts"), join(folder, "audit.ts"));
      await writeFile(
        join(folder, "m01_events.ts"),
        `import { createTable, defineMigration, operation, t } from "pgtandem";

export default defineMigration({
  operations: [
    createTable("events", { id: t.serial().primaryKey() }),
    operation("audit:add_timestamps", { table: "events" }),
  ],
});
`,
      );
      const child = Bun.spawn(
        [process.execPath, join(ROOT, "main.ts"), "start", "m01_events.ts", "--plugin", "audit.ts"],
        {
          cwd: folder,
          env: { PATH: process.env.PATH ?? "", PGROLL_PG_URL: db.url },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(await columnNames(db.sql, "public_m01_events", "events")).toEqual([
        "id",
        "created_at",
        "updated_at",
      ]);
      await cliOk(db.url, ["complete"]); // the plugin comes from the record
      expect(await columnNames(db.sql, "public", "events")).toEqual([
        "id",
        "created_at",
        "updated_at",
      ]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Runs `start` on the file and expects one error line matching `pattern`, nothing changed. */
async function expectRejected(name: string, text: string, pattern: RegExp) {
  const file = await tsFile(name, text);
  const before = await dumpSchema(db.sql, "public");
  const historyBefore = await history();
  const result = await cli(db.url, ["start", file]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).toContain(file);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(await dumpSchema(db.sql, "public")).toEqual(before);
  expect(await history()).toEqual(historyBefore);
}

describe("broken TypeScript migrations", () => {
  test("the module throws while loading", async () => {
    await expectRejected(
      "e01_throws.ts",
      `throw new Error("cannot compute\\nthe operations");\n`,
      /^Error: .*e01_throws\.ts: loading the module failed: cannot compute the operations\n$/,
    );
  });

  test("no default export", async () => {
    await expectRejected(
      "e02_named.ts",
      `export const migration = { operations: [] };\n`,
      /e02_named\.ts: the module has no default export; write "export default defineMigration/,
    );
  });

  test("the wrong shape, reported with paths", async () => {
    await expectRejected(
      "e03_shape.ts",
      `export default { operations: [{ create_table: { name: "x", columns: "id" } }] };\n`,
      /e03_shape\.ts: operations\[0\]\.create_table\.columns: expected array, got string/,
    );
  });

  test("a type error that survives to run time", async () => {
    await expectRejected(
      "e04_type_error.ts",
      `import { createTable, defineMigration, t } from "pgtandem";
const columns: any = undefined;
export default defineMigration({ operations: [createTable("x", { id: columns.id() })] });
`,
      /e04_type_error\.ts: loading the module failed: TypeError: .*columns/,
    );
  });

  test("a name from pgtandem that does not exist", async () => {
    await expectRejected(
      "e05_import.ts",
      `import { createTabel } from "pgtandem";\nexport default createTabel;\n`,
      /e05_import\.ts: loading the module failed: SyntaxError: .*createTabel.*pgtandem/,
    );
  });

  test("a syntax error, with its line and column", async () => {
    await expectRejected(
      "e06_syntax.ts",
      `export default {\n  operations: [\n    { sql: { up: "select 1" } ,, \n  ],\n};\n`,
      /e06_syntax\.ts: loading the module failed: syntax error at line 3, column \d+/,
    );
  });

  test("the DSL rejects an operation, with its path", async () => {
    await expectRejected(
      "e07_dsl.ts",
      `import { createTable, defineMigration, t } from "pgtandem";
export default defineMigration({ operations: [createTable("x".repeat(64), { id: t.integer() })] });
`,
      /e07_dsl\.ts: operations\[0\]\.create_table\.name: name "x{64}" is 64 bytes long/,
    );
  });

  test("a name inside that is not a string", async () => {
    await expectRejected(
      "e08_name.ts",
      `export default { name: 8, operations: [] };\n`,
      /e08_name\.ts: name: expected a non-empty string, got 8/,
    );
  });

  test("a default export that is a function", async () => {
    await expectRejected(
      "e09_function.ts",
      `export default () => ({ operations: [] });\n`,
      /e09_function\.ts: expected the migration as the default export, got a function/,
    );
  });

  test("a missing file", async () => {
    const result = await cli(db.url, ["start", join(dir, "e10_missing.ts")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/e10_missing\.ts: file not found/);
  });
});
