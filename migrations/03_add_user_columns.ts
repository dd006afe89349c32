/**
 * Three ways to add a column: with a literal default, NOT NULL filled from the other columns by
 * `up` (required by the types: existing rows need a value), and nullable.
 */
import { addColumn, defineMigration, sql, t, table } from "pgtandem";

const users = table("users", ["id", "email", "name", "created_at"]);

export default defineMigration({
  operations: [
    addColumn(
      users,
      "plan",
      t.text().defaultValue("free").check("users_plan_known", sql`plan IN ('free', 'pro')`),
    ),
    addColumn(users, "display_name", t.text(), { up: sql`COALESCE(name, email)` }),
    addColumn(users, "bio", t.text().nullable().comment("Shown on the profile page")),
  ],
});
