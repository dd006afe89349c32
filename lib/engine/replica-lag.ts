/**
 * The replica-aware throttle (--backfill-max-replica-lag): between two backfill batches, wait
 * while a streaming standby has not replayed the WAL of batches written longer ago than the limit.
 * A backfill writes as fast as the primary allows; a standby replaying more slowly falls behind
 * without bound, serves ever staler reads, takes ever longer to fail over to, and may need to be
 * rebuilt. gh-ost's --max-lag-millis is the model (pgroll issue #168).
 *
 * What is measured. After each batch we note the WAL insert position and the time (a "mark").
 * A standby's lag is the age of the oldest mark past its replay_lsn in pg_stat_replication, and 0
 * when it has replayed beyond the last mark. This stays right on an idle primary, where the
 * replay_lag column is not: that column is measured only while WAL flows and turns stale or NULL
 * once the standby is caught up and nothing more is written — exactly while we pause. Comparing
 * positions, a caught-up standby is caught up however old its last report.
 *
 * Reports can be late, never early: a standby sends its replay position when WAL arrives, when it
 * has replayed everything it received (PostgreSQL forces a reply then, so an idle standby that
 * catches up says so at once), and otherwise every wal_receiver_status_interval. The throttle only
 * reads: it writes nothing to make a standby report.
 *
 * An insert position at the very start of a WAL page points past the page header, where no
 * record ends; such a mark is moved back to the page boundary, or a standby that replayed all of
 * it would never be seen to reach it on an idle primary.
 *
 * Which standbys count: every walsender in pg_stat_replication except logical replication
 * (walsenders holding a logical slot) and base backups in progress (state "backup"). A standby
 * connected to another standby (cascading) is not visible on the primary; a disconnected one is
 * not waited for.
 *
 * Reading replay_lsn needs pg_read_all_stats (pg_monitor includes it) or superuser: any other
 * role sees NULLs, and the throttle would silently do nothing. {@link assertCanWatchStandbys}
 * refuses the flag before start changes anything.
 */
import { PgtandemError } from "../errors.ts";
import type { Sql } from "./connection.ts";

/** A standby the backfill waits for, as the progress line and the log show it. */
export interface ReplicaWait {
  /** `"walreceiver" (10.0.0.7, pid 4711)` */
  standby: string;
  /** Age of the oldest backfill WAL it has not replayed. */
  lagMs: number;
  maxLagMs: number;
}

export interface ReplicaLagOptions {
  /** The limit: a standby may be this far behind the backfill's writes. */
  maxLagMs: number;
  /** Between two looks at pg_stat_replication while paused; default maxLagMs / 10 in [20, 250]. */
  pollMs?: number;
  /** --verbose: told when a pause begins and ends. */
  log?: (message: string) => void;
  /** Injectable clock for tests; default performance.now(). */
  now?: () => number;
}

/** WAL position and the time it was read. */
interface Mark {
  lsn: bigint;
  at: number;
}

interface StandbyRow {
  pid: number;
  name: string | null;
  addr: string | null;
  replay: string | null;
}

/** Page header sizes: short (every page), long (the first page of a segment). */
const SHORT_PAGE_HEADER = 24n;
const LONG_PAGE_HEADER = 40n;

/**
 * Refuses --backfill-max-replica-lag when the role running the backfill cannot read the
 * standbys' replay positions; run before start changes anything.
 */
export async function assertCanWatchStandbys(sql: Sql): Promise<void> {
  const [row] = await sql`
    SELECT current_user AS role,
      pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS allowed`;
  if (row?.allowed) return;
  throw new PgtandemError(
    "invalid_input",
    `--backfill-max-replica-lag: role "${row?.role}" cannot read the standbys' replay positions ` +
      `in pg_stat_replication; grant it pg_monitor (GRANT pg_monitor TO "${row?.role}") or run ` +
      `without the flag`,
  );
}

/** One throttle per backfill run (all its tables): marks carry over from table to table. */
export class ReplicaLagThrottle {
  readonly #sql: Sql;
  readonly #o: ReplicaLagOptions;
  readonly #now: () => number;
  readonly #pollMs: number;
  #marks: Mark[] = [];
  /** wal_block_size and wal_segment_size, read at the first look. */
  #page = 0n;
  #segment = 0n;
  /** Standbys already said to have no replay position yet (logged once). */
  readonly #unknown = new Set<number>();

  private constructor(sql: Sql, options: ReplicaLagOptions) {
    this.#sql = sql;
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#pollMs = options.pollMs ??
      Math.min(250, Math.max(20, Math.floor(options.maxLagMs / 10)));
  }

  /** Takes the first mark: the WAL written before the backfill counts as its first batch's. */
  static async start(sql: Sql, options: ReplicaLagOptions): Promise<ReplicaLagThrottle> {
    const throttle = new ReplicaLagThrottle(sql, options);
    const [sizes] = await sql`
      SELECT current_setting('wal_block_size') AS page,
        (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'wal_segment_size') AS segment`;
    throttle.#page = BigInt(sizes!.page as string);
    throttle.#segment = BigInt(sizes!.segment as string);
    await throttle.#look(false);
    return throttle;
  }

  /**
   * Call between two batches, after the earlier one committed: marks its WAL, then returns once
   * every standby is within the limit (at once, usually). While it waits, `onWait` is told on
   * every look, and with undefined when the backfill goes on. Rejects with the signal's reason
   * when it aborts.
   */
  async betweenBatches(
    { signal, onWait }: {
      signal?: AbortSignal | undefined;
      onWait?: (wait: ReplicaWait | undefined) => void;
    } = {},
  ): Promise<void> {
    let worst = await this.#look(false);
    if (worst === undefined || worst.lagMs <= this.#o.maxLagMs) return;
    const began = this.#now();
    this.#o.log?.(`pausing the backfill: ${describeReplicaWait(worst)}`);
    while (worst !== undefined && worst.lagMs > this.#o.maxLagMs) {
      onWait?.(worst);
      await new Promise((resolve) => setTimeout(resolve, this.#pollMs));
      signal?.throwIfAborted();
      worst = await this.#look(true);
    }
    onWait?.(undefined);
    this.#o.log?.(
      `the standbys caught up; the backfill goes on after a pause of ${
        Math.round(this.#now() - began)
      } ms`,
    );
  }

  /**
   * Reads the WAL insert position and every standby's replay position in one round trip; the
   * position becomes a mark unless `paused`. Returns the standby furthest behind.
   */
  async #look(paused: boolean): Promise<ReplicaWait | undefined> {
    const [row] = await this.#sql.unsafe(
      `SELECT /* pgtandem: replica-lag */ pg_catalog.pg_current_wal_insert_lsn()::text AS lsn,
         COALESCE((SELECT json_agg(json_build_object('pid', r.pid, 'name', r.application_name,
             'addr', host(r.client_addr), 'replay', r.replay_lsn::text))
           FROM pg_catalog.pg_stat_replication r
           WHERE r.state IS DISTINCT FROM 'backup' AND NOT EXISTS (
             SELECT FROM pg_catalog.pg_replication_slots s
             WHERE s.active_pid = r.pid AND s.slot_type = 'logical')), '[]') AS standbys`,
    );
    const at = this.#now();
    const lsn = parseLsn(row!.lsn as string);
    const standbys =
      (typeof row!.standbys === "string"
        ? JSON.parse(row!.standbys)
        : row!.standbys) as StandbyRow[];
    if (!paused) this.#marks.push({ lsn: this.#recordBoundary(lsn), at });
    return this.#worst(standbys, at);
  }

  /** `lsn`, or the page boundary when it points just past a page header (module comment). */
  #recordBoundary(lsn: bigint): bigint {
    const header = lsn % this.#segment === LONG_PAGE_HEADER ? LONG_PAGE_HEADER : SHORT_PAGE_HEADER;
    return lsn % this.#page === header ? lsn - header : lsn;
  }

  #worst(standbys: readonly StandbyRow[], now: number): ReplicaWait | undefined {
    let worst: ReplicaWait | undefined;
    let slowest: bigint | undefined;
    for (const s of standbys) {
      const name = `"${s.name ?? "walreceiver"}" (${s.addr ?? "local"}, pid ${s.pid})`;
      if (s.replay === null) {
        // Not yet reported (a standby still starting up): nothing to measure.
        if (!this.#unknown.has(s.pid)) {
          this.#unknown.add(s.pid);
          this.#o.log?.(`standby ${name} has not reported a replay position yet`);
        }
        continue;
      }
      const replay = parseLsn(s.replay);
      if (slowest === undefined || replay < slowest) slowest = replay;
      const oldest = this.#marks.find((m) => m.lsn > replay);
      const lagMs = oldest === undefined ? 0 : now - oldest.at;
      if (worst === undefined || lagMs > worst.lagMs) {
        worst = { standby: name, lagMs, maxLagMs: this.#o.maxLagMs };
      }
    }
    // Marks every standby has replayed are no longer needed; the last one always is.
    const keepFrom = this.#marks.findIndex((m) => slowest === undefined || m.lsn > slowest);
    this.#marks = this.#marks.slice(
      keepFrom === -1 ? this.#marks.length - 1 : Math.min(keepFrom, this.#marks.length - 1),
    );
    return worst;
  }
}

/** `standby "s1" (10.0.0.7, pid 4711) is 1.2 s behind the backfill (limit 500 ms)` */
export function describeReplicaWait(wait: ReplicaWait): string {
  return `standby ${wait.standby} is ${ms(wait.lagMs)} behind the backfill (limit ${
    ms(wait.maxLagMs)
  })`;
}

function ms(value: number): string {
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** `16/B374D848` → a number to compare. */
export function parseLsn(text: string): bigint {
  const [hi, lo] = text.split("/");
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}
