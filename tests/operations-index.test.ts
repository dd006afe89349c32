/**
 * Lifecycle tests on real PostgreSQL for create_index, drop_index, rename_constraint and
 * set_replica_identity, plus the bad input each must refuse before touching the database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dumpSchema, inSchema, schemaExists } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectStartRejected } from "./helpers/reject.ts";
import { createIndexParams } from "../lib/migration/params/create_index.ts";
import { createIndex } from "../lib/operations/create_index.ts";
import type { VirtualSchema } from "../lib/schema/model.ts";
import { engineSql } from "../lib/user-sql.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "i01_base", {
    operations: [
      {
        create_table: {
          name: "fruits",
          columns: [
            { name: "id", type: "serial", pk: true },
            { name: "name", type: "text" },
            { name: "price", type: "integer", nullable: true },
            { name: "doc", type: "tsvector", nullable: true },
            { name: "picked", type: "timestamptz", nullable: true },
          ],
          constraints: [
            { name: "fruits_price_positive", type: "check", check: "price > 0" },
            { name: "fruits_name_unique", type: "unique", columns: ["name"] },
          ],
        },
      },
      {
        create_table: {
          name: "baskets",
          columns: [
            { name: "id", type: "serial", pk: true },
            { name: "label", type: "text" },
            { name: "weight", type: "integer", nullable: true },
          ],
        },
      },
    ],
  });
  await db.sql`insert into fruits (name, price, picked)
    select 'fruit ' || g, g, now() from generate_series(1, 200) g`;
  await db.sql`insert into baskets (label) values ('a'), ('a'), ('b')`;
});

afterAll(async () => {
  await db?.drop();
});

interface IndexInfo {
  definition: string;
  valid: boolean;
  unique: boolean;
  method: string;
  table: string;
}

/** The index `name` of schema public as the catalog has it, or undefined. */
async function indexInfo(name: string): Promise<IndexInfo | undefined> {
  const [row] = await db.sql<IndexInfo[]>`
    select pg_get_indexdef(i.indexrelid) as definition, i.indisvalid as valid,
           i.indisunique as unique, am.amname as method, t.relname as table
      from pg_index i join pg_class c on c.oid = i.indexrelid
      join pg_class t on t.oid = i.indrelid join pg_am am on am.oid = c.relam
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relname = ${name}`;
  return row && { ...row };
}

async function constraintNames(table: string): Promise<string[]> {
  const rows = await db.sql<{ conname: string }[]>`
    select conname from pg_constraint where conrelid = ${`public.${table}`}::regclass order by 1`;
  return rows.map((r) => r.conname);
}

async function replicaIdentity(table: string): Promise<string> {
  const [row] = await db.sql<{ ident: string }[]>`
    select relreplident as ident from pg_class where oid = ${`public.${table}`}::regclass`;
  return row!.ident;
}

async function identityIndex(table: string): Promise<string | undefined> {
  const [row] = await db.sql<{ name: string }[]>`
    select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid
     where i.indrelid = ${`public.${table}`}::regclass and i.indisreplident`;
  return row?.name;
}

describe("create_index", () => {
  const indexes = {
    operations: [
      {
        create_index: {
          name: "idx_fruits_name_unique",
          table: "fruits",
          columns: [{ column: "name" }],
          unique: true,
        },
      },
      {
        create_index: {
          name: "idx_fruits_name_hash",
          table: "fruits",
          columns: [{ column: "name" }],
          method: "hash",
          storage_parameters: "fillfactor = 70",
        },
      },
      {
        create_index: {
          name: "idx_fruits_sorted",
          table: "fruits",
          columns: [
            { column: "price", sort: "DESC", nulls: "LAST" },
            { column: "name", collate: "C", opclass: { name: "text_pattern_ops" }, nulls: "first" },
          ],
        },
      },
      {
        create_index: {
          name: "idx_fruits_doc",
          table: "fruits",
          columns: [{ column: "doc", opclass: { name: "tsvector_ops", params: ["siglen = 100"] } }],
          method: "GIST",
        },
      },
      {
        create_index: {
          name: "idx_fruits_picked",
          table: "fruits",
          columns: [{ column: "picked" }],
          method: "brin",
        },
      },
      {
        create_index: {
          name: "idx_fruits_expensive",
          table: "fruits",
          columns: [{ column: "price" }],
          predicate: "price > 100 AND name <> 'price'",
        },
      },
    ],
  };
  const names = indexes.operations.map((o) => o.create_index.name);

  test("every option, built concurrently, valid, shared by both versions", async () => {
    await runLifecycle(db, {
      name: "i02_indexes",
      migration: indexes,
      afterStart: async () => {
        for (const name of names) expect((await indexInfo(name))?.valid).toBe(true);
        expect(await indexInfo("idx_fruits_name_unique")).toMatchObject({
          unique: true,
          method: "btree",
        });
        expect((await indexInfo("idx_fruits_name_hash"))?.definition).toBe(
          "CREATE INDEX idx_fruits_name_hash ON public.fruits USING hash (name) WITH (fillfactor='70')",
        );
        expect((await indexInfo("idx_fruits_sorted"))?.definition).toBe(
          'CREATE INDEX idx_fruits_sorted ON public.fruits USING btree (price DESC NULLS LAST, name COLLATE "C" text_pattern_ops NULLS FIRST)',
        );
        expect((await indexInfo("idx_fruits_doc"))?.definition).toBe(
          "CREATE INDEX idx_fruits_doc ON public.fruits USING gist (doc tsvector_ops (siglen='100'))",
        );
        expect((await indexInfo("idx_fruits_picked"))?.method).toBe("brin");
        expect((await indexInfo("idx_fruits_expensive"))?.definition).toBe(
          "CREATE INDEX idx_fruits_expensive ON public.fruits USING btree (price) WHERE ((price > 100) AND (name <> 'price'::text))",
        );
        // The old version's queries use the new indexes at once (no index had price before).
        await inSchema(db.url, "public_i01_base", async (sql) => {
          await sql`set enable_seqscan = off`;
          const plan =
            await sql`explain select * from fruits where price > 150 and name <> 'price'`;
          expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/Index Scan on idx_fruits_/);
        });
        // The unique index holds for writes from either version.
        await inSchema(db.url, "public_i02_indexes", async (sql) => {
          await expect(sql`insert into fruits (name) values ('fruit 1')`).rejects.toThrow(
            /duplicate key/,
          );
        });
      },
      afterRollback: async () => {
        for (const name of names) expect(await indexInfo(name)).toBeUndefined();
      },
      afterComplete: async () => {
        for (const name of names) expect((await indexInfo(name))?.valid).toBe(true);
      },
    });
  });

  test("on columns renamed or added in the same migration, predicate rewritten", async () => {
    await runLifecycle(db, {
      name: "i03_index_new_names",
      migration: {
        operations: [
          { rename_column: { table: "baskets", from: "weight", to: "grams" } },
          {
            add_column: {
              table: "baskets",
              column: { name: "colour", type: "text", nullable: true },
            },
          },
          {
            create_index: {
              name: "idx_baskets_heavy",
              table: "baskets",
              columns: [{ column: "grams" }, { column: "colour" }],
              predicate: `grams > 1000 and "colour" is not null and label <> 'grams'`,
            },
          },
        ],
      },
      afterStart: async () => {
        const info = await indexInfo("idx_baskets_heavy");
        expect(info?.valid).toBe(true);
        expect(info?.definition).toBe(
          "CREATE INDEX idx_baskets_heavy ON public.baskets USING btree (weight, _pgroll_new_colour) WHERE ((weight > 1000) AND (_pgroll_new_colour IS NOT NULL) AND (label <> 'grams'::text))",
        );
      },
      afterComplete: async () => {
        expect((await indexInfo("idx_baskets_heavy"))?.definition).toBe(
          "CREATE INDEX idx_baskets_heavy ON public.baskets USING btree (grams, colour) WHERE ((grams > 1000) AND (colour IS NOT NULL) AND (label <> 'grams'::text))",
        );
      },
    });
  });

  test("a later drop_index of the same migration finds the new index", async () => {
    await runLifecycle(db, {
      name: "i04_create_then_drop",
      migration: {
        operations: [
          {
            create_index: {
              name: "idx_short_lived",
              table: "baskets",
              // pgroll pastes collations as SQL, so its files may quote them already.
              columns: [{ column: "label", collate: 'pg_catalog."C"' }],
            },
          },
          { drop_index: { name: "idx_short_lived" } },
        ],
      },
      afterStart: async () => {
        expect(await indexInfo("idx_short_lived")).toMatchObject({
          valid: true,
          definition:
            'CREATE INDEX idx_short_lived ON public.baskets USING btree (label COLLATE "C")',
        });
      },
      afterComplete: async () => {
        expect(await indexInfo("idx_short_lived")).toBeUndefined();
      },
    });
  });

  test("a unique build that fails on existing duplicates leaves nothing behind", async () => {
    const file = await migrationFile("i05_unique_dupes.json", {
      operations: [
        {
          create_index: {
            name: "idx_baskets_label",
            table: "baskets",
            columns: [{ column: "label" }],
            unique: true,
          },
        },
      ],
    });
    const before = await dumpSchema(db.sql, "public");
    const result = await cli(db.url, ["start", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /failed to start migration "i05_unique_dupes", changes rolled back: .*duplicate/,
    );
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(await indexInfo("idx_baskets_label")).toBeUndefined();
    const rows = await db.sql`select name from pgroll.migrations where name = 'i05_unique_dupes'`;
    expect(rows).toHaveLength(0);
    expect(await schemaExists(db.sql, "public_i05_unique_dupes")).toBe(false);
    expect(await dumpSchema(db.sql, "public")).toEqual(before);
  });
});

describe("drop_index", () => {
  test("the index stays for the old version until complete", async () => {
    await applyMigration(db, "i06_index_to_drop", {
      operations: [{
        create_index: {
          name: "idx_baskets_label_plain",
          table: "baskets",
          columns: [{ column: "label" }],
        },
      }],
    });
    await runLifecycle(db, {
      name: "i07_drop_index",
      migration: { operations: [{ drop_index: { name: "idx_baskets_label_plain" } }] },
      afterStart: async () => {
        expect((await indexInfo("idx_baskets_label_plain"))?.valid).toBe(true);
      },
      afterRollback: async () => {
        expect((await indexInfo("idx_baskets_label_plain"))?.valid).toBe(true);
      },
      afterComplete: async () => {
        expect(await indexInfo("idx_baskets_label_plain")).toBeUndefined();
      },
    });
  });
});

describe("rename_constraint", () => {
  test("check and unique constraints renamed only at complete, the unique index with them", async () => {
    await runLifecycle(db, {
      name: "i08_rename_constraints",
      migration: {
        operations: [
          {
            rename_constraint: {
              table: "fruits",
              from: "fruits_price_positive",
              to: "price_is_positive",
            },
          },
          {
            rename_constraint: {
              table: "fruits",
              from: "fruits_name_unique",
              to: "name_is_unique",
            },
          },
        ],
      },
      afterStart: async () => {
        expect(await constraintNames("fruits")).toEqual(
          expect.arrayContaining(["fruits_name_unique", "fruits_price_positive"]),
        );
        await inSchema(db.url, "public_i07_drop_index", async (sql) => {
          await expect(sql`insert into fruits (name, price) values ('x', -1)`).rejects.toThrow(
            /fruits_price_positive/,
          );
        });
      },
      afterComplete: async () => {
        const names = await constraintNames("fruits");
        expect(names).toEqual(expect.arrayContaining(["name_is_unique", "price_is_positive"]));
        expect(names).not.toContain("fruits_price_positive");
        expect(names).not.toContain("fruits_name_unique");
        expect((await indexInfo("name_is_unique"))?.unique).toBe(true);
        expect(await indexInfo("fruits_name_unique")).toBeUndefined();
      },
    });
  });
});

describe("set_replica_identity", () => {
  test("set at start, the previous identity restored on rollback", async () => {
    expect(await replicaIdentity("baskets")).toBe("d");
    await runLifecycle(db, {
      name: "i09_identity_full",
      migration: {
        operations: [{ set_replica_identity: { table: "baskets", identity: { type: "full" } } }],
      },
      afterStart: async () => {
        expect(await replicaIdentity("baskets")).toBe("f");
      },
      afterRollback: async () => {
        expect(await replicaIdentity("baskets")).toBe("d");
      },
      afterComplete: async () => {
        expect(await replicaIdentity("baskets")).toBe("f");
      },
    });
  });

  test("a non-default identity comes back exactly, through several changes", async () => {
    // baskets is FULL now; this migration goes to an index built in the same migration, then
    // to NOTHING and back to that index. Rollback must give FULL back, not DEFAULT.
    await runLifecycle(db, {
      name: "i10_identity_index",
      migration: {
        operations: [
          {
            create_index: {
              name: "idx_baskets_id",
              table: "baskets",
              columns: [{ column: "id" }],
              unique: true,
            },
          },
          { set_replica_identity: { table: "baskets", identity: { type: "nothing" } } },
          {
            set_replica_identity: {
              table: "baskets",
              identity: { type: "INDEX", index: "idx_baskets_id" },
            },
          },
        ],
      },
      afterStart: async () => {
        expect(await replicaIdentity("baskets")).toBe("i");
        expect(await identityIndex("baskets")).toBe("idx_baskets_id");
      },
      afterRollback: async () => {
        expect(await replicaIdentity("baskets")).toBe("f");
      },
      afterComplete: async () => {
        expect(await replicaIdentity("baskets")).toBe("i");
        expect(await identityIndex("baskets")).toBe("idx_baskets_id");
      },
    });
    // And from an index identity back to the primary key, restoring the index on rollback.
    await runLifecycle(db, {
      name: "i11_identity_default",
      migration: {
        operations: [{ set_replica_identity: { table: "baskets", identity: { type: "default" } } }],
      },
      afterStart: async () => {
        expect(await replicaIdentity("baskets")).toBe("d");
      },
      afterRollback: async () => {
        expect(await identityIndex("baskets")).toBe("idx_baskets_id");
      },
    });
  });

  test("an index whose constraint is renamed in the same migration, by its physical name", async () => {
    await runLifecycle(db, {
      name: "i12_identity_renamed_index",
      migration: {
        operations: [
          { rename_constraint: { table: "fruits", from: "name_is_unique", to: "fruits_name_key" } },
          {
            set_replica_identity: {
              table: "fruits",
              identity: { type: "index", index: "fruits_name_key" },
            },
          },
        ],
      },
      afterStart: async () => {
        expect(await identityIndex("fruits")).toBe("name_is_unique");
      },
      afterRollback: async () => {
        expect(await replicaIdentity("fruits")).toBe("d");
      },
      afterComplete: async () => {
        expect(await identityIndex("fruits")).toBe("fruits_name_key");
        expect(await constraintNames("fruits")).toContain("fruits_name_key");
      },
    });
  });
});

describe("plans", () => {
  test("create_index SQL: NULLS keyword, opclass parameters, quoting, physical names", () => {
    const schema: VirtualSchema = {
      name: "public",
      tables: [{
        name: "My Table",
        physicalName: "My Table",
        comment: null,
        columns: [
          { ...column("Id"), physicalName: "Id" },
          { ...column("body"), physicalName: "_pgroll_new_body" },
        ],
        primaryKey: [],
        indexes: {},
        checkConstraints: {},
        uniqueConstraints: {},
        foreignKeys: {},
        excludeConstraints: {},
      }],
    };
    const { actions } = createIndex.start(
      createIndexParams.parse({
        name: 'idx "odd"',
        table: "My Table",
        columns: [
          { column: "Id", sort: "desc", nulls: "last" },
          { column: "body", opclass: { name: "gist_trgm_ops", params: ["siglen = 32"] } },
        ],
        method: "gist",
        predicate: `body <> 'body' AND "Id" > 0`,
      }),
      { schema, baseSchema: "app" },
    );
    expect(actions).toEqual([{
      kind: "concurrent_index",
      id: 'create_index_concurrently_My Table_idx "odd"',
      name: 'idx "odd"',
      table: "My Table",
      sql: 'CREATE INDEX CONCURRENTLY "idx ""odd""" ON "app"."My Table" USING gist ' +
        '("Id" DESC NULLS LAST, "_pgroll_new_body" "gist_trgm_ops" (siglen = 32)) ' +
        `WHERE ("_pgroll_new_body" <> 'body' AND "Id" > 0)`,
      lock: "SHARE UPDATE EXCLUSIVE",
      transactional: false,
    }]);
    expect(Object.keys(schema.tables[0]!.indexes)).toEqual(['idx "odd"']);
  });
});

function column(name: string) {
  const type = engineSql("text");
  return { name, type, default: null, nullable: true, unique: false, comment: null };
}

/** Runs `start` on the content and expects it refused, nothing changed. */
function expectRejected(fileName: string, content: object | string, pattern: RegExp) {
  return expectStartRejected(db, fileName, content, pattern);
}

describe("bad input", () => {
  test("drop_index of a missing index", async () => {
    await expectRejected(
      "bad_i1.json",
      { operations: [{ drop_index: { name: "no_such_index" } }] },
      /operations\[0\]\.drop_index\.name: index "no_such_index" does not exist/,
    );
  });

  test("drop_index of an index PostgreSQL would refuse to drop at complete", async () => {
    await expectRejected(
      "bad_i2.json",
      { operations: [{ drop_index: { name: "fruits_name_key" } }] },
      /drop_index\.name: cannot drop index "fruits_name_key" of table "fruits": it belongs to constraint/,
    );
    await expectRejected(
      "bad_i3.json",
      {
        operations: [
          {
            set_replica_identity: {
              table: "baskets",
              identity: { type: "index", index: "idx_baskets_id" },
            },
          },
          { drop_index: { name: "idx_baskets_id" } },
        ],
      },
      /operations\[1\]\.drop_index\.name: cannot drop index "idx_baskets_id" .*replica identity/,
    );
  });

  test("drop_index of the unique index a foreign key depends on", async () => {
    await applyMigration(db, "i13_labels", {
      operations: [
        { create_table: { name: "labels", columns: [{ name: "code", type: "text" }] } },
        {
          create_index: {
            name: "idx_labels_code",
            table: "labels",
            columns: [{ column: "code" }],
            unique: true,
          },
        },
      ],
    });
    // A separate migration: the engine runs create_table's statements before other operations'.
    await applyMigration(db, "i14_tags", {
      operations: [
        {
          create_table: {
            name: "tags",
            columns: [{
              name: "label_code",
              type: "text",
              references: { name: "tags_label_fk", table: "labels", column: "code" },
            }],
          },
        },
      ],
    });
    await expectRejected(
      "bad_i18.json",
      { operations: [{ drop_index: { name: "idx_labels_code" } }] },
      /cannot drop index "idx_labels_code" of table "labels": foreign key "tags_label_fk" of table "tags" depends on it/,
    );
  });

  test("create_index with a name already taken", async () => {
    await expectRejected(
      "bad_i4.json",
      {
        operations: [{
          create_index: {
            name: "idx_fruits_sorted",
            table: "baskets",
            columns: [{ column: "id" }],
          },
        }],
      },
      /operations\[0\]\.create_index\.name: index "idx_fruits_sorted" already exists/,
    );
    await expectRejected(
      "bad_i5.json",
      {
        operations: [{
          create_index: { name: "fruits", table: "baskets", columns: [{ column: "id" }] },
        }],
      },
      /create_index\.name: name "fruits" is already used by table "fruits"/,
    );
    // Dropped in this migration, but physically there until complete.
    await expectRejected(
      "bad_i6.json",
      {
        operations: [
          { drop_index: { name: "idx_fruits_sorted" } },
          {
            create_index: {
              name: "idx_fruits_sorted",
              table: "fruits",
              columns: [{ column: "id" }],
            },
          },
        ],
      },
      /operations\[1\]\.create_index\.name: name "idx_fruits_sorted" is still in use until this migration completes/,
    );
  });

  test("create_index on an unknown table or column", async () => {
    await expectRejected(
      "bad_i7.json",
      {
        operations: [{
          create_index: { name: "idx_x", table: "vegetables", columns: [{ column: "id" }] },
        }],
      },
      /create_index\.table: table "vegetables" does not exist/,
    );
    await expectRejected(
      "bad_i8.json",
      {
        operations: [{
          create_index: {
            name: "idx_x",
            table: "baskets",
            columns: [{ column: "id" }, { column: "colour_x" }],
          },
        }],
      },
      /create_index\.columns\[1\]\.column: column "colour_x" does not exist in table "baskets"/,
    );
  });

  test("create_index with an invalid method or one the method cannot do", async () => {
    await expectRejected(
      "bad_i9.json",
      {
        operations: [{
          create_index: {
            name: "idx_x",
            table: "baskets",
            columns: [{ column: "id" }],
            method: "rtree",
          },
        }],
      },
      /operations\[0\]\.create_index\.method: expected one of .*"btree".*got "rtree"/,
    );
    await expectRejected(
      "bad_i10.json",
      {
        operations: [{
          create_index: {
            name: "idx_x",
            table: "baskets",
            columns: [{ column: "id" }],
            method: "hash",
            unique: true,
          },
        }],
      },
      /create_index\.unique: index method "hash" does not support unique indexes/,
    );
    await expectRejected(
      "bad_i11.json",
      {
        operations: [{
          create_index: {
            name: "idx_x",
            table: "baskets",
            columns: [{ column: "id", sort: "desc" }],
            method: "gin",
          },
        }],
      },
      /create_index\.columns\[0\]\.sort: index method "gin" does not support ordering/,
    );
  });

  test("set_replica_identity with an unknown or unusable index", async () => {
    await expectRejected(
      "bad_i12.json",
      {
        operations: [{
          set_replica_identity: { table: "baskets", identity: { type: "index", index: "nope" } },
        }],
      },
      /set_replica_identity\.identity\.index: index "nope" does not exist on table "baskets"/,
    );
    await expectRejected(
      "bad_i13.json",
      {
        operations: [{
          set_replica_identity: {
            table: "fruits",
            identity: { type: "index", index: "idx_fruits_name_hash" },
          },
        }],
      },
      /index "idx_fruits_name_hash" cannot be the replica identity of table "fruits": it is not unique/,
    );
    await expectRejected(
      "bad_i14.json",
      {
        operations: [{
          set_replica_identity: { table: "fruits", identity: { type: "sometimes" } },
        }],
      },
      /set_replica_identity\.identity\.type: expected one of/,
    );
  });

  test("rename_constraint to an existing name, or of a missing constraint", async () => {
    await expectRejected(
      "bad_i15.json",
      {
        operations: [{
          rename_constraint: { table: "fruits", from: "price_is_positive", to: "fruits_name_key" },
        }],
      },
      /rename_constraint\.to: constraint "fruits_name_key" already exists on table "fruits"/,
    );
    await expectRejected(
      "bad_i16.json",
      { operations: [{ rename_constraint: { table: "fruits", from: "nope", to: "whatever" } }] },
      /rename_constraint\.from: constraint "nope" does not exist on table "fruits"/,
    );
    await expectRejected(
      "bad_i17.json",
      {
        operations: [{
          rename_constraint: { table: "fruits", from: "fruits_name_key", to: "idx_baskets_id" },
        }],
      },
      /rename_constraint\.to: index "idx_baskets_id" already exists/,
    );
  });
});
