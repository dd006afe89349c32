/**
 * CI's Deno smoke test: the CLI under Deno (`deno run -A main.ts …`, "pgtandem" served by
 * deno.json's import map) runs TypeScript migrations and a TypeScript plugin from a folder outside
 * the repository, against an embedded PostgreSQL this script starts.
 *
 *   node_modules/.bin/deno run -A scripts/smoke-deno.ts
 *
 * The folder: `01_items.ts` (the DSL's createTable), `02_stamp.ts` (an operation of the plugin),
 * `pgtandem.jsonc` naming `../plugins/smoke.ts`, whose operation expands into an add_column.
 * Then `init`, `migrate` (01 completed, 02 started), `complete`, each a `deno run` process of its
 * own, and the database is checked after each step. Exits 1 with the failing step on stderr.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { startPostgres } from "./embedded-postgres.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = join(ROOT, "node_modules", ".bin", "deno");

/** The folder the smoke runs (tests/binary-arm64.test.ts runs its plugin and 02 too). */
export const SMOKE_FILES: Record<string, string> = {
  "migrations/01_items.ts": `import { createTable, defineMigration, t } from "pgtandem";
export default defineMigration({
  operations: [createTable("items", { id: t.serial().primaryKey(), name: t.text() })],
});
`,
  "migrations/02_stamp.ts": `import { defineMigration, operation } from "pgtandem";
export default defineMigration({ operations: [operation("smoke:stamp", { table: "items" })] });
`,
  "migrations/pgtandem.jsonc": `{ "plugins": ["../plugins/smoke.ts"] } // relative to this file\n`,
  "plugins/smoke.ts": `import { definePlugin, z } from "pgtandem";
export default definePlugin({
  name: "smoke",
  operations: {
    "smoke:stamp": {
      params: z.object({ table: z.string() }).strict(),
      expand: ({ table }) => [
        { add_column: { table, column: { name: "stamped_at", type: "timestamptz", default: "now()" } } },
      ],
    },
  },
});
`,
};

/** Runs `deno run -A main.ts ARGS` in `cwd`; throws with its stderr when it fails. */
function pgtandem(cwd: string, url: string, args: string[]): string {
  const result = spawnSync(DENO, ["run", "-A", join(ROOT, "main.ts"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, PGROLL_PG_URL: url, NO_COLOR: "1" },
  });
  if (result.status !== 0) {
    throw new Error(
      `deno run main.ts ${args.join(" ")} exited ${result.status}:\n${result.stderr}`,
    );
  }
  return result.stdout;
}

async function columns(sql: postgres.Sql, schema: string): Promise<string> {
  const rows = await sql`
    select column_name from information_schema.columns
    where table_schema = ${schema} and table_name = 'items' order by ordinal_position`;
  return rows.map((r) => r.column_name).join(",");
}

function expectEqual(step: string, actual: string, expected: string): void {
  if (actual !== expected) throw new Error(`${step}: expected ${expected}, got ${actual}`);
  console.log(`ok: ${step}`);
}

async function main(): Promise<void> {
  const pg = await startPostgres();
  const work = await mkdtemp(join(tmpdir(), "pgtandem-deno-smoke-"));
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    for (const [path, text] of Object.entries(SMOKE_FILES)) {
      await mkdir(join(work, path, ".."), { recursive: true });
      await writeFile(join(work, path), text);
    }
    pgtandem(work, pg.url, ["init"]);
    pgtandem(work, pg.url, ["migrate", "migrations"]);
    expectEqual(
      "migrate: 01 complete, 02 (plugin) started",
      `${await columns(sql, "public_01_items")} | ${await columns(sql, "public_02_stamp")}`,
      "id,name | id,name,stamped_at",
    );
    pgtandem(work, pg.url, ["complete"]);
    expectEqual("complete", await columns(sql, "public"), "id,name,stamped_at");
    console.log(
      `deno smoke: TS migrations and a TS plugin ran under Deno ${process.versions.deno}`,
    );
  } finally {
    await sql.end({ timeout: 5 });
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(`deno smoke failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
