/**
 * Names that contain pgtandem's own dollar-quote tag (and other SQL) go through start, rollback
 * and complete of every common operation as plain names: no text of a name is ever parsed as
 * SQL. The table `victims` must survive every step.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { columnNames, leftovers } from "./helpers/catalog.ts";
import { cliOk } from "./helpers/cli.ts";
import { applyMigration, runLifecycle } from "./helpers/lifecycle.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";
import { dollarQuote } from "../lib/sql.ts";

const TABLE = "o$pgtandem$dd'; --";
const KEY = "id$pgtandem$; DROP TABLE victims; --";
const NOTE = "note$pgtandem";
const TAIL = "x$pgtandem1$";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await cliOk(db.url, ["init"]);
  await applyMigration(db, "h01_setup", {
    operations: [
      { create_table: { name: "victims", columns: [{ name: "id", type: "int", pk: true }] } },
      {
        create_table: {
          name: TABLE,
          columns: [
            { name: KEY, type: "serial", pk: true },
            { name: NOTE, type: "text", nullable: true },
            {
              name: TAIL,
              type: "integer",
              nullable: true,
              check: { name: `${TAIL}chk`, constraint: `"${TAIL}" >= 0` },
            },
          ],
        },
      },
    ],
  });
  await db.sql.unsafe(`insert into "${TABLE.replaceAll('"', '""')}" ("${NOTE}", "${TAIL}")
    select 'n' || g, g from generate_series(1, 30) g`);
});

afterAll(async () => {
  await db?.drop();
});

async function victimsSurvive() {
  const [row] = await db.sql`select count(*)::int as n from pg_class
    where relname = 'victims' and relkind = 'r' and relnamespace = 'public'::regnamespace`;
  expect(row!.n).toBe(1);
}

const cases: [string, object[]][] = [
  [
    "alter_column type of the serial key",
    [{
      alter_column: { table: TABLE, column: KEY, type: "bigint", up: `"${KEY}"`, down: `"${KEY}"` },
    }],
  ],
  [
    "alter_column NOT NULL with a check",
    [{
      alter_column: {
        table: TABLE,
        column: NOTE,
        nullable: false,
        up: `coalesce("${NOTE}", '-')`,
        down: `"${NOTE}"`,
      },
    }],
  ],
  [
    "add_column with up, then rename it",
    [
      {
        add_column: {
          table: TABLE,
          column: { name: `${NOTE}2`, type: "text", nullable: false },
          up: `'v$pgtandem$'`,
        },
      },
      { rename_column: { table: TABLE, from: `${NOTE}2`, to: `${NOTE}3` } },
    ],
  ],
  [
    "create_index and a check constraint",
    [
      { create_index: { name: `${TAIL}idx`, table: TABLE, columns: [{ column: TAIL }] } },
      {
        create_constraint: {
          table: TABLE,
          name: `${NOTE}chk`,
          type: "check",
          columns: [NOTE],
          check: `"${NOTE}" <> '$pgtandem$'`,
          up: { [NOTE]: `"${NOTE}"` },
          down: { [NOTE]: `"${NOTE}"` },
        },
      },
    ],
  ],
  ["drop_column", [{ drop_column: { table: TABLE, column: TAIL, down: "0" } }]],
];

describe("names holding the dollar-quote tag", () => {
  test("dollarQuote never lets a body end the quote early", () => {
    for (
      const body of ["a", "x $pgtandem$ y", "ends with $pgtandem", "$pgtandem1$ and $pgtandem$"]
    ) {
      const quoted = dollarQuote(body);
      const tag = quoted.slice(0, quoted.indexOf("$", 1) + 1);
      expect(quoted.indexOf(tag, tag.length)).toBe(tag.length + body.length);
    }
  });

  cases.forEach(([label, operations], i) => {
    test(`${label}: start, rollback, start, complete`, async () => {
      await runLifecycle(db, {
        name: `h0${i + 2}_case`,
        migration: { operations },
        afterStart: victimsSurvive,
        afterRollback: victimsSurvive,
        afterComplete: async () => {
          await victimsSurvive();
          expect(await leftovers(db.sql, "public")).toEqual([]);
          expect(await columnNames(db.sql, "public", TABLE)).toContain(KEY);
        },
      });
    });
  });
});
