/**
 * Posts and their tags. `users` is declared with its columns so the foreign key's target column is
 * checked; `posts`, created here, is itself a reference for the tags table's foreign key.
 */
import { createTable, defineMigration, sql, t, table } from "pgtandem";

const users = table("users", ["id", "email", "name", "created_at"]);

const posts = createTable("posts", {
  id: t.bigint().primaryKey().identity({ userSpecifiedValues: "BY DEFAULT" }),
  author_id: t.integer().references("posts_author_id_fkey", users, "id", { onDelete: "CASCADE" }),
  title: t.text().check("posts_title_not_empty", sql`length(title) > 0`),
  body: t.text().nullable(),
  status: t.varchar(20).defaultValue("draft"),
  metadata: t.jsonb().defaultValue({}),
});

const postTags = createTable("post_tags", {
  post_id: t.bigint(),
  tag: t.text(),
  added_at: t.timestamptz().default(sql`now()`),
})
  .primaryKey("post_tags_pkey", ["post_id", "tag"])
  .foreignKey("post_tags_post_id_fkey", ["post_id"], posts, ["id"], { onDelete: "CASCADE" })
  .check("post_tags_tag_lowercase", sql`tag = lower(tag)`);

export default defineMigration({ operations: [posts, postTags] });
