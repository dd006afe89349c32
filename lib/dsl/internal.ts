/**
 * Small helpers the DSL files share: keyword spellings, deep freezing, dropping unset fields, and
 * the error builders throw at the line that misuses them. Internal: not re-exported by mod.ts.
 */
import { PgtandemError } from "../errors.ts";

/**
 * A SQL keyword as the user may spell it: canonical (as pgroll documents it) or lower case.
 * Output keeps the spelling written, exactly as a YAML file would; the params schemas accept both.
 */
export type Spelling<T extends string> = T | Lowercase<T>;

/** A list with at least one element: constraints and indexes cover at least one column. */
export type NonEmpty<T> = readonly [T, ...T[]];

/** Deeply read-only view of plain data. */
export type DeepReadonly<T> = T extends (infer E)[] ? readonly DeepReadonly<E>[]
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
  : T;

/** Freezes plain data (objects and arrays) all the way down and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * A copy of `fields` without the entries whose value is `undefined`, so optional settings that were
 * not given do not appear in the output at all (a YAML file would not have them either).
 */
export function defined<T extends Record<string, unknown>>(
  fields: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) out[key] = value;
  }
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}

/**
 * The error a builder throws when it is called wrongly in a way the types cannot rule out (plain
 * JavaScript callers, values computed at run time). Thrown at the call, so the stack points at
 * the offending line of the migration.
 */
export function misuse(message: string): PgtandemError {
  return new PgtandemError("invalid_migration", message);
}

/** Throws unless `value` is a non-empty string; `what` names it in the message. */
export function requireName(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") {
    throw misuse(`${what} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Storage parameters of an index, `{ fillfactor: 70 }`; written as pgroll expects them,
 * `fillfactor = 70`. Values are numbers, booleans or plain words (`on`, `auto`).
 */
export type StorageParameters = { readonly [name: string]: number | boolean | string };

/** The `storage_parameters` text of a parameter object, or undefined when none are given. */
export function storageParametersText(
  parameters: StorageParameters | undefined,
): string | undefined {
  if (parameters === undefined) return undefined;
  const entries = Object.entries(parameters);
  if (entries.length === 0) return undefined;
  return entries.map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
      throw misuse(`storage parameter name ${JSON.stringify(name)} is not a plain word`);
    }
    const text = String(value);
    if (
      !(typeof value === "number" && Number.isFinite(value)) && typeof value !== "boolean" &&
      !(typeof value === "string" && /^[A-Za-z0-9_.-]+$/.test(value))
    ) {
      throw misuse(`storage parameter "${name}" has a value that is not a number or a plain word`);
    }
    return `${name} = ${text}`;
  }).join(", ");
}
