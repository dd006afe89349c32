/**
 * `default_transaction_read_only = on` set with ALTER ROLE … SET or ALTER DATABASE … SET is an
 * operator saying "this user (or database) changes nothing". pgtandem's sessions turn the setting
 * off for themselves (connection.ts), so commands that change the database read what the operator
 * set from the catalog and refuse, before any change, instead of overriding it.
 */
import { PgtandemError } from "../errors.ts";
import type { Sql } from "./connection.ts";
import { ident } from "../sql.ts";

/** PostgreSQL's spellings of a true boolean setting (any unique prefix of on/true/yes, or 1). */
const TRUE = /^(on|t|tr|tru|true|y|ye|yes|1)$/i;

/**
 * Throws one line when the login user's default for this database, as ALTER ROLE/DATABASE set it
 * (role in database, then role, then database: PostgreSQL's precedence), is read-only.
 */
export async function assertNotReadOnlyByDefault(sql: Sql): Promise<void> {
  const [row] = await sql.unsafe<
    { who: string; db: string; setting: string; for_role: boolean; for_database: boolean }[]
  >(
    `SELECT session_user AS who, current_database() AS db, c.setting,
       s.setrole <> 0 AS for_role, s.setdatabase <> 0 AS for_database
     FROM pg_catalog.pg_db_role_setting s,
       LATERAL pg_catalog.unnest(s.setconfig) AS c (setting)
     WHERE s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                  WHERE datname = current_database()))
       AND s.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user))
       AND c.setting LIKE 'default\\_transaction\\_read\\_only=%'
     ORDER BY s.setrole <> 0 DESC, s.setdatabase <> 0 DESC
     LIMIT 1`,
  );
  if (!row || !TRUE.test(row.setting.slice(row.setting.indexOf("=") + 1).trim())) return;
  const where = row.for_role
    ? `ALTER ROLE ${ident(row.who)}${row.for_database ? ` IN DATABASE ${ident(row.db)}` : ""}`
    : `ALTER DATABASE ${ident(row.db)}`;
  throw new PgtandemError(
    "invalid_input",
    `default_transaction_read_only is on for user "${row.who}" in database "${row.db}" (${where} SET): ` +
      `pgtandem will not change a database set read-only; run ${where} RESET default_transaction_read_only, or connect as a user allowed to write`,
  );
}
