/**
 * The standalone binaries the binary tests run: built into dist/ with scripts/build-binaries.ts,
 * or reused when the file there is newer than every source it is built from.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import process from "node:process";
import { binaryName, buildBinaries, type Platform } from "../../scripts/build-binaries.ts";

const ROOT = resolve(import.meta.dir, "../..");

/** A build of one platform takes about 15 s; a cold machine, much longer. */
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

/** The platform's binary in dist/, built unless it is there and newer than every source. */
export async function builtBinary(platform: Platform = hostPlatform()): Promise<string> {
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
 * Runs `argv` in `cwd` with only what a shell gives (no NODE_PATH, no BUN_* settings) plus `env`
 * (the database URL, usually), and collects its output.
 */
export async function runBinary(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<BinaryRun> {
  const child = Bun.spawn(argv, {
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
