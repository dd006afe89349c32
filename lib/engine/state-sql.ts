/**
 * The SQL that creates the state store. The layout (tables, indexes, constraint and function
 * names, function signatures) is pgroll's, so a database initialised by either tool can be
 * continued by the other; the statements themselves are our own. One extra table,
 * `pgtandem_runs`, holds what only pgtandem needs and is invisible to pgroll.
 *
 * Every statement is idempotent, and the script also upgrades a state schema left by an older
 * pgroll (timestamp columns, the migration_type column and its check) without rewriting a table
 * that is already current.
 */
import { dollarQuote, ident, literal } from "../sql.ts";

/**
 * pgroll's init lock key. Using the same key makes concurrent `init`s of pgroll and pgtandem on
 * one database wait for each other. It does not fit a JS number, hence the bigint.
 */
export const STATE_INIT_LOCK_KEY = 0x2c03057fb9525bn;

/**
 * The setting pgroll's event trigger checks: a session where it is `'TRUE'` does DDL that must
 * not be recorded as an "inferred" migration. Every pgtandem session that runs DDL sets it, so a
 * database where pgroll's event triggers exist keeps a clean history.
 */
export const NO_INFERRED_MIGRATIONS_SETTING = "pgroll.no_inferred_migrations";

/** The values allowed in `migrations.migration_type`. */
export const MIGRATION_TYPES = ["pgroll", "inferred", "baseline"] as const;

/**
 * The init script for the state schema `stateSchema`. It must run inside one transaction: it
 * takes the init advisory lock and sets the no-inferred-migrations flag for that transaction
 * only. It creates no event triggers (managed PostgreSQL forbids them) and leaves pgroll's alone
 * when they exist, together with the `raw_migration()` function they call.
 */
export function stateInitSql(stateSchema: string): string {
  const s = ident(stateSchema);
  const migrations = ident(stateSchema, "migrations");
  const types = MIGRATION_TYPES.map((t) => literal(t)).join(", ");
  return [
    `SET LOCAL ${NO_INFERRED_MIGRATIONS_SETTING} = 'TRUE'`,
    `SELECT pg_catalog.pg_advisory_xact_lock(${STATE_INIT_LOCK_KEY})`,
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    migrationsTableSql(stateSchema, types),
    upgradeMigrationsTableSql(stateSchema, types),
    `CREATE UNIQUE INDEX IF NOT EXISTS only_one_active ON ${migrations} (schema, name, done)
  WHERE done = false`,
    `CREATE UNIQUE INDEX IF NOT EXISTS only_first_migration_without_parent ON ${migrations} (schema)
  WHERE parent IS NULL`,
    // One child per migration: two starts racing on the same parent cannot both commit.
    `CREATE UNIQUE INDEX IF NOT EXISTS history_is_linear ON ${migrations} (schema, parent)`,
    `CREATE TABLE IF NOT EXISTS ${ident(stateSchema, "pgroll_version")} (
  version text NOT NULL PRIMARY KEY,
  initialized_at timestamptz NOT NULL DEFAULT current_timestamp
)`,
    runsTableSql(stateSchema),
    ...migrationFunctionsSql(stateSchema),
    readSchemaFunctionSql(stateSchema),
  ].map((statement) => `${statement};\n`).join("\n");
}

/** The table as a fresh pgroll init leaves it (same column order, same constraint names). */
function migrationsTableSql(stateSchema: string, types: string): string {
  const migrations = ident(stateSchema, "migrations");
  return `CREATE TABLE IF NOT EXISTS ${migrations} (
  schema name NOT NULL,
  name text NOT NULL,
  migration jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT current_timestamp,
  updated_at timestamptz NOT NULL DEFAULT current_timestamp,
  parent text,
  done boolean NOT NULL DEFAULT false,
  resulting_schema jsonb NOT NULL DEFAULT '{}'::jsonb,
  migration_type varchar(32) DEFAULT 'pgroll'
    CONSTRAINT migration_type_check CHECK (migration_type IN (${types})),
  PRIMARY KEY (schema, name),
  FOREIGN KEY (schema, parent) REFERENCES ${migrations} (schema, name)
)`;
}

/**
 * Brings a table made by an older pgroll up to date. Each change runs only when needed, so a
 * current table is never rewritten (pgroll re-runs its timestamptz conversion on every init).
 */
function upgradeMigrationsTableSql(stateSchema: string, types: string): string {
  const migrations = ident(stateSchema, "migrations");
  const regclass = `${literal(migrations)}::pg_catalog.regclass`;
  const convert = (column: string) => `
  IF EXISTS (
    SELECT FROM pg_catalog.pg_attribute
    WHERE attrelid = ${regclass} AND attname = ${literal(column)}
      AND atttypid = 'pg_catalog.timestamp'::pg_catalog.regtype
  ) THEN
    -- pgroll stored UTC wall-clock times in these columns before they became timestamptz.
    ALTER TABLE ${migrations}
      ALTER COLUMN ${ident(column)} TYPE timestamptz USING ${ident(column)} AT TIME ZONE 'UTC';
  END IF;`;
  const body = `
BEGIN
  ALTER TABLE ${migrations} ADD COLUMN IF NOT EXISTS migration_type varchar(32) DEFAULT 'pgroll';
  IF NOT EXISTS (
    SELECT FROM pg_catalog.pg_constraint
    WHERE conrelid = ${regclass} AND conname = 'migration_type_check'
      AND pg_catalog.pg_get_constraintdef(oid) LIKE '%''baseline''%'
  ) THEN
    ALTER TABLE ${migrations} DROP CONSTRAINT IF EXISTS migration_type_check;
    ALTER TABLE ${migrations}
      ADD CONSTRAINT migration_type_check CHECK (migration_type IN (${types}));
  END IF;${convert("created_at")}${convert("updated_at")}
END
`;
  return `DO ${dollarQuote(body)}`;
}

/**
 * pgtandem's own bookkeeping for a started migration: the virtual schema before start (rollback
 * and resume need it), backfill progress per table (resume after a crash) and the plugins the
 * migration used. Rows go away with their migration (a pgroll rollback deletes it too).
 */
function runsTableSql(stateSchema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(stateSchema, "pgtandem_runs")} (
  schema name NOT NULL,
  name text NOT NULL,
  started_schema jsonb NOT NULL,
  backfill jsonb NOT NULL DEFAULT '{}'::jsonb,
  plugins jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schema, name),
  FOREIGN KEY (schema, name) REFERENCES ${ident(stateSchema, "migrations")} (schema, name)
    ON DELETE CASCADE
)`;
}

/**
 * The history functions. Parameter names, defaults and return types must stay exactly
 * pgroll's: `CREATE OR REPLACE` refuses to rename a parameter or change a return type, so any
 * drift would break `init` of one tool after the other.
 */
function migrationFunctionsSql(stateSchema: string): string[] {
  const migrations = ident(stateSchema, "migrations");
  const fn = (name: string) => ident(stateSchema, name);
  return [
    `CREATE OR REPLACE FUNCTION ${fn("is_active_migration_period")}(schemaname name)
RETURNS boolean
LANGUAGE sql STABLE
AS ${
      dollarQuote(`
  SELECT EXISTS (SELECT FROM ${migrations} m WHERE m.schema = schemaname AND NOT m.done)
`)
    }`,
    // The chain tip: the one row of the schema that no other row names as its parent.
    // SECURITY DEFINER with a pinned search_path as in pgroll, whose event trigger calls it.
    `CREATE OR REPLACE FUNCTION ${fn("latest_migration")}(schemaname name)
RETURNS text
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = ${ident(stateSchema)}, pg_catalog, pg_temp
AS ${
      dollarQuote(`
  SELECT tip.name
  FROM ${migrations} tip
  WHERE tip.schema = schemaname
    AND NOT EXISTS (
      SELECT FROM ${migrations} child
      WHERE child.schema = schemaname AND child.parent = tip.name
    )
`)
    }`,
    `CREATE OR REPLACE FUNCTION ${fn("previous_migration")}(schemaname name)
RETURNS text
LANGUAGE sql STABLE
AS ${
      dollarQuote(`
  SELECT m.parent
  FROM ${migrations} m
  WHERE m.schema = schemaname AND m.name = ${fn("latest_migration")}(schemaname)
`)
    }`,
    // Walks back from the tip; a row's version name is its version_schema or its own name, and
    // only versions whose schema "<base>_<version>" still exists count (inferred and baseline
    // rows have none). p_depth 0 is the latest such version, 1 the one before, and so on.
    `CREATE OR REPLACE FUNCTION ${
      fn("find_version_schema")
    }(p_schema_name name, p_depth integer DEFAULT 0)
RETURNS text
LANGUAGE sql STABLE
AS ${
      dollarQuote(`
  WITH RECURSIVE chain (name, parent, version, depth) AS (
    SELECT m.name, m.parent, COALESCE(m.migration ->> 'version_schema', m.name), 0
    FROM ${migrations} m
    WHERE m.schema = p_schema_name AND m.name = ${fn("latest_migration")}(p_schema_name)
    UNION ALL
    SELECT m.name, m.parent, COALESCE(m.migration ->> 'version_schema', m.name), chain.depth + 1
    FROM chain
    JOIN ${migrations} m ON m.schema = p_schema_name AND m.name = chain.parent
  )
  SELECT chain.version
  FROM chain
  WHERE EXISTS (
    SELECT FROM pg_catalog.pg_namespace ns
    WHERE ns.nspname = p_schema_name::text || '_' || chain.version
  )
  ORDER BY chain.depth
  OFFSET p_depth
  LIMIT 1
`)
    }`,
    `CREATE OR REPLACE FUNCTION ${fn("latest_version")}(schemaname name)
RETURNS text
LANGUAGE sql STABLE
AS ${dollarQuote(`SELECT ${fn("find_version_schema")}(schemaname, 0)`)}`,
    `CREATE OR REPLACE FUNCTION ${fn("previous_version")}(schemaname name)
RETURNS text
LANGUAGE sql STABLE
AS ${dollarQuote(`SELECT ${fn("find_version_schema")}(schemaname, 1)`)}`,
  ];
}

/**
 * `read_schema(schemaname)`: the JSON description of a schema's tables (relkind r and p) that
 * pgroll persists in `resulting_schema`. Each table object is null-stripped, so absent comments,
 * defaults, predicates and empty groups are missing keys rather than nulls. Partitions are listed
 * as pgroll lists them, plus one key of ours, `partitionOf` (the parent's name), so the virtual
 * schema can leave them out; it is absent for every other table, whose JSON stays pgroll's.
 *
 * The search_path is pinned so that type names, defaults and definitions render the same (schema
 * qualified) whoever calls it; pgroll gets the same text because its state connection's
 * search_path is the state schema.
 */
function readSchemaFunctionSql(stateSchema: string): string {
  return `CREATE OR REPLACE FUNCTION ${ident(stateSchema, "read_schema")}(schemaname text)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS ${dollarQuote(READ_SCHEMA_BODY)}`;
}

/** Column names of `rel` at the positions listed in `keys` (an int2[]), in that order. */
const attnamesAt = (keys: string, rel: string, order: "position" | "name") =>
  `COALESCE((
      SELECT jsonb_agg(a.attname ORDER BY ${order === "position" ? "k.ord" : "a.attname"})
      FROM unnest(${keys}) WITH ORDINALITY AS k (attnum, ord)
      JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.attnum
    ), '[]'::jsonb)`;

const FK_ACTION = (column: string) =>
  `CASE ${column}
      WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
      WHEN 'd' THEN 'SET DEFAULT' WHEN 'n' THEN 'SET NULL' END`;

// Column lists follow key order, except a foreign key's (sorted by name, as pgroll stores
// them). Expression elements have attnum 0 and drop out of the lists.
const READ_SCHEMA_BODY = `
SELECT jsonb_build_object('name', schemaname, 'tables', COALESCE((
  SELECT jsonb_object_agg(rel.relname, jsonb_strip_nulls(jsonb_build_object(
    'name', rel.relname,
    'oid', rel.oid::text,
    'comment', obj_description(rel.oid, 'pg_class'),
    -- pgtandem only (absent from pgroll's JSON, ignored by its decoder): a partition is stored
    -- with the parent's rows and is not a table of any version.
    'partitionOf', (
      SELECT parent.relname FROM pg_inherits inh JOIN pg_class parent ON parent.oid = inh.inhparent
      WHERE inh.inhrelid = rel.oid AND rel.relispartition
    ),
    'columns', (
      SELECT jsonb_object_agg(col.attname, jsonb_build_object(
        'name', col.attname,
        'type', CASE
          WHEN 'varchar'::regtype IN (col.atttypid, typ.typelem)
            THEN replace(fmt.type, 'character varying', 'varchar')
          WHEN 'timestamptz'::regtype IN (col.atttypid, typ.typelem)
            THEN replace(fmt.type, 'timestamp with time zone', 'timestamptz')
          ELSE fmt.type END,
        -- a generated column's expression is not a default
        'default', CASE WHEN col.attgenerated = '' THEN pg_get_expr(def.adbin, def.adrelid) END,
        -- a NOT NULL domain makes the column non-nullable too
        'nullable', NOT (col.attnotnull OR (typ.typtype = 'd' AND typ.typnotnull)),
        'comment', col_description(rel.oid, col.attnum),
        -- every unique constraint has a unique index, so the indexes alone decide
        'unique', EXISTS (
          SELECT FROM pg_index ui
          WHERE ui.indrelid = rel.oid AND ui.indisunique
            AND ui.indkey::int2[] <@ ARRAY[col.attnum]
        ),
        'enumValues', (
          SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder)
          FROM pg_enum e WHERE e.enumtypid = typ.oid
        ),
        'postgresType', CASE typ.typtype
          WHEN 'b' THEN 'base' WHEN 'c' THEN 'composite' WHEN 'd' THEN 'domain'
          WHEN 'e' THEN 'enum' WHEN 'p' THEN 'pseudo' WHEN 'r' THEN 'range'
          WHEN 'm' THEN 'multirange' END
      ))
      FROM pg_attribute col
      JOIN pg_type typ ON typ.oid = col.atttypid
      CROSS JOIN LATERAL (SELECT format_type(col.atttypid, col.atttypmod) AS type) fmt
      LEFT JOIN pg_attrdef def ON def.adrelid = col.attrelid AND def.adnum = col.attnum
      WHERE col.attrelid = rel.oid AND col.attnum > 0 AND NOT col.attisdropped
    ),
    'primaryKey', (
      SELECT ${attnamesAt("pk.indkey::int2[]", "rel.oid", "position")}
      FROM pg_index pk WHERE pk.indrelid = rel.oid AND pk.indisprimary
    ),
    'indexes', (
      SELECT jsonb_object_agg(ic.relname, jsonb_build_object(
        'name', ic.relname,
        'unique', ix.indisunique,
        'exclusion', ix.indisexclusion,
        'columns', ${attnamesAt("ix.indkey::int2[]", "rel.oid", "position")},
        'predicate', pg_get_expr(ix.indpred, ix.indrelid),
        'method', am.amname,
        'definition', pg_get_indexdef(ix.indexrelid)
      ))
      FROM pg_index ix
      JOIN pg_class ic ON ic.oid = ix.indexrelid
      JOIN pg_am am ON am.oid = ic.relam
      WHERE ix.indrelid = rel.oid
    ),
    'checkConstraints', (
      SELECT jsonb_object_agg(con.conname, jsonb_build_object(
        'name', con.conname,
        'columns', ${attnamesAt("con.conkey", "rel.oid", "position")},
        'definition', pg_get_constraintdef(con.oid),
        'noInherit', con.connoinherit
      ))
      FROM pg_constraint con WHERE con.conrelid = rel.oid AND con.contype = 'c'
    ),
    'uniqueConstraints', (
      SELECT jsonb_object_agg(con.conname, jsonb_build_object(
        'name', con.conname,
        'columns', ${attnamesAt("con.conkey", "rel.oid", "position")}
      ))
      FROM pg_constraint con WHERE con.conrelid = rel.oid AND con.contype = 'u'
    ),
    'excludeConstraints', (
      SELECT jsonb_object_agg(con.conname, jsonb_build_object(
        'name', con.conname,
        'columns', ${attnamesAt("con.conkey", "rel.oid", "position")},
        'definition', pg_get_constraintdef(con.oid),
        'predicate', pg_get_expr(xi.indpred, xi.indrelid),
        'method', am.amname
      ))
      FROM pg_constraint con
      JOIN pg_index xi ON xi.indexrelid = con.conindid
      JOIN pg_class xc ON xc.oid = xi.indexrelid
      JOIN pg_am am ON am.oid = xc.relam
      WHERE con.conrelid = rel.oid AND con.contype = 'x'
    ),
    'foreignKeys', (
      SELECT jsonb_object_agg(con.conname, jsonb_build_object(
        'name', con.conname,
        'columns', ${attnamesAt("con.conkey", "rel.oid", "name")},
        'referencedTable', ref.relname,
        'referencedColumns', ${attnamesAt("con.confkey", "con.confrelid", "name")},
        'matchType', CASE con.confmatchtype
          WHEN 'f' THEN 'FULL' WHEN 'p' THEN 'PARTIAL' WHEN 's' THEN 'SIMPLE' END,
        'onDelete', ${FK_ACTION("con.confdeltype")},
        'onUpdate', ${FK_ACTION("con.confupdtype")}
      ))
      FROM pg_constraint con
      JOIN pg_class ref ON ref.oid = con.confrelid
      WHERE con.conrelid = rel.oid AND con.contype = 'f'
    )
  )))
  FROM pg_class rel
  JOIN pg_namespace ns ON ns.oid = rel.relnamespace
  WHERE ns.nspname = schemaname AND rel.relkind IN ('r', 'p')
), '{}'::jsonb))
`;
