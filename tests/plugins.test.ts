/**
 * Plugins on a real PostgreSQL: the example plugins in plugins/ through TypeScript, JSON and YAML
 * migrations (start → rollback leaves the schema exactly as it was → start → complete), loading
 * from --plugin, from the migrations folder's pgtandem.jsonc and, for complete and rollback in a
 * later run, from the plugins recorded at start; and every way a plugin can be broken, each a
 * one-line error naming the plugin file with nothing changed in the database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import * as pgtandem from "../lib/mod.ts";
import { pgtandemModulePlugin } from "../lib/runtime.ts";
import { columnNames, dumpSchema, schemaExists } from "./helpers/catalog.ts";
import { cli, cliOk } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectCliRejected } from "./helpers/reject.ts";

// What main.ts does: serve "pgtandem" to migration and plugin files wherever they are.
Bun.plugin(pgtandemModulePlugin({ ...pgtandem }));

const PLUGINS = resolve(import.meta.dir, "../plugins");
const AUDIT = join(PLUGINS, "audit.ts");
const ENUM = join(PLUGINS, "enum.ts");
const SOFT_DELETE = join(PLUGINS, "soft_delete.ts");

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await testDatabase();
  dir = await mkdtemp(join(tmpdir(), "pgtandem-plugins-"));
  await cliOk(db.url, ["init"]);
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Format = "ts" | "json" | "yaml";
type Operations = Record<string, Record<string, unknown>>[];

/** Writes a migration in one of the three formats; the TS one uses the DSL's `operation`. */
async function writeMigration(name: string, format: Format, operations: Operations) {
  const path = join(dir, `${name}.${format}`);
  let text: string;
  if (format === "json") text = JSON.stringify({ operations }, null, 2);
  else if (format === "yaml") text = stringify({ operations });
  else {
    const ops = operations.map((op) => {
      const [kind, body] = Object.entries(op)[0]!;
      return `    operation(${JSON.stringify(kind)}, ${JSON.stringify(body)}),`;
    });
    text = [
      'import { defineMigration, operation } from "pgtandem";',
      "",
      "export default defineMigration({",
      "  operations: [",
      ...ops,
      "  ],",
      "});",
      "",
    ].join("\n");
  }
  await writeFile(path, text);
  return path;
}

async function history() {
  return await db.sql`select name, done from pgroll.migrations order by created_at`;
}

async function recordedPlugins(name: string) {
  const [row] = await db.sql`select plugins from pgroll.pgtandem_runs where name = ${name}`;
  return row?.plugins;
}

async function isNotNull(table: string, column: string) {
  const [row] = await db.sql`
    select a.attnotnull from pg_attribute a
     where a.attrelid = ${`public.${table}`}::regclass and a.attname = ${column}`;
  return row?.attnotnull as boolean | undefined;
}

async function typeExists(name: string) {
  const rows = await db.sql`
    select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace
     where n.nspname = 'public' and t.typname = ${name}`;
  return rows.length > 0;
}

interface PluginCase {
  plugin: string;
  file: string;
  kinds: string[];
  /** Columns of the table the case starts from, besides `id serial primary key`. */
  columns: { name: string; type: string; nullable?: boolean }[];
  operations(table: string): Operations;
  afterStart(table: string, versionSchema: string): Promise<void>;
  afterComplete(table: string): Promise<void>;
}

const CASES: PluginCase[] = [
  {
    plugin: "audit",
    file: AUDIT,
    kinds: ["audit:add_timestamps"],
    columns: [{ name: "name", type: "text", nullable: true }],
    operations: (table) => [{ "audit:add_timestamps": { table } }],
    async afterStart(table, versionSchema) {
      expect(await columnNames(db.sql, versionSchema, table)).toEqual([
        "id",
        "name",
        "created_at",
        "updated_at",
      ]);
      const [row] = await db.sql.unsafe(
        `select created_at, updated_at from "${versionSchema}"."${table}" where name = 'before'`,
      );
      expect(row?.created_at).toBeInstanceOf(Date);
    },
    async afterComplete(table) {
      expect(await columnNames(db.sql, "public", table)).toEqual([
        "id",
        "name",
        "created_at",
        "updated_at",
      ]);
      expect(await isNotNull(table, "created_at")).toBe(true);
      await db.sql.unsafe(`insert into public."${table}" (name) values ('after')`);
      const rows = await db.sql.unsafe(`select count(*)::int as n from public."${table}"
        where created_at is not null and updated_at is not null`);
      expect(rows[0]?.n).toBe(2);
    },
  },
  {
    plugin: "enum",
    file: ENUM,
    kinds: ["enum:create_type"],
    columns: [],
    operations: (table) => [
      { "enum:create_type": { name: `${table}_mood`, values: ["happy", "sad"] } },
      { add_column: { table, column: { name: "mood", type: `${table}_mood`, nullable: true } } },
    ],
    async afterStart(table, versionSchema) {
      expect(await typeExists(`${table}_mood`)).toBe(true);
      expect(await columnNames(db.sql, versionSchema, table)).toEqual(["id", "mood"]);
    },
    async afterComplete(table) {
      await db.sql.unsafe(`insert into public."${table}" (mood) values ('happy')`);
      await expect(db.sql.unsafe(`insert into public."${table}" (mood) values ('angry')`)).rejects
        .toThrow(/invalid input value for enum/);
    },
  },
  {
    plugin: "soft_delete",
    file: SOFT_DELETE,
    kinds: ["soft_delete:enable"],
    columns: [{ name: "email", type: "text" }],
    operations: (table) => [{ "soft_delete:enable": { table, index_columns: ["email"] } }],
    async afterStart(table, versionSchema) {
      expect(await columnNames(db.sql, versionSchema, table)).toEqual([
        "id",
        "email",
        "deleted_at",
      ]);
    },
    async afterComplete(table) {
      expect(await isNotNull(table, "deleted_at")).toBe(false);
      const [index] = await db.sql`
        select indexdef from pg_indexes where schemaname = 'public' and indexname = ${`${table}_live_email`}`;
      expect(index?.indexdef).toMatch(/\(email\) WHERE \(deleted_at IS NULL\)$/);
    },
  },
];

describe("example plugins through TypeScript, JSON and YAML migrations", () => {
  for (const c of CASES) {
    for (const format of ["ts", "json", "yaml"] as const) {
      test(`${c.plugin} (${format})`, async () => {
        const table = `${c.plugin}_${format}`;
        await applyMigration(db, `s_${table}`, {
          operations: [{
            create_table: {
              name: table,
              columns: [{ name: "id", type: "serial", pk: true }, ...c.columns],
            },
          }],
        });
        if (c.plugin === "audit") {
          await db.sql.unsafe(`insert into public."${table}" (name) values ('before')`);
        }
        const name = `p_${table}`;
        const versionSchema = `public_${name}`;
        const file = await writeMigration(name, format, c.operations(table));
        const before = await dumpSchema(db.sql, "public");

        await cliOk(db.url, ["start", file, "--plugin", c.file]);
        expect(await recordedPlugins(name)).toEqual([
          { name: c.plugin, path: c.file, kinds: c.kinds },
        ]);
        await c.afterStart(table, versionSchema);

        // A later run, not given the plugin: it is loaded from the path recorded at start.
        await cliOk(db.url, ["rollback"]);
        expect(await schemaExists(db.sql, versionSchema)).toBe(false);
        expect(await dumpSchema(db.sql, "public")).toEqual(before);

        await cliOk(db.url, ["start", file, "--plugin", c.file]);
        await cliOk(db.url, ["complete"]);
        expect(await schemaExists(db.sql, versionSchema)).toBe(true);
        await c.afterComplete(table);
      });
    }
  }
});

describe("loading plugins", () => {
  test("from pgtandem.jsonc in the migrations folder, for migrate and start", async () => {
    // A schema of its own: migrate compares the folder with the schema's whole history.
    await db.sql`create schema cfg`;
    const folder = join(dir, "with-config");
    await mkdir(folder);
    await writeFile(
      join(folder, "pgtandem.jsonc"),
      `{\n  // relative to this file\n  "plugins": [${JSON.stringify(relative(folder, AUDIT))}, ${
        JSON.stringify(relative(folder, SOFT_DELETE))
      }]\n}\n`,
    );
    await writeFile(
      join(folder, "c01_items.ts"),
      `import { createTable, defineMigration, t } from "pgtandem";\n\n` +
        `export default defineMigration({\n` +
        `  operations: [createTable("items", { id: t.serial().primaryKey(), sku: t.text() })],\n` +
        `});\n`,
    );
    await writeFile(
      join(folder, "c02_audit.yaml"),
      "operations:\n  - audit:add_timestamps:\n      table: items\n",
    );
    // Nobody wrote --plugin: the folder's config file supplies the plugins; it is no migration.
    await cliOk(db.url, ["migrate", folder, "--schema", "cfg", "--complete"]);
    expect(await columnNames(db.sql, "cfg", "items")).toEqual([
      "id",
      "sku",
      "created_at",
      "updated_at",
    ]);
    const third = join(folder, "c03_soft.json");
    await writeFile(
      third,
      JSON.stringify({
        operations: [{ "soft_delete:enable": { table: "items", index_columns: ["sku"] } }],
      }),
    );
    await cliOk(db.url, ["start", third, "--schema", "cfg"]);
    await cliOk(db.url, ["complete", "--schema", "cfg"]);
    expect(await columnNames(db.sql, "cfg", "items")).toContain("deleted_at");
    const names = await db.sql`select name from pgroll.migrations where schema = 'cfg' order by 1`;
    expect(names.map((r) => r.name)).toEqual(["c01_items", "c02_audit", "c03_soft"]);
  });

  test("a broken config file is a clear error naming it", async () => {
    const folder = join(dir, "bad-config");
    await mkdir(folder);
    await writeFile(join(folder, "pgtandem.jsonc"), '{ "plugin": ["x.ts"] }');
    await writeFile(join(folder, "01.json"), '{ "operations": [] }');
    const result = await cli(db.url, ["start", join(folder, "01.json")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: ${
        join(folder, "pgtandem.jsonc")
      }: line 1, column 3: unknown field "plugin" (known: plugins)\n`,
    );
  });

  test("schema prints the JSON Schema with the plugins' kinds", async () => {
    const result = await cliOk(db.url, ["schema", "--plugin", AUDIT, "--plugin", ENUM]);
    const schema = JSON.parse(result.stdout);
    expect(Object.keys(schema.$defs)).toEqual(
      expect.arrayContaining([
        "create_table",
        "audit:add_timestamps",
        "audit:drop_timestamps",
        "enum:create_type",
        "enum:drop_type",
      ]),
    );
    expect(schema.$defs["audit:add_timestamps"].properties["audit:add_timestamps"].required)
      .toEqual(["table"]);
    expect(schema.properties.operations.items.anyOf).toContainEqual({
      $ref: "#/$defs/enum:create_type",
    });
    const builtinsOnly = JSON.parse((await cliOk(db.url, ["schema"])).stdout);
    expect(builtinsOnly.$defs["audit:add_timestamps"]).toBeUndefined();
  });
});

/** Runs a command that must fail: one line on stderr, exit 1, nothing changed. */
function expectRejected(args: string[], pattern: RegExp) {
  return expectCliRejected(db, args, pattern);
}

describe("operations of plugins are validated like built-in ones", () => {
  beforeAll(async () => {
    await applyMigration(db, "v01_base", {
      operations: [{
        create_table: {
          name: "v_people",
          columns: [
            { name: "id", type: "serial", pk: true },
            { name: "created_at", type: "timestamptz", nullable: true },
          ],
        },
      }],
    });
  });

  test("an expanded operation's problem points into the expansion", async () => {
    const file = await writeMigration("v02_exists", "json", [{
      "audit:add_timestamps": { table: "v_people" },
    }]);
    await expectRejected(
      ["start", file, "--plugin", AUDIT],
      /v02_exists\.json: operations\[0\]\.audit:add_timestamps\.expanded\[0\]\.add_column.*created_at/,
    );
  });

  test("params are checked with the plugin's zod schema", async () => {
    const file = await writeMigration("v03_params", "yaml", [{
      "audit:add_timestamps": { table: "v_people", extra: 1 },
    }]);
    await expectRejected(
      ["start", file, "--plugin", AUDIT],
      /v03_params\.yaml: operations\[0\]\.audit:add_timestamps\.extra: unknown field "extra"/,
    );
  });

  test("enum labels must be unique", async () => {
    const file = await writeMigration("v04_labels", "ts", [{
      "enum:create_type": { name: "v_mood", values: ["a", "b", "a"] },
    }]);
    await expectRejected(
      ["start", file, "--plugin", ENUM],
      /operations\[0\]\.enum:create_type\.values\[2\]: duplicate enum label "a"/,
    );
  });

  test("a plugin kind with no plugin loaded is an unknown kind", async () => {
    const file = await writeMigration("v05_unknown", "json", [{
      "audit:add_timestamps": { table: "v_people" },
    }]);
    await expectRejected(
      ["start", file],
      /v05_unknown\.json: operations\[0\]: unknown operation "audit:add_timestamps": no loaded plugin defines it; load plugin "audit" with --plugin FILE/,
    );
  });

  test("an expansion may return DSL operations, only of built-in kinds, and may fail", async () => {
    const plugin = join(dir, "dslx.ts");
    await writeFile(
      plugin,
      `import { addColumn, definePlugin, t, z } from "pgtandem";

const table = z.object({ table: z.string() }).strict();
export default definePlugin({
  name: "dslx",
  operations: {
    "dslx:note": { params: table, expand: (p) => [addColumn(p.table, "note", t.text().nullable())] },
    "dslx:nested": { params: table, expand: (p) => [{ "audit:add_timestamps": { table: p.table } }] },
    "dslx:boom": { params: table, expand: () => { throw new Error("no way"); } },
  },
});
`,
    );
    const note = await writeMigration("v09_note", "json", [{ "dslx:note": { table: "v_people" } }]);
    await cliOk(db.url, ["start", note, "--plugin", plugin, "--complete"]);
    expect(await columnNames(db.sql, "public", "v_people")).toContain("note");

    const nested = await writeMigration("v10_nested", "json", [{
      "dslx:nested": { table: "v_people" },
    }]);
    await expectRejected(
      ["start", nested, "--plugin", plugin, "--plugin", AUDIT],
      /operations\[0\]\.dslx:nested\.expanded\[0\]: expands to "audit:add_timestamps", a plugin kind; an expansion may only use built-in kinds/,
    );
    const boom = await writeMigration("v11_boom", "json", [{ "dslx:boom": { table: "v_people" } }]);
    await expectRejected(
      ["start", boom, "--plugin", plugin],
      /v11_boom\.json: operations\[0\]\.dslx:boom: expand failed: no way/,
    );
  });

  test("enum:drop_type refuses a type a column still uses; with the column dropped it goes", async () => {
    const create = await writeMigration("v06_mood", "json", [
      { "enum:create_type": { name: "v_mood", values: ["ok", "not_ok"] } },
      {
        add_column: { table: "v_people", column: { name: "mood", type: "v_mood", nullable: true } },
      },
    ]);
    await cliOk(db.url, ["start", create, "--plugin", ENUM, "--complete"]);

    const early = await writeMigration("v07_drop_early", "json", [
      { "enum:drop_type": { name: "v_mood" } },
    ]);
    await expectRejected(
      ["start", early, "--plugin", ENUM],
      /operations\[0\]\.enum:drop_type\.name: type "v_mood" is used by column "mood" of table "v_people"/,
    );

    const drop = await writeMigration("v08_drop", "yaml", [
      { drop_column: { table: "v_people", column: "mood" } },
      { "enum:drop_type": { name: "v_mood" } },
    ]);
    await cliOk(db.url, ["start", drop, "--plugin", ENUM]);
    expect(await typeExists("v_mood")).toBe(true); // the old version may still use it
    await cliOk(db.url, ["complete"]);
    expect(await typeExists("v_mood")).toBe(false);
  });
});

describe("recorded plugins", () => {
  test("a plugin file gone before complete is a clear error; its new location works", async () => {
    // enum:create_type has actions of its own (no expansion), so complete needs the plugin.
    const moved = join(dir, "moving", "enum.ts");
    await mkdir(join(dir, "moving"));
    await copyFile(ENUM, moved);
    const file = await writeMigration("r02_enum", "json", [{
      "enum:create_type": { name: "r_level", values: ["low", "high"] },
    }]);
    await cliOk(db.url, ["start", file, "--plugin", moved]);
    await rm(moved);

    const pattern = new RegExp(
      `cannot load plugin "enum" that migration "r02_enum" was started with: file "${
        moved.replaceAll(".", "\\.")
      }" does not exist; pass its new location with --plugin`,
    );
    await expectRejected(["complete"], pattern);
    await expectRejected(["rollback"], pattern);
    expect((await history()).at(-1)).toEqual({ name: "r02_enum", done: false });

    await cliOk(db.url, ["complete", "--plugin", ENUM]);
    expect(await typeExists("r_level")).toBe(true);
  });

  test("an expanding plugin gone before complete: complete replays what start recorded", async () => {
    await applyMigration(db, "r03_base", {
      operations: [{
        create_table: { name: "r_things", columns: [{ name: "id", type: "serial", pk: true }] },
      }],
    });
    const moved = join(dir, "moving", "audit.ts");
    await copyFile(AUDIT, moved);
    const file = await writeMigration("r04_audit", "json", [{
      "audit:add_timestamps": { table: "r_things" },
    }]);
    await cliOk(db.url, ["start", file, "--plugin", moved]);
    await rm(moved);
    await cliOk(db.url, ["complete"]);
    expect(await columnNames(db.sql, "public", "r_things")).toEqual([
      "id",
      "created_at",
      "updated_at",
    ]);
  });
});

describe("broken plugins", () => {
  let migration: string;
  const bad = (name: string) => join(dir, "bad", name);

  beforeAll(async () => {
    await mkdir(join(dir, "bad"));
    const plugin = (name: string, operations: string) =>
      `import { definePlugin, z } from "pgtandem";\n` +
      `export default definePlugin({ name: ${
        JSON.stringify(name)
      }, operations: ${operations} });\n`;
    const files: Record<string, string> = {
      "dup1.ts": plugin("dup", `{ "dup:x": { params: z.object({}), expand: () => [] } }`),
      "dup2.ts": plugin("dup", `{ "dup:x": { params: z.object({}), expand: () => [] } }`),
      "audit_again.ts": plugin(
        "audit",
        `{ "audit:add_timestamps": { params: z.object({}), expand: () => [] } }`,
      ),
      "plain.ts": plugin("plain", `{ "add_things": { params: z.object({}), expand: () => [] } }`),
      "foreign.ts": plugin("mine", `{ "other:x": { params: z.object({}), expand: () => [] } }`),
      "params.ts": plugin(
        "params",
        `{ "params:x": { params: { table: "string" }, expand: () => [] } }`,
      ),
      "both.ts": plugin(
        "both",
        `{ "both:x": { params: z.object({}), expand: () => [], start: () => [] } }`,
      ),
      "partial.ts": plugin("partial", `{ "partial:x": { params: z.object({}), start: () => [] } }`),
      "throws.ts":
        `import { definePlugin } from "pgtandem";\nthrow new Error("plugin exploded");\n`,
      "not_plugin.ts": `export default { name: "x", operations: {} };\n`,
      "no_default.ts": `export const plugin = 1;\n`,
      "BadName.ts": plugin("Bad Name", `{}`),
    };
    for (const [name, text] of Object.entries(files)) await writeFile(bad(name), text);
    migration = await writeMigration("b01_empty", "json", []);
  });

  const cases: [string, string[], (file: (n: string) => string) => string][] = [
    [
      "the same kind from two files",
      ["dup1.ts", "dup2.ts"],
      (f) =>
        `plugin file "${
          f("dup2.ts")
        }": operation kind "dup:x" is already registered by plugin "dup" \\(${f("dup1.ts")}\\)`,
    ],
    [
      "a kind of a plugin that is already loaded",
      [AUDIT, "audit_again.ts"],
      (f) =>
        `plugin file "${
          f("audit_again.ts")
        }": operation kind "audit:add_timestamps" is already registered by plugin "audit"`,
    ],
    [
      "a kind without namespace",
      ["plain.ts"],
      (f) =>
        `plugin file "${
          f("plain.ts")
        }": operation kind "add_things" is not in the plugin's namespace: name it "plain:add_things"`,
    ],
    [
      "a kind in another plugin's namespace",
      ["foreign.ts"],
      (f) =>
        `plugin file "${
          f("foreign.ts")
        }": operation kind "other:x" is not in the plugin's namespace`,
    ],
    [
      "params that are not a zod schema",
      ["params.ts"],
      (f) =>
        `plugin file "${
          f("params.ts")
        }": operation "params:x": params must be a zod schema \\(z.object\\(\\{ … \\}\\).strict\\(\\)\\), got an object that is not a zod schema`,
    ],
    [
      "both expand and start",
      ["both.ts"],
      (f) => `plugin file "${f("both.ts")}": operation "both:x" has both expand and start`,
    ],
    [
      "start without complete and rollback",
      ["partial.ts"],
      (f) =>
        `plugin file "${
          f("partial.ts")
        }": operation "partial:x": complete must be a function \\(start, complete and rollback are all required\\)`,
    ],
    [
      "a module that throws on import",
      ["throws.ts"],
      (f) => `plugin file "${f("throws.ts")}": loading the module failed: plugin exploded`,
    ],
    [
      "a default export that is not a plugin",
      ["not_plugin.ts"],
      (f) => `plugin file "${f("not_plugin.ts")}": the default export is not a plugin`,
    ],
    [
      "no default export",
      ["no_default.ts"],
      (f) => `plugin file "${f("no_default.ts")}": the module has no default export`,
    ],
    [
      "an invalid plugin name",
      ["BadName.ts"],
      (f) => `plugin file "${f("BadName.ts")}": invalid plugin name "Bad Name"`,
    ],
    [
      "a file that does not exist",
      ["missing.ts"],
      (f) => `plugin file "${f("missing.ts")}": does not exist`,
    ],
  ];

  for (const [what, files, message] of cases) {
    test(what, async () => {
      const paths = files.map((f) => (f.startsWith("/") ? f : bad(f)));
      const args = ["start", migration, ...paths.flatMap((p) => ["--plugin", p])];
      const escaped = (n: string) => bad(n).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      await expectRejected(args, new RegExp(`^Error: ${message(escaped)}`));
    });
  }
});
