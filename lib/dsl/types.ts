/**
 * The column type vocabulary, `t`. Each function returns a bare type that is also a column, so
 * `t.text()` can be used as it is or chained (`t.text().nullable()`). Every function writes the
 * type exactly as it is named (`t.int()` is `int`, `t.integer()` is `integer`), so a migration
 * printed as pgroll JSON reads like the TypeScript. Anything outside the vocabulary (enums, domains,
 * extension types) goes through the explicit escape hatch `t.raw("fruit_size")`.
 */
import { type ColumnType, columnType, type ValueKind } from "./column.ts";
import { misuse } from "./internal.ts";

/** Settings of `time` and `timestamp`. */
export interface TimeOptions {
  /** Fractional digits of seconds, 0–6. */
  readonly precision?: number;
  /** `with time zone`: e.g. `time with time zone`. */
  readonly withTimeZone?: boolean;
}

function whole(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw misuse(`${what} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function sized(name: string, length: number | undefined, what: string): string {
  return length === undefined ? name : `${name}(${whole(length, 1, 10485760, what)})`;
}

function exact(name: string, precision?: number, scale?: number): string {
  if (precision === undefined) {
    if (scale !== undefined) throw misuse(`${name}: a scale needs a precision`);
    return name;
  }
  whole(precision, 1, 1000, `${name} precision`);
  if (scale === undefined) return `${name}(${precision})`;
  // PostgreSQL 15+ also allows a negative scale or one above the precision; keep to the portable range.
  whole(scale, 0, precision, `${name} scale`);
  return `${name}(${precision},${scale})`;
}

function temporal(name: "time" | "timestamp", options: TimeOptions): string {
  const p = options.precision === undefined
    ? ""
    : `(${whole(options.precision, 0, 6, `${name} precision`)})`;
  return `${name}${p}${options.withTimeZone ? " with time zone" : ""}`;
}

function precise(name: string, precision?: number): string {
  return precision === undefined ? name : `${name}(${whole(precision, 0, 6, `${name} precision`)})`;
}

/** The column type vocabulary. */
export const t = Object.freeze({
  /** `smallint` (2 bytes). */
  smallint: (): ColumnType<"number"> => columnType("smallint", "number"),
  /** `integer` (4 bytes). */
  integer: (): ColumnType<"number"> => columnType("integer", "number"),
  /** `int`: the same type as `integer`, spelled as in many pgroll examples. */
  int: (): ColumnType<"number"> => columnType("int", "number"),
  /** `bigint` (8 bytes). */
  bigint: (): ColumnType<"number"> => columnType("bigint", "number"),
  /** `smallserial`: smallint filled from a sequence. */
  smallserial: (): ColumnType<"number", "filled"> => columnType("smallserial", "number"),
  /** `serial`: integer filled from a sequence. */
  serial: (): ColumnType<"number", "filled"> => columnType("serial", "number"),
  /** `bigserial`: bigint filled from a sequence. */
  bigserial: (): ColumnType<"number", "filled"> => columnType("bigserial", "number"),
  /** `real` (4-byte float). */
  real: (): ColumnType<"number"> => columnType("real", "number"),
  /** `double precision` (8-byte float). */
  doublePrecision: (): ColumnType<"number"> => columnType("double precision", "number"),
  /** `numeric`, `numeric(p)` or `numeric(p,s)`: exact decimal. */
  numeric: (precision?: number, scale?: number): ColumnType<"number"> =>
    columnType(exact("numeric", precision, scale), "number"),
  /** `decimal(p,s)`: the same type as `numeric`, spelled `decimal`. */
  decimal: (precision?: number, scale?: number): ColumnType<"number"> =>
    columnType(exact("decimal", precision, scale), "number"),
  /** `money`. */
  money: (): ColumnType<"any"> => columnType("money", "any"),

  /** `boolean`. */
  boolean: (): ColumnType<"boolean"> => columnType("boolean", "boolean"),

  /** `text`. */
  text: (): ColumnType<"string"> => columnType("text", "string"),
  /** `varchar` or `varchar(n)`. */
  varchar: (length?: number): ColumnType<"string"> =>
    columnType(sized("varchar", length, "varchar length"), "string"),
  /** `char` or `char(n)` (blank-padded). */
  char: (length?: number): ColumnType<"string"> =>
    columnType(sized("char", length, "char length"), "string"),
  /** `uuid`. */
  uuid: (): ColumnType<"string"> => columnType("uuid", "string"),
  /** `bytea` (binary; a string default is written as given, e.g. `\\x00ff`). */
  bytea: (): ColumnType<"string"> => columnType("bytea", "string"),

  /** `date`. */
  date: (): ColumnType<"string"> => columnType("date", "string"),
  /** `time`, `time(p)`, `time with time zone`. */
  time: (options: TimeOptions = {}): ColumnType<"string"> =>
    columnType(temporal("time", options), "string"),
  /** `timetz` or `timetz(p)`: time with time zone, short spelling. */
  timetz: (precision?: number): ColumnType<"string"> =>
    columnType(precise("timetz", precision), "string"),
  /** `timestamp`, `timestamp(p)`, `timestamp with time zone`. */
  timestamp: (options: TimeOptions = {}): ColumnType<"string"> =>
    columnType(temporal("timestamp", options), "string"),
  /** `timestamptz` or `timestamptz(p)`: timestamp with time zone, short spelling. */
  timestamptz: (precision?: number): ColumnType<"string"> =>
    columnType(precise("timestamptz", precision), "string"),
  /** `interval`. */
  interval: (): ColumnType<"string"> => columnType("interval", "string"),

  /** `json` (text kept as written). */
  json: (): ColumnType<"json"> => columnType("json", "json"),
  /** `jsonb` (binary JSON). */
  jsonb: (): ColumnType<"json"> => columnType("jsonb", "json"),

  /** `inet` (host address). */
  inet: (): ColumnType<"string"> => columnType("inet", "string"),
  /** `cidr` (network). */
  cidr: (): ColumnType<"string"> => columnType("cidr", "string"),
  /** `macaddr`. */
  macaddr: (): ColumnType<"string"> => columnType("macaddr", "string"),
  /** `tsvector` (full-text search document). */
  tsvector: (): ColumnType<"any"> => columnType("tsvector", "any"),
  /** `xml`. */
  xml: (): ColumnType<"string"> => columnType("xml", "string"),

  /** An array of a type: `t.array(t.text())` is `text[]` (same as `t.text().array()`). */
  array: (of: ColumnType<ValueKind, never>): ColumnType<"array"> => of.array(),

  /**
   * The escape hatch: any type as written in SQL, for enums, domains and extension types:
   * `t.raw("fruit_size")`. Its `defaultValue` accepts strings, numbers and booleans.
   */
  raw: (sqlType: string): ColumnType<"any"> => columnType(sqlType, "any"),
});
