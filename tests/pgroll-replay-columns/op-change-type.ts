/**
 * Replay of pgroll's op_change_type_test.go (pkg/migrations) through the CLI: same migrations, same
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

describe("TestChangeColumnType", () => {
  replayCases([
    {
      name: "change column type",
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
                  },
                  {
                    name: "product",
                    type: "text",
                  },
                  {
                    name: "rating",
                    type: "text",
                    default: "0",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_change_type",
          version_schema: "change_type",
          operations: [
            {
              alter_column: {
                table: "reviews",
                column: "rating",
                type: "integer",
                up: "CAST (rating AS integer)",
                down: "CAST (rating AS text)",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The new (temporary) `rating` column should exist on the underlying table.
        await p.columnMustExist("reviews", temporaryName("rating"));

        // The `rating` column in the new view must have the correct type.
        await p.viewColumnMustHaveType("change_type", "reviews", "rating", "integer");

        // Inserting into the new `rating` column should work.
        await p.mustInsert("change_type", "reviews", {
          "username": "alice",
          "product": "apple",
          "rating": "5",
        });

        // The value inserted into the new `rating` column has been backfilled into
        // the old `rating` column.
        let rows = await p.mustSelect("add_table", "reviews");
        p.equal([
          { "id": 1, "username": "alice", "product": "apple", "rating": "5" },
        ], rows);

        // Inserting into the old `rating` column should work.
        await p.mustInsert("add_table", "reviews", {
          "username": "bob",
          "product": "banana",
          "rating": "8",
        });

        // The value inserted into the old `rating` column has been backfilled into
        // the new `rating` column.
        rows = await p.mustSelect("change_type", "reviews");
        p.equal([
          { "id": 1, "username": "alice", "product": "apple", "rating": 5 },
          { "id": 2, "username": "bob", "product": "banana", "rating": 8 },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("reviews", "rating");
      },
      afterComplete: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("reviews", "rating");

        // The `rating` column in the new view must have the correct type.
        await p.viewColumnMustHaveType("change_type", "reviews", "rating", "integer");

        // Inserting into the new view should work.
        await p.mustInsert("change_type", "reviews", {
          "username": "carl",
          "product": "carrot",
          "rating": "3",
        });

        // Selecting from the new view should succeed.
        const rows = await p.mustSelect("change_type", "reviews");
        p.equal([
          { "id": 1, "username": "alice", "product": "apple", "rating": 5 },
          { "id": 2, "username": "bob", "product": "banana", "rating": 8 },
          { "id": 3, "username": "carl", "product": "carrot", "rating": 3 },
        ], rows);

        // The up function no longer exists.
        await p.functionMustNotExist(syncTriggerName("reviews", "rating"));
        // The down function no longer exists.
        await p.functionMustNotExist(
          syncTriggerName("reviews", temporaryName("rating")),
        );

        // The up trigger no longer exists.
        await p.triggerMustNotExist("reviews", syncTriggerName("reviews", "rating"));
        // The down trigger no longer exists.
        await p.triggerMustNotExist(
          "reviews",
          syncTriggerName("reviews", temporaryName("rating")),
        );
      },
    },
    {
      name: "changing column type preserves any foreign key constraints on the column",
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
          name: "03_change_type",
          operations: [
            {
              alter_column: {
                table: "employees",
                column: "department_id",
                type: "bigint",
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
      name: "changing column type removes any incompatible defaults on the column",
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
                    name: "age",
                    type: "text",
                    default: "'0'",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "age",
                type: "integer",
                up: "CAST(age AS integer)",
                down: "CAST(age AS text)",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_change_type", "users", {
          "id": "1",
        });

        // The newly inserted row contains a NULL instead of the old default value.
        const rows = await p.mustSelect("02_change_type", "users");
        p.equal([
          { "id": 1, "age": null },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_change_type", "users", {
          "id": "2",
        });

        // The newly inserted row contains a NULL instead of the old default value.
        const rows = await p.mustSelect("02_change_type", "users");
        p.equal([
          { "id": 1, "age": null },
          { "id": 2, "age": null },
        ], rows);
      },
    },
    {
      name: "changing column type preserves any compatible defaults on the column",
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
                    name: "username",
                    type: "text",
                    default: "'alice'",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "username",
                type: "varchar(255)",
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_change_type", "users", {
          "id": "1",
        });

        // The newly inserted row respects the default value of the column.
        const rows = await p.mustSelect("02_change_type", "users");
        p.equal([
          { "id": 1, "username": "alice" },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        await p.mustInsert("02_change_type", "users", {
          "id": "2",
        });

        // The newly inserted row respects the default value of the column.
        const rows = await p.mustSelect("02_change_type", "users");
        p.equal([
          { "id": 1, "username": "alice" },
          { "id": 2, "username": "alice" },
        ], rows);
      },
    },
    {
      name: "changing column type removes any incompatile check constraints on the column",
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
                    name: "age",
                    type: "text",
                    nullable: true,
                    check: {
                      name: "age_length",
                      constraint: "length(age) < 3",
                    },
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "age",
                type: "integer",
                up: "CAST(age AS integer)",
                down: "SELECT CASE WHEN age < 100 THEN age::text ELSE '0' END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row into the new schema that violates the check
        // constraint on the old schema should succeed.
        await p.mustInsert("02_change_type", "users", {
          "id": "1",
          "age": "1111",
        });
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row into the new schema that violates the check
        // constraint on the old schema should succeed.
        await p.mustInsert("02_change_type", "users", {
          "id": "2",
          "age": "2222",
        });
      },
    },
    {
      name: "changing column type preserves any compatible check constraints on the column",
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
                    name: "username",
                    type: "text",
                    nullable: true,
                    check: {
                      name: "username_length",
                      constraint: "length(username) > 3",
                    },
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "username",
                type: "varchar(255)",
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row that violates the check constraint should fail.
        await p.mustNotInsert("02_change_type", "users", {
          "id": "1",
          "username": "a",
        }, sqlstate.check);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row that violates the check constraint should fail.
        await p.mustNotInsert("02_change_type", "users", {
          "id": "2",
          "username": "b",
        }, sqlstate.check);
      },
    },
    {
      name: "changing column type preserves column not null",
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
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "username",
                type: "varchar(255)",
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row that violates the NOT NULL constraint fails.
        await p.mustNotInsert("02_change_type", "users", {
          "id": "1",
        }, sqlstate.notNull);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row that violates the NOT NULL constraint fails.
        await p.mustNotInsert("02_change_type", "users", {
          "id": "2",
        }, sqlstate.notNull);
      },
    },
    {
      name: "changing column type preserves any unique constraints on the column",
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
                    name: "username",
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
                table: "users",
                column: "username",
                unique: { name: "unique_username" },
                up: "username",
                down: "username",
              },
            },
          ],
        },
        {
          name: "03_change_type",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "username",
                type: "varchar(255)",
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting an initial row succeeds
        await p.mustInsert("03_change_type", "users", {
          "username": "alice",
        });

        // Inserting a row with a duplicate `username` value fails
        await p.mustNotInsert("03_change_type", "users", {
          "username": "alice",
        }, sqlstate.unique);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The table has a unique constraint defined on it
        await p.uniqueConstraintMustExist("users", "unique_username");

        // Inserting a row with a duplicate `username` value fails
        await p.mustNotInsert("03_change_type", "users", {
          "username": "alice",
        }, sqlstate.unique);

        // Inserting a row with a different `username` value succeeds
        await p.mustInsert("03_change_type", "users", {
          "username": "bob",
        });
      },
    },
    {
      name: "changing column type preserves any comments on the column",
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
                    name: "username",
                    type: "text",
                    comment: "the name of the user",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "username",
                type: "varchar(255)",
                up: "username",
                down: "username",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The duplicated column has a comment defined on it
        await p.columnMustHaveComment("users", temporaryName("username"), "the name of the user");
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The final column has a comment defined on it
        await p.columnMustHaveComment("users", "username", "the name of the user");
      },
    },
    {
      name: "can change the type of a column on a table with a case-sensitive name",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "Users",
                columns: [
                  {
                    name: "id",
                    type: "serial",
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
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "Users",
                column: "name",
                type: "text",
                up: "name",
                down: "name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The new column has the expected type
        await p.columnMustHaveType("Users", temporaryName("name"), "text");
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("Users", "name");
      },
      afterComplete: async (p: Replay) => {
        // The new column has the expected type
        await p.columnMustHaveType("Users", "name", "text");
      },
    },
  ]);
});

describe("TestChangeTypeInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "rename table, change type",
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
                    type: "varchar(3)",
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
                type: "text",
                up: "name",
                down: "CASE WHEN LENGTH(name) > 3 THEN 'xxx' ELSE name END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The new column has the expected type
        // The table hasn't been physically renamed yet, so we need to use the old name
        await p.columnMustHaveType("items", temporaryName("name"), "text");

        // Can insert a row into the new schema
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
          "name": "apple",
        });

        // Can insert a row into the old schema
        await p.mustInsert("01_create_table", "items", {
          "id": "2",
          "name": "abc",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apple" },
          { "id": 2, "name": "abc" },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_table", "items");
        p.equal([
          { "id": 1, "name": "xxx" },
          { "id": 2, "name": "abc" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // The new column has the expected type
        await p.columnMustHaveType("products", "name", "text");

        // Can insert a row into the new schema
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
          "name": "carrot",
        });

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "xxx" },
          { "id": 2, "name": "abc" },
          { "id": 3, "name": "carrot" },
        ], rows);

        // The table has been cleaned up
        await p.tableMustBeCleanedUp("products", "name");
      },
    },
    {
      name: "rename table, rename column, change type",
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
                    type: "varchar(3)",
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
                type: "text",
                up: "item_name",
                down: "CASE WHEN LENGTH(item_name) > 3 THEN 'xxx' ELSE item_name END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The new column has the expected type
        // The table hasn't been physically renamed yet, so we need to use the old name
        await p.columnMustHaveType("items", temporaryName("item_name"), "text");

        // Can insert a row into the new schema
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
          "item_name": "apple",
        });

        // Can insert a row into the old schema
        await p.mustInsert("01_create_table", "items", {
          "id": "2",
          "name": "abc",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "apple" },
          { "id": 2, "item_name": "abc" },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_table", "items");
        p.equal([
          { "id": 1, "name": "xxx" },
          { "id": 2, "name": "abc" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
        await p.tableMustBeCleanedUp("items", "item_name");
      },
      afterComplete: async (p: Replay) => {
        // The new column has the expected type
        await p.columnMustHaveType("products", "item_name", "text");

        // Can insert a row into the new schema
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
          "item_name": "carrot",
        });

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "xxx" },
          { "id": 2, "item_name": "abc" },
          { "id": 3, "item_name": "carrot" },
        ], rows);

        // The table has been cleaned up
        await p.tableMustBeCleanedUp("products", "name");
        await p.tableMustBeCleanedUp("products", "item_name");
      },
    },
  ]);
});

describe("TestChangeColumnTypeValidation", () => {
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
            },
            {
              name: "product",
              type: "text",
            },
            {
              name: "rating",
              type: "text",
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
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "reviews",
                column: "rating",
                type: "integer",
                down: "CAST (rating AS text)",
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
          name: "02_change_type",
          operations: [
            {
              alter_column: {
                table: "reviews",
                column: "rating",
                type: "integer",
                up: "CAST (rating AS integer)",
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.FieldRequiredError{Name: "down"} */
    },
  ]);
});
