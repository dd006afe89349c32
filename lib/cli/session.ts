/**
 * What most commands need: a connection configured for the schema being migrated, the state
 * store, and the engine. Opened once per command and always closed.
 */
import { connect, serverMajorVersion, type Sql } from "../engine/connection.ts";
import { type ProgressReporter, progressReporter } from "../engine/progress.ts";
import { Engine } from "../engine/roll.ts";
import { StateStore } from "../engine/state.ts";
import type { Registry } from "../operations/registry.ts";
import type { Config } from "./config.ts";
import type { Io } from "./io.ts";

export interface Session {
  sql: Sql;
  state: StateStore;
  engine: Engine;
  serverMajor: number;
}

export async function withSession<T>(
  config: Config,
  registry: Registry,
  io: Io,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const sql = await connect({
    url: config.postgresUrl,
    schema: config.schema,
    lockTimeoutMs: config.lockTimeoutMs,
    // One connection holds the run's advisory lock, the other does the work.
    max: 2,
    ...(config.role ? { role: config.role } : {}),
  });
  let finishProgress = () => {};
  try {
    const serverMajor = await serverMajorVersion(sql);
    const state = new StateStore(sql, config.stateSchema);
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
      schema: config.schema,
      stateSchema: config.stateSchema,
      lockTimeoutMs: config.lockTimeoutMs,
      useVersionSchema: config.useVersionSchema,
      serverMajor,
      backfill: {
        batchSize: config.backfillBatchSize,
        batchDelayMs: config.backfillBatchDelayMs,
        allowUserTriggers: config.allowUserTriggers,
        onProgress,
      },
      ...(log ? { log } : {}),
      warn: (message: string) => io.stderr.write(`Warning: ${message}\n`),
    });
    return await fn({ sql, state, engine, serverMajor });
  } finally {
    finishProgress();
    await sql.end({ timeout: 5 });
  }
}
