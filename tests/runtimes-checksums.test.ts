/**
 * SHA256SUMS next to the binaries (scripts/build-binaries.ts writes it after every build): one
 * line per pgtandem binary in the folder, every platform's, in `sha256sum`'s format, so a user
 * checks a download with `sha256sum -c SHA256SUMS`. Fake binaries stand in for the real ones here;
 * tests/binary-arm64.test.ts checks the line of a real build.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHECKSUMS_FILE, writeChecksums } from "../scripts/build-binaries.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pgtandem-sums-"));
  await writeFile(join(dir, "pgtandem-windows-x64.exe"), "windows");
  await writeFile(join(dir, "pgtandem-linux-x64"), "linux");
  await writeFile(join(dir, "notes.txt"), "not a binary");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("one sha256sum line per binary in the folder, sorted by name; sha256sum -c accepts it", async () => {
  const path = await writeChecksums(dir);
  expect(path).toBe(join(dir, CHECKSUMS_FILE));
  expect(await readFile(path, "utf8")).toBe(
    // sha256 of "linux" and of "windows"
    "caf90169eefa5f807d577486b9f795ab86ae2983c5c20806cff959117e90af18  pgtandem-linux-x64\n" +
      "340d600392818df2413382dc7d8325c360d83ea49a262d31760348484bbc10b5  pgtandem-windows-x64.exe\n",
  );
  const check = spawnSync("sha256sum", ["-c", CHECKSUMS_FILE], { cwd: dir, encoding: "utf8" });
  expect(check.stdout).toBe("pgtandem-linux-x64: OK\npgtandem-windows-x64.exe: OK\n");
  expect(check.status).toBe(0);
});

test("a changed binary no longer matches; writing again follows the folder", async () => {
  await writeFile(join(dir, "pgtandem-linux-x64"), "rebuilt");
  const stale = spawnSync("sha256sum", ["-c", CHECKSUMS_FILE], { cwd: dir, encoding: "utf8" });
  expect(stale.status).not.toBe(0);
  await writeChecksums(dir);
  const fresh = spawnSync("sha256sum", ["-c", CHECKSUMS_FILE], { cwd: dir, encoding: "utf8" });
  expect(fresh.status).toBe(0);
});
