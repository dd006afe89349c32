/**
 * The parts of duplicating a column that depend on catalog facts the virtual schema does not
 * hold: identity sequences, column privileges and domain types. Operations plan without a
 * database, so these are planned as DO blocks that read the catalog when they run. Each block
 * acts only on what it finds, and only on objects the duplicator itself creates or may leave
 * out; it never hides a missing object the migration meant to change.
 *
 *  - Identity (`GENERATED … AS IDENTITY`): while both versions live the copy draws from the
 *    old column's identity sequence (`DEFAULT nextval(…)`), so inserts through either version
 *    get unique ids from one sequence. At complete the identity moves to the copy under the same
 *    sequence name, options and position (the old column's identity sequence dies with it).
 *  - Column privileges (`GRANT SELECT (c) …`): copied onto the copy at start, so clients with
 *    column grants can use the new version; the renamed copy keeps them after complete.
 *  - Domains that reject NULL (`NOT NULL`, or a CHECK failing on NULL): an INSERT checks the
 *    domain of every column it omits against NULL before any trigger runs, so the column one
 *    version cannot see would refuse every insert of that version. Such a hidden column gets a
 *    placeholder default, `(NULL::domain[])[1]` (a NULL of the domain type that is not checked),
 *    and a NOT VALID `IS NOT NULL` check that runs after the sync trigger has filled it. No type
 *    changes, so no table rewrite. Both are removed at complete (copy) and rollback (old column).
 */
import { type Action, afterTriggers, sqlAction } from "../plan/action.ts";
import { shortenIdentifier } from "../naming.ts";
import * as naming from "../naming.ts";
import { doBlock, ident, literal } from "../sql.ts";
import type { UserSql } from "../user-sql.ts";

// Generated names, shortened like the sync triggers' when PostgreSQL would truncate them, so
// two long names that share a prefix stay distinct and the literals here match the catalog.
const domainNullCheckName = (column: string) =>
  shortenIdentifier(naming.domainNullCheckName(column));
const identityGuardName = (table: string, column: string) =>
  shortenIdentifier(naming.identityGuardName(table, column));
const identityNextvalName = (table: string, column: string) =>
  shortenIdentifier(naming.identityNextvalName(table, column));

/** The column being copied, physically. */
export interface CopiedColumn {
  baseSchema: string;
  /** Physical table. */
  table: string;
  /** Virtual name of the column, for messages. */
  name: string;
  /** Physical name of the old column. */
  source: string;
  /** Physical name of the copy. */
  temp: string;
  /**
   * Physical table when start ran, which named the identity guard functions; `table` when
   * absent. At complete a rename_table earlier in the migration has renamed the table already.
   */
  startedTable?: string;
}

/** `(NULL::%s[])[1]` in pg_get_expr's output; only pgtandem writes such a default. */
const PLACEHOLDER_PATTERN = "(NULL::%[])[1]";

const declareRel = (c: CopiedColumn) =>
  `rel regclass := ${literal(ident(c.baseSchema, c.table))}::regclass;`;

/**
 * PL/pgSQL: does column `col` (a text expression) of `rel` have a domain type that rejects NULL
 * and no default of its own or of its domain? Sets `placeholder` to true then.
 */
function rejectsNullSql(col: string): string {
  return `placeholder := false;
  SELECT a.atttypid::regtype, t.typtype = 'd' AND t.typdefaultbin IS NULL AND NOT a.atthasdef
    INTO typ, placeholder
    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
   WHERE a.attrelid = rel AND a.attname = ${col} AND NOT a.attisdropped;
  IF placeholder THEN
    BEGIN
      EXECUTE format('SELECT NULL::%s', typ);
      placeholder := false;
    EXCEPTION WHEN not_null_violation OR check_violation THEN
      placeholder := true;
    END;
  END IF;`;
}

/**
 * Adds the copy, of a type that may be a domain. When the domain rejects NULL the copy is added
 * with the placeholder default: without it, adding the column to a table with rows fails (every
 * row's NULL is checked) and every old-side insert would too. PostgreSQL (14 to 18) rewrites
 * the table to add a column of a domain with constraints, placeholder or not.
 */
export function addCopySql(c: CopiedColumn, type: UserSql): string {
  return doBlock(`
DECLARE
  ${declareRel(c)}
  new_col text := ${literal(c.temp)};
  typ regtype := ${literal(type)}::regtype;
  placeholder boolean := false;
BEGIN
  IF (SELECT typtype = 'd' AND typdefaultbin IS NULL FROM pg_catalog.pg_type WHERE oid = typ) THEN
    BEGIN
      EXECUTE format('SELECT NULL::%s', typ);
    EXCEPTION WHEN not_null_violation OR check_violation THEN
      placeholder := true;
    END;
  END IF;
  EXECUTE format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS %I %s%s', rel, new_col, ${literal(type)},
    CASE WHEN placeholder THEN format(' DEFAULT (NULL::%s[])[1]', typ) ELSE '' END);
END`);
}

/**
 * Types built into PostgreSQL, which are never domains: their copies are added with a plain
 * ADD COLUMN (easier to read in plans) instead of {@link addCopySql}.
 */
export function isBuiltinType(type: string): boolean {
  const name = type.toLowerCase().replace(/\(.*?\)/g, "").replace(/\[\s*\d*\s*\]/g, "")
    .replace(/^pg_catalog\./, "").replace(/\s+/g, " ").trim();
  return BUILTIN_TYPES.has(name);
}

const BUILTIN_TYPES = new Set([
  "smallint",
  "integer",
  "int",
  "int2",
  "int4",
  "int8",
  "bigint",
  "real",
  "float4",
  "float8",
  "double precision",
  "float",
  "numeric",
  "decimal",
  "money",
  "text",
  "varchar",
  "char",
  "character",
  "character varying",
  "bpchar",
  "name",
  "bytea",
  "boolean",
  "bool",
  "date",
  "time",
  "timetz",
  "timestamp",
  "timestamptz",
  "time with time zone",
  "time without time zone",
  "timestamp with time zone",
  "timestamp without time zone",
  "interval",
  "uuid",
  "json",
  "jsonb",
  "xml",
  "inet",
  "cidr",
  "macaddr",
  "macaddr8",
  "point",
  "line",
  "lseg",
  "box",
  "path",
  "polygon",
  "circle",
  "bit",
  "bit varying",
  "varbit",
  "tsvector",
  "tsquery",
  "oid",
  "int4range",
  "int8range",
  "numrange",
  "tsrange",
  "tstzrange",
  "daterange",
  "serial",
  "bigserial",
  "smallserial",
]);

/**
 * SQL to append to the statement that adds the copy, in the same implicit transaction (so no
 * insert ever meets the copy without it): the identity default and the column privileges.
 */
export function copyAttributesSql(c: CopiedColumn, options: { identity: boolean }): string {
  const identity = options.identity
    ? `
  SELECT attidentity INTO kind FROM pg_catalog.pg_attribute
   WHERE attrelid = rel AND attname = old_col;
  IF kind <> '' THEN
    seq := pg_catalog.pg_get_serial_sequence(rel::text, old_col);
    EXECUTE format(${literal(identityNextvalTemplate(c))}, seq);
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s()', rel, new_col, ${
      literal(ident(c.baseSchema, identityNextvalName(c.table, c.source)))
    });
  END IF;
  IF kind = 'a' THEN
    EXECUTE format(${literal(identityGuardFunctionTemplate(c))}, seq);
    EXECUTE ${literal(identityGuardTriggerSql(c))};
  END IF;`
    : "";
  return doBlock(`
DECLARE
  ${declareRel(c)}
  old_col text := ${literal(c.source)};
  new_col text := ${literal(c.temp)};
  kind "char";
  seq text;
  grant_row record;
BEGIN${identity}
  FOR grant_row IN
    SELECT acl.privilege_type, acl.is_grantable,
           CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee
      FROM pg_catalog.pg_attribute a
      CROSS JOIN LATERAL aclexplode(a.attacl) acl
      LEFT JOIN pg_catalog.pg_roles r ON r.oid = acl.grantee
     WHERE a.attrelid = rel AND a.attname = old_col
  LOOP
    EXECUTE format('GRANT %s (%I) ON %s TO %s%s', grant_row.privilege_type, new_col, rel,
      grant_row.grantee, CASE WHEN grant_row.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
  END LOOP;
END`);
}

/**
 * An identity draws from its sequence without the writer needing any privilege on it; a plain
 * `nextval()` default would need USAGE for every role that inserts, through either version. So
 * the copy's default calls this SECURITY DEFINER function instead. A format() template: `%L`
 * takes the sequence name.
 */
function identityNextvalTemplate(c: CopiedColumn): string {
  return `CREATE OR REPLACE FUNCTION ${
    ident(c.baseSchema, identityNextvalName(c.table, c.source))
  }()
  RETURNS bigint
  LANGUAGE sql
  VOLATILE
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $nextval$ SELECT pg_catalog.nextval(SEQUENCE::regclass) $nextval$`.replaceAll("%", "%%")
    .replace("SEQUENCE::regclass", "%L::regclass");
}

/**
 * GENERATED ALWAYS refuses explicit values; the copy, a plain column with a nextval default,
 * would take them through the new version. The guard tells a defaulted value from an explicit
 * one: the copy's default is the last nextval of the row (it comes after the old column, whose
 * identity draws first), so on INSERT the copy equals currval unless a value was given. On
 * UPDATE the copy may not change: the sync trigger, which sets it from the old column for
 * old-side writes, fires after the guard (names sort so).
 *
 * A format() template: `%L` takes the sequence name, found when the block runs.
 */
function identityGuardFunctionTemplate(c: CopiedColumn): string {
  const name = identityGuardName(c.table, c.source);
  const copy = `NEW.${ident(c.temp)}`;
  const fail = (message: string) =>
    `RAISE EXCEPTION USING ERRCODE = 'generated_always', MESSAGE = ${literal(message)},
      DETAIL = ${literal(`Column "${c.name}" is an identity column defined as GENERATED ALWAYS.`)}`;
  const escape = (text: string) => text.replaceAll("%", "%%");
  // SECURITY DEFINER: currval needs a privilege on the sequence the writer need not have.
  return escape(`CREATE OR REPLACE FUNCTION ${ident(c.baseSchema, name)}()
  RETURNS trigger
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $guard$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF ${copy} IS DISTINCT FROM pg_catalog.currval(SEQUENCE::regclass) THEN
      ${fail(`cannot insert a non-DEFAULT value into column "${c.name}"`)};
    END IF;
  ELSIF ${copy} IS DISTINCT FROM OLD.${ident(c.temp)} THEN
    ${fail(`column "${c.name}" can only be updated to DEFAULT`)};
  END IF;
  RETURN NEW;
END
$guard$`).replace("SEQUENCE::regclass", "%L::regclass");
}

function identityGuardTriggerSql(c: CopiedColumn): string {
  const name = identityGuardName(c.table, c.source);
  return `CREATE OR REPLACE TRIGGER ${ident(name)}
  BEFORE INSERT OR UPDATE ON ${ident(c.baseSchema, c.table)}
  FOR EACH ROW EXECUTE FUNCTION ${ident(c.baseSchema, name)}()`;
}

/**
 * Drops the identity guard and the nextval function (CASCADE: the guard's trigger and the copy's
 * default go with them); at complete and rollback.
 */
function dropIdentityGuardSql(c: CopiedColumn): string {
  const table = c.startedTable ?? c.table;
  return `DROP FUNCTION IF EXISTS ${ident(c.baseSchema, identityGuardName(table, c.source))}(), ${
    ident(c.baseSchema, identityNextvalName(table, c.source))
  }() CASCADE`;
}

/** Rollback: the identity guard of a copy that may be one of an identity column. */
export function dropIdentityGuardAction(c: CopiedColumn): Action {
  return sqlAction(`drop_identity_guard_${c.table}_${c.source}`, dropIdentityGuardSql(c), {
    table: c.table,
  });
}

/**
 * Start, after the sync triggers: the NOT VALID `IS NOT NULL` checks that stand in for the
 * domain's NULL check on the copy (when it got a placeholder) and on the old column (which the
 * new version cannot see; it gets its placeholder here too). Old-side inserts still refuse a
 * missing value; writes through either version pass once the triggers filled the hidden column.
 */
export function domainGuardAction(c: CopiedColumn, options: { oldColumn: boolean }): Action {
  const guardOld = options.oldColumn
    ? `
  ${rejectsNullSql("old_col")}
  IF placeholder THEN
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT (NULL::%s[])[1], '
      'ADD CONSTRAINT %I CHECK (%I IS NOT NULL) NOT VALID', rel, old_col, typ,
      ${literal(domainNullCheckName(c.source))}, old_col);
  END IF;`
    : "";
  return afterTriggers(sqlAction(
    `guard_domain_nulls_${c.table}_${c.temp}`,
    doBlock(`
DECLARE
  ${declareRel(c)}
  old_col text := ${literal(c.source)};
  new_col text := ${literal(c.temp)};
  typ regtype;
  placeholder boolean;
BEGIN
  IF EXISTS (${placeholderQuery("new_col")})
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                      WHERE conrelid = rel AND conname = ${
      literal(domainNullCheckName(c.temp))
    }) THEN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%I IS NOT NULL) NOT VALID', rel,
      ${literal(domainNullCheckName(c.temp))}, new_col);
  END IF;${guardOld}
END`),
    { table: c.table },
  ));
}

/** Does column `col` (a PL/pgSQL text expression) have the placeholder default? */
function placeholderQuery(col: string): string {
  return `SELECT FROM pg_catalog.pg_attrdef d
      JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
     WHERE d.adrelid = rel AND a.attname = ${col}
       AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE ${literal(PLACEHOLDER_PATTERN)}`;
}

/**
 * Complete, in the switch-over (before the old column is dropped; catalog-only):
 *  - the copy loses its domain placeholder and check;
 *  - a serial column's sequence is handed to the copy (OWNED BY);
 *  - an identity column's identity moves to the copy: same sequence name, options and position.
 *    The old column's identity sequence cannot change owner and dies with the column, so it is
 *    recreated on the copy (DROP IDENTITY, then ADD GENERATED … (SEQUENCE NAME …) and setval).
 *    A copy of a type that cannot be an identity keeps neither default nor sequence.
 */
export function handOverAction(c: CopiedColumn): Action {
  return sqlAction(
    `hand_over_${c.table}_${c.temp}`,
    doBlock(`
DECLARE
  ${declareRel(c)}
  old_col text := ${literal(c.source)};
  new_col text := ${literal(c.temp)};
  seq regclass;
  kind "char";
  s record;
  seq_name text;
  type_max bigint;
  type_min bigint;
  last bigint;
  called boolean;
BEGIN
  ${dropIdentityGuardSql(c)};
  IF EXISTS (${placeholderQuery("new_col")}) THEN
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', rel, new_col);
  END IF;
  EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', rel, ${
      literal(domainNullCheckName(c.temp))
    });
  seq := pg_catalog.pg_get_serial_sequence(rel::text, old_col)::regclass;
  IF seq IS NULL THEN RETURN; END IF;
  SELECT attidentity INTO kind FROM pg_catalog.pg_attribute
   WHERE attrelid = rel AND attname = old_col;
  IF kind = '' THEN
    EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', seq, rel, new_col);
    RETURN;
  END IF;
  -- The copy's nextval default depends on the sequence DROP IDENTITY removes.
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', rel, new_col);
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = rel AND attname = new_col
                    AND atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)) THEN
    RETURN;
  END IF;
  SELECT q.*, format('%I.%I', n.nspname, sc.relname) AS name INTO s
    FROM pg_catalog.pg_sequence q
    JOIN pg_catalog.pg_class sc ON sc.oid = q.seqrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = sc.relnamespace
   WHERE q.seqrelid = seq;
  EXECUTE format('SELECT last_value, is_called FROM %s', seq) INTO last, called;
  type_max := CASE s.seqtypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647
                ELSE 9223372036854775807 END;
  type_min := CASE s.seqtypid WHEN 'int2'::regtype THEN -32768 WHEN 'int4'::regtype THEN -2147483648
                ELSE -9223372036854775808 END;
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I DROP IDENTITY', rel, old_col);
  -- Bounds that were the old type's defaults become the new type's defaults.
  EXECUTE format(
    'ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY '
    '(SEQUENCE NAME %s INCREMENT BY %s %s %s START WITH %s CACHE %s %s)',
    rel, new_col, CASE kind WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, s.name, s.seqincrement,
    CASE WHEN s.seqmin = CASE WHEN s.seqincrement > 0 THEN 1 ELSE type_min END
      THEN 'NO MINVALUE' ELSE 'MINVALUE ' || s.seqmin END,
    CASE WHEN s.seqmax = CASE WHEN s.seqincrement > 0 THEN type_max ELSE -1 END
      THEN 'NO MAXVALUE' ELSE 'MAXVALUE ' || s.seqmax END,
    s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END);
  PERFORM pg_catalog.setval(s.name::regclass, last, called);
END`),
    { table: c.table },
  );
}

/** Rollback: the old column loses the domain placeholder and check it got at start. */
export function dropOldDomainGuardAction(c: CopiedColumn): Action {
  // Only the placeholder default is dropped: the column may be an identity column (one of a
  // table created earlier in the migration, whose kind is unknown), where DROP DEFAULT fails.
  return sqlAction(
    `drop_domain_guard_${c.table}_${c.source}`,
    doBlock(`
DECLARE
  rel regclass := pg_catalog.to_regclass(${literal(ident(c.baseSchema, c.table))});
  old_col text := ${literal(c.source)};
BEGIN
  IF rel IS NULL THEN
    RETURN;
  END IF;
  IF EXISTS (${placeholderQuery("old_col")}) THEN
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', rel, old_col);
  END IF;
  EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', rel, ${
      literal(domainNullCheckName(c.source))
    });
END`),
    { table: c.table },
  );
}

/**
 * VALIDATE for a constraint the duplicator may have left off because it does not fit the copy's
 * new type (pgroll drops such checks and foreign keys too): validated when it exists.
 */
export function validateIfCopied(baseSchema: string, table: string, name: string): Action {
  const qualified = ident(baseSchema, table);
  return sqlAction(
    `validate_${table}_${name}`,
    doBlock(`
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_constraint
              WHERE conrelid = ${literal(qualified)}::regclass AND conname = ${literal(name)}) THEN
    EXECUTE ${literal(`ALTER TABLE ${qualified} VALIDATE CONSTRAINT ${ident(name)}`)};
  END IF;
END`),
    { table, lock: "SHARE UPDATE EXCLUSIVE" },
  );
}
