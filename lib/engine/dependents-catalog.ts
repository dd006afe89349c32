/**
 * Read-only catalog queries for the objects that depend on columns and tables a migration
 * replaces or drops: views and materialized views (pg_depend → pg_rewrite), STORED generated
 * columns, triggers, rules, row-level security policies, functions with SQL bodies, and the
 * foreign keys that reference them. Used at start (prepare), by `plan` and `validate`, and again
 * at complete (objects created after start are found too). Nothing here writes.
 *
 * @module
 */
import type { Sql } from "./connection.ts";

/** One object that depends on a column (or, for dropped tables, on the table). */
export interface DependentObject {
  kind: "view" | "materialized view" | "rule" | "trigger" | "policy" | "generated column" | "other";
  /** The relation the object belongs to (the view itself, the trigger's table…): schema, name. */
  schema: string;
  relation: string;
  /** Trigger, rule, policy or generated column name; the view's name for views. */
  name: string;
  /** pg_describe_object's words, for "other". */
  description: string;
  /** The object's own oid (pg_trigger, pg_policy, pg_rewrite …). */
  oid: number;
  /** The physical table it depends on, and the column (null: the table as a whole). */
  table: string;
  column: string | null;
  /** The view's oid (views only), to follow views built on it. */
  viewOid?: number;
}

/** A foreign key that references one of the tables looked at. */
export interface IncomingForeignKey {
  name: string;
  /** The referencing table. */
  schema: string;
  table: string;
  columns: string[];
  /** Their types (format_type). */
  columnTypes: string[];
  /** The referenced table (physical name in the base schema) and columns. */
  referencedTable: string;
  referencedColumns: string[];
  referencedTypes: string[];
  matchType: string;
  onUpdate: string;
  onDelete: string;
  deferrable: boolean;
  deferred: boolean;
}

/** One view to recreate, with what CREATE VIEW loses: owner, grants, comments, options. */
export interface ViewDefinition {
  oid: number;
  schema: string;
  name: string;
  kind: "view" | "materialized view";
  /** pg_get_viewdef: the query, without a trailing semicolon. */
  query: string;
  columns: string[];
  /** reloptions, e.g. `security_barrier=true`, `check_option=local`. */
  options: string[];
  owner: string;
  /** `GRANT …` statements rebuilding relacl (null relacl: none). */
  grants: string[];
  comment: string | null;
  columnComments: { column: string; comment: string }[];
  columnDefaults: { column: string; expression: string }[];
  /** pg_get_triggerdef of its INSTEAD OF triggers. */
  triggers: string[];
  /** Names of rules other than the view's own _RETURN (not recreated: refused). */
  rules: string[];
  /** Depth in the dependency tree: views on views come after the views they use. */
  depth: number;
}

const KIND_SQL = `CASE
  WHEN d.classid = 'pg_catalog.pg_rewrite'::regclass AND rw.rulename = '_RETURN'
    THEN CASE WHEN oc.relkind = 'm' THEN 'materialized view' ELSE 'view' END
  WHEN d.classid = 'pg_catalog.pg_rewrite'::regclass THEN 'rule'
  WHEN d.classid = 'pg_catalog.pg_trigger'::regclass THEN 'trigger'
  WHEN d.classid = 'pg_catalog.pg_policy'::regclass THEN 'policy'
  WHEN ga.attgenerated <> '' THEN 'generated column'
  ELSE 'other' END`;

/**
 * Objects depending on the given columns (`columns`: table → physical columns) or on the given
 * tables as a whole (`tables`). Indexes, constraints, sequences, statistics and internal
 * triggers are left out: the column duplicator copies them, or they go with their column.
 */
export async function readDependents(
  sql: Sql,
  schema: string,
  columns: ReadonlyMap<string, readonly string[]>,
  tables: readonly string[],
): Promise<DependentObject[]> {
  const pairs = [...columns].flatMap(([t, cs]) => cs.map((c) => [t, c] as const));
  if (pairs.length === 0 && tables.length === 0) return [];
  const rows = await sql.unsafe<Omit<DependentObject, "viewOid">[] & { view_oid: number | null }[]>(
    `WITH targets AS (
       SELECT c.oid AS relid, c.relname AS table_name, a.attnum, a.attname
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN unnest($2::text[], $3::text[]) AS p(t, col) ON p.t = c.relname
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = p.col
        WHERE n.nspname = $1
       UNION ALL
       SELECT c.oid, c.relname, NULL::int2, NULL::name
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = ANY($4::text[])
     )
     SELECT DISTINCT ${KIND_SQL} AS kind,
            on_.nspname AS schema, oc.relname AS relation,
            COALESCE(rw.rulename::text, tg.tgname::text, po.polname::text, ga.attname::text, '') AS name,
            pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS description,
            tg_.table_name AS "table", tg_.attname::text AS "column",
            CASE WHEN rw.rulename = '_RETURN' THEN oc.oid::int END AS view_oid,
            d.objid::int AS oid
       FROM targets tg_
       JOIN pg_catalog.pg_depend d
         ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = tg_.relid
        AND (tg_.attnum IS NULL OR d.refobjsubid = tg_.attnum)
        AND d.deptype IN ('n', 'a')
       LEFT JOIN pg_catalog.pg_rewrite rw
         ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND rw.oid = d.objid
       LEFT JOIN pg_catalog.pg_trigger tg
         ON d.classid = 'pg_catalog.pg_trigger'::regclass AND tg.oid = d.objid
       LEFT JOIN pg_catalog.pg_policy po
         ON d.classid = 'pg_catalog.pg_policy'::regclass AND po.oid = d.objid
       -- A generated column depends on its inputs through its expression (pg_attrdef) since
       -- PostgreSQL 13, directly as a column before.
       LEFT JOIN pg_catalog.pg_attrdef ad
         ON d.classid = 'pg_catalog.pg_attrdef'::regclass AND ad.oid = d.objid
       LEFT JOIN pg_catalog.pg_attribute ga
         ON (d.classid = 'pg_catalog.pg_class'::regclass AND d.objsubid > 0
             AND ga.attrelid = d.objid AND ga.attnum = d.objsubid)
         OR (ga.attrelid = ad.adrelid AND ga.attnum = ad.adnum)
       LEFT JOIN pg_catalog.pg_class oc
         ON oc.oid = COALESCE(rw.ev_class, tg.tgrelid, po.polrelid,
                              ad.adrelid,
                              CASE WHEN d.classid = 'pg_catalog.pg_class'::regclass THEN d.objid END)
       LEFT JOIN pg_catalog.pg_namespace on_ ON on_.oid = oc.relnamespace
      WHERE NOT COALESCE(tg.tgisinternal, false)
        -- Other objects that PostgreSQL drops along (a publication's entry) do not block.
        AND (d.deptype = 'n' OR rw.oid IS NOT NULL OR tg.oid IS NOT NULL OR po.oid IS NOT NULL
             OR COALESCE(ga.attgenerated, '') <> '')
        -- indexes, sequences, constraints, statistics, types, defaults: copied or dropped along
        AND d.classid NOT IN ('pg_catalog.pg_constraint'::regclass,
                              'pg_catalog.pg_statistic_ext'::regclass,
                              'pg_catalog.pg_type'::regclass)
        AND NOT (d.classid IN ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_attrdef'::regclass)
                 AND COALESCE(ga.attgenerated, '') = '')
        AND NOT (d.classid = 'pg_catalog.pg_rewrite'::regclass AND rw.ev_class = tg_.relid
                 AND rw.rulename = '_RETURN')
      ORDER BY 1, 2, 3, 4`,
    [
      schema,
      pairs.map(([t]) => t),
      pairs.map(([, c]) => c),
      [...tables],
    ],
  );
  return rows.map((r) => {
    const { view_oid, ...rest } = r as unknown as Omit<DependentObject, "viewOid"> & {
      view_oid: number | null;
    };
    return view_oid === null ? rest : { ...rest, viewOid: view_oid };
  });
}

/** Foreign keys (of any schema) that reference the given tables of `schema`. */
export async function readIncomingForeignKeys(
  sql: Sql,
  schema: string,
  tables: readonly string[],
): Promise<IncomingForeignKey[]> {
  if (tables.length === 0) return [];
  const rows = await sql.unsafe<
    (Omit<IncomingForeignKey, "matchType" | "onUpdate" | "onDelete"> & {
      match: string;
      upd: string;
      del: string;
    })[]
  >(
    `SELECT k.conname AS name, rn.nspname AS schema, rc.relname AS "table",
            fc.relname AS "referencedTable",
            ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                   ORDER BY u.i) AS columns,
            ARRAY(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
                    FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                   ORDER BY u.i) AS "columnTypes",
            ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                   ORDER BY u.i) AS "referencedColumns",
            ARRAY(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
                    FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                   ORDER BY u.i) AS "referencedTypes",
            k.confmatchtype AS match, k.confupdtype AS upd, k.confdeltype AS del,
            k.condeferrable AS deferrable, k.condeferred AS deferred
       FROM pg_catalog.pg_constraint k
       JOIN pg_catalog.pg_class fc ON fc.oid = k.confrelid
       JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
       JOIN pg_catalog.pg_class rc ON rc.oid = k.conrelid
       JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE k.contype = 'f' AND fn.nspname = $1 AND fc.relname = ANY($2::text[])
      ORDER BY 2, 3, 1`,
    [schema, [...tables]],
  );
  const match: Record<string, string> = { f: "FULL", p: "PARTIAL", s: "SIMPLE" };
  const action: Record<string, string> = {
    a: "NO ACTION",
    r: "RESTRICT",
    c: "CASCADE",
    n: "SET NULL",
    d: "SET DEFAULT",
  };
  return rows.map(({ match: m, upd, del, ...rest }) => ({
    ...rest,
    matchType: match[m] ?? "SIMPLE",
    onUpdate: action[upd] ?? "NO ACTION",
    onDelete: action[del] ?? "NO ACTION",
  }));
}

/**
 * The given views and, transitively, every view built on them, with their full definitions;
 * ordered so a view comes after the views it uses.
 */
export async function readViewTree(sql: Sql, oids: readonly number[]): Promise<ViewDefinition[]> {
  if (oids.length === 0) return [];
  const rows = await sql.unsafe<(Omit<ViewDefinition, "kind"> & { relkind: string })[]>(
    `WITH RECURSIVE tree(oid, depth) AS (
       SELECT unnest($1::oid[]), 0
       UNION
       SELECT rw.ev_class, tree.depth + 1
         FROM tree
         JOIN pg_catalog.pg_depend d
           ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = tree.oid
          AND d.classid = 'pg_catalog.pg_rewrite'::regclass
         JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid AND rw.ev_class <> tree.oid
        WHERE tree.depth < 100
     ), deepest AS (SELECT oid, max(depth) AS depth FROM tree GROUP BY oid)
     SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS relkind,
            regexp_replace(pg_catalog.pg_get_viewdef(c.oid), ';\\s*$', '') AS query,
            ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                   ORDER BY a.attnum) AS columns,
            COALESCE(c.reloptions, '{}')::text[] AS options,
            pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            ARRAY(SELECT 'GRANT ' || x.privilege_type || ' ON ' || c.oid::regclass::text || ' TO '
                         || CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                                 ELSE quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END
                         || CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
                    FROM pg_catalog.aclexplode(c.relacl) x
                   ORDER BY x.grantee, x.privilege_type) AS grants,
            pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
            COALESCE((SELECT json_agg(json_build_object('column', a.attname, 'comment', ds.description)
                                      ORDER BY a.attnum)
                        FROM pg_catalog.pg_description ds
                        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = ds.objsubid
                       WHERE ds.objoid = c.oid AND ds.classoid = 'pg_catalog.pg_class'::regclass
                         AND ds.objsubid > 0), '[]') AS "columnComments",
            COALESCE((SELECT json_agg(json_build_object('column', a.attname,
                                        'expression', pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))
                                      ORDER BY a.attnum)
                        FROM pg_catalog.pg_attrdef ad
                        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = ad.adnum
                       WHERE ad.adrelid = c.oid), '[]') AS "columnDefaults",
            ARRAY(SELECT pg_catalog.pg_get_triggerdef(t.oid) FROM pg_catalog.pg_trigger t
                   WHERE t.tgrelid = c.oid AND NOT t.tgisinternal ORDER BY t.tgname) AS triggers,
            ARRAY(SELECT r.rulename::text FROM pg_catalog.pg_rewrite r
                   WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN' ORDER BY 1) AS rules,
            deepest.depth AS depth
       FROM deepest
       JOIN pg_catalog.pg_class c ON c.oid = deepest.oid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      ORDER BY deepest.depth, n.nspname, c.relname`,
    [[...oids]],
  );
  return rows.map(({ relkind, ...rest }) => ({
    ...rest,
    kind: relkind === "m" ? "materialized view" : "view",
  }));
}

/**
 * Can a foreign key from a column of type `from` reference a column of type `to`? PostgreSQL
 * needs an equality operator of the referenced type's btree family, directly or after an
 * implicit cast (int → bigint works; int → text does not). Unknown types pass: start decides.
 */
export async function foreignKeyTypesFit(
  sql: Sql,
  pairs: readonly { from: string; to: string }[],
): Promise<boolean[]> {
  if (pairs.length === 0) return [];
  const rows = await sql.unsafe<{ ok: boolean }[]>(
    `SELECT (f IS NULL OR t IS NULL OR f = t
             OR EXISTS (SELECT FROM pg_catalog.pg_cast
                         WHERE castsource = f AND casttarget = t AND castcontext = 'i')
             OR EXISTS (SELECT FROM pg_catalog.pg_opclass oc
                          JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod AND am.amname = 'btree'
                          JOIN pg_catalog.pg_amop o ON o.amopfamily = oc.opcfamily
                         WHERE oc.opcdefault AND oc.opcintype = t
                           AND o.amoplefttype = f AND o.amoprighttype = t
                           AND o.amopstrategy = 3)) AS ok
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(ft, tt, i)
       CROSS JOIN LATERAL (SELECT pg_catalog.to_regtype(p.ft) AS f,
                                  pg_catalog.to_regtype(p.tt) AS t) types
      ORDER BY p.i`,
    [pairs.map((p) => p.from), pairs.map((p) => p.to)],
  );
  return rows.map((r) => r.ok);
}

/** A trigger to carry over to a rewritten column. */
export interface TriggerDefinition {
  oid: number;
  /** Its table (schema, name). */
  schema: string;
  table: string;
  name: string;
  /** pg_get_triggerdef. */
  definition: string;
  /** The `UPDATE OF a, b` text of the definition, or null without a column list. */
  updateOf: string | null;
  /** The columns of that list. */
  columns: string[];
  /** BEFORE, AFTER or INSTEAD OF. */
  timing: "BEFORE" | "AFTER" | "INSTEAD OF";
  /** pg_trigger.tgenabled: O (origin, the default), D, R or A. */
  enabled: string;
  comment: string | null;
}

/** The definitions of the given triggers. */
export function readTriggers(sql: Sql, oids: readonly number[]): Promise<TriggerDefinition[]> {
  return byOids<TriggerDefinition>(
    sql,
    oids,
    `SELECT t.oid::int AS oid, n.nspname AS schema, c.relname AS "table", t.tgname AS name,
            pg_catalog.pg_get_triggerdef(t.oid) AS definition,
            CASE WHEN t.tgattr::int2[] = '{}' THEN NULL ELSE
              'UPDATE OF ' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.i)
                                 FROM unnest(t.tgattr::int2[]) WITH ORDINALITY u(n, i)
                                 JOIN pg_catalog.pg_attribute a
                                   ON a.attrelid = t.tgrelid AND a.attnum = u.n) END AS "updateOf",
            ARRAY(SELECT a.attname::text FROM unnest(t.tgattr::int2[]) WITH ORDINALITY u(n, i)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = u.n
                   ORDER BY u.i) AS columns,
            CASE WHEN t.tgtype & 2 <> 0 THEN 'BEFORE' WHEN t.tgtype & 64 <> 0 THEN 'INSTEAD OF'
                 ELSE 'AFTER' END AS timing,
            t.tgenabled AS enabled,
            pg_catalog.obj_description(t.oid, 'pg_trigger') AS comment
       FROM pg_catalog.pg_trigger t
       JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE t.oid = ANY($1::oid[])
      ORDER BY 2, 3, 4`,
  );
}

/** A row-level security policy to recreate. */
export interface PolicyDefinition {
  schema: string;
  table: string;
  name: string;
  permissive: boolean;
  /** ALL, SELECT, INSERT, UPDATE or DELETE. */
  command: string;
  /** Role names, quoted, or PUBLIC. */
  roles: string[];
  using: string | null;
  withCheck: string | null;
  comment: string | null;
}

/** The definitions of the given policies. */
export function readPolicies(sql: Sql, oids: readonly number[]): Promise<PolicyDefinition[]> {
  return byOids<PolicyDefinition>(
    sql,
    oids,
    `SELECT n.nspname AS schema, c.relname AS "table", p.polname AS name,
            p.polpermissive AS permissive,
            CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                          WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
            ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC'
                              ELSE quote_ident(pg_catalog.pg_get_userbyid(r)) END
                    FROM unnest(p.polroles) r ORDER BY 1) AS roles,
            pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using,
            pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS "withCheck",
            pg_catalog.obj_description(p.oid, 'pg_policy') AS comment
       FROM pg_catalog.pg_policy p
       JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE p.oid = ANY($1::oid[])
      ORDER BY 1, 2, 3`,
  );
}

/** Runs a catalog query whose $1 is an array of oids; none given, nothing to ask. */
async function byOids<T>(sql: Sql, oids: readonly number[], query: string): Promise<T[]> {
  if (oids.length === 0) return [];
  return await sql.unsafe<T[]>(query, [[...oids]]) as unknown as T[];
}
