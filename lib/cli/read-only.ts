/**
 * What `plan` (of one file, a group or a folder sequence) shares: one read-only transaction in
 * which it reads the catalog and the state store, so it can change nothing, and the plan's locks
 * refined from PostgreSQL's parse tree when the parser is at hand.
 */
import type { Sql } from "../engine/connection.ts";
import type { MigrationPlan } from "../engine/explain.ts";
import { StateStore } from "../engine/state.ts";
import { refinePlan } from "../lint/refine.ts";
import { loadSqlParser, SqlParserUnavailableError } from "../pg/parser.ts";
import type { CommandContext } from "./command.ts";
import { withSession } from "./session.ts";

/** A read-only view of the database: the transaction, the state store in it, the server major. */
export interface ReadOnlySession {
  sql: Sql;
  state: StateStore;
  serverMajor: number;
}

/** Runs `fn` inside one READ ONLY transaction of a session for `context`'s database. */
export async function withReadOnlySession<T>(
  context: CommandContext,
  fn: (session: ReadOnlySession) => Promise<T>,
): Promise<T> {
  const { config, io } = context;
  return await withSession(
    config,
    context.registry,
    io,
    async ({ sql, serverMajor }) =>
      await sql.begin("read only", async (tx) => {
        // The transaction handle serves every query the readers make, as a pool would.
        const readOnly = tx as unknown as Sql;
        const state = new StateStore(readOnly, config.stateSchema);
        return await fn({ sql: readOnly, state, serverMajor });
      }) as T,
  );
}

/** `plan` with its locks refined from the parse tree; as the actions declare them without it. */
export async function refinedPlan(plan: MigrationPlan): Promise<MigrationPlan> {
  try {
    return refinePlan(plan, await loadSqlParser());
  } catch (error) {
    // The lint already reports the missing parser.
    if (!(error instanceof SqlParserUnavailableError)) throw error;
    return plan;
  }
}
