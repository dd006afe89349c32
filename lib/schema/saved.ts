/**
 * The virtual schema as saved in pgtandem_runs.started_schema, parsed on the way back in.
 *
 * Complete and rollback replay a migration's operations from this snapshot, often in another
 * process and sometimes with another release of pgtandem. A snapshot that does not have the
 * shape this release expects must fail here, with the migration's name, rather than deep in an
 * operation as `Cannot read properties of undefined`.
 *
 * Objects pass unknown keys through: a later release may add optional fields within the same
 * format, and dropping them would change what complete does.
 */
import { z } from "zod";
import { formatPath } from "../errors.ts";
import type { UserSqlBrand } from "../user-sql.ts";
import type { VirtualSchema } from "./model.ts";

const nullableText = z.string().nullable();

/** A column's type or default: SQL that start recorded (the user's or PostgreSQL's). */
const sqlText = z.string().brand<UserSqlBrand>();

const index = z.looseObject({
  name: z.string(),
  unique: z.boolean(),
  exclusion: z.boolean().optional(),
  columns: z.array(z.string()),
  predicate: nullableText.optional(),
  method: z.string(),
  definition: z.string(),
  physicalName: z.string().optional(),
});

const checkConstraint = z.looseObject({
  name: z.string(),
  columns: z.array(z.string()),
  definition: z.string(),
  noInherit: z.boolean(),
});

const uniqueConstraint = z.looseObject({ name: z.string(), columns: z.array(z.string()) });

const foreignKey = z.looseObject({
  name: z.string(),
  columns: z.array(z.string()),
  referencedTable: z.string(),
  referencedColumns: z.array(z.string()),
  matchType: z.string(),
  onDelete: z.string(),
  onUpdate: z.string(),
});

const excludeConstraint = z.looseObject({
  name: z.string(),
  columns: z.array(z.string()),
  definition: z.string(),
  predicate: nullableText.optional(),
  method: z.string(),
});

const virtualColumn = z.looseObject({
  name: z.string(),
  type: sqlText,
  default: sqlText.nullable(),
  nullable: z.boolean(),
  unique: z.boolean(),
  comment: nullableText,
  enumValues: z.array(z.string()).nullable().optional(),
  postgresType: z.string().optional(),
  physicalName: z.string(),
});

const virtualTable = z.looseObject({
  name: z.string(),
  physicalName: z.string(),
  comment: nullableText,
  columns: z.array(virtualColumn),
  primaryKey: z.array(z.string()),
  indexes: z.record(z.string(), index),
  checkConstraints: z.record(z.string(), checkConstraint),
  uniqueConstraints: z.record(z.string(), uniqueConstraint),
  foreignKeys: z.record(z.string(), foreignKey),
  excludeConstraints: z.record(z.string(), excludeConstraint),
  replicaIdentity: z.looseObject({
    type: z.enum(["DEFAULT", "NOTHING", "FULL", "INDEX"]),
    index: z.string().optional(),
  }).optional(),
  droppedConstraints: z.array(z.string()).optional(),
  renamedConstraints: z.record(z.string(), z.string()).optional(),
});

/** The zod schema of a saved {@link VirtualSchema}. */
export const savedVirtualSchema = z.looseObject({
  name: z.string(),
  tables: z.array(virtualTable),
  reservedRelationNames: z.array(z.string()).optional(),
});

/**
 * Parses a saved virtual schema; `problem` receives the first mismatch as `path: message`
 * (e.g. `tables[2].columns[0].physicalName: expected string`) and must throw.
 */
export function parseSavedVirtualSchema(
  value: unknown,
  problem: (detail: string) => never,
): VirtualSchema {
  const result = savedVirtualSchema.safeParse(value);
  // The cast only bridges zod's `T | undefined` for optional keys and the model's exact optional
  // properties: zod leaves an absent key absent, so the parsed value is a VirtualSchema.
  if (result.success) return result.data as VirtualSchema;
  const first = result.error.issues[0]!;
  const where = formatPath(first.path.map((p) => typeof p === "number" ? p : String(p)));
  return problem(`${where || "(root)"}: ${first.message}`);
}
