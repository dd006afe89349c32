/**
 * Reads of the live schema: what the catalog says the tables, columns, replica identities and
 * schemas are right now. The migration history lives elsewhere (lib/engine/state.ts); this module
 * only describes the database as it is.
 *
 * The table model comes from `read_schema`, the SQL function pgroll and pgtandem install in the
 * state schema (so both tools describe a schema identically); what its JSON loses (column order,
 * replica identity) is read here beside it, in the same statement and so the same snapshot.
 */
import type postgres from "postgres";
import type { ReplicaIdentity, Schema, VirtualSchema } from "./model.ts";
import { normalizeSchema } from "./normalize.ts";
import { virtualFromPhysical } from "./virtual.ts";
import { ident } from "../sql.ts";

/**
 * Runs a catalog read, retrying it when it hits lock_timeout: read_schema deparses defaults with
 * pg_get_expr, which takes ACCESS SHARE on each table and so waits behind a long ACCESS EXCLUSIVE
 * like any DDL. The engine passes its lock retry; a caller without one passes `(_, fn) => fn()`.
 */
export type CatalogRetry = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

/** Live-schema reads through a postgres.js pool; holds no connection between calls. */
export class Catalog {
  private readonly sql: postgres.Sql;
  private readonly readSchemaFunction: string;
  private readonly retry: CatalogRetry;

  /**
   * @param sql the pool to read through.
   * @param stateSchema the schema holding `read_schema` (`pgroll` unless the user chose another).
   * @param retry see {@link CatalogRetry}.
   */
  constructor(sql: postgres.Sql, stateSchema: string, retry: CatalogRetry) {
    this.sql = sql;
    this.readSchemaFunction = ident(stateSchema, "read_schema");
    this.retry = retry;
  }

  /** Does a schema (namespace) of this name exist? */
  async schemaExists(name: string, via: postgres.Sql | postgres.TransactionSql = this.sql) {
    const rows = await via.unsafe(
      "SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1",
      [name],
    );
    return rows.length > 0;
  }

  /** The live schema via `read_schema()`, with nulls and pgroll's spellings normalised. */
  async readSchema(schema: string): Promise<Schema> {
    const [row] = await this.retry(
      "read the schema",
      () =>
        this.sql.unsafe<{ schema: unknown }[]>(
          `SELECT ${this.readSchemaFunction}($1) AS schema`,
          [schema],
        ),
    );
    return normalizeSchema(row?.schema);
  }

  /** Each table's live user columns in attnum order (read_schema's JSON objects lose it). */
  async columnOrder(schema: string): Promise<Record<string, string[]>> {
    const [row] = await this.sql.unsafe<{ column_order: Record<string, string[]> }[]>(
      `SELECT ${COLUMN_ORDER_SQL} AS column_order`,
      [schema],
    );
    return row?.column_order ?? {};
  }

  /**
   * The live schema as a virtual schema (every name maps to itself), columns in attnum order,
   * each table's replica identity filled in (read_schema's JSON has none; rollback of
   * set_replica_identity restores it from here).
   */
  async readVirtualSchema(
    schema: string,
    via: postgres.Sql | postgres.TransactionSql = this.sql,
  ): Promise<VirtualSchema> {
    // One statement, one snapshot: the column order matches the schema it describes.
    const [row] = await this.retry("read the schema", () =>
      via.unsafe<
        {
          schema: unknown;
          column_order: Record<string, string[]>;
          replica_identity: Record<string, ReplicaIdentity>;
        }[]
      >(
        `SELECT ${this.readSchemaFunction}($1) AS schema, ${COLUMN_ORDER_SQL} AS column_order,
          ${REPLICA_IDENTITY_SQL} AS replica_identity`,
        [schema],
      ));
    const virtual = virtualFromPhysical(normalizeSchema(row?.schema), row?.column_order ?? {});
    for (const table of virtual.tables) {
      const identity = row?.replica_identity[table.physicalName];
      if (identity) table.replicaIdentity = identity;
    }
    return virtual;
  }

  /** Does `schema` hold any table? With no history, such a schema needs a baseline first. */
  async schemaHasTables(schema: string): Promise<boolean> {
    const [row] = await this.sql.unsafe<{ found: boolean }[]>(
      `SELECT EXISTS (
        SELECT FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
      ) AS found`,
      [schema],
    );
    return row?.found === true;
  }
}

/** `{table: [columns in attnum order]}` of schema $1, as a jsonb expression. */
const COLUMN_ORDER_SQL = `(
  SELECT COALESCE(jsonb_object_agg(c.relname, COALESCE((
    SELECT jsonb_agg(a.attname ORDER BY a.attnum)
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  ), '[]'::jsonb)), '{}'::jsonb)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
)`;

/**
 * `{table: {type, index?}}` of schema $1, as a jsonb expression. An INDEX identity whose index
 * was dropped behaves as NOTHING, and is reported so (it cannot be set again as it is).
 */
const REPLICA_IDENTITY_SQL = `(
  SELECT COALESCE(jsonb_object_agg(c.relname, CASE
    WHEN c.relreplident = 'i' AND ri.relname IS NOT NULL
      THEN jsonb_build_object('type', 'INDEX', 'index', ri.relname)
    ELSE jsonb_build_object('type', CASE c.relreplident
      WHEN 'd' THEN 'DEFAULT' WHEN 'f' THEN 'FULL' ELSE 'NOTHING' END)
  END), '{}'::jsonb)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN LATERAL (
    SELECT ic.relname FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    WHERE i.indrelid = c.oid AND i.indisreplident
  ) ri ON true
  WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
)`;
