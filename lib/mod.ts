/**
 * pgtandem's public module, what migrations and plugins import as "pgtandem". Everything else in
 * lib/ is internal; what is exported here is a semver promise (STYLE 13).
 *
 * ```ts
 * import { createTable, defineMigration, sql, t } from "pgtandem";
 * ```
 *
 * @module
 */

// ── Migration DSL ──────────────────────────────────────────────────────────────────────────────
// Typed, immutable builders that end in exactly the canonical data of a pgroll migration file.
export * from "./dsl/mod.ts";

// ── Plugin API (version 1) ─────────────────────────────────────────────────────────────────────
// `definePlugin` (lib/plugins/define.ts) and the engine's building blocks a plugin operation plans
// with: actions, SQL quoting, the virtual schema. Plugins define their params with zod, so the
// same zod the engine uses is exported for them.
export { z } from "zod";
export { definePlugin, isPlugin, PLUGIN_API_VERSION } from "./plugins/define.ts";
export type {
  DirectOperationSpec,
  ExpandedOperation,
  ExpandOperationSpec,
  Plugin,
  PluginDefinition,
  PluginOperations,
  PluginOperationSpec,
  TypedPlugin,
} from "./plugins/define.ts";
export type { PluginBuilders } from "./plugins/builders.ts";
export { sqlAction } from "./plan/action.ts";
export type { Action, LockLevel, SqlAction } from "./plan/action.ts";
export { ident, identList, literal } from "./sql.ts";
export { userSql } from "./user-sql.ts";
export type { UserSql } from "./user-sql.ts";
export { findColumn, findTable } from "./schema/virtual.ts";
export type { VirtualColumn, VirtualSchema, VirtualTable } from "./schema/model.ts";
export type { Issue } from "./errors.ts";
export type {
  BackfillTask,
  FinishContext,
  StartContext,
  StartResult,
  TriggerSpec,
} from "./operations/operation.ts";

// ── Types of the canonical data and of operation definitions ───────────────────────────────────
export type { Migration, MigrationDocument } from "./migration/migration.ts";
export type { OperationDefinition } from "./operations/operation.ts";
