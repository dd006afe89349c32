/** Column renames inside user SQL: only real column references change. */
import { expect, test } from "bun:test";
import { renameIdentifiers } from "../lib/sql-rewrite.ts";

const renames = new Map([["name", "_pgroll_new_name"], ["Mixed", "_pgroll_new_Mixed"]]);

test.each([
  ["length(name) > 3", `length("_pgroll_new_name") > 3`],
  ["name <> 'name' and t.name is null", `"_pgroll_new_name" <> 'name' and t.name is null`],
  ["name::text = lower(name)", `"_pgroll_new_name"::text = lower("_pgroll_new_name")`],
  [`"Mixed" > 0 and mixed > 0`, `"_pgroll_new_Mixed" > 0 and mixed > 0`],
  ["NAME = 'x' -- name\n", `"_pgroll_new_name" = 'x' -- name\n`],
  ["$$name$$ || name_2 || name", `$$name$$ || name_2 || "_pgroll_new_name"`],
  ["CHECK ((name IS NOT NULL))", `CHECK (("_pgroll_new_name" IS NOT NULL))`],
])("%p", (input, expected) => {
  expect(renameIdentifiers(input, renames)).toBe(expected);
});

test("quoting it cannot follow is an error, not a silent no-op", () => {
  expect(() => renameIdentifiers(`name = 'unterminated`, renames)).toThrow(
    /cannot rename the columns in expression/,
  );
});
