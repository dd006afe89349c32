/**
 * A completed group's history, file by file. While a group is in flight pgroll's `migrations`
 * table holds one active row for it (named after the last member, the members' operations
 * concatenated), which is what pgroll reads correctly. Once it is done, the row is replaced by one
 * done row per member: parent-chained, each holding its file's JSON, `created_at` one microsecond
 * apart (pgroll orders history by `created_at` alone). The last member carries the
 * `resulting_schema`; the others get `{}`: their schemas never existed. pgtandem's run row is kept
 * under the last member's name.
 */
import type postgres from "postgres";
import { ident } from "../sql.ts";

interface CompositeRow {
  parent: string | null;
  created_at: string;
  resulting_schema: string;
  migration_type: string | null;
  started_schema: string;
  backfill: string;
  plugins: string;
  run_created_at: string;
  members: { name: string }[] | null;
  expanded: boolean;
}

/**
 * Replaces the done composite row `name` of a group by its members' rows, through `via` (the
 * caller's transaction). Idempotent: a row that is not a group's, not done, or already expanded
 * is left alone. Returns true when it expanded.
 */
export async function expandGroupRow(
  via: postgres.Sql | postgres.TransactionSql,
  stateSchema: string,
  schema: string,
  name: string,
): Promise<boolean> {
  const migrations = ident(stateSchema, "migrations");
  const runs = ident(stateSchema, "pgtandem_runs");
  // Timestamps travel as text: a JS Date would drop their microseconds.
  const [row] = await via.unsafe<CompositeRow[]>(
    `SELECT m.parent, m.created_at::text AS created_at, m.resulting_schema::text AS resulting_schema,
      m.migration_type, r.started_schema::text AS started_schema, r.backfill::text AS backfill,
      r.plugins::text AS plugins, r.created_at::text AS run_created_at,
      r.backfill -> 'members' AS members,
      EXISTS (
        SELECT FROM ${migrations} e
        WHERE e.schema = m.schema AND e.name = r.backfill -> 'members' -> 0 ->> 'name'
      ) AS expanded
    FROM ${migrations} m
    JOIN ${runs} r ON r.schema = m.schema AND r.name = m.name
    WHERE m.schema = $1 AND m.name = $2 AND m.done
    FOR UPDATE OF m`,
    [schema, name],
  );
  const members = row?.members;
  if (!row || !Array.isArray(members) || members.length < 2 || row.expanded) return false;
  if (members.at(-1)?.name !== name) return false;
  // The run row goes with the composite (ON DELETE CASCADE) and comes back below.
  await via.unsafe(`DELETE FROM ${migrations} WHERE schema = $1 AND name = $2`, [schema, name]);
  await via.unsafe(
    `INSERT INTO ${migrations} (schema, name, migration, parent, done, resulting_schema,
      created_at, updated_at, migration_type)
    SELECT $1::name, e.member ->> 'name', e.member -> 'document',
      CASE WHEN e.i = 1 THEN $3::text
        ELSE $2::text::jsonb -> (e.i::int - 2) ->> 'name' END,
      true,
      CASE WHEN e.i = jsonb_array_length($2::text::jsonb) THEN $4::text::jsonb ELSE '{}'::jsonb END,
      $5::timestamptz + (e.i - 1) * interval '1 microsecond',
      $5::timestamptz + (e.i - 1) * interval '1 microsecond',
      $6::varchar
    FROM jsonb_array_elements($2::text::jsonb) WITH ORDINALITY AS e (member, i)
    ORDER BY e.i`,
    [
      schema,
      JSON.stringify(members),
      row.parent,
      row.resulting_schema,
      row.created_at,
      row.migration_type ?? "pgroll",
    ],
  );
  await via.unsafe(
    `INSERT INTO ${runs} (schema, name, started_schema, backfill, plugins, created_at)
    VALUES ($1, $2, $3::text::jsonb, $4::text::jsonb, $5::text::jsonb, $6::timestamptz)`,
    [schema, name, row.started_schema, row.backfill, row.plugins, row.run_created_at],
  );
  return true;
}
