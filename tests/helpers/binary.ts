/**
 * The standalone binary for tests that run it as a user would: built with `bun build --compile`
 * into dist/, or reused when it is newer than every source it is built from.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import process from "node:process";
import { binaryName, buildBinaries, type Platform } from "../../scripts/build-binaries.ts";

const ROOT = resolve(import.meta.dir, "..", "..");

/** How long a test may wait for the build (about 15 seconds on an idle machine). */
export const BUILD_TIMEOUT_MS = 300_000;

/** The platform of this machine, as build-binaries names it. */
export function hostPlatform(): Platform {
  const os = { linux: "linux", darwin: "darwin", win32: "windows" }[process.platform as string];
  const arch = { x64: "x64", arm64: "arm64" }[process.arch as string];
  const platform = `${os}-${arch}`;
  if (!os || !arch || platform === "windows-arm64") {
    throw new Error(`no pgtandem binary for ${process.platform}-${process.arch}`);
  }
  return platform as Platform;
}

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

/** The binary in dist/, built unless it is there and newer than every source. */
export async function builtBinary(): Promise<string> {
  const platform = hostPlatform();
  const path = join(ROOT, "dist", binaryName(platform));
  const built = await stat(path).then((s) => s.mtimeMs, () => 0);
  if (built > await newestSource()) return path;
  await buildBinaries({ platforms: [platform], log: () => {} });
  return path;
}

/**
 * Runs the binary `exe` in `cwd` with only what a shell gives (no NODE_PATH, no BUN_* settings),
 * the database URL and `env`; returns its exit code and output.
 */
export async function runBinary(
  exe: string,
  cwd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([exe, ...args], {
    cwd,
    env: { PATH: "/usr/bin:/bin", HOME: cwd, ...env },
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
