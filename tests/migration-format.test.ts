/**
 * The migration file format, without a database: pgroll's example files load and round-trip, and
 * every kind of malformed or invalid file fails with one message naming the file and exact path.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { PgtandemError, ValidationError } from "../lib/errors.ts";
import { migrationJsonSchema } from "../lib/migration/json-schema.ts";
import { loadMigrationFile, migrationNameFromPath } from "../lib/migration/loader.ts";
import {
  migrationVersionName,
  parseMigration,
  toCanonicalJson,
} from "../lib/migration/migration.ts";
import { builtinRegistry } from "../lib/operations/builtins.ts";
import { unimplementedOperation } from "../lib/operations/unimplemented.ts";
import { sqlParams } from "../lib/migration/params/sql.ts";
import { corpusUrl } from "./helpers/corpus.ts";

const EXAMPLES = fileURLToPath(corpusUrl ?? new URL("file:///nonexistent/"));
const registry = builtinRegistry();

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "pgtandem-format-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes `text` to a fresh file in the temp directory and returns its path. */
async function file(name: string, text: string): Promise<string> {
  const target = path.join(tmp, name);
  await writeFile(target, text);
  return target;
}

/** The ValidationError that parsing `document` throws. */
function invalid(document: unknown): ValidationError {
  try {
    parseMigration("m.yaml", "m", document, registry);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected the migration to be rejected");
}

/** One create_table operation with the given body fields merged over a valid minimal body. */
function createTable(body: Record<string, unknown>) {
  return {
    operations: [{
      create_table: { name: "t", columns: [{ name: "id", type: "int", pk: true }], ...body },
    }],
  };
}

describe.skipIf(!corpusUrl)("pgroll's example migrations", async () => {
  const ledger = corpusUrl
    ? (await readFile(path.join(EXAMPLES, ".ledger"), "utf8")).split("\n")
      .filter((line) => line.trim() !== "")
    : [];

  test("the ledger lists all 56", () => {
    expect(ledger).toHaveLength(56);
  });

  for (const name of ledger) {
    test(`${name} loads and its canonical JSON equals the file`, async () => {
      const target = path.join(EXAMPLES, name);
      const loaded = await loadMigrationFile(target, registry);
      expect(loaded.path).toBe(target);
      expect(loaded.migration.name).toBe(name.replace(/\.yaml$/, ""));
      expect(loaded.operations.length).toBe(loaded.migration.operations.length);
      const document = parseYaml(await readFile(target, "utf8"));
      expect(toCanonicalJson(loaded.migration)).toEqual(document);
    });
  }

  test("version_schema names the version; otherwise the file name does", async () => {
    const named = await loadMigrationFile(
      path.join(EXAMPLES, "56_with_version_schema.yaml"),
      registry,
    );
    expect(migrationVersionName(named.migration)).toBe("with_version_schema");
    const plain = await loadMigrationFile(path.join(EXAMPLES, "01_create_tables.yaml"), registry);
    expect(migrationVersionName(plain.migration)).toBe("01_create_tables");
    expect(toCanonicalJson(plain.migration)).not.toHaveProperty("version_schema");
  });
});

describe("loader", () => {
  test("the name is the base file name minus its last extension", () => {
    expect(migrationNameFromPath("dir/03.migration.3.yml")).toBe("03.migration.3");
    expect(migrationNameFromPath("/a/b/01_init.json")).toBe("01_init");
  });

  test("loads JSON", async () => {
    const target = await file(
      "01_sql.json",
      JSON.stringify({ operations: [{ sql: { up: "SELECT 1" } }] }, null, 2),
    );
    const loaded = await loadMigrationFile(target, registry);
    expect(loaded.migration).toEqual({ name: "01_sql", operations: [{ sql: { up: "SELECT 1" } }] });
    expect(loaded.operations[0]?.kind).toBe("sql");
  });

  test("malformed JSON names the file, line and column", async () => {
    const target = await file(
      "bad.json",
      '{\n  "operations": [\n    {"sql": {"up": "x",}}\n  ]\n}\n',
    );
    const error = await loadMigrationFile(target, registry).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toStartWith(`${target}: malformed JSON at line 3, column 24: `);
    expect(error.message).not.toContain("\n");
  });

  test("malformed YAML names the file, line and column on one line", async () => {
    const target = await file("bad.yaml", "operations:\n  - sql:\n      up: [unclosed\n");
    const error = await loadMigrationFile(target, registry).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toStartWith(`${target}: malformed YAML at line `);
    expect(error.message).toMatch(/at line \d+, column \d+: \S/);
    expect(error.message).not.toContain("\n");
  });

  test("YAML is read as YAML 1.1, like pgroll's parser: yes is a boolean", async () => {
    const target = await file(
      "yes.yaml",
      "operations:\n  - create_table:\n      name: t\n      columns:\n" +
        "        - {name: id, type: int, nullable: yes}\n",
    );
    const loaded = await loadMigrationFile(target, registry);
    expect(loaded.migration.operations[0]).toEqual({
      create_table: { name: "t", columns: [{ name: "id", type: "int", nullable: true }] },
    });
  });

  test("a missing file is a clear error", async () => {
    const target = path.join(tmp, "nope.yaml");
    const error = await loadMigrationFile(target, registry).catch((e) => e);
    expect(error).toBeInstanceOf(PgtandemError);
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe(`${target}: file not found`);
  });

  test("an unsupported extension lists the supported ones", async () => {
    const target = await file("01_x.toml", "");
    const error = await loadMigrationFile(target, registry).catch((e) => e);
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain('unsupported migration file extension ".toml"');
    expect(error.message).toContain(".json, .yaml, .yml");
  });

  test("validation errors name the file", async () => {
    const target = await file("02_bad.yaml", "operations:\n  - drop_table: {}\n");
    const error = await loadMigrationFile(target, registry).catch((e) => e);
    expect(error.message).toBe(
      `${target}: operations[0].drop_table.name: required field is missing`,
    );
  });
});

describe("file-level validation", () => {
  test("unknown operation suggests the nearest kind", () => {
    const error = invalid({ operations: [{ sql: { up: "x" } }, { crate_table: {} }] });
    expect(error.issues).toEqual([{
      path: ["operations", 1],
      message: 'unknown operation "crate_table": did you mean "create_table"?',
    }]);
  });

  test("unknown operation with nothing close lists every kind", () => {
    const error = invalid({ operations: [{ foo: {} }] });
    expect(error.message).toContain(
      'operations[0]: unknown operation "foo": expected one of create_table,',
    );
    expect(error.message).toContain("set_replica_identity");
  });

  test("an operation with two keys", () => {
    const error = invalid({ operations: [{ sql: { up: "x" }, drop_table: { name: "t" } }] });
    expect(error.message).toBe(
      "m.yaml: operations[0]: operation at index 0 has multiple keys: sql, drop_table",
    );
  });

  test("an operation that is not an object", () => {
    const error = invalid({ operations: ["create_table"] });
    expect(error.message).toBe("m.yaml: operations[0]: expected object, got string");
  });

  test("a missing required field", () => {
    const error = invalid(createTable({ columns: [{ name: "id", type: "int" }, { name: "x" }] }));
    expect(error.message).toBe(
      "m.yaml: operations[0].create_table.columns[1].type: required field is missing",
    );
    expect(error.issues[0]?.path).toEqual(["operations", 0, "create_table", "columns", 1, "type"]);
  });

  test("an extra field", () => {
    const error = invalid(createTable({ colour: "red" }));
    expect(error.message).toBe('m.yaml: operations[0].create_table.colour: unknown field "colour"');
  });

  test("a value of the wrong type", () => {
    const error = invalid(
      createTable({ columns: [{ name: "id", type: "int" }, { name: "n", type: 5 }] }),
    );
    expect(error.message).toBe(
      "m.yaml: operations[0].create_table.columns[1].type: expected string, got number (put the value in quotes)",
    );
  });

  test("a value outside its enum", () => {
    const error = invalid({
      operations: [{
        create_index: { name: "i", table: "t", columns: [{ column: "c" }], method: "bogus" },
      }],
    });
    expect(error.issues[0]?.path).toEqual(["operations", 0, "create_index", "method"]);
    expect(error.issues[0]?.message).toContain('expected one of "btree"');
    expect(error.issues[0]?.message).toContain('got "bogus"');
  });

  test("every issue is reported at once", () => {
    const error = invalid({
      version_schema: 3,
      operations: [
        { drop_table: { name: "" } },
        { rename_table: { from: "a" } },
        { sql: { up: "x", extra: true } },
      ],
    });
    expect(error.describe().split("\n")).toEqual([
      "version_schema: expected string, got number",
      "operations[0].drop_table.name: must not be empty",
      "operations[1].rename_table.to: required field is missing",
      'operations[2].sql.extra: unknown field "extra"',
    ]);
    expect(error.message).toBe("m.yaml: version_schema: expected string, got number (and 3 more)");
  });

  test("top level: name is rejected, operations required, other fields unknown", () => {
    expect(invalid({ name: "x", operations: [] }).issues).toEqual([{
      path: ["name"],
      message: 'unknown field "name": the migration name comes from the file name',
    }]);
    expect(invalid({}).issues).toEqual([{
      path: ["operations"],
      message: "required field is missing",
    }]);
    expect(invalid({ operations: {} }).issues[0]?.message).toBe("expected array, got object");
    expect(invalid({ operations: [], author: "me" }).issues[0]?.message).toBe(
      'unknown field "author"',
    );
    expect(invalid(null).message).toBe('m.yaml: expected an object with "operations", got null');
  });

  test("sql: up must not be empty; down is not allowed with onComplete", () => {
    expect(invalid({ operations: [{ sql: { up: "" } }] }).issues[0]?.path).toEqual([
      "operations",
      0,
      "sql",
      "up",
    ]);
    const error = invalid({ operations: [{ sql: { up: "x", down: "y", onComplete: true } }] });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toEqual(["operations", 0, "sql", "down"]);
    expect(error.issues[0]?.message).toContain('not allowed together with "onComplete"');
    // pgroll's code (not its JSON Schema) accepts down with onComplete: false.
    expect(() =>
      parseMigration(
        "m",
        "m",
        { operations: [{ sql: { up: "x", down: "y", onComplete: false } }] },
        registry,
      )
    )
      .not.toThrow();
  });

  test("alter_column needs at least one change; a null default counts", () => {
    const error = invalid({
      operations: [{ alter_column: { table: "t", column: "c", up: "c", down: "c" } }],
    });
    expect(error.message).toBe(
      'm.yaml: operations[0].alter_column: alter column "c" on table "t" requires at least one change: ' +
        "type, check, references, nullable, unique, default, comment",
    );
    const ok = parseMigration("m", "m", {
      operations: [{ alter_column: { table: "t", column: "c", default: null } }],
    }, registry);
    expect(ok.operations[0]?.params).toEqual({ table: "t", column: "c", default: null });
  });

  test("table constraints follow per-type rules", () => {
    const check = invalid(createTable({ constraints: [{ name: "c", type: "check" }] }));
    expect(check.message).toBe(
      'm.yaml: operations[0].create_table.constraints[0].check: required for "check" constraints',
    );
    const deferrableCheck = invalid(
      createTable({ constraints: [{ name: "c", type: "check", check: "true", deferrable: true }] }),
    );
    expect(deferrableCheck.issues[0]?.path.slice(-1)).toEqual(["deferrable"]);
    const unique = invalid(createTable({ constraints: [{ name: "u", type: "unique" }] }));
    expect(unique.issues[0]?.path.slice(-1)).toEqual(["columns"]);
    const fk = invalid(
      createTable({ constraints: [{ name: "f", type: "foreign_key", columns: ["id"] }] }),
    );
    expect(fk.issues[0]?.path.slice(-1)).toEqual(["references"]);
    const exclude = invalid(createTable({ constraints: [{ name: "e", type: "exclude" }] }));
    expect(exclude.issues[0]?.path.slice(-1)).toEqual(["exclude"]);
    const pk = invalid(
      createTable({ constraints: [{ name: "p", type: "primary_key", columns: ["id"] }] }),
    );
    expect(pk.issues[0]?.message).toContain("already has a primary key");
    const setColumns = invalid(createTable({
      columns: [{ name: "a", type: "int" }],
      constraints: [{
        name: "f",
        type: "foreign_key",
        columns: ["a"],
        references: {
          table: "o",
          columns: ["id"],
          on_delete: "CASCADE",
          on_delete_set_columns: ["a"],
        },
      }],
    }));
    expect(setColumns.issues[0]?.path.slice(-2)).toEqual(["references", "on_delete_set_columns"]);
  });

  test("create_constraint needs up and down for every column", () => {
    const error = invalid({
      operations: [{
        create_constraint: {
          table: "t",
          name: "u",
          type: "unique",
          columns: ["a", "b"],
          up: { a: "a" },
          down: { a: "a", b: "b" },
        },
      }],
    });
    expect(error.describe()).toBe(
      'operations[0].create_constraint.up: missing an entry for column "b"',
    );
  });

  test("generated columns are an expression or an identity, not both", () => {
    const error = invalid(createTable({
      columns: [{ name: "id", type: "int", generated: { expression: "1", identity: {} } }],
    }));
    expect(error.issues[0]?.path.slice(-2)).toEqual(["generated", "identity"]);
  });

  test("keyword enums accept any case; params are normalised, the document is kept", () => {
    const document = createTable({
      columns: [{
        name: "id",
        type: "int",
        references: { name: "f", table: "o", column: "id", on_delete: "cascade" },
      }],
    });
    const { migration, operations } = parseMigration("m", "m", document, registry);
    const params = operations[0]?.params as { columns: { references: { on_delete: string } }[] };
    expect(params.columns[0]?.references.on_delete).toBe("CASCADE");
    expect(toCanonicalJson(migration)).toEqual(document);
    const bad = invalid(createTable({
      columns: [{
        name: "id",
        type: "int",
        references: { name: "f", table: "o", column: "id", on_delete: "explode" },
      }],
    }));
    expect(bad.issues[0]?.path.slice(-1)).toEqual(["on_delete"]);
  });

  test("set_replica_identity: type in any case; index required for INDEX only", () => {
    const ok = {
      operations: [{ set_replica_identity: { table: "t", identity: { type: "full" } } }],
    };
    expect(() => parseMigration("m", "m", ok, registry)).not.toThrow();
    const error = invalid({
      operations: [{ set_replica_identity: { table: "t", identity: { type: "index" } } }],
    });
    expect(error.issues[0]?.path).toEqual([
      "operations",
      0,
      "set_replica_identity",
      "identity",
      "index",
    ]);
  });
});

describe("registry and JSON Schema", () => {
  test.skipIf(!corpusUrl)(
    "every operation kind in pgroll's JSON Schema is registered, and no other",
    async () => {
      const pgroll = JSON.parse(
        await readFile(path.join(EXAMPLES, "pgroll-migration.schema.json"), "utf8"),
      );
      const kinds = (pgroll.$defs.PgRollOperation.anyOf as { required: string[] }[]).map((b) =>
        b.required[0]
      );
      expect(kinds).toHaveLength(15);
      expect([...registry.kinds()].sort()).toEqual([...kinds].sort() as string[]);
    },
  );

  test("the generated schema has one strict single-key object per kind", () => {
    const schema = migrationJsonSchema(registry) as Record<string, any>;
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.$id).toBeString();
    expect(schema.title).toBeString();
    expect(schema.required).toEqual(["operations"]);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(["operations", "version_schema"]);
    const refs = schema.properties.operations.items.anyOf.map((b: { $ref: string }) => b.$ref);
    expect(refs).toEqual(registry.kinds().map((kind) => `#/$defs/${kind}`));
    for (const kind of registry.kinds()) {
      const branch = schema.$defs[kind];
      expect(branch.required).toEqual([kind]);
      expect(Object.keys(branch.properties)).toEqual([kind]);
      expect(branch.additionalProperties).toBe(false);
      expect(branch.properties[kind].additionalProperties).toBe(false);
    }
    // Shared shapes keep pgroll's names and forbid extra fields too.
    for (
      const shared of [
        "Column",
        "CheckConstraint",
        "ForeignKeyReference",
        "Constraint",
        "IndexField",
      ]
    ) {
      expect(schema.$defs[shared].additionalProperties).toBe(false);
    }
    expect(schema.$defs.Column.required).toEqual(["name", "type"]);
    expect(schema.$defs.create_table.properties.create_table.properties.columns.items).toEqual({
      $ref: "#/$defs/Column",
    });
  });

  test("every field of every operation is documented", () => {
    const schema = migrationJsonSchema(registry) as Record<string, any>;
    const undocumented: string[] = [];
    const walk = (node: any, where: string) => {
      if (!node || typeof node !== "object") return;
      for (const [key, child] of Object.entries<any>(node.properties ?? {})) {
        if (!child.description && !child.$ref) undocumented.push(`${where}.${key}`);
        walk(child, `${where}.${key}`);
        walk(child.items, `${where}.${key}[]`);
      }
    };
    for (const [name, def] of Object.entries<any>(schema.$defs)) walk(def, name);
    expect(undocumented).toEqual([]);
  });
});

describe("unimplementedOperation", () => {
  test("parses params but refuses to validate or run", () => {
    const definition = unimplementedOperation("sql", "Run raw SQL", sqlParams);
    const params = sqlParams.parse({ up: "x" });
    expect(definition.validate(params, {} as never)).toEqual([
      { path: [], message: 'operation "sql" is not supported yet' },
    ]);
    try {
      definition.start(params, {} as never);
      throw new Error("start should throw");
    } catch (error) {
      expect(error).toBeInstanceOf(PgtandemError);
      expect((error as PgtandemError).code).toBe("internal");
    }
  });
});
