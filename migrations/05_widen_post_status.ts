/**
 * A type change: both versions run side by side, so `up` converts old values to the new type and
 * `down` converts values written through the new version back. The types require both.
 */
import { alterColumn, defineMigration, sql, t, table } from "pgtandem";

const posts = table("posts", ["id", "author_id", "title", "body", "status", "metadata"]);

export default defineMigration({
  operations: [
    alterColumn(posts, "status")
      .type(t.text(), { up: sql`status::text`, down: sql`LEFT(status, 20)` })
      .comment("draft, published or archived"),
  ],
});
