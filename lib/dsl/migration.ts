/**
 * `defineMigration`: the default export of a TypeScript migration file. It turns the operation
 * builders into pgroll's canonical data, checks every operation with its params schema (all
 * problems at once) and returns the document deeply frozen: exactly what a YAML or JSON file with
 * the same operations parses to. As in pgroll the migration's name comes from the file name; a
 * `name` given here overrides it (the loader takes it out of the document before parsing).
 *
 * ```ts
 * import { createTable, defineMigration, sql, t } from "pgtandem";
 *
 * export default defineMigration({
 *   operations: [
 *     createTable("users", {
 *       id: t.serial().primaryKey(),
 *       email: t.text().unique(),
 *       created_at: t.timestamptz().default(sql`now()`),
 *     }),
 *   ],
 * });
 * ```
 */
import { type Issue, ValidationError } from "../errors.ts";
import { deepFreeze, type DeepReadonly } from "./internal.ts";
import { buildOperation, isOperation, type Operation } from "./operation.ts";

/** What `defineMigration` takes. */
export interface MigrationDefinition {
  /** The migration's name, instead of the file name (which is the default, as in pgroll). */
  readonly name?: string;
  /** `version_schema`: the version schema's suffix, instead of the migration (file) name. */
  readonly versionSchema?: string;
  /** The operations, run in order. */
  readonly operations: readonly Operation[];
}

/**
 * A migration as canonical data, `{ name?, version_schema?, operations }`, deeply frozen; without
 * `name` it is exactly pgroll's document.
 */
export type DefinedMigration = DeepReadonly<{
  name?: string;
  version_schema?: string;
  operations: Record<string, Record<string, unknown>>[];
}>;

/**
 * Builds a migration's canonical data from operation builders. Throws a ValidationError listing
 * every problem (paths like `operations[2].create_table.columns[0].type`).
 */
export function defineMigration(definition: MigrationDefinition): DefinedMigration {
  const source = "defineMigration";
  if (typeof definition !== "object" || definition === null) {
    throw new ValidationError(source, [{
      path: [],
      message: "expected an object with operations",
    }]);
  }
  const issues: Issue[] = [];
  const { name, versionSchema, operations } = definition;
  for (const [field, value] of [["name", name], ["versionSchema", versionSchema]] as const) {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      issues.push({ path: [field], message: "must be a non-empty string" });
    }
  }
  const data: Record<string, Record<string, unknown>>[] = [];
  if (!Array.isArray(operations)) {
    issues.push({ path: ["operations"], message: "expected an array of operations" });
  } else {
    operations.forEach((operation: unknown, index) => {
      const path = ["operations", index];
      if (!isOperation(operation)) {
        issues.push({
          path,
          message:
            `expected an operation built with the DSL (createTable(…), operation(kind, …) …), ` +
            `got ${operation === null ? "null" : typeof operation}`,
        });
        return;
      }
      const built = buildOperation(operation, path);
      issues.push(...built.issues);
      data.push(built.data);
    });
  }
  if (issues.length > 0) throw new ValidationError(source, issues);
  return deepFreeze({
    ...(name === undefined ? {} : { name }),
    ...(versionSchema === undefined ? {} : { version_schema: versionSchema }),
    operations: data,
  });
}
