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

// ── Plugin API ─────────────────────────────────────────────────────────────────────────────────
// `definePlugin` and its types are added here by the plugin work (lib/plugins/). Plugins define
// their params with zod, so the same zod the engine uses is exported for them.
export { z } from "zod";

// ── Types of the canonical data and of operation definitions ───────────────────────────────────
export type { Migration, MigrationDocument } from "./migration/migration.ts";
export type { OperationDefinition } from "./operations/operation.ts";
