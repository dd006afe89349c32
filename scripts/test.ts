/**
 * `npm test`: starts one embedded PostgreSQL (major from env PGTANDEM_PG_VERSION, default 17),
 * runs `bun test` against it and exits with bun's exit code. Extra arguments go to `bun test`
 * (e.g. a file filter: `npm test -- tests/embedded-postgres.test.ts`).
 *
 * One server for the whole run, not one per test file: starting a server costs about a second,
 * a database costs milliseconds (tests/helpers/postgres.ts gives each file its own).
 *
 * @module
 */
import { spawn } from "node:child_process";
import os from "node:os";
import process from "node:process";
import { startPostgres } from "./embedded-postgres.ts";

/** Generous: lifecycle tests run real DDL and backfills, and CI machines are slow. */
const TEST_TIMEOUT_MS = 120_000;

const pg = await startPostgres();
console.error(`pgtandem tests: PostgreSQL ${pg.version} at ${pg.url}`);

// process.execPath is the bun running this script (node_modules/.bin/bun under npm test), so
// the tests run on the pinned Bun, not whatever bun is on PATH.
const child = spawn(
  process.execPath,
  ["test", "--timeout", String(TEST_TIMEOUT_MS), ...process.argv.slice(2)],
  {
    stdio: "inherit",
    env: {
      ...process.env,
      PGTANDEM_TEST_URL: pg.url,
      // Tests compare the server's major with this; keep them in agreement.
      PGTANDEM_PG_VERSION: String(pg.version),
    },
  },
);
const code = await new Promise<number>((resolve) => {
  child.on("error", (error) => {
    console.error(`cannot run bun test: ${error.message}`);
    resolve(1);
  });
  // Killed by a signal: exit 128 + n, as a shell reports it.
  child.on(
    "exit",
    (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)),
  );
});

await pg.stop();
process.exit(code);
