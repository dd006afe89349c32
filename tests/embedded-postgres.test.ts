/**
 * The test infrastructure itself: the shared server answers with the expected major, test
 * databases are isolated and dropped, and startPostgres/stop leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import postgres from "postgres";
import { hydrateSymlinks, resolveVersion, startPostgres } from "../scripts/embedded-postgres.ts";
import { serverVersion, type TestDatabase, testDatabase } from "./helpers/postgres.ts";

// Starting a server (initdb + boot) takes about a second, more on a loaded CI machine; bun's
// default 5 s hook timeout is too tight when this file runs without `npm test`.
const START_TIMEOUT = 60_000;

let a: TestDatabase;
let b: TestDatabase;

beforeAll(async () => {
  [a, b] = await Promise.all([testDatabase(), testDatabase()]);
}, START_TIMEOUT);

afterAll(async () => {
  await Promise.all([a?.drop(), b?.drop()]);
});

describe("shared test server", () => {
  test("answers with the expected major version", async () => {
    const [row] = await a.sql`select current_setting('server_version_num')::int as num`;
    const major = Math.floor(row!.num / 10000);
    expect(await serverVersion()).toBe(major);
    // An external PGTANDEM_TEST_URL may be any version; ours follows PGTANDEM_PG_VERSION.
    if (process.env.PGTANDEM_PG_VERSION || !process.env.PGTANDEM_TEST_URL) {
      expect(major).toBe(resolveVersion());
    }
  });

  test("gives each testDatabase() its own database", async () => {
    expect(a.name).toMatch(/^t_[0-9a-f]+$/);
    expect(a.name).not.toBe(b.name);
    expect(new URL(a.url).pathname).toBe(`/${a.name}`);
    const [current] = await a.sql`select current_database() as name`;
    expect(current!.name).toBe(a.name);

    await a.sql`create table only_in_a (id int primary key)`;
    await a.sql`insert into only_in_a values (1)`;
    const [inA] = await a.sql`select to_regclass('public.only_in_a') is not null as exists`;
    const [inB] = await b.sql`select to_regclass('public.only_in_a') is not null as exists`;
    expect(inA!.exists).toBe(true);
    expect(inB!.exists).toBe(false);
  });

  test("drop() removes the database, even with a connection still open", async () => {
    const c = await testDatabase();
    const stray = postgres(c.url, { max: 1, onnotice: () => {} });
    await stray`select 1`;
    await c.drop();
    await c.drop(); // idempotent
    const rows = await a.sql`select 1 from pg_database where datname = ${c.name}`;
    expect(rows.length).toBe(0);
    await stray.end({ timeout: 0 });
  });
});

describe("startPostgres", () => {
  test("starts a separate server and stop() leaves nothing behind", async () => {
    const lines: string[] = [];
    const pg = await startPostgres({ log: (line) => lines.push(line) });
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    expect(pg.version).toBe(resolveVersion());
    expect(pg.dataDir.startsWith(os.tmpdir())).toBe(true);
    expect(lines.some((l) => l.includes("ready to accept connections"))).toBe(true);

    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const [row] = await sql`select current_setting('fsync') as fsync, current_user as who`;
    expect(row).toEqual({ fsync: "off", who: "postgres" });
    await sql.end();

    await pg.stop();
    await pg.stop(); // idempotent
    expect(fs.existsSync(pg.dataDir)).toBe(false);
    expect(await isListening(pg.port)).toBe(false);
  }, START_TIMEOUT);

  test("rejects an unknown version, naming the valid ones", async () => {
    // @ts-expect-error 13 is not a supported version
    await expect(startPostgres({ version: 13 })).rejects.toThrow(
      'unknown PostgreSQL version "13": expected one of 14, 15, 16, 17, 18',
    );
  });
});

test("hydrateSymlinks re-creates the library symlinks idempotently", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pgtandem-hydrate-"));
  try {
    fs.mkdirSync(path.join(root, "native", "lib"), { recursive: true });
    fs.writeFileSync(path.join(root, "native", "lib", "libx.so.1.2"), "");
    fs.writeFileSync(
      path.join(root, "native", "pg-symlinks.json"),
      JSON.stringify([
        { source: "native/lib/libx.so.1.2", target: "native/lib/libx.so.1" },
        { source: "native/lib/libx.so.1.2", target: "native/lib/libx.so" },
      ]),
    );
    expect(hydrateSymlinks(root)).toBe(2);
    expect(hydrateSymlinks(root)).toBe(0);
    expect(fs.readlinkSync(path.join(root, "native", "lib", "libx.so.1"))).toBe("libx.so.1.2");
    expect(fs.existsSync(path.join(root, "native", "lib", "libx.so"))).toBe(true);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
