/** The users table: a serial primary key, a unique email and a creation time set by the database. */
import { createTable, defineMigration, sql, t } from "pgtandem";

export default defineMigration({
  operations: [
    createTable("users", {
      id: t.serial().primaryKey(),
      email: t.varchar(255).unique(),
      name: t.text(),
      created_at: t.timestamptz().default(sql`now()`),
    }).comment("People who can sign in"),
  ],
});
