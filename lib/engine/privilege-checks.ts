/**
 * The privileges start needs besides owning the tables (shape-checks.ts checks that), read from
 * the catalog before any DDL: CREATE on the database for the version schema, and CREATE on the
 * migrated schema for the sync-trigger functions and new tables. Without them start used to run
 * its DDL (and backfill) up to the statement PostgreSQL refused, then undo it all.
 */
import type { Issue } from "../errors.ts";
import type { OperationStep } from "../operations/steps.ts";
import type { Sql } from "./connection.ts";
import { ident } from "../sql.ts";

/** The issues (path `[]`) that would make start fail for a missing privilege; empty when fine. */
export async function privilegeIssues(
  sql: Sql,
  schema: string,
  steps: readonly OperationStep[],
  versionSchema: string | undefined,
): Promise<Issue[]> {
  const [row] = await sql.unsafe<
    { who: string; db: string; on_database: boolean; on_schema: boolean | null }[]
  >(
    `SELECT current_user AS who, current_database() AS db,
       pg_catalog.has_database_privilege(current_database(), 'CREATE') AS on_database,
       (SELECT pg_catalog.has_schema_privilege(oid, 'CREATE') FROM pg_catalog.pg_namespace
         WHERE nspname = $1) AS on_schema`,
    [schema],
  );
  if (!row) return [];
  const issues: Issue[] = [];
  if (versionSchema !== undefined && !row.on_database) {
    issues.push({
      path: [],
      message:
        `role "${row.who}" needs CREATE on database "${row.db}" to create the version schema "${versionSchema}" (GRANT CREATE ON DATABASE ${
          ident(row.db)
        } TO ${ident(row.who)}), or run with --use-version-schema=false`,
    });
  }
  const createsInSchema = steps.some((step) =>
    (step.result.triggers ?? []).length > 0 || step.operation.kind === "create_table"
  );
  if (createsInSchema && row.on_schema === false) {
    issues.push({
      path: [],
      message:
        `role "${row.who}" needs CREATE on schema "${schema}" for the functions and tables the migration creates there (GRANT CREATE ON SCHEMA ${
          ident(schema)
        } TO ${ident(row.who)})`,
    });
  }
  return issues;
}
