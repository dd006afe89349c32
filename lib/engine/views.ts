/**
 * Version schemas: one schema of views per migration, `<base>_<version>`. Each view is a plain
 * single-table projection (so PostgreSQL makes it auto-updatable) that maps the version's virtual
 * names onto the physical table and columns. Views bind to the table's OID and attribute numbers,
 * so they keep working while complete renames or drops physical objects underneath.
 */
import { ident } from "../sql.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { type Action, sqlAction } from "./plan.ts";

export interface ViewOptions {
  baseSchema: string;
  versionSchema: string;
  /** security_invoker (row-level security of the base table applies) needs PostgreSQL 15. */
  serverMajor: number;
}

/** Creates (or replaces) the version schema and one view per table of the virtual schema. */
export function createVersionViewsActions(schema: VirtualSchema, options: ViewOptions): Action[] {
  const actions: Action[] = [
    sqlAction(
      `create_version_schema_${options.versionSchema}`,
      `CREATE SCHEMA IF NOT EXISTS ${ident(options.versionSchema)}`,
      { lock: "none" },
    ),
  ];
  for (const table of schema.tables) actions.push(viewAction(table, options));
  return actions;
}

function viewAction(table: VirtualTable, options: ViewOptions): Action {
  const view = ident(options.versionSchema, table.name);
  const select = table.columns.length === 0
    ? "NULL::int AS _no_columns WHERE false"
    : table.columns.map((c) => `${ident(c.physicalName)} AS ${ident(c.name)}`).join(", ");
  const withOptions = options.serverMajor >= 15 ? " WITH (security_invoker = true)" : "";
  const statements = [
    `DROP VIEW IF EXISTS ${view}`,
    `CREATE VIEW ${view}${withOptions} AS SELECT ${select} FROM ${
      ident(options.baseSchema, table.physicalName)
    }`,
  ];
  // Inserts through a view use the view's defaults; a column whose default lives only in the
  // virtual schema (e.g. an added column whose physical copy has none yet) needs one here.
  for (const column of table.columns) {
    if (column.default !== null) {
      statements.push(
        `ALTER VIEW ${view} ALTER COLUMN ${ident(column.name)} SET DEFAULT ${column.default}`,
      );
    }
  }
  // Several statements in one simple query run as one implicit transaction, so no client ever
  // sees the version without the view.
  return sqlAction(
    `create_view_${options.versionSchema}_${table.name}`,
    statements.join(";\n"),
    { table: table.physicalName, lock: "ACCESS SHARE" },
  );
}

export function dropVersionSchemaAction(versionSchema: string): Action {
  return sqlAction(
    `drop_version_schema_${versionSchema}`,
    `DROP SCHEMA IF EXISTS ${ident(versionSchema)} CASCADE`,
    { lock: "none" },
  );
}
