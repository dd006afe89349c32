/**
 * A primary with a streaming standby, for tests that watch replication (the backfill's replica
 * lag throttle). Both run from the embedded packages, which have no pg_basebackup: the standby is
 * made with the low-level backup API (pg_backup_start/stop, pg_start_backup/stop_backup on 14), a
 * file copy of the primary's data directory, the backup_label the API returns, standby.signal,
 * primary_conninfo and a physical replication slot (so the primary keeps the WAL the standby
 * still needs while its replay is paused or delayed).
 *
 * The pair is its own: the shared test server may not allow replication connections, and a
 * standby on it would watch every other test file's WAL. `stop()` stops both and deletes their
 * data directories.
 *
 * ```ts
 * const pair = await startStandbyPair();
 * // … pair.primaryUrl, pair.standbyUrl …
 * await pair.stop();
 * ```
 *
 * @module
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { type EmbeddedPostgres, startPostgres } from "../../scripts/embedded-postgres.ts";

export interface StandbyPair {
  /** Superuser URL of the primary's `postgres` database. */
  primaryUrl: string;
  /** Superuser URL of the standby (read-only, hot standby). */
  standbyUrl: string;
  /** The standby's application_name in the primary's pg_stat_replication. */
  applicationName: string;
  version: number;
  /** Stops the standby, then the primary; deletes both data directories. Idempotent. */
  stop(): Promise<void>;
}

export interface StandbyPairOptions {
  /** Set on the standby before it starts, e.g. `{ recovery_min_apply_delay: "1s" }`. */
  standbySettings?: Record<string, string>;
}

const SLOT = "pgtandem_test_standby";
const APPLICATION_NAME = "pgtandem_test_standby";

/** Starts a primary and a standby streaming from it; resolves once the standby streams. */
export async function startStandbyPair(options: StandbyPairOptions = {}): Promise<StandbyPair> {
  const primary = await startPostgres();
  let standby: EmbeddedPostgres | undefined;
  const standbyDir = fs.mkdtempSync(path.join(os.tmpdir(), `pgtandem-standby-`));
  const stop = async () => {
    await standby?.stop();
    fs.rmSync(standbyDir, { recursive: true, force: true });
    await primary.stop();
  };
  try {
    await baseBackup(primary, standbyDir, options.standbySettings ?? {});
    standby = await startPostgres({ dataDir: standbyDir });
    await waitForStreaming(primary.url);
    return {
      primaryUrl: primary.url,
      standbyUrl: standby.url,
      applicationName: APPLICATION_NAME,
      version: primary.version,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A copy of the primary's data directory taken between backup start and stop, turned into a
 * standby's: backup_label, standby.signal, and the connection settings in postgresql.auto.conf.
 */
async function baseBackup(
  primary: EmbeddedPostgres,
  target: string,
  settings: Record<string, string>,
): Promise<void> {
  const sql = postgres(primary.url, { max: 1, onnotice: () => {} });
  try {
    // Reserved before the backup starts: the slot keeps every WAL segment from here on.
    await sql`select pg_catalog.pg_create_physical_replication_slot(${SLOT}, true)`;
    // The backup's start and stop must run on one session (non-exclusive backup); max: 1.
    if (primary.version >= 15) {
      await sql`select pg_catalog.pg_backup_start('pgtandem test standby', true)`;
    } else {
      await sql`select pg_catalog.pg_start_backup('pgtandem test standby', true, false)`;
    }
    copyDataDir(primary.dataDir, target);
    const [stopped] = primary.version >= 15
      ? await sql`select labelfile, spcmapfile from pg_catalog.pg_backup_stop(false)`
      : await sql`select labelfile, spcmapfile from pg_catalog.pg_stop_backup(false, false)`;
    fs.writeFileSync(path.join(target, "backup_label"), stopped!.labelfile as string);
    const spcmap = (stopped!.spcmapfile as string | null) ?? "";
    if (spcmap !== "") fs.writeFileSync(path.join(target, "tablespace_map"), spcmap);
  } finally {
    await sql.end({ timeout: 5 });
  }
  fs.writeFileSync(path.join(target, "standby.signal"), "");
  const conf = {
    primary_conninfo:
      `host=127.0.0.1 port=${primary.port} user=postgres application_name=${APPLICATION_NAME}`,
    primary_slot_name: SLOT,
    hot_standby: "on",
    ...settings,
  };
  fs.appendFileSync(
    path.join(target, "postgresql.auto.conf"),
    Object.entries(conf).map(([k, v]) => `${k} = '${v.replaceAll("'", "''")}'\n`).join(""),
  );
}

/**
 * What a base backup leaves out (PostgreSQL's documentation, "Making a Base Backup Using the
 * Low Level API"): the server's pid file and options, WAL (streamed from the slot instead),
 * replication slots, and directories whose contents are recreated at startup.
 */
const EMPTIED = new Set([
  "pg_wal",
  "pg_replslot",
  "pg_dynshmem",
  "pg_notify",
  "pg_serial",
  "pg_snapshots",
  "pg_stat_tmp",
  "pg_subtrans",
]);
const SKIPPED = new Set(["postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map"]);

function copyDataDir(from: string, to: string): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || entry.name.startsWith("pgsql_tmp")) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      fs.mkdirSync(target, { recursive: true, mode: 0o700 });
      if (EMPTIED.has(entry.name)) {
        if (entry.name === "pg_wal") fs.mkdirSync(path.join(target, "archive_status"));
        continue;
      }
      copyTree(source, target);
    } else {
      copyFile(source, target);
    }
  }
}

function copyTree(from: string, to: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(from, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // dropped meanwhile
    throw error;
  }
  for (const entry of entries) {
    if (entry.name.startsWith("pgsql_tmp")) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      fs.mkdirSync(target, { recursive: true, mode: 0o700 });
      copyTree(source, target);
    } else copyFile(source, target);
  }
}

/** A file of a running cluster may vanish while we copy (WAL replay recreates what matters). */
function copyFile(from: string, to: string): void {
  try {
    fs.copyFileSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Waits until the primary sees the standby streaming from the slot. */
async function waitForStreaming(primaryUrl: string): Promise<void> {
  const sql = postgres(primaryUrl, { max: 1, onnotice: () => {} });
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const rows = await sql`select 1 from pg_catalog.pg_stat_replication
        where application_name = ${APPLICATION_NAME} and state = 'streaming'`;
      if (rows.length > 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the test standby did not start streaming within 60 s");
  } finally {
    await sql.end({ timeout: 5 });
  }
}
