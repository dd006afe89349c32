/**
 * Schema JSON → the `Schema` model. The JSON comes from our read_schema, pgroll's read_schema or
 * pgroll's Go encoder (baselines); see normalizeSchema.
 */
import type {
  CheckConstraint,
  Column,
  ExcludeConstraint,
  ForeignKey,
  Index,
  Schema,
  Table,
  UniqueConstraint,
} from "./model.ts";
import { engineSql } from "../user-sql.ts";

/**
 * Turns stored or freshly read schema JSON into the `Schema` model. Three writers exist and all
 * are accepted: our read_schema (null-stripped: missing keys mean null or empty), pgroll's
 * read_schema (the same, but spelling `enumvalues` and `postgrestype` in lower case) and
 * pgroll's Go encoder, used for baselines (every key present, `""` for no comment, `null` for
 * empty maps).
 */
export function normalizeSchema(raw: unknown): Schema {
  const schema = record(raw);
  return {
    name: text(schema.name),
    tables: mapOf(schema.tables, (name, t): Table => ({
      name: text(t.name, name),
      oid: String(t.oid ?? ""),
      comment: optionalText(t.comment),
      ...(typeof t.partitionOf === "string" ? { partitionOf: t.partitionOf } : {}),
      columns: mapOf(t.columns, normalizeColumn),
      primaryKey: names(t.primaryKey),
      indexes: mapOf(t.indexes, (name, i): Index => {
        const index: Index = {
          name: text(i.name, name),
          unique: i.unique === true,
          exclusion: i.exclusion === true,
          columns: names(i.columns),
          method: text(i.method),
          definition: text(i.definition),
        };
        const predicate = optionalText(i.predicate);
        if (predicate !== null) index.predicate = predicate;
        return index;
      }),
      checkConstraints: mapOf(t.checkConstraints, (name, c): CheckConstraint => ({
        name: text(c.name, name),
        columns: names(c.columns),
        definition: text(c.definition),
        noInherit: c.noInherit === true,
      })),
      uniqueConstraints: mapOf(t.uniqueConstraints, (name, c): UniqueConstraint => ({
        name: text(c.name, name),
        columns: names(c.columns),
      })),
      foreignKeys: mapOf(t.foreignKeys, (name, f): ForeignKey => ({
        name: text(f.name, name),
        columns: names(f.columns),
        referencedTable: text(f.referencedTable),
        referencedColumns: names(f.referencedColumns),
        matchType: text(f.matchType, "SIMPLE"),
        onDelete: text(f.onDelete, "NO ACTION"),
        onUpdate: text(f.onUpdate, "NO ACTION"),
      })),
      excludeConstraints: mapOf(t.excludeConstraints, (name, x): ExcludeConstraint => {
        const exclude: ExcludeConstraint = {
          name: text(x.name, name),
          columns: names(x.columns),
          definition: text(x.definition),
          method: text(x.method),
        };
        const predicate = optionalText(x.predicate);
        if (predicate !== null) exclude.predicate = predicate;
        return exclude;
      }),
    })),
  };
}

function normalizeColumn(name: string, c: Record<string, unknown>): Column {
  const column: Column = {
    name: text(c.name, name),
    // A column's type and default as PostgreSQL printed them (format_type, pg_get_expr), or as
    // a migration of pgroll's or ours recorded them: SQL text the database itself produced.
    type: engineSql(text(c.type)),
    default: typeof c.default === "string" ? engineSql(c.default) : null,
    nullable: c.nullable === true,
    unique: c.unique === true,
    comment: optionalText(c.comment),
  };
  const enumValues = c.enumValues ?? c.enumvalues;
  if (Array.isArray(enumValues)) column.enumValues = enumValues.map(String);
  const postgresType = optionalText(c.postgresType ?? c.postgrestype);
  if (postgresType !== null) column.postgresType = postgresType;
  return column;
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function mapOf<T>(
  value: unknown,
  convert: (key: string, item: Record<string, unknown>) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, item] of Object.entries(record(value))) out[key] = convert(key, record(item));
  return out;
}

function text(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

/** PostgreSQL cannot store an empty comment or predicate, so `""` (Go's zero value) is none. */
function optionalText(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function names(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
