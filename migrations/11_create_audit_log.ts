/**
 * Raw SQL, marked as such. It runs alone in its migration (the schema is re-read after it), and
 * its `down` must be safe to run twice.
 */
import { defineMigration, rawSql, sql } from "pgtandem";

export default defineMigration({
  operations: [
    rawSql(
      sql`CREATE TABLE audit_log (id bigserial PRIMARY KEY, message text NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
      { down: sql`DROP TABLE IF EXISTS audit_log` },
    ),
  ],
});
