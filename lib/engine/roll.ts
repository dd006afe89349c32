/**
 * Start / complete / rollback orchestration: the one engine every operation goes through. The
 * order of the SQL lives in phases.ts; this file runs it, records state and cleans up.
 *
 * start:    validate everything → record the migration → the operations' start actions → sync
 *           triggers → constraints on the new columns → views → backfill. Any failure undoes
 *           all of it and forgets the migration.
 * complete: finish an interrupted backfill → validate constraints (safe to repeat) → one short
 *           transaction: drop the previous version, drop triggers, swap columns, renames, mark
 *           done. A failure anywhere leaves both versions working and the migration active.
 * rollback: drop this version's views → one transaction: drop triggers, undo → what cannot run
 *           in a transaction (DROP INDEX CONCURRENTLY, the user's `down`) → forget the migration.
 */
import { PgtandemError, StateError } from "../errors.ts";
import { versionSchemaName } from "../naming.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import { groupOf } from "../migration/group.ts";
import { migrationVersionName, parseMigration, toCanonicalJson } from "../migration/migration.ts";
import type { Registry } from "../operations/registry.ts";
import type { TriggerSpec } from "../operations/operation.ts";
import type { PluginTracker } from "../plugins/record.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { virtualFromPhysical } from "../schema/virtual.ts";
import { runLockKey, withAdvisoryLock } from "./advisory-lock.ts";
import { type BackfillProgress, runBackfill } from "./backfill.ts";
import {
  assertCanWatchStandbys,
  describeReplicaWait,
  ReplicaLagThrottle,
  type ReplicaWait,
} from "./replica-lag.ts";
import type { TransactionSql } from "postgres";
import { asSessionUser, type Sql } from "./connection.ts";
import { executeActions, executeAtomically } from "./executor.ts";
import { expandOperations, recordedOperations } from "./expansion.ts";
import { type Action, dedupeActions } from "../plan/action.ts";
import {
  completePhases,
  type PhaseOptions,
  rollbackPhases,
  startPhases,
  viewActions,
} from "./phases.ts";
import type { StateStore } from "./state.ts";
import { prepareMigration } from "./prepare.ts";
import { withDependentObjects } from "./dependents.ts";
import { buildSteps, type OperationStep } from "../operations/steps.ts";

export interface BackfillSettings {
  batchSize: number;
  /** Keep `batchSize` (the user chose it) instead of adapting it toward ~200 ms batches. */
  fixedBatchSize?: boolean;
  batchDelayMs: number;
  /** Start even when the backfill would fire user triggers (see backfill-checks.ts). */
  allowUserTriggers?: boolean;
  /** Cap on the backfill's statement_timeout (see BackfillOptions). */
  statementTimeoutMs?: number;
  /** Pause while a standby lags the backfill by more than this (replica-lag.ts); 0/absent: off. */
  maxReplicaLagMs?: number;
  onProgress?: (
    table: string,
    p: { done: number; total: number; rowsPerSecond: number; waiting?: string },
  ) => void;
}

export interface EngineOptions {
  sql: Sql;
  state: StateStore;
  registry: Registry;
  /** The schema being migrated. */
  schema: string;
  stateSchema: string;
  lockTimeoutMs: number;
  /**
   * --statement-timeout in ms (0: none). Already the session default of every connection
   * (connection.ts); statements that SET LOCAL their own limit should not exceed it.
   */
  statementTimeoutMs?: number;
  useVersionSchema: boolean;
  serverMajor: number;
  backfill: BackfillSettings;
  /** Verbose log lines (what runs, retries); silent when absent. */
  log?: (message: string) => void;
  /** Warnings the user must see (always printed by the CLI). */
  warn?: (message: string) => void;
  /**
   * Records the plugins a migration uses at start and loads recorded plugins whose kinds the
   * registry lacks at complete/rollback. Passed in by the caller (the CLI session gives
   * lib/plugins' own), so the engine never loads modules itself.
   */
  plugins: PluginTracker;
}

/** What pgtandem_runs.backfill records about a start, so an interrupted one can be finished. */
interface RunState {
  /** "backfill" once triggers and views exist; "started" when start finished. */
  phase: "backfill" | "started" | undefined;
  /** Saved position of each table's backfill. */
  tables: Record<string, BackfillProgress>;
  /** Tables whose backfill finished. */
  finished: string[];
  /** The operations that ran, when a plugin operation expanded (see expansion.ts). */
  expanded?: unknown[];
  /** False for a migration started by pgroll, which records no run. */
  recorded: boolean;
}

export interface StartOutcome {
  name: string;
  versionSchema: string | undefined;
}

export class Engine {
  readonly #o: EngineOptions;

  constructor(options: EngineOptions) {
    this.#o = options;
  }

  /** Starts a migration; on any failure the database is left exactly as it was. */
  async start(loaded: LoadedMigration): Promise<StartOutcome> {
    const { state, schema } = this.#o;
    await state.assertInitialized();
    return await this.#serialised(async () => {
      const name = loaded.migration.name;
      // The same checks `plan` makes, now under the run lock.
      const { initial, steps, versionSchema, expanded, dependentStart } = await prepareMigration(
        loaded,
        {
          sql: this.#o.sql,
          state,
          schema,
          useVersionSchema: this.#o.useVersionSchema,
          allowUserTriggers: this.#o.backfill.allowUserTriggers ?? false,
        },
      );
      await this.#checkReplicaLagFlag(steps);

      const plugins = this.#o.plugins.used(loaded.operations);
      const members = groupOf(loaded)?.map((m) => ({ name: m.name, document: m.document }));
      await state.startMigration(schema, name, toCanonicalJson(loaded.migration), initial, {
        plugins,
        ...(members ? { members } : {}),
      });
      this.#log(`starting migration "${name}"`);
      try {
        if (expanded) await this.#saveRun(name, { expanded });
        await this.#runStart(name, steps, versionSchema, dependentStart);
      } catch (error) {
        this.#log(`start failed, rolling back: ${(error as Error).message}`);
        const code = error instanceof PgtandemError ? error.code : "internal";
        try {
          await this.#undo(steps, versionSchema);
          await state.deleteMigration(schema, name);
        } catch (undoError) {
          // The history row stays: it is what lets `rollback` find and remove what is left.
          throw new PgtandemError(
            code,
            `failed to start migration "${name}": ${(error as Error).message}; undoing it also ` +
              `failed: ${(undoError as Error).message}. The migration stays recorded as in ` +
              `progress: run "pgtandem rollback" to finish the cleanup`,
            { cause: error },
          );
        }
        throw new PgtandemError(
          code,
          `failed to start migration "${name}", changes rolled back: ${(error as Error).message}`,
          { cause: error },
        );
      }
      return { name, versionSchema };
    });
  }

  async #runStart(
    name: string,
    steps: OperationStep[],
    versionSchema: string | undefined,
    dependentStart: readonly Action[],
  ): Promise<void> {
    const phases = startPhases(steps, this.#phaseOptions(versionSchema));
    await this.#execute(phases.columns);
    await this.#execute(phases.triggers);
    await this.#execute(dependentStart);
    await this.#execute(phases.rest);
    const views = phases.views ??
      viewActions(
        await this.#o.state.catalog.readVirtualSchema(this.#o.schema),
        this.#phaseOptions(versionSchema),
      );
    await this.#execute(views);
    await this.#saveRun(name, { phase: "backfill" });
    await this.#backfillAll(name, steps);
    await this.#execute(phases.afterBackfill);
    await this.#saveRun(name, { phase: "started" });
  }

  /**
   * Backfills every table the steps ask for, skipping tables a previous (interrupted) run
   * finished and resuming a table from its saved position.
   */
  async #backfillAll(name: string, steps: readonly OperationStep[]): Promise<void> {
    const tables = startPhases(steps, this.#phaseOptions(undefined)).backfill;
    const run = await this.#runState(name);
    const maxLagMs = this.#o.backfill.maxReplicaLagMs ?? 0;
    const throttle = maxLagMs > 0 && tables.some((t) => !run.finished.includes(t))
      ? await ReplicaLagThrottle.start(this.#o.sql, {
        maxLagMs,
        ...(this.#o.log ? { log: this.#o.log } : {}),
      })
      : undefined;
    for (const table of tables) {
      if (run.finished.includes(table)) continue;
      const specs = steps.flatMap((s) => s.result.triggers ?? []).filter((s) => s.table === table);
      await this.#backfill(name, table, run, specs, throttle);
      run.finished.push(table);
      await this.#saveRun(name, { finished: run.finished });
    }
  }

  /** --backfill-max-replica-lag needs a role that can read pg_stat_replication: say so first. */
  async #checkReplicaLagFlag(steps: readonly OperationStep[]): Promise<void> {
    if (!this.#o.backfill.maxReplicaLagMs) return;
    if (startPhases(steps, this.#phaseOptions(undefined)).backfill.length === 0) return;
    await assertCanWatchStandbys(this.#o.sql);
  }

  async #backfill(
    name: string,
    table: string,
    run: RunState,
    triggerSpecs: TriggerSpec[],
    throttle?: ReplicaLagThrottle,
  ): Promise<void> {
    const { sql, schema, backfill, lockTimeoutMs } = this.#o;
    this.#log(`backfilling table "${table}"`);
    const options: Parameters<typeof runBackfill>[1] = {
      schema,
      table,
      batchSize: backfill.batchSize,
      batchDelayMs: backfill.batchDelayMs,
      ...(backfill.fixedBatchSize ? { targetBatchMs: 0 } : {}),
      lockTimeoutMs,
      triggerSpecs,
      saveProgress: async (progress) => {
        run.tables[table] = progress;
        await this.#saveRun(name, { tables: run.tables });
      },
    };
    if (backfill.statementTimeoutMs) options.statementTimeoutMs = backfill.statementTimeoutMs;
    const resumeFrom = run.tables[table];
    if (resumeFrom) options.resumeFrom = resumeFrom;
    let last: Parameters<NonNullable<BackfillSettings["onProgress"]>>[1] | undefined;
    const report = backfill.onProgress;
    if (report) {
      options.onProgress = (p) => report(table, last = p);
    }
    if (throttle) {
      // A pause shows in the progress line until the backfill goes on.
      const onWait = (wait: ReplicaWait | undefined) => {
        if (report && last) {
          report(table, wait ? { ...last, waiting: describeReplicaWait(wait) } : last);
        }
      };
      options.betweenBatches = (signal) => throttle.betweenBatches({ signal, onWait });
    }
    const result = await runBackfill(sql, options);
    this.#log(
      `backfilled table "${table}": ${result.rows} rows in ${result.batches} batches${
        result.direct ? " (new columns computed by the batches)" : " (through the up trigger)"
      }`,
    );
  }

  /** The run's progress record (pgtandem_runs.backfill), with defaults filled in. */
  async #runState(name: string): Promise<RunState> {
    const run = await this.#o.state.runInfo(this.#o.schema, name);
    const saved = run?.backfill ?? {};
    return {
      phase: saved.phase,
      tables: (saved.tables ?? {}) as Record<string, BackfillProgress>,
      finished: saved.finished ?? [],
      recorded: run !== undefined,
    };
  }

  async #saveRun(name: string, patch: Partial<Omit<RunState, "recorded">>): Promise<void> {
    await this.#o.state.saveBackfillProgress(this.#o.schema, name, patch);
  }

  /** Makes the active migration's version the only one. */
  async complete(): Promise<string> {
    const { state, schema } = this.#o;
    await state.assertInitialized();
    return await this.#serialised(async () => {
      const { name, steps, versionSchema } = await this.#activeSteps();
      await this.#finishInterruptedStart(name, steps);
      const previous = await state.previousVersion(schema);
      const phases = await withDependentObjects(
        this.#dependents(),
        steps,
        completePhases(steps, {
          ...this.#phaseOptions(versionSchema),
          previousVersionSchema: previous === undefined
            ? undefined
            : versionSchemaName(schema, previous),
        }),
        `migration "${name}"`,
      );
      this.#log(`completing migration "${name}"`);
      try {
        await this.#execute(phases.prepare);
        // All or nothing: the previous version, the triggers, the swap and the history row
        // change together, so a failure anywhere leaves both versions exactly as they were.
        await this.#executeAtomically(phases.switchOver, async (tx) => {
          if (phases.refreshViews) {
            // Raw SQL changed the schema: rebuild this version's views from the catalog.
            // The state schema (and read_schema in it) is the login user's, not --role's.
            const current = await asSessionUser(
              tx,
              () => state.catalog.readVirtualSchema(schema, tx),
            );
            for (const action of viewActions(current, this.#phaseOptions(versionSchema))) {
              this.#log(`  ${action.sql}`);
              await tx.unsafe(action.sql).simple();
            }
          }
          await asSessionUser(tx, () => state.completeMigration(schema, name, tx));
        });
      } catch (error) {
        const code = error instanceof PgtandemError ? error.code : "internal";
        throw new PgtandemError(
          code,
          `failed to complete migration "${name}": ${(error as Error).message}. Nothing was ` +
            `switched over: both versions still work and the migration is still in progress; ` +
            `fix the cause and run "pgtandem complete" again, or "pgtandem rollback"`,
          { cause: error },
        );
      }
      return name;
    });
  }

  /**
   * A run killed during the backfill left the migration active with its triggers and views in
   * place: complete resumes the backfill where it stopped. A run killed earlier (while the start
   * actions ran) can only be rolled back.
   */
  async #finishInterruptedStart(name: string, steps: readonly OperationStep[]): Promise<void> {
    const run = await this.#runState(name);
    if (!run.recorded || run.phase === "started") return;
    if (run.phase !== "backfill") {
      throw new StateError(
        `migration "${name}" did not finish starting (the run was interrupted): roll it back with "pgtandem rollback"`,
      );
    }
    await this.#checkReplicaLagFlag(steps);
    this.#log(`resuming the interrupted backfill of migration "${name}"`);
    await this.#backfillAll(name, steps);
    await this.#execute(startPhases(steps, this.#phaseOptions(undefined)).afterBackfill);
    await this.#saveRun(name, { phase: "started" });
  }

  /** Undoes the active migration; the schema is exactly as before its start. */
  async rollback(): Promise<string> {
    const { state, schema } = this.#o;
    await state.assertInitialized();
    return await this.#serialised(async () => {
      const { name, steps, versionSchema } = await this.#activeSteps();
      this.#log(`rolling back migration "${name}"`);
      const progress = { undone: false };
      try {
        await this.#undo(steps, versionSchema, progress);
      } catch (error) {
        // Like complete: say what state the failure left and what to run next.
        const code = error instanceof PgtandemError ? error.code : "internal";
        const left = progress.undone
          ? "The versions and sync triggers are gone, but not all of the undo ran"
          : "Nothing was rolled back: both versions still work";
        throw new PgtandemError(
          code,
          `failed to roll back migration "${name}": ${(error as Error).message}. ${left}; ` +
            `the migration is still in progress: fix the cause and run "pgtandem rollback" again`,
          { cause: error },
        );
      }
      await state.deleteMigration(schema, name);
      return name;
    });
  }

  /**
   * Rollback actions of every step, in reverse order; all idempotent. The version schema, the
   * triggers and the physical changes go together in one transaction (a failure leaves both
   * versions working: the version schema used to go first, on its own, so a rollback failing
   * after it left the migration in progress without its new version), then what cannot run in
   * a transaction (DROP INDEX CONCURRENTLY) and the user's own `down` SQL.
   */
  async #undo(
    steps: readonly OperationStep[],
    versionSchema: string | undefined,
    progress: { undone: boolean } = { undone: false },
  ) {
    const phases = rollbackPhases(steps, this.#phaseOptions(versionSchema));
    await this.#executeAtomically(phases.together);
    progress.undone = true;
    await this.#execute(phases.after);
  }

  /** Replays the active migration's operations from the schema recorded at its start. */
  async #activeSteps() {
    const { state, schema, registry } = this.#o;
    const active = await state.activeMigration(schema);
    if (!active) throw new StateError(`no migration is in progress in schema "${schema}"`);
    const run = await state.runInfo(schema, active.name);
    const recorded = run?.backfill.expanded;
    const tracker = this.#o.plugins;
    if (Array.isArray(recorded)) {
      // What start ran: only plugin kinds that did not expand need their plugin.
      await tracker.restore(
        registry,
        { name: active.name, document: { operations: recorded } },
        run?.plugins ?? [],
      );
      const operations = recordedOperations(active.name, recorded, registry);
      this.#warnIfExpansionChanged(active.name, active.migration, recorded);
      const initial = await this.#startedSchema(active.name, active.parent);
      const { steps } = buildSteps(operations, initial, schema, { validate: false });
      return { name: active.name, steps, versionSchema: this.#versionSchemaOfDocument(active) };
    }
    // Plugin kinds come from the plugins recorded at start when this run was not given them.
    await tracker.restore(
      registry,
      { name: active.name, document: active.migration },
      run?.plugins ?? [],
    );
    const { migration, operations } = parseMigration(
      `migration "${active.name}"`,
      active.name,
      active.migration,
      registry,
    );
    const initial = await this.#startedSchema(active.name, active.parent);
    const { steps } = buildSteps(operations, initial, schema, { validate: false });
    return { name: active.name, steps, versionSchema: this.#versionSchemaOf(migration) };
  }

  /**
   * The virtual schema at start. Runs recorded by pgtandem store it; for a migration started by
   * pgroll we fall back, as pgroll does, to the schema its parent left.
   */
  async #startedSchema(name: string, parent: string | null): Promise<VirtualSchema> {
    const { state, schema } = this.#o;
    const run = await state.runInfo(schema, name);
    if (run) return run.startedSchema;
    const resulting = parent ? await state.schemaAfter(schema, parent) : undefined;
    return resulting ? virtualFromPhysical(resulting) : { name: schema, tables: [] };
  }

  /**
   * The plugins at hand now expand the migration differently from its start (an `expand` that
   * depends on the environment, a plugin file changed since): say so, and go on with what start
   * recorded. Silent when the plugins are not loaded here: there is nothing to compare.
   */
  #warnIfExpansionChanged(name: string, document: unknown, recorded: readonly unknown[]) {
    let now: unknown;
    try {
      const parsed = parseMigration(`migration "${name}"`, name, document, this.#o.registry);
      now = expandOperations(parsed.migration.operations, parsed.operations)?.documents;
    } catch {
      return;
    }
    if (now !== undefined && JSON.stringify(now) !== JSON.stringify(recorded)) {
      this.#o.warn?.(
        `the plugins loaded now expand migration "${name}" differently from its start; ` +
          `completing or rolling back what start recorded`,
      );
    }
  }

  #versionSchemaOfDocument(active: { name: string; migration: unknown }): string | undefined {
    const version = (active.migration as { version_schema?: unknown } | null)?.version_schema;
    return this.#versionSchemaOf({
      name: active.name,
      operations: [],
      ...(typeof version === "string" ? { version_schema: version } : {}),
    });
  }

  /** What lib/engine/dependents.ts reads the catalog with. */
  #dependents() {
    return { sql: this.#o.sql, state: this.#o.state, baseSchema: this.#o.schema };
  }

  #phaseOptions(versionSchema: string | undefined): PhaseOptions {
    return { baseSchema: this.#o.schema, versionSchema, serverMajor: this.#o.serverMajor };
  }

  #versionSchemaOf(migration: LoadedMigration["migration"]): string | undefined {
    if (!this.#o.useVersionSchema) return undefined;
    return versionSchemaName(this.#o.schema, migrationVersionName(migration));
  }

  async #executeAtomically(
    actions: readonly Action[],
    thenInTransaction?: (tx: TransactionSql) => Promise<void>,
  ): Promise<void> {
    await executeAtomically(this.#o.sql, dedupeActions(actions), {
      schema: this.#o.schema,
      lockWait: this.#lockWait(),
      onAction: (a) => this.#log(`  ${a.sql}`),
      ...(thenInTransaction ? { thenInTransaction } : {}),
    });
  }

  async #execute(actions: readonly Action[]): Promise<void> {
    await executeActions(this.#o.sql, dedupeActions(actions), {
      schema: this.#o.schema,
      lockWait: this.#lockWait(),
      onAction: (a) => this.#log(`  ${a.sql}`),
      ...(this.#o.warn ? { onWarning: this.#o.warn } : {}),
      onRetry: (a, attempt, delay) =>
        this.#log(`  lock timeout on "${a.id}", retry ${attempt} in ${Math.round(delay)} ms`),
    });
  }

  /** Wait outside the lock queue behind long transactions; let queued clients drain. */
  #lockWait() {
    return {
      drainMs: this.#o.lockTimeoutMs,
      log: (message: string) => this.#log(message),
    };
  }

  /** Runs of the tool on one schema never overlap. */
  #serialised<T>(fn: () => Promise<T>): Promise<T> {
    return withAdvisoryLock(
      this.#o.sql,
      runLockKey(this.#o.stateSchema, this.#o.schema),
      () => fn(),
    );
  }

  #log(message: string): void {
    this.#o.log?.(message);
  }
}
