/** Indexes are built concurrently: a plain one, a partial descending one, a hash one. */
import { createIndex, defineMigration, sql, table } from "pgtandem";

const users = table("users", ["id", "email", "name", "created_at", "plan", "display_name", "bio"]);
const posts = table("posts", ["id", "author_id", "title", "body", "status", "metadata"]);

export default defineMigration({
  operations: [
    createIndex("idx_posts_author_id", posts, ["author_id"]),
    createIndex("idx_posts_published", posts, [{ column: "id", sort: "DESC" }], {
      predicate: sql`status = 'published'`,
    }),
    createIndex("idx_users_display_name", users, ["display_name"], {
      method: "hash",
      storageParameters: { fillfactor: 90 },
    }),
  ],
});
