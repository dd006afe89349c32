/**
 * Placeholders: what `convert` writes where SQL does not say how to move data between versions
 * (an `up` for a new NOT NULL column, a `down` for a type change it cannot infer). A placeholder
 * is text that reads as SQL to fill in, so `validate`, `plan` and `start` must refuse it rather
 * than run it: some placeholders (`/* TODO: … *\/ score`) are valid SQL that would silently copy
 * values unchanged.
 *
 * @module
 */
import type { Issue } from "../errors.ts";

/** pgroll's placeholder for a data migration its converter cannot write (kept verbatim). */
export const TODO_DATA_MIGRATION = "TODO: Implement SQL data migration";

/** Makes the placeholder comment `/* TODO: <what> *\/` that marks SQL to fill in. */
export function todoComment(what: string): string {
  return `/* TODO: ${what.replaceAll("*/", "* /")} */`;
}

/** pgroll's placeholder, or a `/* TODO: … *\/` comment (the form `todoComment` writes). */
const PLACEHOLDER = /TODO: Implement SQL data migration|\/\*\s*TODO:/;

/** True when `text` holds a placeholder left to fill in. */
export function isPlaceholder(text: string): boolean {
  return PLACEHOLDER.test(text);
}

/**
 * One issue per placeholder left in the operations' params, each naming its field, e.g.
 * `operations[1].alter_column.down: … is a placeholder from "pgtandem convert": …`.
 */
export function placeholderIssues(
  operations: readonly { readonly kind: string; readonly params: unknown }[],
): Issue[] {
  const issues: Issue[] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value === "string") {
      if (isPlaceholder(value)) {
        issues.push({
          path,
          message: `${
            JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
          } is a placeholder left by "convert": replace it with the SQL expression it asks for`,
        });
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, i]));
    } else if (value && typeof value === "object") {
      for (const [key, v] of Object.entries(value)) walk(v, [...path, key]);
    }
  };
  operations.forEach((op, index) => walk(op.params, ["operations", index, op.kind]));
  return issues;
}
