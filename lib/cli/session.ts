/**
 * What most commands need: a connection configured for the schema being migrated, the state
 * store, and the engine. Opened once per command and always closed.
 *
 * With --role the migration's DDL and backfill run as that role and the state store as the login
 * user, on a pool of its own (as pgroll does). If any connection of the session dies (or the one
 * holding the run lock, see advisory-lock.ts), every pool is closed at once: work in flight fails,
 * nothing else runs, no cleanup is attempted on a half-broken session, and the command fails with
 * a ConnectionLostError that run.ts turns into "what state is the migration in, what to run".
 */
import { ConnectionLostError, sqlstateOf } from "../errors.ts";
import {
  connect,
  type ConnectionOptions,
  isConnectionError,
  serverMajorVersion,
  type Sql,
} from "../engine/connection.ts";
import { type ProgressReporter, progressReporter } from "../engine/progress.ts";
import { assertNotReadOnlyByDefault } from "../engine/read-only-default.ts";
import { Engine } from "../engine/roll.ts";
import { StateStore } from "../engine/state.ts";
import type { Registry } from "../operations/registry.ts";
import { pluginTracker } from "../plugins/record.ts";
import type { Config } from "./config.ts";
import type { Io } from "./io.ts";
import { explainPermissionError } from "./privileges.ts";

/** What a command gets from `withSession`. */
export interface Session {
  /** The working pool: the migration's DDL and backfill (as --role when given). */
  sql: Sql;
  state: StateStore;
  engine: Engine;
  serverMajor: number;
}

/**
 * Opens the session, runs `fn`, closes every connection. Errors come out as thrown by `fn`,
 * except that a permission error names who lacks which privilege and anything after a lost
 * connection becomes a ConnectionLostError.
 */
export async function withSession<T>(
  config: Config,
  registry: Registry,
  io: Io,
  fn: (session: Session) => Promise<T>,
  /** `writes`: the command changes the database, so a read-only default set for it refuses. */
  options: { writes?: boolean } = {},
): Promise<T> {
  const pools: Sql[] = [];
  let closing = false;
  let lost = false;
  const onClose = () => {
    if (closing || lost) return;
    lost = true;
    for (const pool of pools) pool.end({ timeout: 0 }).catch(() => {});
  };
  const base: ConnectionOptions = {
    url: config.postgresUrl,
    schema: config.schema,
    lockTimeoutMs: config.lockTimeoutMs,
    statementTimeoutMs: config.statementTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    onClose,
  };
  let finishProgress = () => {};
  try {
    // The run lock takes a connection of its own (advisory-lock.ts); this one does the work.
    const sql = await connect({ ...base, ...(config.role ? { role: config.role } : {}) });
    pools.push(sql);
    const stateSql = config.role ? await connect(base) : sql;
    if (stateSql !== sql) pools.push(stateSql);
    if (options.writes) await assertNotReadOnlyByDefault(stateSql);
    const serverMajor = await serverMajorVersion(sql);
    const state = new StateStore(stateSql, config.stateSchema);
    const log = config.verbose ? (line: string) => io.stderr.write(`${line}\n`) : undefined;
    // One progress display per backfilled table, on stderr (stdout stays for results).
    const reporters = new Map<string, ProgressReporter>();
    const onProgress = (table: string, p: Parameters<ProgressReporter["onProgress"]>[0]) => {
      let reporter = reporters.get(table);
      if (!reporter) {
        for (const other of reporters.values()) other.finish();
        reporters.clear();
        reporter = progressReporter({
          stream: io.stderr,
          json: config.json,
          label: `backfill "${table}"`,
        });
        reporters.set(table, reporter);
      }
      reporter.onProgress(p);
    };
    finishProgress = () => {
      for (const reporter of reporters.values()) reporter.finish();
      reporters.clear();
    };
    const engine = new Engine({
      sql,
      state,
      registry,
      plugins: pluginTracker,
      schema: config.schema,
      stateSchema: config.stateSchema,
      lockTimeoutMs: config.lockTimeoutMs,
      statementTimeoutMs: config.statementTimeoutMs,
      useVersionSchema: config.useVersionSchema,
      serverMajor,
      backfill: {
        batchSize: config.backfillBatchSize,
        fixedBatchSize: config.backfillBatchSizeFixed,
        batchDelayMs: config.backfillBatchDelayMs,
        maxReplicaLagMs: config.backfillMaxReplicaLagMs,
        allowUserTriggers: config.allowUserTriggers,
        ...(config.statementTimeoutMs > 0 ? { statementTimeoutMs: config.statementTimeoutMs } : {}),
        onProgress,
      },
      ...(log ? { log } : {}),
      warn: (message: string) => io.stderr.write(`Warning: ${message}\n`),
    });
    return await fn({ sql, state, engine, serverMajor });
  } catch (error) {
    if (lost && !(error instanceof ConnectionLostError)) {
      throw new ConnectionLostError(`lost the connection to PostgreSQL (${lostReason(error)})`, {
        cause: error,
      });
    }
    throw explainPermissionError(error, {
      loginUser: pools[0]?.options.user ?? loginUserOf(config.postgresUrl),
      role: config.role,
      stateSchema: config.stateSchema,
    });
  } finally {
    closing = true;
    finishProgress();
    await Promise.all(pools.map((pool) => pool.end({ timeout: lost ? 0 : 5 }).catch(() => {})));
  }
}

/** The user of a connection URL, for messages. */
function loginUserOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username) || "of the connection";
  } catch {
    return "of the connection";
  }
}

/** The server's word on why a connection ended, when the error chain carries it. */
function lostReason(error: unknown): string {
  for (let e = error, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    // The server's own errors (57P01 …) say why; the driver's (CONNECTION_CLOSED) do not.
    if (isConnectionError(e) && sqlstateOf(e)) {
      return (e as Error).message;
    }
  }
  return "the server closed a connection";
}
