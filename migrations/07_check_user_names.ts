/**
 * A constraint on an existing column, without blocking writes: the column is rewritten, so the
 * types ask for `up` and `down` for each column the constraint lists.
 */
import { createConstraint, defineMigration, sql, table } from "pgtandem";

const users = table("users", ["id", "email", "name", "created_at", "plan", "display_name", "bio"]);

export default defineMigration({
  operations: [
    createConstraint(users, "users_name_present").check(sql`length(name) > 0`, ["name"], {
      up: { name: sql`CASE WHEN length(name) > 0 THEN name ELSE 'anonymous' END` },
      down: { name: sql`name` },
    }),
  ],
});
