/**
 * What most commands need: a connection configured for the schema being migrated, the state
 * store, and the engine. Opened once per command and always closed.
 */
import { connect, serverMajorVersion, type Sql } from "../engine/connection.ts";
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
  try {
    const serverMajor = await serverMajorVersion(sql);
    const state = new StateStore(sql, config.stateSchema);
    const log = config.verbose ? (line: string) => io.stderr.write(`${line}\n`) : undefined;
    const engine = new Engine({
      sql,
      state,
      registry,
      schema: config.schema,
      stateSchema: config.stateSchema,
      lockTimeoutMs: config.lockTimeoutMs,
      useVersionSchema: config.useVersionSchema,
      serverMajor,
      backfill: { batchSize: config.backfillBatchSize, batchDelayMs: config.backfillBatchDelayMs },
      ...(log ? { log } : {}),
    });
    return await fn({ sql, state, engine, serverMajor });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
