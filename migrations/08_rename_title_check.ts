/** Renaming a constraint. */
import { defineMigration, renameConstraint } from "pgtandem";

export default defineMigration({
  operations: [renameConstraint("posts", "posts_title_not_empty", "posts_title_present")],
});
