/**
 * Dropping an index, columns and a table. Until complete the old version still reads a dropped
 * column: `down` fills it for rows written through the new version (needed here, the column is
 * NOT NULL; a nullable column can do without).
 */
import { defineMigration, dropColumn, dropIndex, dropTable, sql, table } from "pgtandem";

const users = table("users", [
  "id",
  "email",
  "name",
  "created_at",
  "plan",
  "display_name",
  "about",
]);

export default defineMigration({
  operations: [
    dropIndex("idx_posts_published"),
    dropColumn(users, "display_name", { down: sql`COALESCE(name, email)` }),
    dropColumn(users, "about"),
    dropTable("audit_log"),
  ],
});
