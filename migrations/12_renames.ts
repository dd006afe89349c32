/** Renaming a column and a table; the old version keeps seeing the old names until complete. */
import { defineMigration, renameColumn, renameTable, table } from "pgtandem";

const users = table("users", ["id", "email", "name", "created_at", "plan", "display_name", "bio"]);

export default defineMigration({
  operations: [
    renameColumn(users, "bio", "about"),
    renameTable("post_tags", "post_labels"),
  ],
});
