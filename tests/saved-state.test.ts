/**
 * pgtandem_runs rows are parsed, not trusted: a row of an unknown format or a snapshot of the
 * wrong shape stops complete and rollback with one line naming the migration and the field, before
 * any DDL; a row written before formats were numbered still completes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dumpSchema } from "./helpers/catalog.ts";
import { cli, cliOk, migrationFile } from "./helpers/cli.ts";
import { applyMigration } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "s01_setup", {
    operations: [{
      create_table: {
        name: "accounts",
        columns: [
          { name: "id", type: "serial", pk: true },
          { name: "amount", type: "integer", nullable: true },
        ],
      },
    }],
  });
  await db.sql`INSERT INTO accounts (amount) SELECT g FROM generate_series(1, 20) g`;
});

afterAll(async () => {
  await db?.drop();
});

/** Starts a migration that rewrites `amount`; returns its name. */
async function startRewrite(name: string): Promise<void> {
  const file = await migrationFile(`${name}.json`, {
    operations: [{
      alter_column: {
        table: "accounts",
        column: "amount",
        type: "bigint",
        up: "amount",
        down: "amount",
      },
    }],
  });
  await cliOk(db.url, ["start", file]);
}

describe("saved run state", () => {
  test("a row written in a newer format is refused by name, and nothing changes", async () => {
    await startRewrite("s02_newer_format");
    await db.sql`UPDATE pgroll.pgtandem_runs
      SET backfill = backfill || '{"format": 99}'::jsonb WHERE name = 's02_newer_format'`;
    const before = await dumpSchema(db.sql, "public");
    for (const command of ["complete", "rollback"]) {
      const result = await cli(db.url, [command]);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain('migration "s02_newer_format"');
      expect(result.stderr).toContain("format 99 by a newer pgtandem");
    }
    expect(await dumpSchema(db.sql, "public")).toEqual(before);
    // Repaired by hand (what the newer release would do), the run rolls back.
    await db.sql`UPDATE pgroll.pgtandem_runs
      SET backfill = backfill - 'format' WHERE name = 's02_newer_format'`;
    await cliOk(db.url, ["rollback"]);
  });

  test("a snapshot of the wrong shape names the field instead of failing as a TypeError", async () => {
    await startRewrite("s03_bad_snapshot");
    await db.sql`UPDATE pgroll.pgtandem_runs
      SET started_schema = jsonb_set(started_schema, '{tables,0,columns}', '"oops"')
      WHERE name = 's03_bad_snapshot'`;
    const result = await cli(db.url, ["complete"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('migration "s03_bad_snapshot"');
    expect(result.stderr).toContain("started_schema.tables[0].columns");
    expect(result.stderr).not.toContain("TypeError");
    await db.sql`UPDATE pgroll.pgtandem_runs
      SET started_schema = jsonb_set(started_schema, '{tables,0,columns}', '[]')
      WHERE name = 's03_bad_snapshot'`;
    // Well-formed but not matching the migration: a state error naming the column, no TypeError.
    const mismatch = await cli(db.url, ["complete"]);
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toContain('"amount"');
    expect(mismatch.stderr).not.toContain("TypeError");
    expect(mismatch.stderr).not.toContain("Cannot read");
    // Without its run row the migration is treated as pgroll's (replayed from the schema its
    // parent left), which is how an operator recovers from a damaged row.
    await db.sql`DELETE FROM pgroll.pgtandem_runs WHERE name = 's03_bad_snapshot'`;
    await cliOk(db.url, ["rollback"]);
  });

  test("a row written before formats were numbered still completes", async () => {
    await startRewrite("s04_unnumbered");
    const [row] = await db.sql`SELECT backfill FROM pgroll.pgtandem_runs
      WHERE name = 's04_unnumbered'`;
    expect(row!.backfill.format).toBe(1);
    await db.sql`UPDATE pgroll.pgtandem_runs
      SET backfill = backfill - 'format' WHERE name = 's04_unnumbered'`;
    await cliOk(db.url, ["complete"]);
    const [type] = await db.sql`SELECT data_type FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = 'accounts' AND column_name = 'amount'`;
    expect(type!.data_type).toBe("bigint");
  });
});
