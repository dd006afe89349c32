/**
 * The contract every operation kind implements, built-in or plugin. An operation never touches the
 * database: each phase reads the virtual schema and returns a plan that the engine executes.
 *
 * Lifecycle, for a migration of operations op1..opN:
 *  - validate: each op checks itself against the schema as op1..op(i-1) left it.
 *  - start: each op changes the virtual schema (what the new version looks like) and returns the
 *    actions that make the physical schema able to serve both versions.
 *  - complete: actions that make the physical schema final; the old version is gone.
 *  - rollback: actions that undo start; run in reverse operation order. They must be idempotent
 *    (IF EXISTS …): a start that failed half-way is cleaned up with them too.
 */
import type { z } from "zod";
import type { Issue } from "../errors.ts";
import type { Action, ActionOrigin } from "../plan/action.ts";
import type { VirtualSchema } from "../schema/model.ts";
import type { UserSql } from "../user-sql.ts";

/** Keeps one physical column in step with another while two versions write to one table. */
export interface TriggerSpec {
  /** Physical table the trigger is on. */
  table: string;
  /**
   * "up" fires for writes from the old version (and the backfill) and fills the new column;
   * "down" fires for writes from the new version and fills the old one.
   */
  direction: "up" | "down";
  /** Physical column the trigger assigns. */
  targetColumn: string;
  /**
   * User SQL expression computing the value; it names columns by their virtual names. A plugin
   * marks its own text with `userSql(text)`.
   */
  expression: UserSql;
  /** The columns the expression may name: virtual name → physical column, for the writing version. */
  columns: { name: string; physicalName: string }[];
  /** The field the user wrote the expression in (see ActionOrigin); absent for a derived one. */
  origin?: ActionOrigin;
}

/** Rows of a physical table to push through the up triggers. */
export interface BackfillTask {
  table: string;
}

export interface StartResult {
  actions: Action[];
  triggers?: TriggerSpec[];
  backfills?: BackfillTask[];
}

export interface StartContext {
  /** The virtual schema as the previous operations left it; start changes it in place. */
  schema: VirtualSchema;
  /** The physical schema being migrated (e.g. "public"). */
  baseSchema: string;
}

export interface FinishContext {
  /**
   * The virtual schema before this operation's start, with physical names as the actions being
   * computed will find them: for complete's switch-over, after the earlier operations' switch-overs
   * (every physical name equal to its virtual one).
   */
  before: VirtualSchema;
  /** The virtual schema after this operation's start. */
  after: VirtualSchema;
  /**
   * The virtual schema before this operation's start with the physical names start left, for an
   * object start itself renamed away (drop_table). The engine always gives it; `before` otherwise.
   */
  started?: VirtualSchema;
  baseSchema: string;
}

export interface OperationDefinition<Params = unknown> {
  /** The key of the operation object in a migration file, e.g. "create_table" or "acme:audit". */
  kind: string;
  /** One line for `--help`, the JSON Schema and the docs. */
  description: string;
  /** Strict zod schema of the operation's body: the single source of truth for its fields. */
  params: z.ZodType<Params>;
  /** Problems with these params against the schema; paths are relative to the operation body. */
  validate(params: Params, schema: VirtualSchema): Issue[];
  start(params: Params, context: StartContext): StartResult;
  complete(params: Params, context: FinishContext): Action[];
  rollback(params: Params, context: FinishContext): Action[];
  /**
   * The operation changes the schema in ways the virtual model cannot follow (raw SQL), so the
   * engine re-reads the catalog after it runs. Such an operation must be alone in its migration
   * when it runs at start.
   */
  opaque?(params: Params): { atStart: boolean; atComplete: boolean };
  /**
   * For an operation that stands for built-in operations (a plugin's `expand`): their documents,
   * `{ <kind>: <body> }` each. The engine runs those operations as steps of their own, records
   * them at start and replays exactly what it recorded at complete and rollback.
   */
  expansion?(params: Params): Record<string, unknown>[];
  /**
   * Merges a later operation into an earlier one of the migration (the engine offers every
   * earlier step, latest first, whatever its kind) when the two
   * change the same object and the later one cannot work on its own (a second alter_column of a
   * column the first one already copied). Returns the merged params, which the engine runs at
   * the earlier operation's place (the later one then has no actions of its own); undefined when
   * the two are unrelated; issues when they are related but cannot be merged.
   */
  absorb?(
    earlier: { kind: string; params: unknown; before: VirtualSchema; after: VirtualSchema },
    later: Params,
    schema: VirtualSchema,
  ): { params: Params } | Issue[] | undefined;
}

/** One operation of a migration after parsing: its kind, definition and validated params. */
export interface ParsedOperation {
  kind: string;
  definition: OperationDefinition;
  params: unknown;
}
