/**
 * Replay of pgroll's op_set_notnull_test.go (pkg/migrations) through the CLI: same migrations, same
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

describe("TestSetNotNull", () => {
  replayCases([
    {
      name: "set not null with default down sql",
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
                    nullable: true,
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
                nullable: false,
                up: "SELECT CASE WHEN review IS NULL THEN product || ' is good' ELSE review END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The new (temporary) `review` column should exist on the underlying table.
        await p.columnMustExist("reviews", temporaryName("review"));

        // Inserting a NULL into the new `review` column should fail
        await p.mustNotInsert("set_nullable", "reviews", {
          "username": "alice",
          "product": "apple",
        }, sqlstate.check);

        // Inserting a non-NULL value into the new `review` column should succeed
        await p.mustInsert("set_nullable", "reviews", {
          "username": "alice",
          "product": "apple",
          "review": "amazing",
        });

        // The value inserted into the new `review` column has been backfilled into the
        // old `review` column.
        let rows = await p.mustSelect("add_table", "reviews");
        p.equal([
          { "id": 2, "username": "alice", "product": "apple", "review": "amazing" },
        ], rows);

        // Inserting a NULL value into the old `review` column should succeed
        await p.mustInsert("add_table", "reviews", {
          "username": "bob",
          "product": "banana",
        });

        // The NULL value inserted into the old `review` column has been written into
        // the new `review` column using the `up` SQL.
        rows = await p.mustSelect("set_nullable", "reviews");
        p.equal([
          { "id": 2, "username": "alice", "product": "apple", "review": "amazing" },
          { "id": 3, "username": "bob", "product": "banana", "review": "banana is good" },
        ], rows);

        // Inserting a non-NULL value into the old `review` column should succeed
        await p.mustInsert("add_table", "reviews", {
          "username": "carl",
          "product": "carrot",
          "review": "crunchy",
        });

        // The non-NULL value inserted into the old `review` column has been copied
        // unchanged into the new `review` column.
        rows = await p.mustSelect("set_nullable", "reviews");
        p.equal([
          { "id": 2, "username": "alice", "product": "apple", "review": "amazing" },
          { "id": 3, "username": "bob", "product": "banana", "review": "banana is good" },
          { "id": 4, "username": "carl", "product": "carrot", "review": "crunchy" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("reviews", "review");
      },
      afterComplete: async (p: Replay) => {
        // The new (temporary) `review` column should not exist on the underlying table.
        await p.columnMustNotExist("reviews", temporaryName("review"));

        // Selecting from the `reviews` view should succeed.
        const rows = await p.mustSelect("set_nullable", "reviews");
        p.equal([
          { "id": 2, "username": "alice", "product": "apple", "review": "amazing" },
          { "id": 3, "username": "bob", "product": "banana", "review": "banana is good" },
          { "id": 4, "username": "carl", "product": "carrot", "review": "crunchy" },
        ], rows);

        // Writing NULL reviews into the `review` column should fail.
        await p.mustNotInsert("set_nullable", "reviews", {
          "username": "daisy",
          "product": "durian",
        }, sqlstate.notNull);

        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("reviews", "review");
      },
    },
    {
      name: "set not null with user-supplied down sql",
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
                table: "reviews",
                column: "review",
                nullable: false,
                up: "SELECT CASE WHEN review IS NULL THEN product || ' is good' ELSE review END",
                down: "review || ' (from new column)'",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a non-NULL value into the new `review` column should succeed
        await p.mustInsert("02_set_nullable", "reviews", {
          "username": "alice",
          "product": "apple",
          "review": "amazing",
        });

        // The value inserted into the new `review` column has been backfilled into the
        // old `review` column using the user-supplied `down` SQL.
        const rows = await p.mustSelect("01_add_table", "reviews");
        p.equal([
          {
            "id": 1,
            "username": "alice",
            "product": "apple",
            "review": "amazing (from new column)",
          },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (_p: Replay) => {
      },
    },
    {
      name: "setting a foreign key column to not null retains the foreign key constraint",
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
          name: "03_set_not_null",
          operations: [
            {
              alter_column: {
                table: "employees",
                column: "department_id",
                nullable: false,
                up: "SELECT CASE WHEN department_id IS NULL THEN 1 ELSE department_id END",
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
      name: "setting a column to not null retains any default defined on the column",
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
                    nullable: true,
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
                nullable: false,
                up: "SELECT CASE WHEN name IS NULL THEN 'anonymous' ELSE name END",
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
      name: "setting a column to not null retains any check constraints defined on the column",
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
                    nullable: true,
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
                nullable: false,
                up: "SELECT CASE WHEN name IS NULL THEN 'anonymous' ELSE name END",
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
      name: "setting a column to not null retains any unique constraints defined on the column",
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
                nullable: false,
                up: "SELECT CASE WHEN name IS NULL THEN 'anonymous' ELSE name END",
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
      name: "setting a column to not null retains any comment defined on the column",
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
                nullable: false,
                up: "SELECT CASE WHEN name IS NULL THEN 'anonymous' ELSE name END",
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

describe("TestSetNotNullInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "rename table, set not null",
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
                nullable: false,
                up: "SELECT CASE WHEN name IS NULL THEN 'unknown' ELSE name END",
                down: "name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new schema that meets the constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
          "name": "apple",
        });

        // Can't insert a row into the new schema that violates the constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "2",
        }, sqlstate.check);

        // Can insert a row into the old schema that violates the constraint
        await p.mustInsert("01_create_table", "items", {
          "id": "2",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apple" },
          { "id": 2, "name": "unknown" },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_table", "items");
        p.equal([
          { "id": 1, "name": "apple" },
          { "id": 2, "name": null },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the new schema that meets the constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
          "name": "carrot",
        });

        // Can't insert a row into the new schema that violates the constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "3",
        }, sqlstate.notNull);

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apple" },
          { "id": 2, "name": "unknown" },
          { "id": 3, "name": "carrot" },
        ], rows);

        // The table has been cleaned up
        await p.tableMustBeCleanedUp("products", "name");
      },
    },
    {
      name: "rename table, rename column, set not null",
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
                nullable: false,
                up: "SELECT CASE WHEN item_name IS NULL THEN 'unknown' ELSE item_name END",
                down: "item_name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row via the new schema that meets the constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
          "item_name": "apple",
        });

        // Can't insert a row that doesn't meet the constraint via the new schema.
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "2",
        }, sqlstate.check);

        // Can insert a row that doesn't meet the constraint via the old schema
        await p.mustInsert("01_create_table", "items", {
          "id": "2",
        });

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "apple" },
          { "id": 2, "item_name": "unknown" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
        await p.tableMustBeCleanedUp("items", "item_name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row via the new schema that meets the constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
          "item_name": "banana",
        });

        // Can't insert a row that doesn't meet the constraint via the new schema.
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "4",
        }, sqlstate.notNull);

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "apple" },
          { "id": 2, "item_name": "unknown" },
          { "id": 3, "item_name": "banana" },
        ], rows);

        // The table has been cleaned up
        await p.tableMustBeCleanedUp("products", "name");
        await p.tableMustBeCleanedUp("products", "item_name");
      },
    },
    {
      name: "create table, set not null",
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
            {
              alter_column: {
                table: "items",
                column: "name",
                nullable: false,
                up: "SELECT CASE WHEN name IS NULL THEN 'unknown' ELSE name END",
                down: "name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new (only) schema that meets the constraint
        await p.mustInsert("01_multi_operation", "items", {
          "id": "1",
          "name": "apple",
        });

        // Can't insert a row into the new (only) schema that violates the constraint
        await p.mustNotInsert("01_multi_operation", "items", {
          "id": "2",
        }, sqlstate.check);

        // The new view has the expected rows
        const rows = await p.mustSelect("01_multi_operation", "items");
        p.equal([
          { "id": 1, "name": "apple" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // Tht table has been dropped
        await p.tableMustNotExist("items");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the new (only) schema that meets the constraint
        await p.mustInsert("01_multi_operation", "items", {
          "id": "1",
          "name": "banana",
        });

        // The new view has the expected rows
        const rows = await p.mustSelect("01_multi_operation", "items");
        p.equal([
          { "id": 1, "name": "banana" },
        ], rows);
      },
    },
  ]);
});

describe("TestSetNotNullValidation", () => {
  const createTableMigration = {
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
              nullable: true,
            },
          ],
        },
      },
    ],
  };

  replayCases([
    {
      name: "up SQL is mandatory",
      migrations: [
        createTableMigration,
        {
          name: "02_set_nullable",
          operations: [
            {
              alter_column: {
                table: "reviews",
                column: "review",
                nullable: false,
                down: "review",
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.FieldRequiredError{Name: "up"} */
    },
    {
      name: "column is nullable",
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
                nullable: false,
                up: "SELECT CASE WHEN review IS NULL THEN product || ' is good' ELSE review END",
                down: "review",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ColumnIsNotNullableError{Table: "reviews", Name: "review"} */
    },
  ]);
});
