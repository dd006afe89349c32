/**
 * Dropping an index, columns and a table. Until complete the old version still reads a dropped
 * column: `down` fills it for rows written through the new version (needed here, the column is
 * NOT NULL; a nullable column can do without). audit_log was made by raw SQL (11), which the
 * folder's types cannot see: `untyped` names it.
 */
import { migration, sql } from "pgtandem";

export default migration("13_cleanup", ({ dropColumn, dropIndex, dropTable, untyped }) => [
  dropIndex("idx_posts_published"),
  dropColumn("users", "display_name", { down: sql`COALESCE(name, email)` }),
  dropColumn("users", "about"),
  dropTable(untyped("audit_log")),
]);
