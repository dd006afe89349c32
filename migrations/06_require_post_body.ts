/** Adding NOT NULL: `up` gives existing NULLs a value (the types require it). */
import { alterColumn, defineMigration, sql, table } from "pgtandem";

const posts = table("posts", ["id", "author_id", "title", "body", "status", "metadata"]);

export default defineMigration({
  operations: [
    alterColumn(posts, "body").notNull({ up: sql`COALESCE(body, '')`, down: sql`body` }),
  ],
});
