/**
 * The checks start makes before it writes anything, shared by start itself and by `plan` (which
 * must refuse exactly when start would, with the same errors).
 */
import { type Issue, StateError, ValidationError } from "../errors.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import { migrationVersionName } from "../migration/migration.ts";
import { versionSchemaName } from "../naming.ts";
import type { VirtualSchema } from "../schema/model.ts";
import type { Sql } from "./connection.ts";
import { dependentsAtStart } from "./dependents.ts";
import type { Action } from "../plan/action.ts";
import { expandOperations } from "./expansion.ts";
import { groupValidationError, isolatedMemberIssue } from "./group-checks.ts";
import { groupOf } from "../migration/group.ts";
import type { StateStore } from "./state.ts";
import { shapeIssues } from "./shape-checks.ts";
import { privilegeIssues } from "./privilege-checks.ts";
import { buildSteps, type OperationStep } from "../operations/steps.ts";
import { backfillIssues } from "./backfill-checks.ts";
import { versionSchemaIssues } from "./version-schema.ts";
import { userSqlIssues } from "./expression-check.ts";
import { anchorOrigins } from "./expression-origin.ts";

export interface PrepareOptions {
  sql: Sql;
  state: StateStore;
  schema: string;
  useVersionSchema: boolean;
  /** Go on when the backfill would fire user triggers; default false (an issue names them). */
  allowUserTriggers?: boolean;
  /**
   * Check against this schema instead of the live one: a later file of a folder checked as a
   * sequence (folder-check.ts), against what the files before it leave. The checks of live
   * objects (table shapes, dependent objects, backfill triggers) are then left to its start.
   */
  initial?: VirtualSchema;
  /** Version schemas the files before it in the sequence create (see version-schema.ts). */
  claimed?: Map<string, string>;
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
  const initial = options.initial ?? await state.catalog.readVirtualSchema(schema);
  const live = options.initial === undefined;
  const { steps, issues } = buildSteps(loaded.operations, initial, schema, { validate: true });
  let warnings: Issue[] = [];
  const threaded = issues.length > 0;
  if (issues.length === 0) {
    // Every user expression against the schema it will meet, before any other catalog check.
    const checked = await userSqlIssues(options.sql, steps, {
      baseSchema: schema,
      // Checked against the schema earlier files of a folder leave: what they create is not
      // in the catalog yet.
      objectsMayBeMissing: !live,
    });
    issues.push(...checked.errors);
    warnings = checked.warnings;
  }
  if (live && issues.length === 0) issues.push(...await shapeIssues(options.sql, schema, steps));
  const versionSchema = options.useVersionSchema
    ? versionSchemaName(schema, migrationVersionName(loaded.migration))
    : undefined;
  if (live && issues.length === 0) {
    issues.push(...await privilegeIssues(options.sql, schema, steps, versionSchema));
  }
  if (versionSchema !== undefined) {
    issues.push(
      ...await versionSchemaIssues(options.sql, schema, loaded.migration, {
        ...(options.claimed ? { claimed: options.claimed } : {}),
      }),
    );
  }
  let dependentStart: Action[] = [];
  if (live && issues.length === 0) {
    const dependents = await dependentsAtStart(
      { sql: options.sql, state, baseSchema: schema },
      steps,
    );
    issues.push(...dependents.issues);
    dependentStart = dependents.start;
  }
  if (live && issues.length === 0) {
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
