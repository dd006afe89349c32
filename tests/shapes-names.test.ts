/**
 * Generated names near PostgreSQL's 63-byte limit: two long column names sharing their first 51
 * bytes, with long check constraint and index names, altered in one migration. Each temporary
 * column, copied constraint and index, and trigger must stay its own object (PostgreSQL would
 * truncate both to one name), while short names stay exactly pgroll's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  byteLength,
  duplicateName,
  MAX_IDENTIFIER_BYTES,
  shortenIdentifier,
  temporaryColumnName,
} from "../lib/naming.ts";
import { inSchema, leftovers } from "./helpers/catalog.ts";
import { runLifecycle } from "./helpers/lifecycle.ts";
import { initWithBaseline } from "./helpers/baseline.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { expectStartRejected } from "./helpers/reject.ts";

const SHARED = "reading_value_recorded_by_the_weather_station_numbe"; // 51 bytes
const A = `${SHARED}r_one_aaaa`; // 61 bytes
const B = `${SHARED}r_two_bbbb`;
const TABLE = "measurements_of_the_stations_with_a_long_name_too"; // 49 bytes
const CHECK_A = `${SHARED}_chk_one_`; // 60 bytes
const CHECK_B = `${SHARED}_chk_two_`;
const INDEX_A = `${SHARED}_idx_one_`;
const INDEX_B = `${SHARED}_idx_two_`;
const q = (name: string) => `"${name}"`;

describe("naming", () => {
  test("names that fit are pgroll's, longer ones are shortened apart", () => {
    expect(temporaryColumnName("amount")).toBe("_pgroll_new_amount");
    expect(duplicateName("amount_check")).toBe("_pgroll_dup_amount_check");
    expect(byteLength(A)).toBe(61);
    const [a, b] = [temporaryColumnName(A), temporaryColumnName(B)];
    expect(a).not.toBe(b);
    for (const name of [a, b, duplicateName(CHECK_A), duplicateName(CHECK_B)]) {
      expect(byteLength(name)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
      expect(name.startsWith("_pgroll_")).toBe(true);
    }
    // Deterministic, so a later run (complete, rollback, resume) derives the same names.
    expect(a).toBe(temporaryColumnName(A));
    // The exact algorithm is part of the on-disk contract: a change would orphan objects.
    expect(shortenIdentifier(`_pgroll_new_${A}`)).toBe(
      "_pgroll_new_reading_value_recorded_by_the_weather_stat_a21ddb99",
    );
    // Multi-byte characters are never cut in half.
    const wide = shortenIdentifier("é".repeat(40));
    expect(byteLength(wide)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    expect(wide).not.toContain("\uFFFD");
  });
});

describe("long names on a real table", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await testDatabase();
    await db.sql.unsafe(`
      CREATE TABLE ${q(TABLE)} (
        id int PRIMARY KEY,
        ${q(A)} int CONSTRAINT ${q(CHECK_A)} CHECK (${q(A)} >= 0),
        ${q(B)} int CONSTRAINT ${q(CHECK_B)} CHECK (${q(B)} >= 0)
      );
      CREATE INDEX ${q(INDEX_A)} ON ${q(TABLE)} (${q(A)});
      CREATE INDEX ${q(INDEX_B)} ON ${q(TABLE)} (${q(B)});
      INSERT INTO ${q(TABLE)} SELECT g, g, 1000 + g FROM generate_series(1, 50) g;
    `);
    await initWithBaseline(db);
  });

  afterAll(async () => {
    await db?.drop();
  });

  test("two 61-byte columns sharing 51 bytes, altered together, keep their own values", async () => {
    const read = async (schema: string, id: number) =>
      await inSchema(db.url, schema, async (sql) => {
        const [row] = await sql.unsafe(
          `select ${q(A)}::int8 as a, ${q(B)}::int8 as b from ${q(TABLE)} where id = $1`,
          [id],
        );
        return [Number(row!.a), Number(row!.b)];
      });
    await runLifecycle(db, {
      name: "n01_alter_both",
      migration: {
        operations: [
          {
            alter_column: {
              table: TABLE,
              column: A,
              type: "bigint",
              up: `${q(A)} * 10`,
              down: `(${q(A)} / 10)::int`,
            },
          },
          {
            alter_column: {
              table: TABLE,
              column: B,
              type: "bigint",
              up: `${q(B)} * 100`,
              down: `(${q(B)} / 100)::int`,
            },
          },
        ],
      },
      afterStart: async () => {
        // Two distinct temporary columns exist, each with its own copy of the check.
        const temps = await db.sql`select attname from pg_attribute
          where attrelid = ${TABLE}::regclass and attname like '\\_pgroll\\_new\\_%'
            and not attisdropped order by 1`;
        expect(temps.map((r) => r.attname)).toEqual(
          [temporaryColumnName(A), temporaryColumnName(B)].sort(),
        );
        const checks = await db.sql`select conname from pg_constraint
          where conrelid = ${TABLE}::regclass and conname like '\\_pgroll\\_dup\\_%' order by 1`;
        expect(checks.map((r) => r.conname)).toEqual(
          [duplicateName(CHECK_A), duplicateName(CHECK_B)].sort(),
        );
        expect(await read("public_n01_alter_both", 7)).toEqual([70, 100700]);
        expect(await read("public", 7)).toEqual([7, 1007]);
        await inSchema(db.url, "public_n01_alter_both", (sql) =>
          sql.unsafe(
            `insert into ${q(TABLE)} (id, ${q(A)}, ${q(B)}) values (100, 420, 4200)`,
          ));
        expect(await read("public", 100)).toEqual([42, 42]);
        await inSchema(
          db.url,
          "public",
          (sql) => sql.unsafe(`insert into ${q(TABLE)} (id, ${q(A)}, ${q(B)}) values (101, 3, 4)`),
        );
        expect(await read("public_n01_alter_both", 101)).toEqual([30, 400]);
        await db.sql.unsafe(`delete from ${q(TABLE)} where id >= 100`);
      },
      afterComplete: async () => {
        expect(await read("public_n01_alter_both", 9)).toEqual([90, 100900]);
        const constraints = await db.sql`select conname, pg_get_constraintdef(oid) as def
          from pg_constraint where conrelid = ${TABLE}::regclass and contype = 'c' order by 1`;
        expect(constraints.map((c) => c.conname)).toEqual([CHECK_A, CHECK_B]);
        expect(constraints[0]!.def).toContain(A);
        expect(constraints[1]!.def).toContain(B);
        const indexes = await db.sql`select c.relname, pg_get_indexdef(i.indexrelid) as def
          from pg_index i join pg_class c on c.oid = i.indexrelid
          where i.indrelid = ${TABLE}::regclass and not i.indisprimary order by 1`;
        expect(indexes.map((i) => i.relname)).toEqual([INDEX_A, INDEX_B]);
        expect(indexes[0]!.def).toContain(A);
        expect(indexes[1]!.def).toContain(B);
        expect(await leftovers(db.sql, "public")).toEqual([]);
      },
    });
  });

  test("a version schema name longer than 63 bytes is refused at start", async () => {
    const name = `n02_${"v".repeat(60)}`;
    await expectStartRejected(db, `${name}.json`, {
      operations: [{ drop_column: { table: TABLE, column: B } }],
    }, /version schema name "public_n02_v+" is longer than 63 bytes/);
  });
});
