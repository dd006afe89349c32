/**
 * Replay of pgroll's op_set_unique_test.go (pkg/migrations) through the CLI: same migrations, same
 * assertions on the catalog and through the version schemas (tests/helpers/pgroll-replay.ts).
 */
import { describe } from "bun:test";
import {
  duplicationName,
  Replay,
  replayCases,
  sqlstate,
  temporaryName,
} from "../helpers/pgroll-replay.ts";

describe("TestSetColumnUnique", () => {
  replayCases([
    {
      name: "set unique with default down sql",
      migrations: [
        {
          name: "01_add_table",
          version_schema: "add_table",
          operations: [
            {
              create_table: {
                name: "reviews",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "username",
                    type: "text",
                    nullable: false,
                  },
                  {
                    name: "product",
                    type: "text",
                    nullable: false,
                  },
                  {
                    name: "review",
                    type: "text",
                    nullable: false,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_unique",
          version_schema: "set_unique",
          operations: [
            {
              alter_column: {
                table: "reviews",
                column: "review",
                unique: {
                  name: "reviews_review_unique",
                },
                up: "review || '-' || (random()*1000000)::integer",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting values into the old schema that violate uniqueness should succeed.
        await p.mustInsert("add_table", "reviews", {
          "username": "alice",
          "product": "apple",
          "review": "good",
        });
        await p.mustInsert("add_table", "reviews", {
          "username": "bob",
          "product": "banana",
          "review": "good",
        });

        // Inserting values into the new schema that violate uniqueness should fail.
        await p.mustInsert("set_unique", "reviews", {
          "username": "carl",
          "product": "carrot",
          "review": "bad",
        });
        await p.mustNotInsert("set_unique", "reviews", {
          "username": "dana",
          "product": "durian",
          "review": "bad",
        }, sqlstate.unique);
      },
      afterRollback: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("reviews", "review");
      },
      afterComplete: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("reviews", "review");

        // Inserting values into the new schema that violate uniqueness should fail.
        await p.mustInsert("set_unique", "reviews", {
          "username": "earl",
          "product": "elderberry",
          "review": "ok",
        });
        await p.mustNotInsert("set_unique", "reviews", {
          "username": "flora",
          "product": "fig",
          "review": "ok",
        }, sqlstate.unique);
      },
    },
    {
      name: "set unique with user supplied down sql",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "reviews",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "username",
                    type: "text",
                    nullable: false,
                  },
                  {
                    name: "product",
                    type: "text",
                    nullable: false,
                  },
                  {
                    name: "review",
                    type: "text",
                    nullable: false,
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
                table: "reviews",
                column: "review",
                unique: {
                  name: "reviews_review_unique",
                },
                up: "review || '-' || (random()*1000000)::integer",
                down: "review || '!'",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting values into the new schema backfills the old column using the `down` SQL.
        await p.mustInsert("02_set_unique", "reviews", {
          "username": "carl",
          "product": "carrot",
          "review": "bad",
        });

        const rows = await p.mustSelect("01_add_table", "reviews");
        p.equal([
          { "id": 1, "username": "carl", "product": "carrot", "review": "bad!" },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (_p: Replay) => {
      },
    },
    {
      name: "column defaults are preserved when adding a unique constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "reviews",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "username",
                    type: "text",
                    default: "'anonymous'",
                  },
                  {
                    name: "product",
                    type: "text",
                  },
                  {
                    name: "review",
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
                table: "reviews",
                column: "username",
                unique: {
                  name: "reviews_username_unique",
                },
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_set_unique", "reviews", {
          "product": "apple",
          "review": "awesome",
        });

        // The newly inserted row respects the default value of the column.
        const rows = await p.mustSelect("02_set_unique", "reviews");
        p.equal([
          { "id": 1, "username": "anonymous", "product": "apple", "review": "awesome" },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Delete the row that was inserted in the `afterStart` hook to
        // ensure that another row with a default 'username' can be inserted
        // without violating the UNIQUE constraint on the column.
        await p.mustDelete("02_set_unique", "reviews", {
          "id": "1",
        });

        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_set_unique", "reviews", {
          "product": "banana",
          "review": "bent",
        });

        // The newly inserted row respects the default value of the column.
        const rows = await p.mustSelect("02_set_unique", "reviews");
        p.equal([
          { "id": 2, "username": "anonymous", "product": "banana", "review": "bent" },
        ], rows);
      },
    },
    {
      name: "foreign keys defined on the column are preserved when adding a unique constraint",
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
                      on_delete: "SET NULL",
                    },
                  },
                ],
              },
            },
          ],
        },
        {
          name: "03_set_unique",
          operations: [
            {
              alter_column: {
                table: "employees",
                column: "department_id",
                unique: {
                  name: "employees_department_id_unique",
                },
                up: "department_id",
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
          "SET NULL",
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
          "SET NULL",
          "NO ACTION",
        );
      },
    },
    {
      name: "check constraints are preserved when adding a unique constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "reviews",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "username",
                    type: "text",
                  },
                  {
                    name: "review",
                    type: "text",
                    check: {
                      name: "reviews_review_check",
                      constraint: "length(review) > 3",
                    },
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
                table: "reviews",
                column: "username",
                unique: {
                  name: "reviews_username_unique",
                },
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row that violates the check constraint should fail.
        await p.mustNotInsert("02_set_unique", "reviews", {
          "username": "alice",
          "review": "x",
        }, sqlstate.check);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row that violates the check constraint should fail.
        await p.mustNotInsert("02_set_unique", "reviews", {
          "username": "bob",
          "review": "y",
        }, sqlstate.check);
      },
    },
    {
      name: "not null is preserved when adding a unique constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "reviews",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "username",
                    type: "text",
                    nullable: false,
                  },
                  {
                    name: "product",
                    type: "text",
                  },
                  {
                    name: "review",
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
                table: "reviews",
                column: "username",
                unique: {
                  name: "reviews_username_unique",
                },
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row that violates the NOT NULL constraint on `username` should fail.
        await p.mustNotInsert("02_set_unique", "reviews", {
          "product": "apple",
          "review": "awesome",
        }, sqlstate.notNull);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row that violates the NOT NULL constraint on `username` should fail.
        await p.mustNotInsert("02_set_unique", "reviews", {
          "product": "apple",
          "review": "awesome",
        }, sqlstate.notNull);
      },
    },
    {
      name: "comments are preserved when adding a unique constraint",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "reviews",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "username",
                    type: "text",
                    nullable: false,
                    comment: "the name of the user",
                  },
                  {
                    name: "product",
                    type: "text",
                  },
                  {
                    name: "review",
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
                table: "reviews",
                column: "username",
                unique: {
                  name: "reviews_username_unique",
                },
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The duplicated column has a comment defined on it
        await p.columnMustHaveComment("reviews", temporaryName("username"), "the name of the user");
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The final column has a comment defined on it
        await p.columnMustHaveComment("reviews", "username", "the name of the user");
      },
    },
    // It should be possible to add multiple unique constraints to a column
    // once unique constraints covering multiple columns are supported.
    //
    // In that case it should be possible to test that existing unique constraints are
    // preserved when adding a new unique constraint covering the same column.
    {
      name: "validate that the constraint name is not already taken",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "reviews",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "username",
                    type: "text",
                    nullable: false,
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
                table: "reviews",
                column: "username",
                unique: {
                  name: "reviews_username_key",
                },
              },
            },
          ],
        },
        {
          name: "03_set_unique_again",
          operations: [
            {
              alter_column: {
                table: "reviews",
                column: "username",
                unique: {
                  name: "reviews_username_key",
                },
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ConstraintAlreadyExistsError{ Table: "reviews", Constraint: "reviews_username_key", } */
      afterStart: async (_p: Replay) => {},
      afterRollback: async (_p: Replay) => {},
      afterComplete: async (_p: Replay) => {},
    },
  ]);
});

describe("TestSetUniqueInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "rename table, set unique",
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
                    type: "serial",
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
                unique: {
                  name: "products_name_unique",
                },
                up: "name || '-' || floor(random()*100000)::text",
                down: "name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row that meets the constraint into the new view
        await p.mustInsert("02_multi_operation", "products", {
          "name": "apple",
        });

        // Can't insert a row that violates the constraint into the new view
        await p.mustNotInsert("02_multi_operation", "products", {
          "name": "apple",
        }, sqlstate.unique);

        // Can insert a row that violates the constraint into the old view
        await p.mustInsert("01_create_table", "items", {
          "name": "apple",
        });
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row that meets the constraint into the new view
        await p.mustInsert("02_multi_operation", "products", {
          "name": "banana",
        });

        // Can't insert a row that violates the constraint into the new view
        await p.mustNotInsert("02_multi_operation", "products", {
          "name": "banana",
        }, sqlstate.unique);
      },
    },
    {
      name: "rename table, rename column, set unique",
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
                    type: "serial",
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
                unique: {
                  name: "products_name_unique",
                },
                up: "item_name || '-' || floor(random()*100000)::text",
                down: "item_name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row that meets the constraint into the new view
        await p.mustInsert("02_multi_operation", "products", {
          "item_name": "apple",
        });

        // Can't insert a row that violates the constraint into the new view
        await p.mustNotInsert("02_multi_operation", "products", {
          "item_name": "apple",
        }, sqlstate.unique);

        // Can insert a row that violates the constraint into the old view
        await p.mustInsert("01_create_table", "items", {
          "name": "apple",
        });
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row that meets the constraint into the new view
        await p.mustInsert("02_multi_operation", "products", {
          "item_name": "banana",
        });

        // Can't insert a row that violates the constraint into the new view
        await p.mustNotInsert("02_multi_operation", "products", {
          "item_name": "banana",
        }, sqlstate.unique);
      },
    },
    {
      name: "create table, set unique",
      migrations: [
        {
          name: "01_multi_operation",
          operations: [
            {
              create_table: {
                name: "items",
                columns: [
                  {
                    name: "id",
                    type: "serial",
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
            {
              alter_column: {
                table: "items",
                column: "name",
                unique: {
                  name: "items_name_unique",
                },
                up: "name || '-' || floor(random()*100000)::text",
                down: "name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new (only) schema that meets the constraint
        await p.mustInsert("01_multi_operation", "items", {
          "name": "apple",
        });

        // Can't insert a row into the new (only) schema that violates the constraint
        await p.mustNotInsert("01_multi_operation", "items", {
          "name": "apple",
        }, sqlstate.unique);
      },
      afterRollback: async (p: Replay) => {
        // The table has been dropped
        await p.tableMustNotExist("items");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the new (only) schema that meets the constraint
        await p.mustInsert("01_multi_operation", "items", {
          "name": "apple",
        });

        // Can't insert a row into the new (only) schema that violates the constraint
        await p.mustNotInsert("01_multi_operation", "items", {
          "name": "apple",
        }, sqlstate.unique);
      },
    },
  ]);
});
