/**
 * How names in `up`/`down` expressions resolve: in the migrated schema, then pg_catalog, fixed when
 * the triggers are created — never through the writing client's search_path (a version schema of
 * views, or `''`). The trigger functions are created with `SET search_path`; the start-time check
 * of each expression plans it under the same path; the backfill's batches use it too.
 *
 * A function's SET clause costs every call a save and restore of the setting (measured: 15–30 %
 * more time per row written). When everything an expression names lives in pg_catalog — which a
 * session always searches, first unless its search_path says otherwise — the pin changes nothing
 * and is released after creation, found from the dependencies of a temporary view of the
 * expressions.
 */
import { dollarTag, ident, literal } from "../sql.ts";
import type { TriggerSpec } from "../operations/operation.ts";
import { simplifyExpression } from "../sql-rewrite.ts";

/** The search_path expressions resolve names in: the migrated schema, then pg_catalog. */
export function expressionSearchPath(baseSchema: string): string {
  return `${ident(baseSchema)}, pg_catalog`;
}

/**
 * A statement that plans each spec's expression over the table's columns under their virtual
 * names, reading no row (LIMIT 0), with names resolved as in the trigger functions. CREATE
 * FUNCTION only checks the syntax of plpgsql expressions; an unknown column or function would
 * otherwise surface in the first client write after the trigger exists. One statement (a DO block)
 * that restores the caller's search_path, so it may run inside a larger transaction.
 */
export function expressionCheckSql(
  table: string,
  specs: readonly TriggerSpec[],
  baseSchema: string,
): string {
  return pinnedDo(baseSchema, `  EXECUTE ${literal(expressionsQuery(table, specs, baseSchema))};`);
}

/**
 * A statement that removes `SET search_path` from `fn` when nothing the specs' expressions name
 * (functions, operators, types, collations, relations other than the table) lives outside
 * pg_catalog. Leaves the pin when the expressions do not plan (a broken `down` that start
 * accepted with a warning) or name anything else.
 */
export function releaseSearchPathSql(
  fn: string,
  table: string,
  specs: readonly TriggerSpec[],
  baseSchema: string,
): string {
  const view = "pg_temp.pgtandem_expression_names";
  const statements = `  BEGIN
    EXECUTE ${
    literal(
      `CREATE TEMPORARY VIEW pgtandem_expression_names AS ${
        expressionsQuery(table, specs, baseSchema)
      }`,
    )
  };
    SELECT EXISTS (
      SELECT FROM pg_catalog.pg_rewrite r
      JOIN pg_catalog.pg_depend d
        ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
      CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.refclassid, d.refobjid, 0) o
      WHERE r.ev_class = '${view}'::pg_catalog.regclass AND d.refobjid <> r.ev_class
        AND NOT (d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND d.refobjid = ${literal(ident(baseSchema, table))}::pg_catalog.regclass)
        AND o.schema IS DISTINCT FROM 'pg_catalog'
    ) INTO outside;
    DROP VIEW ${view};
  EXCEPTION WHEN OTHERS THEN
    outside := true;
  END;
  IF NOT outside THEN
    EXECUTE ${literal(`ALTER FUNCTION ${fn}() RESET search_path`)};
  END IF;`;
  return pinnedDo(baseSchema, statements, "  outside boolean;\n");
}

/** One query planning every spec's expression, each over the table's columns as it names them. */
function expressionsQuery(table: string, specs: readonly TriggerSpec[], baseSchema: string) {
  const values = specs.map((spec) => {
    const columns = spec.columns.map((c) => `${ident(c.physicalName)} AS ${ident(c.name)}`);
    return `(SELECT (${simplifyExpression(spec.expression)}
  ) FROM (SELECT ${columns.join(", ")} FROM ${
      ident(baseSchema, table)
    } LIMIT 0) AS pgtandem_expression_check)`;
  });
  return `SELECT ${values.join(",\n  ")}`;
}

/** A DO block running `statements` under {@link expressionSearchPath}, restoring the caller's. */
function pinnedDo(baseSchema: string, statements: string, declarations = ""): string {
  const body = `DECLARE
  saved text := pg_catalog.current_setting('search_path');
${declarations}BEGIN
  PERFORM pg_catalog.set_config('search_path', ${literal(expressionSearchPath(baseSchema))}, true);
${statements}
  PERFORM pg_catalog.set_config('search_path', saved, true);
END`;
  const tag = dollarTag(body);
  return `DO ${tag}\n${body}\n${tag}`;
}
