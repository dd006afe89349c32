/**
 * Backfill: brings every row that existed when it began into the new shape — the new columns
 * computed by the table's up expressions — in short batches, without one long, lock-holding UPDATE.
 *
 * Rows are visited by keyset ranges over an identity (primary key, else a unique NOT NULL index),
 * up to the largest key present at the start; rows inserted later are handled by the triggers.
 * A batch is two statements in one short transaction:
 *
 *   SELECT key FROM t WHERE key > $last AND key <= $max ORDER BY key OFFSET n-1 LIMIT 1  -- index only
 *   UPDATE t SET <new columns> = <up expressions>, _pgroll_needs_backfill = false
 *     WHERE key > $last AND key <= $next AND _pgroll_needs_backfill
 *
 * The UPDATE computes the new columns itself, with the up trigger's column binding
 * (triggers.ts `backfillAssignments`), and sets `pgtandem.backfill` for its transaction so the up
 * trigger, whose WHEN clause tests it, stays out: a row costs what it costs a plain UPDATE. When
 * one UPDATE cannot do what the trigger does (user triggers that fire for the batch and may
 * change the row first, specs that read each other's results, a value only plpgsql's assignment
 * converts), the batch sets only the marker and the trigger computes the columns, as it does for
 * clients. Rows whose marker is already false (written through a trigger since) are not touched. Rows locked by a client are waited for
 * (up to lock_timeout, then the batch is retried smaller), never skipped: a skipped row would keep
 * its stale value. Measured against pgroll's CTE (`SELECT … FOR NO KEY UPDATE` + self-join UPDATE
 * setting the key to itself), the range form needs no join and no RETURNING, and its cost stays
 * flat as the table grows.
 *
 * Without an identity, batches are ranges of heap blocks (`ctid >= '(b,0)' AND ctid < '(e,0)'`, a
 * TID range scan on PostgreSQL ≥ 14), up to the table's size at the start. Every client write
 * clears the marker of the row it moves, so no marked row should land behind the cursor; finished
 * passes are followed by a check for rows still marked all the same and, if any, another pass (at
 * most {@link MAX_CTID_PASSES}). That mode reads the whole table at least twice. Partitions are backfilled one leaf at a time; inheritance children are not visited.
 *
 * Every transaction chooses its own settings rather than inheriting the role's: READ COMMITTED
 * (a batch waits for a locked row and then sees its latest version, whose marker a client write
 * has cleared), an explicit statement_timeout (a batch that hits it is retried smaller, like one
 * that hits lock_timeout; serialization failures and deadlocks are retried too), `row_security =
 * off` (a policy that hid rows would leave them unfilled: PostgreSQL errors instead, and that
 * error becomes one line naming the missing privilege), and, when the role may set it,
 * `session_replication_role = replica`, so the user's own triggers do not fire for rows nobody
 * changed (pgtandem's triggers are ENABLE ALWAYS). When it finishes, the backfill checks that no
 * row is left in the old shape.
 */
import { PgtandemError, QueryError, sqlstateOf } from "../errors.ts";
import { NEEDS_BACKFILL_COLUMN } from "../naming.ts";
import { ident, literal } from "../sql.ts";
import type postgres from "postgres";
import type { TriggerSpec } from "../operations/operation.ts";
import { BACKFILL_SETTING, backfillAssignments } from "./triggers.ts";
import { explainRowSecurityError, triggerSilencing } from "./backfill-checks.ts";
import { withLockRetry } from "./retry.ts";
import { expressionSearchPath } from "./expression-names.ts";

/** Where a backfill got to; JSON-serialisable, saved after every batch so a killed run resumes. */
export interface BackfillProgress {
  /** Identity columns the keys refer to, or `["ctid"]` for block ranges. */
  identity: string[];
  /**
   * Key of the last row done (text form of each identity column), or null before the first batch.
   * In ctid mode: `[unit index, next block]`.
   */
  lastKey: (string | null)[] | null;
  /** Rows updated so far, all runs together. */
  done: number;
  /** Largest key when the backfill began; ctid mode: block count of each unit. */
  upperBound?: (string | null)[] | null;
  /** ctid mode: passes completed over all units. */
  pass?: number;
}

/** What {@link BackfillOptions.onProgress} receives after each batch. */
export interface BackfillProgressEvent {
  /** Rows updated so far, resumed runs included. */
  done: number;
  /** Estimated rows to update in all (never below `done`). */
  total: number;
  /** Batches run so far in this run. */
  batch: number;
  /** Target rows of the next batch. */
  batchSize: number;
  /** Rows per second of this run so far. */
  rowsPerSecond: number;
}

export interface BackfillOptions {
  /** Schema of the physical table. */
  schema: string;
  /** Physical table name. */
  table: string;
  /** Rows in the first batch; default 1000. */
  batchSize?: number;
  /** Pause between batches; default 0. */
  batchDelayMs?: number;
  /**
   * Batch duration the batch size is adapted toward (grown by at most 4×, shrunk by at most 2× per batch,
   * within [min(100, batchSize), maxBatchSize]); default 200 ms, 0 keeps the size fixed (except
   * that a batch retried after a lock timeout or deadlock is halved). Row locks are held for one
   * batch, so this bounds how long a client can wait on the backfill.
   */
  targetBatchMs?: number;
  /** Default 100 000. */
  maxBatchSize?: number;
  /** lock_timeout of each batch transaction; 0 = none. */
  lockTimeoutMs: number;
  /**
   * Cap on statement_timeout: batches run with this (default
   * {@link DEFAULT_BATCH_STATEMENT_TIMEOUT_MS}) and are retried smaller when they hit it; the
   * backfill's reads of the whole table run with it, or with none when 0 or absent.
   */
  statementTimeoutMs?: number;
  /**
   * Run batches with session_replication_role = replica when the role may set it, so user
   * triggers do not fire for backfilled rows (see backfill-checks.ts); default true.
   */
  silenceUserTriggers?: boolean;
  /** Progress saved by an earlier, interrupted run of the same backfill. */
  resumeFrom?: BackfillProgress;
  /**
   * The specs of the table's up trigger, in trigger order: batches compute the new columns
   * themselves when one UPDATE can (see the module comment); without them, the trigger does.
   */
  triggerSpecs?: readonly TriggerSpec[];
  onProgress?: (progress: BackfillProgressEvent) => void;
  /** Persist progress; awaited after each committed batch (and once before the first). */
  saveProgress?: (progress: BackfillProgress) => Promise<void>;
  /** Stops after the batch in flight commits; runBackfill then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Awaited after each batch but the last, before the delay (the throttle of replica-lag.ts). */
  betweenBatches?: (signal?: AbortSignal) => Promise<void>;
}

export interface BackfillResult {
  /** Rows updated by this run. */
  rows: number;
  batches: number;
  ms: number;
  /** The batches computed the new columns themselves (else the up trigger did). */
  direct: boolean;
}

/** Batch failures retried with a smaller batch: deadlock, serialization, statement_timeout. */
const RETRIED_SQLSTATES = new Set(["40P01", "40001", "57014"]);
const MAX_BATCH_RETRIES = 8;

/** statement_timeout of a batch when no cap is given: batches aim at ~200 ms. */
export const DEFAULT_BATCH_STATEMENT_TIMEOUT_MS = 60_000;

/** statement_timeout (or a cancel request) ended the statement. */
const QUERY_CANCELED = "57014";

/** In ctid mode, passes over the table before remaining marked rows are left alone. */
export const MAX_CTID_PASSES = 5;

/**
 * Backfills one table: every row that existed at the start and still has its marker set is
 * updated once, which fires the up trigger. Requires the marker column (created by the trigger
 * actions). Each batch runs in its own transaction with `lock_timeout`, the base schema as
 * search_path (so the session counts as the old version and the up trigger runs), and is retried
 * on lock timeouts. Non-lock errors are raised as QueryError.
 */
export async function runBackfill(
  sql: postgres.Sql,
  options: BackfillOptions,
): Promise<BackfillResult> {
  const run = new BackfillRun(sql, options);
  try {
    return await run.run();
  } catch (error) {
    if (error instanceof PgtandemError || options.signal?.aborted) throw error;
    const rls = await explainRowSecurityError(sql, options.schema, options.table, error);
    if (rls) throw rls;
    const sqlstate = sqlstateOf(error);
    throw new QueryError(
      `cannot backfill table "${options.table}": ${(error as Error).message}`,
      sqlstate === undefined ? { cause: error } : { cause: error, sqlstate },
    );
  }
}

/** A batch's outcome: rows updated, where the next batch starts, and whether this was the last. */
interface BatchResult {
  count: number;
  next: string[];
  finished: boolean;
}

const MARKER = ident(NEEDS_BACKFILL_COLUMN);

/** The alias of the updated table in batches, which the direct form's sub-selects refer to. */
const ROW = "pgtandem_row";

class BackfillRun {
  readonly #sql: postgres.Sql;
  readonly #o: BackfillOptions;
  readonly #started = performance.now();
  #size: number;
  readonly #minSize: number;
  readonly #maxSize: number;
  #rows = 0;
  #batches = 0;
  #total = 0;
  #progress: BackfillProgress = { identity: [], lastKey: null, done: 0 };
  /** Batches run with session_replication_role = replica. */
  #silenced = false;
  /**
   * The batch UPDATE's SET list: the new columns computed in line and the marker cleared, or only
   * the marker (the up trigger then computes them).
   */
  #assignments = `${MARKER} = false`;
  /** The new columns are computed by the batch itself: the up trigger is kept out. */
  #direct = false;

  constructor(sql: postgres.Sql, options: BackfillOptions) {
    this.#sql = sql;
    this.#o = options;
    this.#size = Math.max(1, Math.floor(options.batchSize ?? 1000));
    this.#maxSize = Math.max(this.#size, options.maxBatchSize ?? 100_000);
    this.#minSize = Math.min(100, this.#size);
  }

  async run(): Promise<BackfillResult> {
    this.#o.signal?.throwIfAborted();
    const relation = await readRelation(this.#sql, this.#o.schema, this.#o.table);
    let firing: string[] = [];
    if (this.#o.silenceUserTriggers ?? true) {
      const silencing = await triggerSilencing(this.#sql, this.#o.schema, this.#o.table);
      this.#silenced = silencing.silenced;
      firing = silencing.firing;
    } else if (this.#o.triggerSpecs?.length) {
      firing = ["(not silenced)"];
    }
    // A user trigger that fires for a batch may change the row before the up trigger reads it:
    // only the trigger then computes what a client's write would.
    if (firing.length === 0) await this.#chooseDirect(relation);
    this.#total = await this.#read((tx) => estimateRows(tx, relation));
    if (relation.identity) await this.#keyset(relation, relation.identity);
    else await this.#blocks(relation);
    await this.#checkDone(relation);
    return {
      rows: this.#rows,
      batches: this.#batches,
      ms: performance.now() - this.#started,
      direct: this.#direct,
    };
  }

  /**
   * Computes the new columns in the batch UPDATE when that reproduces the up trigger: the SET list
   * must exist and plan (an expression whose value only plpgsql's assignment would convert to the
   * column's type does not).
   */
  async #chooseDirect(relation: Relation): Promise<void> {
    const specs = this.#o.triggerSpecs ?? [];
    if (specs.length === 0) return;
    const columns = await this.#sql`
      SELECT a.attname::text AS name FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = ${relation.oid} AND a.attnum > 0 AND NOT a.attisdropped`;
    const assignments = backfillAssignments(
      specs,
      new Set(columns.map((c) => c.name as string)),
      ROW,
    );
    if (assignments === undefined) return;
    const set = `${assignments},\n    ${MARKER} = false`;
    try {
      await this.#read(async (tx) => {
        await tx.unsafe(
          `SELECT pg_catalog.set_config('search_path', $1, true)`,
          [expressionSearchPath(this.#o.schema)],
        );
        await tx.unsafe(`EXPLAIN UPDATE ${relation.name} AS ${ROW} SET ${set} WHERE false`);
      });
    } catch {
      return; // the trigger computes the columns, and reports whatever is wrong with them
    }
    this.#assignments = set;
    this.#direct = true;
  }

  /**
   * Proof that the backfill saw the whole table: every row is in the new shape now (rows written
   * since the triggers exist are born or brought there by them). A row still marked would
   * complete with its new columns never computed, so it fails the backfill instead.
   */
  async #checkDone(relation: Relation): Promise<void> {
    const target = `${relation.partitioned ? "" : "ONLY "}${relation.name}`;
    const [left] = await this.#read((tx) =>
      tx.unsafe(`SELECT count(*)::int8::text AS n FROM ${target} WHERE ${MARKER}`)
    );
    const n = Number(left?.n ?? 0);
    if (n > 0) {
      throw new PgtandemError(
        "query",
        `cannot backfill table "${this.#o.table}": ${n} rows were not reached by the backfill; run complete to try again`,
      );
    }
  }

  /**
   * A read of the table in a transaction of its own, with the settings a batch has (READ
   * COMMITTED, row_security off, explicit statement_timeout), not the role's defaults.
   */
  #read<T>(body: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
    return this.#sql.begin("isolation level read committed", async (tx) => {
      await tx.unsafe(
        `SELECT pg_catalog.set_config('statement_timeout', $1, true),
                pg_catalog.set_config('row_security', 'off', true)`,
        [`${Math.max(0, Math.floor(this.#o.statementTimeoutMs ?? 0))}ms`],
      );
      return await body(tx);
    }) as Promise<T>;
  }

  /** Keyset batches over `identity`, from the resume point to the largest key at the start. */
  async #keyset(relation: Relation, identity: string[]): Promise<void> {
    const resume = this.#o.resumeFrom;
    // Qualified with an alias: ORDER BY "id" would otherwise sort by the output column "id"::text.
    const keys = identity.map((c) => `${ROW}.${ident(c)}`).join(", ");
    const keyText = identity.map((c) => `${ROW}.${ident(c)}::text`).join(", ");
    // ONLY: inheritance children have no trigger; partitions do, and hold all the rows.
    const target = `${relation.partitioned ? "" : "ONLY "}${relation.name} AS ${ROW}`;
    let upper: string[];
    let last: string[] | null = null;
    if (
      resume && sameList(resume.identity, identity) &&
      resume.upperBound?.length === identity.length
    ) {
      upper = resume.upperBound.map(String);
      last = resume.lastKey ? resume.lastKey.map(String) : null;
      this.#progress = { identity, lastKey: last, done: resume.done, upperBound: upper };
    } else {
      const top = await this.#read((tx) =>
        tx.unsafe(
          `SELECT ${keyText} FROM ${target} ORDER BY ${
            identity.map((c) => `${ROW}.${ident(c)} DESC`).join(", ")
          } LIMIT 1`,
        ).values()
      );
      if (!top[0]) return; // an empty table: nothing existed, nothing to do
      upper = (top[0] as unknown[]).map(String);
      // Progress of another identity cannot say where to go on, but its rows stay done.
      this.#progress = { identity, lastKey: null, done: resume?.done ?? 0, upperBound: upper };
    }
    await this.#save();
    // Unknown-typed literals take the key columns' types, as if typed into the query.
    const row = (values: readonly string[]) => `(${values.map((v) => literal(v)).join(", ")})`;
    for (let finished = false; !finished;) {
      const lower = last ? `(${keys}) > ${row(last)} AND ` : "";
      const result = await this.#batch(async (tx, size) => {
        const found = await tx.unsafe(
          `SELECT ${keyText} FROM ${target} WHERE ${lower}(${keys}) <= ${row(upper)}
           ORDER BY ${keys} OFFSET ${size - 1} LIMIT 1`,
          [],
          { prepare: false },
        ).values();
        const next = found[0] ? (found[0] as unknown[]).map(String) : upper;
        const updated = await tx.unsafe(
          `UPDATE ${target} SET ${this.#assignments}
           WHERE ${lower}(${keys}) <= ${row(next)} AND ${MARKER}`,
          [],
          { prepare: false },
        );
        return { count: updated.count, next, finished: !found[0] || sameList(next, upper) };
      });
      last = result.next;
      finished = result.finished;
      this.#progress.lastKey = last;
      await this.#afterBatch(result.count, finished);
    }
  }

  /**
   * Block-range batches over each unit (the table, or its leaf partitions), then passes over the
   * current extent of the table while marked rows remain (see the module comment).
   */
  async #blocks(relation: Relation): Promise<void> {
    let units = await backfillUnits(this.#sql, relation);
    let bounds = units.map((u) => u.blocks);
    let pass = 0;
    let unit = 0;
    let block = 0;
    const resume = this.#o.resumeFrom;
    this.#progress = { identity: ["ctid"], lastKey: null, done: resume?.done ?? 0 };
    if (
      resume && sameList(resume.identity, ["ctid"]) && resume.upperBound?.length === units.length
    ) {
      bounds = resume.upperBound.map(Number);
      unit = Number(resume.lastKey?.[0] ?? 0);
      block = Number(resume.lastKey?.[1] ?? 0);
      pass = resume.pass ?? 0;
    }
    for (;;) {
      for (; unit < units.length; unit++, block = 0) {
        const { name, rowsPerBlock } = units[unit]!;
        const end = bounds[unit] ?? 0;
        while (block < end) {
          const from = block;
          const result = await this.#batch(async (tx, size) => {
            const to = Math.min(end, from + Math.max(1, Math.ceil(size / rowsPerBlock)));
            const updated = await tx.unsafe(
              `UPDATE ONLY ${name} AS ${ROW} SET ${this.#assignments}
               WHERE ctid >= '(${from},0)'::tid AND ctid < '(${to},0)'::tid AND ${MARKER}`,
              [],
              { prepare: false },
            );
            return { count: updated.count, next: [String(to)], finished: false };
          });
          block = Number(result.next[0]);
          this.#progress.lastKey = [String(unit), String(block)];
          this.#progress.upperBound = bounds.map(String);
          this.#progress.pass = pass;
          await this.#afterBatch(result.count, false);
        }
      }
      if (++pass >= MAX_CTID_PASSES || !(await this.#anyMarked(units))) break;
      // A fresh pass sees the table as it is now, so rows moved behind the cursor are reached.
      units = await backfillUnits(this.#sql, relation);
      bounds = units.map((u) => u.blocks);
      unit = 0;
      block = 0;
    }
    this.#report();
  }

  /** Whether some row of the units still has its marker set. */
  async #anyMarked(units: readonly BackfillUnit[]): Promise<boolean> {
    for (const { name } of units) {
      const found = await this.#read((tx) =>
        tx.unsafe(`SELECT 1 FROM ONLY ${name} WHERE ${MARKER} LIMIT 1`)
      );
      if (found.length > 0) return true;
    }
    return false;
  }

  /**
   * One batch transaction, retried on lock timeouts, statement timeouts, deadlocks and
   * serialization failures with a halved size each time (a hot row then blocks a smaller batch, a
   * slow one does less). Adapts the batch size to the measured duration.
   */
  async #batch(
    body: (tx: postgres.TransactionSql, size: number) => Promise<BatchResult>,
  ): Promise<BatchResult> {
    const started = performance.now();
    const shrink = () => (this.#size = Math.max(1, Math.floor(this.#size / 2)));
    const cap = Math.floor(this.#o.statementTimeoutMs ?? 0);
    const settings: [string, string][] = [
      ["lock_timeout", `${Math.max(0, Math.floor(this.#o.lockTimeoutMs))}ms`],
      ["statement_timeout", `${cap > 0 ? cap : DEFAULT_BATCH_STATEMENT_TIMEOUT_MS}ms`],
      ["search_path", expressionSearchPath(this.#o.schema)],
      ["enable_seqscan", "off"],
      ["enable_sort", "off"],
      ["row_security", "off"],
    ];
    if (this.#silenced) settings.push(["session_replication_role", "replica"]);
    if (this.#direct) settings.push([BACKFILL_SETTING, "on"]);
    const attempt = () =>
      withLockRetry(
        `backfill of table "${this.#o.table}"`,
        () =>
          this.#sql.begin("isolation level read committed", async (tx) => {
            // search_path: the session counts as the old version (the up trigger runs unless
            // the batch computes the columns itself, BACKFILL_SETTING) and the up expressions
            // resolve names as in the trigger.
            // enable_seqscan/enable_sort off: without fresh statistics the planner may read the
            // whole table (or sort it) for a range of a few thousand keys — per batch.
            // row_security off: an error rather than rows silently skipped.
            await tx.unsafe(
              `SELECT ${
                settings.map((_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, true)`)
                  .join(", ")
              }`,
              settings.flat(),
            );
            return await body(tx, this.#size);
          }) as Promise<BatchResult>,
        { onRetry: shrink },
      );
    for (let retries = 0;; retries++) {
      try {
        const result = await attempt();
        this.#adapt(performance.now() - started);
        return result;
      } catch (error) {
        // A client locking rows in another order can deadlock with a batch; a batch can outlast
        // statement_timeout. Either way it rolled back: try again, smaller.
        const sqlstate = sqlstateOf(error) ?? "";
        if (!RETRIED_SQLSTATES.has(sqlstate) || retries >= MAX_BATCH_RETRIES) throw error;
        if (sqlstate === QUERY_CANCELED && this.#size === 1) throw error;
        shrink();
        await sleep(Math.random() * 100 * 2 ** Math.min(retries, 6), this.#o.signal);
      }
    }
  }

  #adapt(ms: number): void {
    const target = this.#o.targetBatchMs ?? 200;
    if (target <= 0) return;
    // Growth up to 4× a batch: the first batches (1000 rows by default) reach the target within a
    // few batches instead of six or seven short ones, each paying a transaction's fixed costs.
    const factor = Math.min(4, Math.max(0.5, target / Math.max(ms, 1)));
    this.#size = Math.round(Math.min(this.#maxSize, Math.max(this.#minSize, this.#size * factor)));
  }

  async #afterBatch(count: number, finished: boolean): Promise<void> {
    this.#rows += count;
    this.#batches++;
    this.#progress.done += count;
    await this.#save();
    this.#report();
    if (finished) return;
    await this.#o.betweenBatches?.(this.#o.signal);
    const delay = this.#o.batchDelayMs ?? 0;
    if (delay > 0) await sleep(delay, this.#o.signal);
    this.#o.signal?.throwIfAborted();
  }

  async #save(): Promise<void> {
    await this.#o.saveProgress?.(structuredClone(this.#progress));
  }

  #report(): void {
    if (!this.#o.onProgress) return;
    const seconds = (performance.now() - this.#started) / 1000;
    const done = this.#progress.done;
    this.#o.onProgress({
      done,
      total: Math.max(this.#total, done),
      batch: this.#batches,
      batchSize: this.#size,
      rowsPerSecond: seconds > 0 ? this.#rows / seconds : 0,
    });
  }
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A delay that ends early (rejecting) when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// --- Catalog reads ---

/** The table as the backfill sees it. */
interface Relation {
  oid: number;
  /** Schema-qualified, quoted. */
  name: string;
  partitioned: boolean;
  /** Keyset columns, or null for block ranges. */
  identity: string[] | null;
}

/** A relation with storage that block-range batches walk. */
interface BackfillUnit {
  /** Schema-qualified, quoted. */
  name: string;
  blocks: number;
  rowsPerBlock: number;
}

async function readRelation(sql: postgres.Sql, schema: string, table: string): Promise<Relation> {
  const [rel] = await sql`
    SELECT c.oid::int8::text AS oid, c.relkind = 'p' AS partitioned,
      EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid
        AND a.attname = ${NEEDS_BACKFILL_COLUMN} AND NOT a.attisdropped) AS marked
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relname = ${table} AND c.relkind IN ('r', 'p')`;
  if (!rel) throw new PgtandemError("internal", `cannot backfill table "${table}": no such table`);
  if (!rel.marked) {
    throw new PgtandemError(
      "internal",
      `cannot backfill table "${table}": column "${NEEDS_BACKFILL_COLUMN}" does not exist`,
    );
  }
  const oid = Number(rel.oid);
  return {
    oid,
    name: ident(schema, table),
    partitioned: rel.partitioned as boolean,
    identity: await identityOf(sql, oid),
  };
}

/**
 * The columns batches are keyed on: the primary key; else the unique, non-partial, expression-free
 * index whose key columns are all NOT NULL, preferring default operator classes and collations
 * (so ORDER BY can walk the index), then fewer columns, then the index name; else null.
 */
async function identityOf(sql: postgres.Sql, oid: number): Promise<string[] | null> {
  const [best] = await sql`
    SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indclass::oid[], i.indcollation::oid[])
      WITH ORDINALITY AS k(attnum, opclass, coll, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    JOIN pg_catalog.pg_opclass oc ON oc.oid = k.opclass
    WHERE i.indrelid = ${oid} AND (i.indisprimary OR i.indisunique) AND i.indisvalid
      AND i.indpred IS NULL AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts
    GROUP BY i.indexrelid, i.indisprimary, ic.relname
    HAVING i.indisprimary OR bool_and(a.attnotnull)
    ORDER BY i.indisprimary DESC,
      bool_and(oc.opcdefault AND k.coll = a.attcollation) DESC,
      count(*), ic.relname
    LIMIT 1`;
  return best ? (best.columns as string[]) : null;
}

/**
 * Rows to backfill, for progress: the planner's estimate scaled to the table's current size,
 * or, for a table never analysed, an exact count of marked rows (one sequential read).
 */
async function estimateRows(sql: postgres.TransactionSql, relation: Relation): Promise<number> {
  const [stats] = await sql`
    SELECT sum(c.reltuples)::float8 AS tuples, sum(c.relpages)::float8 AS pages,
      sum(pg_catalog.pg_relation_size(c.oid))::float8
        / current_setting('block_size')::float8 AS current_pages,
      bool_or(c.reltuples < 0) AS unknown
    FROM pg_catalog.pg_class c
    WHERE c.relkind = 'r' AND (c.oid = ${relation.oid}::oid OR c.oid IN (SELECT relid
      FROM pg_catalog.pg_partition_tree(${relation.oid}::oid::regclass) WHERE isleaf))`;
  const tuples = Number(stats?.tuples ?? 0);
  const pages = Number(stats?.pages ?? 0);
  if (stats && !stats.unknown && tuples > 0) {
    return Math.round(pages > 0 ? (tuples / pages) * Number(stats.current_pages) : tuples);
  }
  const [count] = await sql.unsafe(`SELECT count(*)::int8::text AS n FROM ${relation.name}
    WHERE ${MARKER}`);
  return Number(count?.n ?? 0);
}

/** The table, or its leaf partitions, with their size in blocks now. */
async function backfillUnits(sql: postgres.Sql, relation: Relation): Promise<BackfillUnit[]> {
  const rows = await sql`
    SELECT n.nspname, c.relname,
      ceil(pg_catalog.pg_relation_size(c.oid) / current_setting('block_size')::float8)::int8::text
        AS blocks,
      CASE WHEN c.reltuples > 0 AND c.relpages > 0 THEN c.reltuples / c.relpages END AS density
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND (c.oid = ${relation.oid}::oid OR c.oid IN (SELECT relid
      FROM pg_catalog.pg_partition_tree(${relation.oid}::oid::regclass) WHERE isleaf))
    ORDER BY n.nspname, c.relname`;
  return rows.map((r) => ({
    name: ident(r.nspname as string, r.relname as string),
    blocks: Number(r.blocks),
    // A guess until statistics exist; batch duration adaptation corrects it.
    rowsPerBlock: Math.max(1, Number(r.density ?? 50)),
  }));
}
