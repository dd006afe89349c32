/**
 * Replay of pgroll's op_drop_not_null_test.go (pkg/migrations) through the CLI: same migrations, same
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

describe("TestDropNotNull", () => {
  replayCases([
    {
      name: "remove not null with default up sql",
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
          name: "02_set_nullable",
          version_schema: "set_nullable",
          operations: [
            {
              alter_column: {
                table: "reviews",
                column: "review",
                nullable: true,
                down: "SELECT CASE WHEN review IS NULL THEN product || ' is good' ELSE review END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The new (temporary) `review` column should exist on the underlying table.
        await p.columnMustExist("reviews", temporaryName("review"));

        // Inserting a NULL into the new `review` column should succeed
        await p.mustInsert("set_nullable", "reviews", {
          "username": "alice",
          "product": "apple",
        });

        // Inserting a non-NULL value into the new `review` column should succeed
        await p.mustInsert("set_nullable", "reviews", {
          "username": "bob",
          "product": "banana",
          "review": "brilliant",
        });

        // The rows inserted into the new `review` column have been backfilled into the
        // old `review` column.
        let rows = await p.mustSelect("add_table", "reviews");
        p.equal([
          { "id": 1, "username": "alice", "product": "apple", "review": "apple is good" },
          { "id": 2, "username": "bob", "product": "banana", "review": "brilliant" },
        ], rows);

        // Inserting a NULL value into the old `review` column should fail
        await p.mustNotInsert("add_table", "reviews", {
          "username": "carl",
          "product": "carrot",
        }, sqlstate.notNull);

        // Inserting a non-NULL value into the old `review` column should succeed
        await p.mustInsert("add_table", "reviews", {
          "username": "dana",
          "product": "durian",
          "review": "delicious",
        });

        // The non-NULL value inserted into the old `review` column has been copied
        // unchanged into the new `review` column.
        rows = await p.mustSelect("set_nullable", "reviews");
        p.equal([
          { "id": 1, "username": "alice", "product": "apple", "review": null },
          { "id": 2, "username": "bob", "product": "banana", "review": "brilliant" },
          { "id": 4, "username": "dana", "product": "durian", "review": "delicious" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("reviews", "review");
      },
      afterComplete: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("reviews", "review");

        // Writing a NULL review into the `review` column should succeed.
        await p.mustInsert("set_nullable", "reviews", {
          "username": "earl",
          "product": "eggplant",
        });

        // Selecting from the `reviews` view should succeed.
        const rows = await p.mustSelect("set_nullable", "reviews");
        p.equal([
          { "id": 1, "username": "alice", "product": "apple", "review": "apple is good" },
          { "id": 2, "username": "bob", "product": "banana", "review": "brilliant" },
          { "id": 4, "username": "dana", "product": "durian", "review": "delicious" },
          { "id": 5, "username": "earl", "product": "eggplant", "review": null },
        ], rows);
      },
    },
    {
      name: "remove not null with user-supplied up sql",
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
          name: "02_set_nullable",
          operations: [
            {
              alter_column: {
                table: "reviews",
                column: "review",
                nullable: true,
                down: "SELECT CASE WHEN review IS NULL THEN product || ' is good' ELSE review END",
                up: "review || ' (from the old column)'",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a non-NULL value into the old `review` column should succeed
        await p.mustInsert("01_add_table", "reviews", {
          "username": "alice",
          "product": "apple",
          "review": "amazing",
        });

        // The value inserted into the old `review` column has been backfilled into the
        // new `review` column using the user-supplied `up` SQL.
        const rows = await p.mustSelect("02_set_nullable", "reviews");
        p.equal([
          {
            "id": 1,
            "username": "alice",
            "product": "apple",
            "review": "amazing (from the old column)",
          },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (_p: Replay) => {
      },
    },
    {
      name: "dropping not null from a foreign key column retains the foreign key constraint",
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
                    nullable: false,
                    references: {
                      name: "fk_employee_department",
                      table: "departments",
                      column: "id",
                    },
                  },
                ],
              },
            },
          ],
        },
        {
          name: "03_set_not_null",
          operations: [
            {
              alter_column: {
                table: "employees",
                column: "department_id",
                nullable: true,
                down: "SELECT CASE WHEN department_id IS NULL THEN 1 ELSE department_id END",
                up: "department_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // A temporary FK constraint has been created on the temporary column
        // Validated once start is done: after the backfill (which skips foreign-key triggers).
        await p.validatedForeignKeyMustExist(
          "employees",
          duplicationName("fk_employee_department"),
        );
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The foreign key constraint still exists on the column
        await p.validatedForeignKeyMustExist("employees", "fk_employee_department");
      },
    },
    {
      name: "dropping not null retains any default defined on the column",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
                  {
                    name: "id",
                    type: "integer",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                    nullable: false,
                    default: "'anonymous'",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_not_null",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                nullable: true,
                up: "name",
                down: "SELECT CASE WHEN name IS NULL THEN 'anonymous' ELSE name END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_set_not_null", "users", {
          "id": "1",
        });

        // The newly inserted row respects the default value of the column.
        const rows = await p.mustSelect("02_set_not_null", "users");
        p.equal([
          { "id": 1, "name": "anonymous" },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_set_not_null", "users", {
          "id": "2",
        });

        // The newly inserted row respects the default value of the column.
        const rows = await p.mustSelect("02_set_not_null", "users");
        p.equal([
          { "id": 1, "name": "anonymous" },
          { "id": 2, "name": "anonymous" },
        ], rows);
      },
    },
    {
      name: "dropping not null retains any check constraints defined on the column",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
                  {
                    name: "id",
                    type: "integer",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                    nullable: false,
                    check: {
                      name: "name_length",
                      constraint: "length(name) > 3",
                    },
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_not_null",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                nullable: true,
                up: "name",
                down: "SELECT CASE WHEN name IS NULL THEN 'anonymous' ELSE name END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row that violates the check constraint should fail.
        await p.mustNotInsert("02_set_not_null", "users", {
          "id": "1",
          "name": "a",
        }, sqlstate.check);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row that violates the check constraint should fail.
        await p.mustNotInsert("02_set_not_null", "users", {
          "id": "2",
          "name": "b",
        }, sqlstate.check);
      },
    },
    {
      name: "dropping not null retains any unique constraints defined on the column",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "users",
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
          name: "02_set_unique",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                unique: { name: "unique_name" },
                up: "name",
                down: "name",
              },
            },
          ],
        },
        {
          name: "03_set_not_null",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                nullable: true,
                up: "name",
                down: "SELECT CASE WHEN name IS NULL THEN 'anonymous' ELSE name END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting an initial row succeeds
        await p.mustInsert("03_set_not_null", "users", {
          "name": "alice",
        });

        // Inserting a row with a duplicate `name` value fails
        await p.mustNotInsert("03_set_not_null", "users", {
          "name": "alice",
        }, sqlstate.unique);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The table has a unique constraint defined on it
        await p.uniqueConstraintMustExist("users", "unique_name");

        // Inserting a row with a duplicate `name` value fails
        await p.mustNotInsert("03_set_not_null", "users", {
          "name": "alice",
        }, sqlstate.unique);

        // Inserting a row with a different `name` value succeeds
        await p.mustInsert("03_set_not_null", "users", {
          "name": "bob",
        });
      },
    },
    {
      name: "dropping not null retains any comments defined on the column",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "users",
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
                    comment: "the name of the user",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_not_null",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                nullable: true,
                up: "name",
                down: "SELECT CASE WHEN name IS NULL THEN 'anonymous' ELSE name END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The duplicated column has a comment defined on it
        await p.columnMustHaveComment("users", temporaryName("name"), "the name of the user");
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The final column has a comment defined on it
        await p.columnMustHaveComment("users", "name", "the name of the user");
      },
    },
  ]);
});

describe("TestDropNotNullInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "rename table, drop not null",
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
                nullable: true,
                down: "SELECT CASE WHEN name IS NULL THEN 'unknown' ELSE name END",
                up: "name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new schema with a NULL name
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
        });

        // Can insert a row into the new schema with a non-NULL name
        await p.mustInsert("02_multi_operation", "products", {
          "id": "2",
          "name": "apple",
        });

        // Can't insert a row into the old schema with a NULL name
        await p.mustNotInsert("01_create_table", "items", {
          "id": "3",
        }, sqlstate.notNull);

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "apple" },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_table", "items");
        p.equal([
          { "id": 1, "name": "unknown" },
          { "id": 2, "name": "apple" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the new schema with a NULL name
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
        });

        // Can't insert a row into the new schema with a non-NULL name
        await p.mustInsert("02_multi_operation", "products", {
          "id": "4",
          "name": "banana",
        });

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "unknown" },
          { "id": 2, "name": "apple" },
          { "id": 3, "name": null },
          { "id": 4, "name": "banana" },
        ], rows);

        // The table has been cleaned up
        await p.tableMustBeCleanedUp("products", "name");
      },
    },
    {
      name: "rename table, rename column, drop not null",
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
                nullable: true,
                down: "SELECT CASE WHEN item_name IS NULL THEN 'unknown' ELSE item_name END",
                up: "item_name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row via the new schema with a NULL item_name
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
        });

        // Can insert a row via the new schema with a non-NULL item_name
        await p.mustInsert("02_multi_operation", "products", {
          "id": "2",
          "item_name": "apple",
        });

        // Can't insert a row with a NULL name via the old schema
        await p.mustNotInsert("01_create_table", "items", {
          "id": "2",
        }, sqlstate.notNull);

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": null },
          { "id": 2, "item_name": "apple" },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_table", "items");
        p.equal([
          { "id": 1, "name": "unknown" },
          { "id": 2, "name": "apple" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
        await p.tableMustBeCleanedUp("items", "item_name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row via the new schema with a NULL item_name
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
        });

        // Can insert a row via the new schema with a non-NULL item_name
        await p.mustInsert("02_multi_operation", "products", {
          "id": "4",
          "item_name": "banana",
        });

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "unknown" },
          { "id": 2, "item_name": "apple" },
          { "id": 3, "item_name": null },
          { "id": 4, "item_name": "banana" },
        ], rows);

        // The table has been cleaned up
        await p.tableMustBeCleanedUp("products", "name");
        await p.tableMustBeCleanedUp("products", "item_name");
      },
    },
  ]);
});

describe("TestDropNotNullValidation", () => {
  replayCases([
    {
      name: "down SQL is mandatory",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "users",
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
          name: "02_set_nullable",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                nullable: true,
                up: "name",
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.FieldRequiredError{Name: "down"} */
    },
    {
      name: "can't remove not null from a column that is already nullable",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_nullable",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                nullable: true,
                up: "name",
                down: "SELECT CASE WHEN name IS NULL THEN 'placeholder' ELSE name END",
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.ColumnIsNullableError{Table: "users", Name: "name"} */
    },
  ]);
});
