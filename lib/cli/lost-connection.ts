/**
 * After a connection died mid-command: read, on a fresh connection, what state the migration is
 * in and say in the same line what to run next. Bounded in time: if the server cannot be reached
 * the line says so and points at `pgtandem status`.
 */
import { connect, type Sql } from "../engine/connection.ts";
import { StateStore } from "../engine/state.ts";
import type { ConnectionLostError } from "../errors.ts";
import type { Config } from "./config.ts";

/** Reading the state gets this long in all before we give up on it. */
const STATE_READ_TIMEOUT_MS = 10_000;

/** `error`'s message, then the migration's state and the next command, as one line. */
export async function lostConnectionLine(
  error: ConnectionLostError,
  command: string,
  config: Config,
): Promise<string> {
  let sql: Sql | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const advice = await Promise.race([
      (async () => {
        sql = await connect({
          url: config.postgresUrl,
          schema: config.schema,
          lockTimeoutMs: config.lockTimeoutMs,
          connectTimeoutMs: config.connectTimeoutMs,
        });
        return await adviceFor(new StateStore(sql, config.stateSchema), command, config.schema);
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer")), STATE_READ_TIMEOUT_MS);
      }),
    ]);
    return `${error.message}: ${advice}`;
  } catch (readError) {
    const why = (readError as Error).message.replace(/\s*\n\s*/g, " ");
    return `${error.message}: cannot read the migration state (${why}); ` +
      `run "pgtandem status" once the database is reachable`;
  } finally {
    clearTimeout(timer);
    await (sql as Sql | undefined)?.end({ timeout: 1 }).catch(() => {});
  }
}

/**
 * The state sentence and the advice. The run's phase is what roll.ts records in
 * pgtandem_runs.backfill: absent while the start actions run, "backfill" once triggers and views
 * exist, "started" when start finished.
 */
async function adviceFor(state: StateStore, command: string, schema: string): Promise<string> {
  const active = await state.activeMigration(schema);
  if (!active) {
    const latest = await state.latestMigration(schema);
    return `no migration is in progress in schema "${schema}"` +
      (latest ? ` (the latest, "${latest}", is complete)` : "") +
      `; run "pgtandem status" to check, then "pgtandem ${command}" again if it is still needed`;
  }
  const name = `migration "${active.name}"`;
  const run = await state.runInfo(schema, active.name);
  const phase = run ? run.backfill.phase : "started";
  if (command === "rollback") {
    return `${name} is partly rolled back; run "pgtandem rollback" again`;
  }
  if (phase === undefined) {
    return `${name} did not finish starting; run "pgtandem rollback" to undo it`;
  }
  if (phase === "backfill") {
    return `${name} is started but its backfill did not finish; ` +
      `run "pgtandem complete" to finish it or "pgtandem rollback" to undo it`;
  }
  if (command === "complete") {
    return `${name} is not complete (both versions still work); ` +
      `run "pgtandem complete" again or "pgtandem rollback" to undo it`;
  }
  return `${name} is started; run "pgtandem complete" to finish it or "pgtandem rollback" to undo it`;
}
