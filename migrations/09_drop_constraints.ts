/**
 * Dropping constraints: `down` gives the old version values that still satisfy the constraint for
 * rows written through the new version. `dropConstraint` is pgroll's older one-column form.
 */
import { defineMigration, dropConstraint, dropMulticolumnConstraint, sql, table } from "pgtandem";

const users = table("users", ["id", "email", "name", "created_at", "plan", "display_name", "bio"]);
const posts = table("posts", ["id", "author_id", "title", "body", "status", "metadata"]);

export default defineMigration({
  operations: [
    dropMulticolumnConstraint(users, "users_name_present", {
      up: { name: sql`name` },
      down: { name: sql`CASE WHEN length(name) > 0 THEN name ELSE 'anonymous' END` },
    }),
    dropConstraint(posts, "posts_title_present", {
      up: sql`title`,
      down: sql`CASE WHEN length(title) > 0 THEN title ELSE 'untitled' END`,
    }),
  ],
});
