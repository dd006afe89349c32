/**
 * The standalone binaries the binary tests run: built into dist/ with scripts/build-binaries.ts,
 * or reused when the file there is newer than every source it is built from.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { binaryName, buildBinaries, type Platform } from "../../scripts/build-binaries.ts";

const ROOT = resolve(import.meta.dir, "../..");

/** Newest modification time of the files a binary is built from. */
async function newestSource(): Promise<number> {
  const files = [
    join(ROOT, "main.ts"),
    join(ROOT, "package.json"),
    join(ROOT, "scripts", "build-binaries.ts"),
    join(ROOT, "scripts", "gen-types.ts"),
  ];
  for (const entry of await readdir(join(ROOT, "lib"), { recursive: true })) {
    if (entry.endsWith(".ts")) files.push(join(ROOT, "lib", entry));
  }
  const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  return Math.max(...times);
}

/** The platform's binary in dist/, built unless it is there and newer than every source. */
export async function builtBinary(platform: Platform): Promise<string> {
  const path = join(ROOT, "dist", binaryName(platform));
  const built = await stat(path).then((s) => s.mtimeMs, () => 0);
  if (built > await newestSource()) return path;
  await buildBinaries({ platforms: [platform], log: () => {} });
  return path;
}

/** What a binary run printed and its exit code. */
export interface BinaryRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` in `cwd` with only what a shell gives (no NODE_PATH, no BUN_* settings) and the
 * database to use, and collects its output.
 */
export async function runBinary(argv: string[], cwd: string, url: string): Promise<BinaryRun> {
  const child = Bun.spawn(argv, {
    cwd,
    env: { PATH: "/usr/bin:/bin", HOME: cwd, PGROLL_PG_URL: url },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}
