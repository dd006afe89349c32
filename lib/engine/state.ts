/**
 * The state store: pgroll's `migrations` table and functions (so either tool can continue a
 * database the other migrated) plus pgtandem's own `pgtandem_runs`. Every statement names the
 * state schema explicitly; nothing depends on the connection's search_path.
 */
import type postgres from "postgres";
import { sqlstateOf, StateError } from "../errors.ts";
import type { Schema } from "../schema/model.ts";
import { normalizeSchema } from "../schema/normalize.ts";
import { ident } from "../sql.ts";
import { withLockRetry } from "./retry.ts";
import { Catalog } from "../schema/catalog.ts";
import { stateInitSql } from "./state-sql.ts";
import { initialRunRecord, parseRunRow, type RunInfo, type RunRow } from "./run-record.ts";
import type { RecordedMember } from "../migration/group.ts";
import { expandGroupRow } from "./group-history.ts";

/** Where a history row came from: pgroll/pgtandem, captured outside DDL, or a baseline. */
export type MigrationType = "pgroll" | "inferred" | "baseline";

/** One row of the `migrations` table. */
export interface MigrationRow {
  name: string;
  /** The base schema the migration applies to. */
  schema: string;
  /** The migration document: `{ version_schema?, operations }` (the name is not inside). */
  migration: Record<string, unknown>;
  /** The migration before this one in the schema's history, null for the first. */
  parent: string | null;
  /** False while the migration is active (started, not completed). */
  done: boolean;
  /** The schema as `read_schema` saw it when the migration completed; null until then. */
  resultingSchema: Schema | null;
  createdAt: Date;
  updatedAt: Date;
  migrationType: MigrationType;
}

export type { RunInfo } from "./run-record.ts";

interface MigrationRecord {
  name: string;
  schema: string;
  migration: Record<string, unknown>;
  parent: string | null;
  done: boolean;
  resulting_schema: unknown;
  created_at: Date;
  updated_at: Date;
  migration_type: string | null;
}

const ROW_COLUMNS =
  "name, schema, migration, parent, done, resulting_schema, created_at, updated_at, migration_type";

/** Reads and writes the state schema. Holds no connection: each call takes one from the pool. */
export class StateStore {
  private readonly sql: postgres.Sql;
  /** The state schema, `pgroll` unless the user chose another. */
  readonly stateSchema: string;
  /**
   * Reads of the live schema, through the same pool (its `read_schema` lives in the state
   * schema). The store itself keeps to the history.
   */
  readonly catalog: Catalog;

  /**
   * @param sql a postgres.js pool; the store takes connections from it per call.
   * @param stateSchema the state schema, `pgroll` unless the user chose another.
   */
  constructor(sql: postgres.Sql, stateSchema: string) {
    this.sql = sql;
    this.stateSchema = stateSchema;
    this.catalog = new Catalog(sql, stateSchema, withLockRetry);
  }

  /** A quoted, state-schema-qualified name. */
  private t(name: string): string {
    return ident(this.stateSchema, name);
  }

  /**
   * Creates or upgrades the state schema in one transaction (concurrent calls wait for each
   * other) and records `version` as the one that last ran init, replacing the previous record.
   */
  async init(version: string): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx.unsafe(stateInitSql(this.stateSchema));
      await tx.unsafe(`TRUNCATE ${this.t("pgroll_version")}`);
      await tx.unsafe(`INSERT INTO ${this.t("pgroll_version")} (version) VALUES ($1)`, [version]);
    });
  }

  /** True when the state schema holds the migrations table. */
  async isInitialized(): Promise<boolean> {
    const [row] = await this.sql.unsafe<{ found: boolean }[]>(
      `SELECT EXISTS (
        SELECT FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = 'migrations' AND c.relkind IN ('r', 'p')
      ) AS found`,
      [this.stateSchema],
    );
    return row?.found === true;
  }

  /** Throws a StateError telling the user to run init when the store is missing. */
  async assertInitialized(): Promise<void> {
    if (!(await this.isInitialized())) {
      throw new StateError(
        `pgtandem is not initialized in schema "${this.stateSchema}": run "pgtandem init" first`,
      );
    }
  }

  /**
   * The version recorded by the last init (pgroll's or ours); undefined when there is none,
   * including a state schema from a pgroll too old to record it.
   */
  async storedVersion(): Promise<string | undefined> {
    try {
      const [row] = await this.sql.unsafe<{ version: string }[]>(
        `SELECT version FROM ${this.t("pgroll_version")} ORDER BY initialized_at DESC LIMIT 1`,
      );
      return row?.version;
    } catch (error) {
      if (sqlstateOf(error) === "42P01") return undefined; // undefined_table
      throw error;
    }
  }

  /** The started, not yet completed migration of `schema`, if any. */
  async activeMigration(schema: string): Promise<MigrationRow | undefined> {
    const [row] = await this.sql.unsafe<MigrationRecord[]>(
      `SELECT ${ROW_COLUMNS} FROM ${this.t("migrations")}
      WHERE schema = $1 AND NOT done ORDER BY created_at DESC LIMIT 1`,
      [schema],
    );
    return row && toMigrationRow(row);
  }

  /** The newest migration of `schema` (the chain tip, of any type). */
  latestMigration(schema: string): Promise<string | undefined> {
    return this.callText("latest_migration", schema);
  }

  /** The parent of the newest migration of `schema`. */
  previousMigration(schema: string): Promise<string | undefined> {
    return this.callText("previous_migration", schema);
  }

  /** The newest version name whose version schema exists (no base-schema prefix). */
  latestVersion(schema: string): Promise<string | undefined> {
    return this.callText("latest_version", schema);
  }

  /** The version name before the latest one whose version schema exists. */
  previousVersion(schema: string): Promise<string | undefined> {
    return this.callText("previous_version", schema);
  }

  private async callText(fn: string, schema: string): Promise<string | undefined> {
    const [row] = await this.sql.unsafe<{ value: string | null }[]>(
      `SELECT ${this.t(fn)}($1) AS value`,
      [schema],
    );
    return row?.value ?? undefined;
  }

  /**
   * Records the start of migration `name`: its history row (parent = the current chain tip) and
   * pgtandem's run row, in one transaction. Refuses when a migration of the schema is active or
   * `name` is already in the history. `document` is stored as the migration JSON. For a group,
   * `members` are recorded in the run row (under `backfill.members`: a database initialised by an
   * earlier release needs no new column); complete writes them to history.
   */
  async startMigration(
    schema: string,
    name: string,
    document: object,
    startedSchema: object,
    options: { plugins?: readonly unknown[]; members?: readonly RecordedMember[] } = {},
  ): Promise<void> {
    try {
      await this.sql.begin(async (tx) => {
        const [existing] = await tx.unsafe(
          `SELECT FROM ${this.t("migrations")} WHERE schema = $1 AND name = $2`,
          [schema, name],
        );
        if (existing) throw alreadyExists(schema, name);
        // The active check, the parent and the insert share one statement, hence one snapshot:
        // a concurrent start either is visible here (no row inserted) or picked the same parent
        // and collides with us on history_is_linear / only_first_migration_without_parent.
        // JSON goes in as text cast to jsonb: postgres.js would JSON-encode a string bound
        // directly to a jsonb parameter a second time.
        const inserted = await tx.unsafe(
          `INSERT INTO ${this.t("migrations")} (schema, name, parent, migration)
          SELECT $1::name, $2::text, ${this.t("latest_migration")}($1), $3::text::jsonb
          WHERE NOT ${this.t("is_active_migration_period")}($1)
          RETURNING name`,
          [schema, name, JSON.stringify(document)],
        );
        if (inserted.length === 0) throw await this.inProgress(tx, schema);
        await tx.unsafe(
          `INSERT INTO ${this.t("pgtandem_runs")} (schema, name, started_schema, plugins, backfill)
          VALUES ($1, $2, $3::text::jsonb, $4::text::jsonb, $5::text::jsonb)`,
          [
            schema,
            name,
            JSON.stringify(startedSchema),
            JSON.stringify(options.plugins ?? []),
            JSON.stringify(initialRunRecord(options.members)),
          ],
        );
      });
    } catch (error) {
      throw translateUniqueViolation(error, schema, name);
    }
  }

  /** The error for a start refused because of an active migration, naming it. */
  private async inProgress(tx: postgres.TransactionSql, schema: string): Promise<StateError> {
    const [active] = await tx.unsafe<{ name: string }[]>(
      `SELECT name FROM ${this.t("migrations")} WHERE schema = $1 AND NOT done LIMIT 1`,
      [schema],
    );
    const which = active ? ` ("${active.name}")` : "";
    return new StateError(`a migration for schema "${schema}" is already in progress${which}`);
  }

  /** Is `name` in the history of `schema` (active or done, of any type)? */
  async hasMigration(schema: string, name: string): Promise<boolean> {
    const rows = await this.sql.unsafe(
      `SELECT FROM ${this.t("migrations")} WHERE schema = $1 AND name = $2`,
      [schema, name],
    );
    return rows.length > 0;
  }

  /**
   * Marks the active migration `name` done and stores the schema as it is now, as pgroll does
   * (`updated_at` is left alone). Throws when no such active migration exists. A group's
   * composite row is then replaced by one row per member (expandGroupRow), through `via`: given
   * the switch-over's transaction, history changes together with the schema.
   */
  async completeMigration(
    schema: string,
    name: string,
    via: postgres.Sql | postgres.TransactionSql = this.sql,
  ): Promise<void> {
    // The update and a group's expansion must commit together.
    if (via === this.sql) {
      return await this.sql.begin((tx) => this.completeMigration(schema, name, tx));
    }
    const rows = await readsCatalog(`complete migration "${name}"`, () =>
      via.unsafe(
        `UPDATE ${this.t("migrations")}
        SET done = true, resulting_schema = ${this.t("read_schema")}($3)
        WHERE schema = $1 AND name = $2 AND NOT done
        RETURNING name`,
        [schema, name, schema],
      ));
    if (rows.length === 0) {
      throw new StateError(
        `cannot complete migration "${name}" of schema "${schema}": it is not the active migration`,
      );
    }
    await expandGroupRow(via, this.stateSchema, schema, name);
  }

  /**
   * Writes a completed group's members to history when its composite row is still there (pgroll
   * completed the group); does nothing otherwise. Returns true when it expanded a row.
   */
  async expandCompletedGroup(schema: string, name: string): Promise<boolean> {
    return await this.sql.begin((tx) => expandGroupRow(tx, this.stateSchema, schema, name));
  }

  /**
   * Forgets the active migration `name` (rollback); its run row goes with it. Returns false
   * when there was nothing to delete, so a repeated rollback is harmless.
   */
  async deleteMigration(schema: string, name: string): Promise<boolean> {
    const rows = await this.sql.unsafe(
      `DELETE FROM ${this.t("migrations")} WHERE schema = $1 AND name = $2 AND NOT done
      RETURNING name`,
      [schema, name],
    );
    return rows.length > 0;
  }

  /** pgtandem's run row for migration `name`, absent when pgroll started it. */
  async runInfo(schema: string, name: string): Promise<RunInfo | undefined> {
    const [row] = await this.sql.unsafe<RunRow[]>(
      `SELECT started_schema, backfill, plugins, created_at FROM ${this.t("pgtandem_runs")}
      WHERE schema = $1 AND name = $2`,
      [schema, name],
    );
    return row ? parseRunRow(schema, name, row) : undefined;
  }

  /**
   * Saves backfill progress of migration `name`. The top-level keys of `progress` (one per
   * table) replace the stored ones; other tables' progress is kept.
   */
  async saveBackfillProgress(schema: string, name: string, progress: object): Promise<void> {
    const rows = await this.sql.unsafe(
      `UPDATE ${this.t("pgtandem_runs")} SET backfill = backfill || $3::text::jsonb
      WHERE schema = $1 AND name = $2
      RETURNING name`,
      [schema, name, JSON.stringify(progress)],
    );
    if (rows.length === 0) {
      throw new StateError(
        `cannot save backfill progress of migration "${name}" of schema "${schema}": no pgtandem run is recorded for it`,
      );
    }
  }

  /**
   * The schema's history after its latest baseline (the baseline itself excluded), oldest
   * first; active and inferred migrations included.
   */
  async history(schema: string): Promise<MigrationRow[]> {
    const rows = await this.sql.unsafe<MigrationRecord[]>(
      `SELECT ${ROW_COLUMNS} FROM ${this.t("migrations")} m
      WHERE m.schema = $1 AND m.created_at > COALESCE((
        SELECT max(b.created_at) FROM ${this.t("migrations")} b
        WHERE b.schema = $1 AND b.migration_type = 'baseline'
      ), '-infinity')
      ORDER BY m.created_at, m.name`,
      [schema],
    );
    return rows.map(toMigrationRow);
  }

  /**
   * `history()` as the migrations folder has it, file by file: the row of a group whose members
   * are not written to history yet (in flight, or completed by pgroll) stands for its members,
   * each with its own JSON (and the row's other fields). For `pull`.
   */
  async historyByFile(schema: string): Promise<MigrationRow[]> {
    const rows = await this.history(schema);
    const groups = await this.sql.unsafe<{ name: string; members: RecordedMember[] }[]>(
      `SELECT name, backfill -> 'members' AS members FROM ${this.t("pgtandem_runs")}
      WHERE schema = $1 AND jsonb_typeof(backfill -> 'members') = 'array'`,
      [schema],
    );
    const names = new Set(rows.map((r) => r.name));
    const members = new Map(
      groups.filter((g) => g.members.length > 1 && !names.has(g.members[0]!.name))
        .map((g) => [g.name, g.members]),
    );
    return rows.flatMap((row) =>
      members.get(row.name)?.map((m) => ({
        ...row,
        name: m.name,
        migration: m.document as unknown as Record<string, unknown>,
      })) ?? [row]
    );
  }

  /** The schema stored when migration `name` completed (or was baselined), if any. */
  async schemaAfter(schema: string, name: string): Promise<Schema | undefined> {
    const [row] = await this.sql.unsafe<{ resulting_schema: unknown }[]>(
      `SELECT resulting_schema FROM ${this.t("migrations")} WHERE schema = $1 AND name = $2`,
      [schema, name],
    );
    return (row && resultingSchemaOf(row.resulting_schema)) ?? undefined;
  }

  /**
   * The "existing schema without history" check start and migrate make: `schema` has tables
   * but not a single history row (a baseline counts as history, although `history()` starts
   * after it).
   */
  async needsBaseline(schema: string): Promise<boolean> {
    const [row] = await this.sql.unsafe<{ found: boolean }[]>(
      `SELECT EXISTS (SELECT FROM ${this.t("migrations")} WHERE schema = $1) AS found`,
      [schema],
    );
    return row?.found !== true && await this.catalog.schemaHasTables(schema);
  }

  /**
   * Records a baseline named `version`: a done migration with no operations whose resulting
   * schema is the live one. History readers start after the newest baseline. Refused while a
   * migration is active.
   */
  async createBaseline(schema: string, version: string): Promise<void> {
    try {
      // One statement, one snapshot: see startMigration.
      const inserted = await this.sql.unsafe(
        `INSERT INTO ${this.t("migrations")} (schema, name, migration, resulting_schema, done,
          parent, migration_type, created_at, updated_at)
        SELECT $1::name, $2::text, '{"operations": []}'::jsonb, ${this.t("read_schema")}($3), true,
          ${this.t("latest_migration")}($1), 'baseline', current_timestamp, current_timestamp
        WHERE NOT ${this.t("is_active_migration_period")}($1)
        RETURNING name`,
        [schema, version, schema],
      );
      if (inserted.length === 0) {
        throw new StateError(
          `cannot create baseline "${version}" for schema "${schema}": a migration is in progress`,
        );
      }
    } catch (error) {
      throw translateUniqueViolation(error, schema, version);
    }
  }

  /** The newest baseline of `schema` (where `history()` starts), if any. */
  async latestBaseline(schema: string): Promise<MigrationRow | undefined> {
    const [row] = await this.sql.unsafe<MigrationRecord[]>(
      `SELECT ${ROW_COLUMNS} FROM ${this.t("migrations")}
      WHERE schema = $1 AND migration_type = 'baseline'
      ORDER BY created_at DESC, name DESC LIMIT 1`,
      [schema],
    );
    return row && toMigrationRow(row);
  }

  /**
   * Every history row of `schema`, baselines and what precedes them included, oldest first
   * (`history()` is the part after the newest baseline).
   */
  async fullHistory(schema: string): Promise<MigrationRow[]> {
    const rows = await this.sql.unsafe<MigrationRecord[]>(
      `SELECT ${ROW_COLUMNS} FROM ${this.t("migrations")}
      WHERE schema = $1 ORDER BY created_at, name`,
      [schema],
    );
    return rows.map(toMigrationRow);
  }
}

function toMigrationRow(row: MigrationRecord): MigrationRow {
  return {
    name: row.name,
    schema: row.schema,
    migration: row.migration,
    parent: row.parent,
    done: row.done,
    resultingSchema: resultingSchemaOf(row.resulting_schema),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    // The column has a default but no NOT NULL; a NULL can only be a hand-made pgroll row.
    migrationType: (row.migration_type ?? "pgroll") as MigrationType,
  };
}

/** `resulting_schema` is `{}` until the migration completes. */
function resultingSchemaOf(value: unknown): Schema | null {
  return isRecord(value) && "tables" in value ? normalizeSchema(value) : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function alreadyExists(schema: string, name: string): StateError {
  return new StateError(`migration "${name}" already exists in the history of schema "${schema}"`);
}

/**
 * A unique violation means another session recorded a migration between our checks and our
 * insert: the same name (primary key), or another child of the same parent (history_is_linear,
 * only_first_migration_without_parent).
 */
function translateUniqueViolation(error: unknown, schema: string, name: string): unknown {
  if (sqlstateOf(error) !== "23505") return error;
  const constraint = (error as { constraint_name?: string }).constraint_name;
  if (constraint === "migrations_pkey" || constraint === "pgtandem_runs_pkey") {
    return new StateError(alreadyExists(schema, name).message, { cause: error });
  }
  return new StateError(
    `cannot record migration "${name}" for schema "${schema}": another migration was recorded at the same time`,
    { cause: error },
  );
}

/**
 * read_schema deparses defaults and predicates with pg_get_expr, which takes an ACCESS SHARE lock
 * on each table: behind a long ACCESS EXCLUSIVE lock it hits lock_timeout like any DDL, and is
 * retried like any DDL.
 */
function readsCatalog<T>(what: string, fn: () => Promise<T>): Promise<T> {
  return withLockRetry(what, fn);
}
