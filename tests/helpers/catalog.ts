/**
 * Catalog assertions for lifecycle tests: a complete, deterministic dump of a schema (tables,
 * columns, constraints, indexes, triggers, functions, views, comments, replica identity) so
 * "rollback leaves the schema exactly as before" is one equality, plus small lookups.
 */
import type postgres from "postgres";

export interface SchemaDump {
  tables: Record<string, unknown>;
  views: Record<string, string>;
  functions: string[];
  sequences: string[];
  types: string[];
}

export async function dumpSchema(sql: postgres.Sql, schema: string): Promise<SchemaDump> {
  const tables: Record<string, unknown> = {};
  const rels = await sql<{ oid: number; relname: string; ident: string; comment: string | null }[]>`
    select c.oid::int as oid, c.relname, c.relreplident as ident, obj_description(c.oid, 'pg_class') as comment
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relkind in ('r', 'p') order by c.relname`;
  for (const rel of rels) {
    const columns = await sql`
      select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
             pg_get_expr(d.adbin, d.adrelid) as default, a.attidentity as identity, a.attgenerated as generated,
             col_description(a.attrelid, a.attnum) as comment
        from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
       where a.attrelid = ${rel.oid} and a.attnum > 0 and not a.attisdropped order by a.attnum`;
    const constraints = await sql`
      select conname as name, pg_get_constraintdef(oid) as definition, convalidated as validated
        from pg_constraint where conrelid = ${rel.oid} order by conname`;
    const indexes = await sql`
      select c.relname as name, pg_get_indexdef(i.indexrelid) as definition, i.indisvalid as valid
        from pg_index i join pg_class c on c.oid = i.indexrelid
       where i.indrelid = ${rel.oid} order by c.relname`;
    const triggers = await sql`
      select tgname as name from pg_trigger where tgrelid = ${rel.oid} and not tgisinternal order by tgname`;
    tables[rel.relname] = {
      comment: rel.comment,
      replicaIdentity: rel.ident,
      columns: columns.map((c) => ({ ...c })),
      constraints: constraints.map((c) => ({ ...c })),
      indexes: indexes.map((c) => ({ ...c })),
      triggers: triggers.map((t) => t.name),
    };
  }
  const views = await sql<{ name: string; definition: string }[]>`
    select c.relname as name, pg_get_viewdef(c.oid) as definition
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relkind = 'v' order by c.relname`;
  const functions = await sql<{ name: string }[]>`
    select p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as name
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = ${schema} order by 1`;
  const sequences = await sql<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relkind = 'S' order by 1`;
  const types = await sql<{ name: string }[]>`
    select t.typname as name from pg_type t join pg_namespace n on n.oid = t.typnamespace
     where n.nspname = ${schema} and t.typtype in ('e', 'd', 'c')
       and not exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind <> 'c')
     order by 1`;
  return {
    tables,
    views: Object.fromEntries(views.map((v) => [v.name, v.definition])),
    functions: functions.map((f) => f.name),
    sequences: sequences.map((s) => s.name),
    types: types.map((t) => t.name),
  };
}

export async function schemaExists(sql: postgres.Sql, schema: string): Promise<boolean> {
  const rows = await sql`select 1 from pg_namespace where nspname = ${schema}`;
  return rows.length > 0;
}

export async function tableExists(sql: postgres.Sql, schema: string, table: string) {
  const rows = await sql`
    select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relname = ${table} and c.relkind in ('r', 'p', 'v')`;
  return rows.length > 0;
}

/** Column names of a table or view, in order. */
export async function columnNames(sql: postgres.Sql, schema: string, table: string) {
  const rows = await sql<{ attname: string }[]>`
    select a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relname = ${table} and a.attnum > 0 and not a.attisdropped
     order by a.attnum`;
  return rows.map((r) => r.attname);
}

/** Runs `fn` on a connection whose search_path is exactly `schema`, like a versioned client. */
export async function inSchema<T>(
  url: string,
  schema: string,
  fn: (sql: postgres.Sql) => Promise<T>,
): Promise<T> {
  const { default: postgresFn } = await import("postgres");
  const sql = postgresFn(url, {
    max: 1,
    onnotice: () => {},
    connection: { search_path: `"${schema.replaceAll('"', '""')}"` },
  });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Anything pgtandem creates temporarily that is still in `schema` after complete/rollback. */
export async function leftovers(sql: postgres.Sql, schema: string): Promise<string[]> {
  const rows = await sql<{ what: string }[]>`
    select 'column ' || c.relname || '.' || a.attname as what
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relkind in ('r', 'p') and a.attname like '\_pgroll\_%'
       and a.attnum > 0 and not a.attisdropped
    union all
    select 'function ' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = ${schema} and p.proname like '\_pgroll\_%'
    union all
    select 'trigger ' || t.tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and not t.tgisinternal
    union all
    select 'constraint ' || conname from pg_constraint k join pg_namespace n on n.oid = k.connamespace
     where n.nspname = ${schema} and conname like '%\_pgroll\_%'
    union all
    select 'relation ' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relname like '\_pgroll\_%'`;
  return rows.map((r) => r.what);
}

/** All rows of a table ordered by its first column, for before/after data comparisons. */
export async function tableRows(sql: postgres.Sql, schema: string, table: string) {
  return await sql.unsafe(
    `select * from "${schema.replaceAll('"', '""')}"."${table.replaceAll('"', '""')}" order by 1`,
  );
}
