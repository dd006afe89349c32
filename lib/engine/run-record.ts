/**
 * pgtandem_runs rows, parsed and versioned. One row per started migration holds what complete,
 * rollback and an interrupted start's resume need: the virtual schema at start, the backfill's
 * progress record and the plugins used.
 *
 * The row's format is written under `backfill.format` (a jsonb key rather than a column, so a
 * database initialised by an earlier release needs no new column); rows without it were written
 * before formats were numbered and have the shape of format 1. A row from a newer format is
 * refused by name: replaying a migration from a snapshot this release cannot read would run the
 * wrong SQL.
 */
import { z } from "zod";
import { formatPath, StateError } from "../errors.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { parseSavedVirtualSchema } from "../schema/saved.ts";
import type { RecordedMember } from "../migration/group.ts";

/** The format this release writes and reads. Raise it when a saved field changes meaning. */
export const RUN_FORMAT = 1;

const backfillProgress = z.looseObject({
  identity: z.array(z.string()),
  lastKey: z.array(z.string().nullable()).nullable(),
  done: z.number(),
  upperBound: z.array(z.string().nullable()).nullable().optional(),
});

/** pgtandem_runs.backfill: the start's progress record. */
const runRecord = z.looseObject({
  format: z.number().int().optional(),
  /** "backfill" once triggers and views exist; "started" when start finished. */
  phase: z.enum(["backfill", "started"]).optional(),
  tables: z.record(z.string(), backfillProgress).optional(),
  finished: z.array(z.string()).optional(),
  expanded: z.array(z.unknown()).optional(),
  members: z.array(z.looseObject({ name: z.string(), document: z.unknown() })).optional(),
});

/** The parsed progress record; see {@link runRecord}. */
export type RunRecord = z.infer<typeof runRecord>;

/** pgtandem's bookkeeping for one started migration (absent for ones pgroll started). */
export interface RunInfo {
  /** The virtual schema snapshot taken before the migration's start changed anything. */
  startedSchema: VirtualSchema;
  /** Backfill progress and the start's phase, as saved by `saveBackfillProgress`. */
  backfill: RunRecord;
  /** The plugins the migration used, as given to `startMigration`. */
  plugins: unknown[];
  /** The members when the migration is a group's composite (see lib/migration/group.ts). */
  members?: RecordedMember[];
  createdAt: Date;
}

/** The row as read from pgtandem_runs. */
export interface RunRow {
  started_schema: unknown;
  backfill: unknown;
  plugins: unknown;
  created_at: Date;
}

/** The initial progress record a start writes: the format, and a group's members. */
export function initialRunRecord(members?: readonly RecordedMember[]): object {
  return { format: RUN_FORMAT, ...(members ? { members: [...members] } : {}) };
}

/** Parses the pgtandem_runs row of migration `name`; a mismatch is a StateError naming it. */
export function parseRunRow(schema: string, name: string, row: RunRow): RunInfo {
  const where = `the pgtandem_runs row of migration "${name}" (schema "${schema}")`;
  const record = runRecord.safeParse(row.backfill ?? {});
  if (!record.success) {
    throw new StateError(`${where}: backfill: ${describeIssue(record.error.issues[0]!)}`);
  }
  const format = record.data.format ?? 1;
  if (format > RUN_FORMAT) {
    throw new StateError(
      `${where} was written in format ${format} by a newer pgtandem (this release reads up to ` +
        `${RUN_FORMAT}); complete or roll it back with that release`,
    );
  }
  const startedSchema = parseSavedVirtualSchema(row.started_schema, (detail) => {
    throw new StateError(`${where}: started_schema.${detail}`);
  });
  if (!Array.isArray(row.plugins)) {
    throw new StateError(`${where}: plugins: expected an array`);
  }
  const members = record.data.members as RecordedMember[] | undefined;
  return {
    startedSchema,
    backfill: record.data,
    plugins: row.plugins,
    ...(members ? { members } : {}),
    createdAt: row.created_at,
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path.map((p) => typeof p === "number" ? p : String(p)));
  return `${path || "(root)"}: ${issue.message}`;
}
