/**
 * Version schemas: one schema of views per migration, `<base>_<version>`. Each view is a plain
 * single-table projection (so PostgreSQL makes it auto-updatable) that maps the version's virtual
 * names onto the physical table and columns. Views bind to the table's OID and attribute numbers,
 * so they keep working while complete renames or drops physical objects underneath.
 *
 * Privileges follow the base schema: whoever may use the base schema may use the version schema,
 * and each view carries the privileges its table grants (table-wide and per column, under the
 * column's virtual name). A view that is rebuilt keeps what was granted on it, too, so an
 * operator's grants on a version survive a complete that rebuilds its views. Nothing else: what
 * the creating role's default privileges would add to a new view is revoked.
 */
import { dollarQuote, ident, literal } from "../sql.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { type Action, sqlAction } from "../plan/action.ts";

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
      `CREATE SCHEMA IF NOT EXISTS ${ident(options.versionSchema)};\n${schemaUsageSql(options)}`,
      { lock: "none" },
    ),
  ];
  for (const table of schema.tables) actions.push(viewAction(table, options));
  return actions;
}

function viewAction(table: VirtualTable, options: ViewOptions): Action {
  const view = ident(options.versionSchema, table.name);
  const base = ident(options.baseSchema, table.physicalName);
  // A table without columns gets a view without columns (`SELECT FROM t`), as in pgroll.
  const select = table.columns.map((c) => `${ident(c.physicalName)} AS ${ident(c.name)}`)
    .join(", ");
  const withOptions = options.serverMajor >= 15 ? " WITH (security_invoker = true)" : "";
  const statements = [
    `DROP VIEW IF EXISTS ${view}`,
    `CREATE VIEW ${view}${withOptions} AS SELECT ${select} FROM ${base}`,
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
  // One DO block is one statement, so no client ever sees the version without the view, and
  // the old view's grants can be read before it goes and granted again after.
  return sqlAction(
    `create_view_${options.versionSchema}_${table.name}`,
    `DO ${dollarQuote(viewBlock(view, base, table, statements))}`,
    { table: table.physicalName, lock: "ACCESS SHARE" },
  );
}

/**
 * The body of the DO block that (re)creates one view: it saves the grants of the view it
 * replaces, runs `statements`, then grants the base table's privileges and the saved ones.
 * Statements go through EXECUTE: PL/pgSQL would otherwise substitute its variables into them.
 *
 * The creating role's default privileges (ALTER DEFAULT PRIVILEGES … ON TABLES) may give a new
 * view more than its table grants; on PostgreSQL 14 a view reads the table as its owner, so a
 * role could read through it a table it has no grant on. They are revoked before the grants due.
 */
function viewBlock(
  view: string,
  base: string,
  table: VirtualTable,
  statements: readonly string[],
): string {
  const columns = table.columns.length === 0
    ? "SELECT NULL::name, NULL::name WHERE false"
    : `VALUES ${
      table.columns.map((c) => `(${literal(c.physicalName)}::name, ${literal(c.name)}::name)`)
        .join(", ")
    }`;
  return `
DECLARE
  pgtandem_grants jsonb;
  pgtandem_grant record;
BEGIN
  -- What was granted on the view being replaced: table-wide (column NULL) and per column.
  SELECT jsonb_agg(g) INTO pgtandem_grants FROM (
    SELECT NULL::name AS col, x.grantee, x.privilege_type, x.is_grantable
    FROM pg_catalog.pg_class v, pg_catalog.aclexplode(v.relacl) x
    WHERE v.oid = pg_catalog.to_regclass(${literal(view)}) AND v.relkind = 'v'
    UNION ALL
    SELECT a.attname, x.grantee, x.privilege_type, x.is_grantable
    FROM pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) x
    WHERE a.attrelid = pg_catalog.to_regclass(${literal(view)}) AND a.attnum > 0
  ) g;
${statements.map((statement) => `  EXECUTE ${literal(statement)};`).join("\n")}
  -- nothing of what the creating role's default privileges gave the new view
  FOR pgtandem_grant IN
    SELECT DISTINCT x.grantee
    FROM pg_catalog.pg_class v, pg_catalog.aclexplode(v.relacl) x
    WHERE v.oid = ${literal(view)}::pg_catalog.regclass AND x.grantee <> v.relowner
  LOOP
    EXECUTE pg_catalog.format('REVOKE ALL ON TABLE %s FROM %s', ${literal(view)},
      CASE WHEN pgtandem_grant.grantee = 0 THEN 'PUBLIC'
        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(pgtandem_grant.grantee)) END);
  END LOOP;
  FOR pgtandem_grant IN
    -- the base table's privileges (its owner's implicit ones included)
    SELECT NULL::name AS col, x.grantee, x.privilege_type, x.is_grantable
    FROM pg_catalog.pg_class t,
      pg_catalog.aclexplode(COALESCE(t.relacl, pg_catalog.acldefault('r', t.relowner))) x
    WHERE t.oid = ${literal(base)}::pg_catalog.regclass
    UNION ALL
    -- its column privileges, under the columns' virtual names
    SELECT m.virtual, x.grantee, x.privilege_type, x.is_grantable
    FROM (${columns}) AS m (physical, virtual)
    JOIN pg_catalog.pg_attribute a
      ON a.attrelid = ${literal(base)}::pg_catalog.regclass AND a.attname = m.physical
    CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) x
    UNION ALL
    -- the replaced view's own grants, for the columns it still has
    SELECT g.col, g.grantee, g.privilege_type, g.is_grantable
    FROM jsonb_to_recordset(COALESCE(pgtandem_grants, '[]')) AS g (
      col name, grantee oid, privilege_type text, is_grantable boolean
    )
    WHERE g.col IS NULL OR EXISTS (
      SELECT FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = ${literal(view)}::pg_catalog.regclass AND a.attname = g.col
    )
  LOOP
    -- the view's owner has every privilege already; MAINTAIN and the like do not apply to views
    CONTINUE WHEN pgtandem_grant.grantee = (
      SELECT relowner FROM pg_catalog.pg_class WHERE oid = ${literal(view)}::pg_catalog.regclass
    ) OR pgtandem_grant.privilege_type NOT IN
      ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER');
    EXECUTE pg_catalog.format('GRANT %s%s ON TABLE %s TO %s%s',
      pgtandem_grant.privilege_type,
      CASE WHEN pgtandem_grant.col IS NOT NULL
        THEN ' (' || pg_catalog.quote_ident(pgtandem_grant.col) || ')' ELSE '' END,
      ${literal(view)},
      CASE WHEN pgtandem_grant.grantee = 0 THEN 'PUBLIC'
        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(pgtandem_grant.grantee)) END,
      CASE WHEN pgtandem_grant.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
  END LOOP;
END
`;
}

/** Grants USAGE on the version schema to everyone who has USAGE on the base schema. */
function schemaUsageSql(options: ViewOptions): string {
  const body = `
DECLARE
  pgtandem_grantee oid;
BEGIN
  FOR pgtandem_grantee IN
    SELECT DISTINCT x.grantee
    FROM pg_catalog.pg_namespace n,
      pg_catalog.aclexplode(COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) x
    WHERE n.nspname = ${literal(options.baseSchema)} AND x.privilege_type = 'USAGE'
      AND x.grantee <> (
        SELECT nspowner FROM pg_catalog.pg_namespace WHERE nspname = ${
    literal(options.versionSchema)
  }
      )
  LOOP
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO %s', ${literal(options.versionSchema)},
      CASE WHEN pgtandem_grantee = 0 THEN 'PUBLIC'
        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(pgtandem_grantee)) END);
  END LOOP;
END
`;
  return `DO ${dollarQuote(body)}`;
}

export function dropVersionSchemaAction(versionSchema: string): Action {
  return sqlAction(
    `drop_version_schema_${versionSchema}`,
    `DROP SCHEMA IF EXISTS ${ident(versionSchema)} CASCADE`,
    { lock: "none" },
  );
}
