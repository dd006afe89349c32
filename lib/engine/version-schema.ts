/**
 * The one check that a migration's version schema can be created: its name fits in an
 * identifier, no other migration of the same run claims it, and no schema of that name exists.
 * start (prepare.ts), `validate FILE` and the folder's sequence check all ask this function.
 */
import type { Issue } from "../errors.ts";
import { migrationVersionName } from "../migration/migration.ts";
import type { Migration } from "../migration/migration.ts";
import { byteLength, MAX_IDENTIFIER_BYTES, versionSchemaName } from "../naming.ts";
import type { Sql } from "./connection.ts";

export interface VersionSchemaCheck {
  /**
   * Version schemas other migrations of the same run will create (schema name → migration
   * name); the checked migration's is added to it.
   */
  claimed?: Map<string, string>;
  /**
   * The migration is already in the history: its version schema existing is no news (the
   * caller reports the migration as applied instead).
   */
  applied?: boolean;
}

/** The issues (path `version_schema`) that keep `migration`'s version schema from being created. */
export async function versionSchemaIssues(
  sql: Sql,
  baseSchema: string,
  migration: Pick<Migration, "name" | "version_schema">,
  check: VersionSchemaCheck = {},
): Promise<Issue[]> {
  const versionSchema = versionSchemaName(baseSchema, migrationVersionName(migration));
  const path = ["version_schema"];
  if (byteLength(versionSchema) > MAX_IDENTIFIER_BYTES) {
    return [{
      path,
      message:
        `version schema name "${versionSchema}" is longer than ${MAX_IDENTIFIER_BYTES} bytes; set a shorter "version_schema"`,
    }];
  }
  const other = check.claimed?.get(versionSchema);
  check.claimed?.set(versionSchema, migration.name);
  if (other !== undefined) {
    return [{
      path,
      message: `version schema "${versionSchema}" is also the one of migration "${other}"`,
    }];
  }
  if (check.applied || !(await schemaExists(sql, versionSchema))) return [];
  return [{
    path,
    message:
      `schema "${versionSchema}" already exists; choose another migration name or "version_schema"`,
  }];
}

/** Does a schema (namespace) of this name exist? */
export async function schemaExists(sql: Sql, name: string): Promise<boolean> {
  const rows = await sql.unsafe(
    "SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1",
    [name],
  );
  return rows.length > 0;
}
