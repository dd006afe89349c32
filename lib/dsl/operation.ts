/**
 * What every operation builder is: a value `defineMigration` accepts, which builds the canonical
 * `{ <kind>: <body> }` data on demand and checks it with the kind's params schema. The brand is a
 * `Symbol.for` key, so operations built by a plugin's own copy of the DSL are accepted too.
 */
import type { z } from "zod";
import { type Issue, ValidationError } from "../errors.ts";
import { issuesFromZod } from "../migration/migration.ts";
import type { PluginOperationParams } from "./folder-schema.ts";
import { deepFreeze, type DeepReadonly, misuse, requireName } from "./internal.ts";

const OPERATION_BRAND: unique symbol = Symbol.for("pgtandem.dsl.operation");

/** One operation as canonical data: `{ create_table: { … } }`, deeply frozen. */
export type OperationData = DeepReadonly<Record<string, Record<string, unknown>>>;

/** An operation's kind, body and (for built-in kinds) the params schema that checks the body. */
export interface BuiltOperation {
  readonly kind: string;
  readonly body: Record<string, unknown>;
  readonly schema?: z.ZodType;
}

/** An operation ready to go into `defineMigration`. Immutable. */
export interface Operation<Kind extends string = string> {
  readonly [OPERATION_BRAND]: () => BuiltOperation;
  /** The operation kind, the key in pgroll's JSON: `create_table`, `acme:add_audit_columns`. */
  readonly kind: Kind;
  /** The canonical data `{ [kind]: body }`, checked and frozen; throws a ValidationError. */
  toJSON(): OperationData;
}

/** The brand key, for classes that are operations themselves. */
export const OPERATION: typeof OPERATION_BRAND = OPERATION_BRAND;

/** True when `value` is an operation built by any copy of the DSL. */
export function isOperation(value: unknown): value is Operation {
  return typeof value === "object" && value !== null &&
    typeof (value as Record<PropertyKey, unknown>)[OPERATION_BRAND] === "function";
}

/** Builds an operation's data and collects the problems its params schema finds. */
export function buildOperation(
  operation: Operation,
  path: readonly (string | number)[],
): { data: Record<string, Record<string, unknown>>; issues: Issue[] } {
  const { kind, body, schema } = operation[OPERATION_BRAND]();
  // A JSON copy: nothing shared with builder state, no undefined fields.
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const issues: Issue[] = [];
  if (schema) {
    const result = schema.safeParse(copy, { reportInput: true });
    if (!result.success) issues.push(...issuesFromZod(result.error.issues, [...path, kind]));
  }
  return { data: { [kind]: copy }, issues };
}

/** The canonical data of one operation, checked and frozen. */
export function operationData(operation: Operation): OperationData {
  const { data, issues } = buildOperation(operation, []);
  if (issues.length > 0) throw new ValidationError(`operation "${operation.kind}"`, issues);
  return deepFreeze(data);
}

/** An operation from a body built eagerly; `schema` checks it when the migration is defined. */
export function simpleOperation<Kind extends string>(
  kind: Kind,
  schema: z.ZodType | undefined,
  body: Record<string, unknown>,
): Operation<Kind> {
  const frozen = deepFreeze(JSON.parse(JSON.stringify(body)) as Record<string, unknown>);
  const built: BuiltOperation = Object.freeze(
    schema ? { kind, body: frozen, schema } : { kind, body: frozen },
  );
  const operation: Operation<Kind> = Object.freeze({
    [OPERATION_BRAND]: () => built,
    kind,
    toJSON: (): OperationData => operationData(operation),
  });
  return operation;
}

/**
 * The params `operation(kind, …)` takes: typed for the kinds of the plugins `pgtandem types`
 * found in the folder's config, any object otherwise.
 */
export type OperationParams<Kind extends string> = Kind extends keyof PluginOperationParams
  ? PluginOperationParams[Kind]
  : Readonly<Record<string, unknown>>;

/**
 * An operation given as raw data: a plugin's kind, or any kind the DSL has no builder for.
 * `operation("acme:add_audit_columns", { table: "users" })`. The body is checked when the
 * migration is loaded, by the kind's registered params schema; its type too, for the kinds of
 * the plugins in the folder's generated types (`pgtandem types`).
 */
export function operation<Kind extends string>(
  kind: Kind,
  params: OperationParams<Kind>,
): Operation<Kind> {
  requireName(kind, "operation kind");
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw misuse(`operation "${kind}": params must be an object`);
  }
  return simpleOperation(kind, undefined, { ...params });
}
