/**
 * The plugin API, version 1: what a plugin module default-exports. A plugin adds operation kinds,
 * namespaced with its name (`audit:add_timestamps`). Each kind either expands into built-in
 * operations (and inherits their zero-downtime behaviour) or plans its own actions with the
 * engine's building blocks, exactly as a built-in OperationDefinition does.
 *
 * ```ts
 * import { definePlugin, z } from "pgtandem";
 *
 * export default definePlugin({
 *   name: "audit",
 *   operations: {
 *     "audit:add_timestamps": {
 *       params: z.object({ table: z.string() }).strict(),
 *       expand: ({ table }) => [
 *         { add_column: { table, column: { name: "created_at", type: "timestamptz", default: "now()" } } },
 *       ],
 *     },
 *   },
 * });
 * ```
 *
 * Plugins are recognised by a `Symbol.for` brand, never `instanceof` (STYLE 6): a plugin may carry
 * its own copy of these helpers.
 */
import type { z } from "zod";
import type { Operation } from "../dsl/operation.ts";
import type { Action } from "../plan/action.ts";
import type { Issue } from "../errors.ts";
import type { FinishContext, StartContext, StartResult } from "../operations/operation.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { type PluginBuilders, pluginBuilders } from "./builders.ts";

/** The brand key; its value is the plugin API version the plugin was defined with. */
export const PLUGIN_BRAND: unique symbol = Symbol.for("pgtandem.plugin");

/** The plugin API version this copy of pgtandem defines and accepts. */
export const PLUGIN_API_VERSION = 1;

/**
 * One operation an expansion produces: canonical data `{ add_column: { … } }`, or an operation
 * built with the DSL (`addColumn(…)`). Only built-in kinds may appear.
 */
export type ExpandedOperation = Readonly<Record<string, unknown>> | Operation;

interface OperationSpecBase<Params extends z.ZodType> {
  /**
   * Zod schema of the operation's body in a migration file; make it `.strict()` so a misspelt
   * field is an error. It also describes the kind in `pgtandem schema`.
   */
  params: Params;
  /** One line for the JSON Schema and the docs. */
  description?: string;
}

/**
 * An operation that expands into built-in operations. The engine validates, starts, completes
 * and rolls back the expanded operations exactly as if they were written in the migration, with
 * the virtual schema threaded through them. `expand` must be pure: it runs again at complete and
 * rollback, possibly in a later run of the tool.
 */
export interface ExpandOperationSpec<Params extends z.ZodType> extends OperationSpecBase<Params> {
  expand(params: z.output<Params>): readonly ExpandedOperation[];
}

/**
 * An operation that plans its own actions, with the contract of a built-in OperationDefinition
 * (lib/operations/operation.ts): phases never touch the database, they return actions
 * (`sqlAction(id, sql, options)`) for the engine to run with lock_timeout and retry.
 *
 *  - validate (optional): problems against the virtual schema, paths relative to the body.
 *  - start: changes `context.schema` if the version's tables change, returns the actions (or a
 *    StartResult with triggers and backfills) that let the old and new version both work. They
 *    run in operation order, so a type created here exists for the next operation's new column.
 *  - complete: actions that make the change final once the old version is gone.
 *  - rollback: actions that undo start; idempotent (`IF EXISTS`), since they also clean up a
 *    start that failed half-way.
 */
export interface DirectOperationSpec<Params extends z.ZodType> extends OperationSpecBase<Params> {
  validate?(params: z.output<Params>, schema: VirtualSchema): Issue[];
  start(params: z.output<Params>, context: StartContext): StartResult | Action[];
  complete(params: z.output<Params>, context: FinishContext): Action[];
  rollback(params: z.output<Params>, context: FinishContext): Action[];
}

/** One operation kind of a plugin: an expansion or a direct definition. */
export type PluginOperationSpec<Params extends z.ZodType = z.ZodType> =
  | ExpandOperationSpec<Params>
  | DirectOperationSpec<Params>;

/** What `definePlugin` takes: the plugin's name and its operations, keyed `"<name>:<kind>"`. */
export interface PluginDefinition<
  Name extends string,
  Schemas extends Record<string, z.ZodType>,
> {
  /** Lower-case letters, digits, `_` and `-`; the namespace of every kind of the plugin. */
  name: Name;
  operations: { [Kind in keyof Schemas]: PluginOperationSpec<Schemas[Kind]> };
}

/** Kinds must be `"<name>:<kind>"`: another key is a type error at `definePlugin`. */
export type Namespaced<Name extends string, Schemas> = {
  [Kind in keyof Schemas]: Kind extends `${Name}:${string}` ? z.ZodType : never;
};

/** A plugin as `definePlugin` returns it: branded, frozen plain data. */
export interface Plugin {
  readonly [PLUGIN_BRAND]: number;
  readonly name: string;
  readonly operations: Readonly<Record<string, PluginOperationSpec>>;
}

/** Type-only key carrying a plugin's params schemas; never present at run time. */
declare const PLUGIN_KINDS: unique symbol;

/**
 * A plugin with a typed builder per kind (lib/plugins/builders.ts):
 * `audit.addTimestamps({ table: "users" })` is `operation("audit:add_timestamps", …)` with its
 * params typed by the kind's zod schema.
 */
export type TypedPlugin<Schemas> = Plugin & PluginBuilders<Schemas> & {
  readonly [PLUGIN_KINDS]?: Schemas;
};

/**
 * The params (zod input) of each kind of a plugin module's default export, kind → params: what
 * `pgtandem types` puts in the folder's types for `operation(kind, params)`.
 */
export type PluginOperations<P> = P extends { readonly [PLUGIN_KINDS]?: infer Schemas }
  ? { [Kind in keyof NonNullable<Schemas>]: z.input<NonNullable<Schemas>[Kind] & z.ZodType> }
  : Record<never, never>;

/**
 * Defines a plugin; the plugin module's default export. Checks happen when the plugin is loaded
 * (`--plugin` or the config file), where every problem is reported with the plugin's file.
 */
export function definePlugin<
  const Name extends string,
  Schemas extends Namespaced<Name, Schemas>,
>(definition: PluginDefinition<Name, Schemas>): TypedPlugin<Schemas> {
  const { name, operations } = definition ?? ({} as PluginDefinition<Name, Schemas>);
  const frozen = Object.freeze({ ...operations }) as Plugin["operations"];
  return Object.freeze({
    ...(typeof operations === "object" && operations !== null ? pluginBuilders(frozen) : {}),
    [PLUGIN_BRAND]: PLUGIN_API_VERSION,
    name,
    operations: frozen,
  }) as unknown as TypedPlugin<Schemas>;
}

/** True when `value` was made by `definePlugin` of any copy of pgtandem. */
export function isPlugin(value: unknown): value is Plugin {
  return typeof value === "object" && value !== null &&
    typeof (value as Record<PropertyKey, unknown>)[PLUGIN_BRAND] === "number";
}
