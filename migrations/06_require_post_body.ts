/**
 * Adding NOT NULL: `up` gives existing NULLs a value (the types require it). Written with
 * `migration(name, …)`: its builders know the tables the migrations before it leave (after
 * `pgtandem types migrations`), so "posts" and "body" are checked with no column list.
 */
import { migration, sql } from "pgtandem";

export default migration("06_require_post_body", ({ alterColumn }) => [
  alterColumn("posts", "body").notNull({ up: sql`COALESCE(body, '')`, down: sql`body` }),
]);
