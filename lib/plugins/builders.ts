/**
 * Typed builders of a plugin's operations: `definePlugin` puts one on the plugin for each kind,
 * so a TypeScript migration imports the plugin file and writes
 * `audit.addTimestamps({ table: "users" })` instead of `operation("audit:add_timestamps", {…})`,
 * with the params typed by the kind's zod schema (its input: fields with a default are optional)
 * and checked by it when the migration is defined.
 *
 * The builder's name is the kind after `<plugin>:`, in camelCase (`add_timestamps` →
 * `addTimestamps`). A kind whose builder name would be `name` or `operations` (the plugin's own
 * fields) gets no builder: use `operation(kind, …)` for it.
 */
import type { z } from "zod";
import { type Operation, simpleOperation } from "../dsl/operation.ts";
import { PgtandemError } from "../errors.ts";

/** `add_timestamps` → `addTimestamps` (the type of `camelCase`). */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** Fields of the plugin object that no builder may take. */
export type ReservedBuilderName = "name" | "operations";

/** The builder name of a kind `"<plugin>:<op>"`. */
export type BuilderName<Kind> = Kind extends `${string}:${infer Op}`
  ? Exclude<CamelCase<Op>, ReservedBuilderName>
  : never;

/** One builder per kind of `Schemas` (kind → params schema). */
export type PluginBuilders<Schemas> = {
  readonly [Kind in keyof Schemas & string as BuilderName<Kind>]: (
    params: Schemas[Kind] extends z.ZodType ? z.input<Schemas[Kind]> : never,
  ) => Operation<Kind>;
};

/** `add_timestamps` → `addTimestamps`; matches `CamelCase`. */
export function camelCase(text: string): string {
  return text.replace(/_([a-z0-9]?)/g, (_, next: string) => next.toUpperCase());
}

/** The builders of `operations` (kind → spec with `params`), for `definePlugin`. */
export function pluginBuilders(
  operations: Readonly<Record<string, { params?: unknown }>>,
): Record<string, (params: unknown) => Operation> {
  const builders: Record<string, (params: unknown) => Operation> = {};
  for (const [kind, spec] of Object.entries(operations)) {
    const colon = kind.indexOf(":");
    if (colon === -1) continue; // the loader reports the kind
    const name = camelCase(kind.slice(colon + 1));
    if (name === "" || name === "name" || name === "operations") continue;
    const schema = isZod(spec?.params) ? spec.params : undefined;
    builders[name] = (params: unknown) => {
      if (typeof params !== "object" || params === null || Array.isArray(params)) {
        throw new PgtandemError(
          "invalid_migration",
          `operation "${kind}": params must be an object`,
        );
      }
      return simpleOperation(kind, schema, { ...params });
    };
  }
  return builders;
}

function isZod(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null &&
    typeof (value as { safeParse?: unknown }).safeParse === "function";
}
