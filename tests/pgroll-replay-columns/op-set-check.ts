/**
 * Replay of pgroll's op_set_check_test.go (pkg/migrations) through the CLI: same migrations, same
 * assertions on the catalog and through the version schemas (tests/helpers/pgroll-replay.ts).
 */
import { describe } from "bun:test";
import {
  duplicationName,
  Replay,
  replayCases,
  sqlstate,
  syncTriggerName,
  temporaryName,
} from "../helpers/pgroll-replay.ts";

describe("TestSetCheckConstraint", () => {
  replayCases([
    {
      name: "add check constraint",
      migrations: [
        {
          name: "01_add_table",
          version_schema: "add_table",
          operations: [
            {
              create_table: {
                name: "posts",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "title",
                    type: "text",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_check_constraint",
          version_schema: "add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                  no_inherit: true,
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
                down: "title",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The new (temporary) `title` column should exist on the underlying table.
        await p.columnMustExist("posts", temporaryName("title"));

        // A check constraint has been added to the temporary column
        await p.notInheritableCheckConstraintMustExist("posts", "check_title_length");

        // Inserting a row that meets the check constraint into the old view works.
        await p.mustInsert("add_table", "posts", {
          "title": "post by alice",
        });

        // Inserting a row that does not meet the check constraint into the old view also works.
        await p.mustInsert("add_table", "posts", {
          "title": "b",
        });

        // Both rows have been backfilled into the new view; the short title has
        // been rewritten using `up` SQL to meet the length constraint.
        let rows = await p.mustSelect("add_check_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice" },
          { "id": 2, "title": "---b" },
        ], rows);

        // Inserting a row that meets the check constraint into the new view works.
        await p.mustInsert("add_check_constraint", "posts", {
          "title": "post by carl",
        });

        // Inserting a row that does not meet the check constraint into the new view fails.
        await p.mustNotInsert("add_check_constraint", "posts", {
          "title": "d",
        }, sqlstate.check);

        // The row that was inserted into the new view has been backfilled into the old view.
        rows = await p.mustSelect("add_table", "posts");
        p.equal([
          { "id": 1, "title": "post by alice" },
          { "id": 2, "title": "b" },
          { "id": 3, "title": "post by carl" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("posts", "title");
      },
      afterComplete: async (p: Replay) => {
        // The check constraint exists on the new table.
        await p.notInheritableCheckConstraintMustExist("posts", "check_title_length");

        // Inserting a row that meets the check constraint into the new view works.
        await p.mustInsert("add_check_constraint", "posts", {
          "title": "post by dana",
        });

        // Inserting a row that does not meet the check constraint into the new view fails.
        await p.mustNotInsert("add_check_constraint", "posts", {
          "title": "e",
        }, sqlstate.check);

        // The data in the new `posts` view is as expected.
        const rows = await p.mustSelect("add_check_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice" },
          { "id": 2, "title": "---b" },
          { "id": 3, "title": "post by carl" },
          { "id": 5, "title": "post by dana" },
        ], rows);

        // The up function no longer exists.
        await p.functionMustNotExist(syncTriggerName("posts", "title"));
        // The down function no longer exists.
        await p.functionMustNotExist(syncTriggerName("posts", temporaryName("title")));

        // The up trigger no longer exists.
        await p.triggerMustNotExist("posts", syncTriggerName("posts", "title"));
        // The down trigger no longer exists.
        await p.triggerMustNotExist("posts", syncTriggerName("posts", temporaryName("title")));
      },
    },
    {
      name: "column defaults are preserved when adding a check constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "posts",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "title",
                    type: "text",
                    default: "'untitled'",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
                down: "title",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_add_check_constraint", "posts", {
          "id": "1",
        });

        // The newly inserted row respects the default value of the column.
        const rows = await p.mustSelect("02_add_check_constraint", "posts");
        p.equal([
          { "id": 1, "title": "untitled" },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_add_check_constraint", "posts", {
          "id": "2",
        });

        // The newly inserted row respects the default value of the column.
        const rows = await p.mustSelect("02_add_check_constraint", "posts");
        p.equal([
          { "id": 1, "title": "untitled" },
          { "id": 2, "title": "untitled" },
        ], rows);
      },
    },
    {
      name: "foreign keys are preserved when adding a check constraint",
      migrations: [
        {
          name: "01_add_departments_table",
          operations: [
            {
              create_table: {
                name: "departments",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                    nullable: false,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_employees_table",
          operations: [
            {
              create_table: {
                name: "employees",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                    nullable: false,
                  },
                  {
                    name: "department_id",
                    type: "integer",
                    nullable: true,
                    references: {
                      name: "fk_employee_department",
                      table: "departments",
                      column: "id",
                      on_delete: "CASCADE",
                    },
                  },
                ],
              },
            },
          ],
        },
        {
          name: "03_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "employees",
                column: "department_id",
                check: {
                  name: "check_valid_department_id",
                  constraint: "department_id > 1",
                },
                up: "SELECT CASE WHEN department_id <= 1 THEN 2 ELSE department_id END",
                down: "department_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // A temporary FK constraint has been created on the temporary column
        // Validated once start is done: after the backfill (which skips foreign-key triggers).
        await p.validatedForeignKeyMustExistWithReferentialAction(
          "employees",
          duplicationName("fk_employee_department"),
          "CASCADE",
          "NO ACTION",
        );
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The foreign key constraint still exists on the column
        await p.validatedForeignKeyMustExistWithReferentialAction(
          "employees",
          "fk_employee_department",
          "CASCADE",
          "NO ACTION",
        );
      },
    },
    {
      name: "existing check constraints are preserved when adding a check constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "posts",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "title",
                    type: "text",
                    check: {
                      name: "check_title_length",
                      constraint: "length(title) > 3",
                    },
                  },
                  {
                    name: "body",
                    type: "text",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "body",
                check: {
                  name: "check_body_length",
                  constraint: "length(body) > 3",
                },
                up: "SELECT CASE WHEN length(body) <= 3 THEN LPAD(body, 4, '-') ELSE body END",
                down: "body",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The check constraint on the `title` column still exists.
        await p.mustNotInsert("02_add_check_constraint", "posts", {
          "id": "1",
          "title": "a",
          "body": "this is the post body",
        }, sqlstate.check);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The check constraint on the `title` column still exists.
        await p.mustNotInsert("02_add_check_constraint", "posts", {
          "id": "2",
          "title": "b",
          "body": "this is another post body",
        }, sqlstate.check);
      },
    },
    {
      name: "not null is preserved when adding a check constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "posts",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "title",
                    type: "text",
                    nullable: false,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
                down: "title",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row that violates the NOT NULL constraint on `title` fails.
        await p.mustNotInsert("02_add_check_constraint", "posts", {
          "id": "1",
        }, sqlstate.notNull);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row that violates the NOT NULL constraint on `title` fails.
        await p.mustNotInsert("02_add_check_constraint", "posts", {
          "id": "1",
        }, sqlstate.notNull);
      },
    },
    {
      name: "unique constraints are preserved when adding a check constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "posts",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "title",
                    type: "text",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_unique",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                unique: { name: "unique_title" },
                up: "title",
                down: "title",
              },
            },
          ],
        },
        {
          name: "03_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
                down: "title",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting an initial row succeeds
        await p.mustInsert("03_add_check_constraint", "posts", {
          "title": "post by alice",
        });

        // Inserting a row with a duplicate `title` value fails
        await p.mustNotInsert("03_add_check_constraint", "posts", {
          "title": "post by alice",
        }, sqlstate.unique);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The table has a unique constraint defined on it
        await p.uniqueConstraintMustExist("posts", "unique_title");

        // Inserting a row with a duplicate `title` value fails
        await p.mustNotInsert("03_add_check_constraint", "posts", {
          "title": "post by alice",
        }, sqlstate.unique);

        // Inserting a row with a different `title` value succeeds
        await p.mustInsert("03_add_check_constraint", "posts", {
          "title": "post by bob",
        });
      },
    },
    {
      name: "comments are preserved when adding a check constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "posts",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "title",
                    type: "text",
                    comment: "the title of the post",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
                down: "title",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The duplicated column has a comment defined on it
        await p.columnMustHaveComment("posts", temporaryName("title"), "the title of the post");
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The final column has a comment defined on it
        await p.columnMustHaveComment("posts", "title", "the title of the post");
      },
    },
    {
      name: "validate that check constraint name is unique",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "posts",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "title",
                    type: "text",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
                down: "title",
              },
            },
          ],
        },
        {
          name: "03_add_check_constraint_again",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
                down: "title",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ConstraintAlreadyExistsError{ Table: "posts", Constraint: "check_title_length", } */
      afterStart: async (_p: Replay) => {},
      afterRollback: async (_p: Replay) => {},
      afterComplete: async (_p: Replay) => {},
    },
  ]);
});

describe("TestSetCheckInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "rename table, set check constraint",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "items",
                columns: [
                  {
                    name: "id",
                    type: "int",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "varchar(255)",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_multi_operation",
          operations: [
            {
              rename_table: {
                from: "items",
                to: "products",
              },
            },
            {
              alter_column: {
                table: "products",
                column: "name",
                check: {
                  name: "check_name_length",
                  constraint: "LENGTH(name) > 2",
                },
                up: "SELECT CASE WHEN length(name) > 2 THEN name ELSE name || '---' END",
                down: "name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new view that meets the check constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
          "name": "abc",
        });

        // Can't insert a row into the new view that violates the check constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "2",
          "name": "x",
        }, sqlstate.check);

        // Can insert a row into the old view that violates the check constraint
        await p.mustInsert("01_create_table", "items", {
          "id": "3",
          "name": "x",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "abc" },
          { "id": 3, "name": "x---" },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_table", "items");
        p.equal([
          { "id": 1, "name": "abc" },
          { "id": 3, "name": "x" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the new view that meets the check constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "4",
          "name": "def",
        });

        // Can't insert a row into the new view that violates the check constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "5",
          "name": "x",
        }, sqlstate.check);

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "abc" },
          { "id": 3, "name": "x---" },
          { "id": 4, "name": "def" },
        ], rows);
      },
    },
    {
      name: "rename table, rename column set check constraint",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "items",
                columns: [
                  {
                    name: "id",
                    type: "int",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "varchar(255)",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_multi_operation",
          operations: [
            {
              rename_table: {
                from: "items",
                to: "products",
              },
            },
            {
              rename_column: {
                table: "products",
                from: "name",
                to: "item_name",
              },
            },
            {
              alter_column: {
                table: "products",
                column: "item_name",
                check: {
                  name: "check_name_length",
                  constraint: "LENGTH(item_name) > 2",
                },
                up:
                  "SELECT CASE WHEN length(item_name) > 2 THEN item_name ELSE item_name || '---' END",
                down: "item_name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new view that meets the check constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
          "item_name": "abc",
        });

        // Can't insert a row into the new view that violates the check constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "2",
          "item_name": "x",
        }, sqlstate.check);

        // Can insert a row into the old view that violates the check constraint
        await p.mustInsert("01_create_table", "items", {
          "id": "3",
          "name": "x",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "abc" },
          { "id": 3, "item_name": "x---" },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_table", "items");
        p.equal([
          { "id": 1, "name": "abc" },
          { "id": 3, "name": "x" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the new view that meets the check constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "4",
          "item_name": "def",
        });

        // Can't insert a row into the new view that violates the check constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "5",
          "item_name": "x",
        }, sqlstate.check);

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "abc" },
          { "id": 3, "item_name": "x---" },
          { "id": 4, "item_name": "def" },
        ], rows);
      },
    },
  ]);
});

describe("TestSetCheckConstraintValidation", () => {
  const createTableMigration = {
    name: "01_add_table",
    operations: [
      {
        create_table: {
          name: "posts",
          columns: [
            {
              name: "id",
              type: "serial",
              pk: true,
            },
            {
              name: "title",
              type: "text",
            },
          ],
        },
      },
    ],
  };

  replayCases([
    {
      name: "name of the check constraint is mandatory",
      migrations: [
        createTableMigration,
        {
          name: "02_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  constraint: "length(title) > 3",
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
                down: "title",
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.FieldRequiredError{Name: "name"} */
    },
    {
      name: "up SQL is mandatory",
      migrations: [
        createTableMigration,
        {
          name: "02_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                },
                down: "title",
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.FieldRequiredError{Name: "up"} */
    },
    {
      name: "down SQL is mandatory",
      migrations: [
        createTableMigration,
        {
          name: "02_add_check_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
                check: {
                  name: "check_title_length",
                  constraint: "length(title) > 3",
                },
                up: "SELECT CASE WHEN length(title) <= 3 THEN LPAD(title, 4, '-') ELSE title END",
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.FieldRequiredError{Name: "down"} */
    },
  ]);
});
