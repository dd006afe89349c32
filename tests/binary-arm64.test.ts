/**
 * The linux-arm64 binary, run on this x64 machine under qemu's user-mode emulator (Debian's
 * qemu-user-static, with libc6:arm64 for the binary's loader; .ci/run installs both). It prints
 * its version, and runs a TypeScript migration that uses a TypeScript plugin with
 * `start --complete` against the test database: "pgtandem" is served by the arm64 binary itself.
 *
 * Skipped when qemu or the arm64 loader is missing (a line says so), or PGTANDEM_SKIP_BINARY=1.
 * Emulated, the binary runs about 6× slower than natively, so this file stays small.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { VERSION } from "../lib/version.ts";
import { CHECKSUMS_FILE } from "../scripts/build-binaries.ts";
import { SMOKE_FILES } from "../scripts/smoke-deno.ts";
import { builtBinary, runBinary } from "./helpers/binary.ts";
import { columnNames } from "./helpers/catalog.ts";
import { cliOk, migrationFile } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const QEMU = Bun.which("qemu-aarch64-static") ?? Bun.which("qemu-aarch64");
/** The dynamic loader the arm64 binary asks for (from Debian's libc6:arm64). */
const LOADER = "/lib/ld-linux-aarch64.so.1";
const SKIP = process.env.PGTANDEM_SKIP_BINARY === "1" || !QEMU || !existsSync(LOADER);
if (SKIP && process.env.PGTANDEM_SKIP_BINARY !== "1") {
  console.error(`tests/binary-arm64.test.ts: skipped: qemu-aarch64 or ${LOADER} is not installed`);
}
const EMULATED_MS = 180_000;

describe.skipIf(SKIP)("the linux-arm64 binary under qemu", () => {
  let db: TestDatabase;
  let work: string;
  let exe: string;

  const run = (args: string[]) => runBinary([QEMU!, exe, ...args], work, db.url);

  beforeAll(async () => {
    exe = await builtBinary("linux-arm64");
    db = await testDatabase();
    work = await mkdtemp(join(tmpdir(), "pgtandem-arm64-"));
    for (const path of ["migrations/02_stamp.ts", "plugins/smoke.ts"]) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), SMOKE_FILES[path]!);
    }
  }, 300_000);

  afterAll(async () => {
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("the build listed it in SHA256SUMS with its hash", async () => {
    const sums = await readFile(join(dirname(exe), CHECKSUMS_FILE), "utf8");
    const hash = new Bun.CryptoHasher("sha256").update(await Bun.file(exe).bytes()).digest("hex");
    expect(sums).toContain(`${hash}  pgtandem-linux-arm64\n`);
  });

  test("--version names the arm64 build", async () => {
    const { code, stdout } = await run(["--version"]);
    expect({ code, stdout }).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        new RegExp(`^pgtandem ${VERSION.replaceAll(".", "\\.")} \\(bun-linux-arm64, commit `),
      ),
    });
  }, EMULATED_MS);

  test("a TS migration with a TS plugin: start --complete", async () => {
    await cliOk(db.url, ["init"]);
    const items = {
      operations: [{
        create_table: {
          name: "items",
          columns: [{ name: "id", type: "serial", pk: true }, { name: "name", type: "text" }],
        },
      }],
    };
    await cliOk(db.url, ["start", await migrationFile("01_items.json", items), "--complete"]);
    const result = await run([
      "start",
      "migrations/02_stamp.ts",
      "--plugin",
      "plugins/smoke.ts",
      "--complete",
    ]);
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    expect(await columnNames(db.sql, "public", "items")).toEqual(["id", "name", "stamped_at"]);
    const [row] = await db.sql`select done from pgroll.migrations where name = '02_stamp'`;
    expect(row?.done).toBe(true);
  }, EMULATED_MS);
});
