/**
 * Whether `convert` may write `column::old_type` as the `down` of a type change, without a
 * database: a rule for the built-in types. With a database, `convert` asks pg_cast instead
 * (lib/cli/commands/convert.ts). An unknown pair is no cast: the `down` stays a placeholder.
 *
 * @module
 */

/** The built-in type families whose members cast to one another. */
const FAMILIES: RegExp[] = [
  /^(smallint|integer|int|int2|int4|int8|bigint|numeric|decimal|real|float4|float8|double precision)\b/,
  /^(timestamp|timestamptz|date)\b/,
  /^(time|timetz)\b/,
  /^(json|jsonb)$/,
  /^(inet|cidr)$/,
  /^(bit|varbit|bit varying)\b/,
];

/** String types: PostgreSQL casts any type to and from them through text I/O. */
const STRING = /^(text|varchar|character varying|char|character|bpchar|name)\b/;

function normalize(type: string): string {
  return type.trim().toLowerCase().replace(/\s+/g, " ");
}

/** Is there a cast from `from` to `to` among the built-in types (an explicit `::` cast)? */
export function builtinCastExists(from: string, to: string): boolean {
  const a = normalize(from);
  const b = normalize(to);
  if (a.endsWith("[]") || b.endsWith("[]")) {
    return a.replace(/\(.*\)/, "") === b.replace(/\(.*\)/, "");
  }
  if (a.replace(/\(.*\)/, "") === b.replace(/\(.*\)/, "")) return true;
  if (STRING.test(a) || STRING.test(b)) return true;
  if (a === "boolean" || a === "bool") return /^(integer|int|int4)$/.test(b);
  if (b === "boolean" || b === "bool") return /^(integer|int|int4)$/.test(a);
  return FAMILIES.some((family) => family.test(a) && family.test(b));
}
