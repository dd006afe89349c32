/**
 * The checks start makes before it writes anything, shared by start itself and by `plan` (which
 * must refuse exactly when start would, with the same errors).
 */
import { type Issue, StateError, ValidationError } from "../errors.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import { migrationVersionName } from "../migration/migration.ts";
import { byteLength, MAX_IDENTIFIER_BYTES, versionSchemaName } from "../naming.ts";
import type { VirtualSchema } from "../schema/model.ts";
import type { Sql } from "./connection.ts";
import { dependentsAtStart } from "./dependents.ts";
import type { Action } from "../plan/action.ts";
import { expandOperations } from "./expansion.ts";
import { groupValidationError, isolatedMemberIssue } from "./group-checks.ts";
import { groupOf } from "../migration/group.ts";
import type { StateStore } from "./state.ts";
import { shapeIssues } from "./shape-checks.ts";
import { buildSteps, type OperationStep } from "../operations/steps.ts";
import { backfillIssues } from "./backfill-checks.ts";
import { userSqlIssues } from "./expression-check.ts";
import { anchorOrigins } from "./expression-origin.ts";

export interface PrepareOptions {
  sql: Sql;
  state: StateStore;
  schema: string;
  useVersionSchema: boolean;
  /** Go on when the backfill would fire user triggers; default false (an issue names them). */
  allowUserTriggers?: boolean;
}

/** The checked steps of a migration against the live schema, as start would build them. */
export interface PreparedMigration {
  initial: VirtualSchema;
  steps: OperationStep[];
  versionSchema: string | undefined;
  /** When a plugin operation expanded: the operations that run, for start to record. */
  expanded?: Record<string, unknown>[];
  /** Companions of user triggers on rewritten columns, created once the sync triggers exist. */
  dependentStart: Action[];
  /** What start accepts but the user should hear about (a `down` expression that fails). */
  warnings: Issue[];
}

/**
 * Start's checks, without its writes: refuses exactly when start would (another migration
 * active, baseline needed, validation issues) with the same errors.
 */
export async function prepareMigration(
  loaded: LoadedMigration,
  options: PrepareOptions,
): Promise<PreparedMigration> {
  const { state, schema } = options;
  await state.assertInitialized();
  const name = loaded.migration.name;
  const active = await state.activeMigration(schema);
  if (active) {
    throw new StateError(
      `cannot start "${name}": migration "${active.name}" is already in progress in schema "${schema}"`,
    );
  }
  if (await state.needsBaseline(schema)) {
    throw new StateError(
      `schema "${schema}" has tables but no migration history: run "pgtandem baseline" first`,
    );
  }
  const group = groupOf(loaded);
  if (group) {
    // A group is refused for a member already applied, before anything else is checked.
    for (const member of group) {
      if (await state.hasMigration(schema, member.name)) {
        throw new StateError(
          `${member.path}: migration "${member.name}" is already in the history of schema "${schema}"; a group starts only unapplied migrations`,
        );
      }
    }
    const isolated = isolatedMemberIssue(group, loaded.operations);
    if (isolated) throw isolated;
  }
  const initial = await state.catalog.readVirtualSchema(schema);
  const { steps, issues } = buildSteps(loaded.operations, initial, schema, { validate: true });
  let warnings: Issue[] = [];
  const threaded = issues.length > 0;
  if (issues.length === 0) {
    // Every user expression against the schema it will meet, before any other catalog check.
    const checked = await userSqlIssues(options.sql, steps, { baseSchema: schema });
    issues.push(...checked.errors);
    warnings = checked.warnings;
  }
  if (issues.length === 0) issues.push(...await shapeIssues(options.sql, schema, steps));
  const versionSchema = options.useVersionSchema
    ? versionSchemaName(schema, migrationVersionName(loaded.migration))
    : undefined;
  if (versionSchema !== undefined) {
    if (byteLength(versionSchema) > MAX_IDENTIFIER_BYTES) {
      issues.push({
        path: ["version_schema"],
        message:
          `version schema name "${versionSchema}" is longer than ${MAX_IDENTIFIER_BYTES} bytes; set a shorter "version_schema"`,
      });
    } else {
      const rows = await options.sql.unsafe(
        "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
        [versionSchema],
      );
      if (rows.length > 0) {
        issues.push({
          path: ["version_schema"],
          message:
            `schema "${versionSchema}" already exists; choose another migration name or "version_schema"`,
        });
      }
    }
  }
  let dependentStart: Action[] = [];
  if (issues.length === 0) {
    const dependents = await dependentsAtStart(
      { sql: options.sql, state, baseSchema: schema },
      steps,
    );
    issues.push(...dependents.issues);
    dependentStart = dependents.start;
  }
  if (issues.length === 0) {
    const backfilled = steps.flatMap((s) => s.result.backfills ?? []).map((b) => b.table);
    issues.push(
      ...await backfillIssues(options.sql, schema, backfilled, {
        allowUserTriggers: options.allowUserTriggers ?? false,
      }),
    );
  }
  if (issues.length > 0) {
    throw group
      ? groupValidationError(group, loaded.operations, issues, initial, schema, threaded)
      : new ValidationError(loaded.path, issues);
  }
  // Validated as written (issues name the plugin operation); run as the operations it stands for.
  const expanded = expandOperations(loaded.migration.operations, loaded.operations);
  if (!expanded) {
    anchorOrigins(steps, loaded);
    return { initial, steps, versionSchema, dependentStart, warnings };
  }
  const run = buildSteps(expanded.operations, initial, schema, { validate: false });
  anchorOrigins(run.steps, loaded, true);
  return {
    initial,
    steps: run.steps,
    versionSchema,
    expanded: expanded.documents,
    dependentStart,
    warnings,
  };
}
