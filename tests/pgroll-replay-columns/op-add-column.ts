/**
 * Replay of pgroll's op_add_column_test.go (pkg/migrations) through the CLI: same migrations, same
 * assertions on the catalog and through the version schemas (tests/helpers/pgroll-replay.ts).
 */
import { describe, expect } from "bun:test";
import {
  Replay,
  replayCases,
  sqlstate,
  syncTriggerName,
  temporaryName,
} from "../helpers/pgroll-replay.ts";

describe("TestAddColumn", () => {
  replayCases([
    {
      name: "add column",
      migrations: [
        {
          name: "01_add_table",
          version_schema: "add_table",
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
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          version_schema: "add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: false,
                  default: "0",
                  comment: "the age of the user",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // old and new views of the table should exist
        await p.viewMustExist("add_table", "users");
        await p.viewMustExist("add_column", "users");

        // inserting via both the old and the new views works
        await p.mustInsert("add_table", "users", {
          "name": "Alice",
        });
        await p.mustInsert("add_column", "users", {
          "name": "Bob",
          "age": "21",
        });

        // selecting from both the old and the new views works
        const resOld = await p.mustSelect("add_table", "users");
        p.equal([
          { "id": 1, "name": "Alice" },
          { "id": 2, "name": "Bob" },
        ], resOld);
        const resNew = await p.mustSelect("add_column", "users");
        p.equal([
          { "id": 1, "name": "Alice", "age": 0 },
          { "id": 2, "name": "Bob", "age": 21 },
        ], resNew);
      },
      afterRollback: async (p: Replay) => {
        // The new column has been dropped from the underlying table
        const columnName = temporaryName("age");
        await p.columnMustNotExist("users", columnName);

        // The table's column count reflects the drop of the new column
        await p.tableMustHaveColumnCount("users", 2);
      },
      afterComplete: async (p: Replay) => {
        // The new view still exists
        await p.viewMustExist("add_column", "users");

        // Inserting into the new view still works
        await p.mustInsert("add_column", "users", {
          "name": "Carl",
          "age": "31",
        });

        // Selecting from the new view still works
        const res = await p.mustSelect("add_column", "users");
        p.equal([
          { "id": 1, "name": "Alice", "age": 0 },
          { "id": 2, "name": "Bob", "age": 0 },
          { "id": 3, "name": "Carl", "age": 31 },
        ], res);
      },
    },
    {
      name: "a newly added column does not have to be used as the identity column for a backfill",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
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
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "description",
                  type: "integer",
                  nullable: false,
                  unique: true,
                },
                up: "'this is a description'",
              },
            },
          ],
        },
      ],
    },
    {
      name: "add column to table with no identity or unique column",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
                  {
                    name: "name",
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: false,
                  default: "0",
                  comment: "the age of the user",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // old and new views of the table should exist
        await p.viewMustExist("01_add_table", "users");
        await p.viewMustExist("02_add_column", "users");

        // inserting via both the old and the new views works
        await p.mustInsert("01_add_table", "users", {
          "name": "Alice",
        });
        await p.mustInsert("02_add_column", "users", {
          "name": "Bob",
          "age": "21",
        });

        // selecting from both the old and the new views works
        const resOld = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "name": "Alice" },
          { "name": "Bob" },
        ], resOld);
        const resNew = await p.mustSelect("02_add_column", "users");
        p.equal([
          { "name": "Alice", "age": 0 },
          { "name": "Bob", "age": 21 },
        ], resNew);
      },
      afterRollback: async (p: Replay) => {
        // The new column has been dropped from the underlying table
        const columnName = temporaryName("age");
        await p.columnMustNotExist("users", columnName);

        // The table's column count reflects the drop of the new column
        await p.tableMustHaveColumnCount("users", 1);
      },
      afterComplete: async (p: Replay) => {
        // The new view still exists
        await p.viewMustExist("02_add_column", "users");

        // Inserting into the new view still works
        await p.mustInsert("02_add_column", "users", {
          "name": "Carl",
          "age": "31",
        });

        // Selecting from the new view still works
        const res = await p.mustSelect("02_add_column", "users");
        p.equal([
          { "name": "Alice", "age": 0 },
          { "name": "Bob", "age": 0 },
          { "name": "Carl", "age": 31 },
        ], res);
      },
    },
    {
      name: "add serial columns",
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
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "counter_smallserial",
                  type: "smallserial",
                  nullable: false,
                },
              },
            },
            {
              add_column: {
                table: "users",
                column: {
                  name: "counter_serial",
                  type: "serial",
                  nullable: false,
                },
              },
            },
            {
              add_column: {
                table: "users",
                column: {
                  name: "counter_bigserial",
                  type: "bigserial",
                  nullable: false,
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // old and new views of the table should exist
        await p.viewMustExist("01_add_table", "users");
        await p.viewMustExist("02_add_column", "users");

        // inserting via both the old and the new views works
        await p.mustInsert("01_add_table", "users", {
          "name": "Alice",
        });
        await p.mustInsert("02_add_column", "users", {
          "name": "Bob",
        });

        // selecting from both the old and the new views works
        const resOld = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "id": 1, "name": "Alice" },
          { "id": 2, "name": "Bob" },
        ], resOld);
        const resNew = await p.mustSelect("02_add_column", "users");
        p.equal([
          {
            "id": 1,
            "name": "Alice",
            "counter_smallserial": 1,
            "counter_serial": 1,
            "counter_bigserial": 1,
          },
          {
            "id": 2,
            "name": "Bob",
            "counter_smallserial": 2,
            "counter_serial": 2,
            "counter_bigserial": 2,
          },
        ], resNew);
      },
      afterRollback: async (p: Replay) => {
        // The new column has been dropped from the underlying table
        const columnName = temporaryName("age");
        await p.columnMustNotExist("users", columnName);

        // The table's column count reflects the drop of the new column
        await p.tableMustHaveColumnCount("users", 2);
      },
      afterComplete: async (p: Replay) => {
        // The new view still exists
        await p.viewMustExist("02_add_column", "users");

        // Inserting into the new view still works
        await p.mustInsert("02_add_column", "users", {
          "name": "Carl",
        });

        // Selecting from the new view still works
        const res = await p.mustSelect("02_add_column", "users");
        p.equal([
          {
            "id": 1,
            "name": "Alice",
            "counter_smallserial": 1,
            "counter_serial": 1,
            "counter_bigserial": 1,
          },
          {
            "id": 2,
            "name": "Bob",
            "counter_smallserial": 2,
            "counter_serial": 2,
            "counter_bigserial": 2,
          },
          {
            "id": 3,
            "name": "Carl",
            "counter_smallserial": 3,
            "counter_serial": 3,
            "counter_bigserial": 3,
          },
        ], res);
      },
    },
  ]);
});

describe("TestAddForeignKeyColumn", () => {
  replayCases([
    {
      name: "add nullable foreign key column",
      migrations: [
        {
          name: "01_create_table",
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
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
            {
              create_table: {
                name: "orders",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "quantity",
                    type: "integer",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "orders",
                column: {
                  name: "user_id",
                  type: "integer",
                  references: {
                    name: "fk_users_id",
                    table: "users",
                    column: "id",
                  },
                  nullable: true,
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The foreign key constraint exists on the new table.
        await p.validatedForeignKeyMustExist("orders", "fk_users_id");

        // Inserting a row into the referenced table succeeds.
        await p.mustInsert("01_create_table", "users", {
          "name": "alice",
        });

        // Inserting a row into the referencing table succeeds as the referenced row exists.
        await p.mustInsert("02_add_column", "orders", {
          "user_id": "1",
          "quantity": "100",
        });

        // Inserting a row into the referencing table fails as the referenced row does not exist.
        await p.mustNotInsert("02_add_column", "orders", {
          "user_id": "2",
          "quantity": "200",
        }, sqlstate.fk);
      },
      afterRollback: async (_p: Replay) => {
        // The new column has been dropped, so the foreign key constraint is gone.
      },
      afterComplete: async (p: Replay) => {
        // The foreign key constraint still exists on the new table
        await p.validatedForeignKeyMustExist("orders", "fk_users_id");

        // Inserting a row into the referenced table succeeds.
        await p.mustInsert("02_add_column", "users", {
          "name": "bob",
        });

        // Inserting a row into the referencing table succeeds as the referenced row exists.
        await p.mustInsert("02_add_column", "orders", {
          "user_id": "2",
          "quantity": "200",
        });

        // Inserting a row into the referencing table fails as the referenced row does not exist.
        await p.mustNotInsert("02_add_column", "orders", {
          "user_id": "3",
          "quantity": "300",
        }, sqlstate.fk);
      },
    },
    {
      name: "add non-nullable foreign key column",
      migrations: [
        {
          name: "01_create_table",
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
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
            {
              create_table: {
                name: "orders",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "quantity",
                    type: "integer",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "orders",
                column: {
                  name: "user_id",
                  type: "integer",
                  references: {
                    name: "fk_users_id",
                    table: "users",
                    column: "id",
                  },
                  nullable: false,
                },
                up: "1",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The foreign key constraint exists on the new table.
        // Validated once start is done: after the backfill (which skips foreign-key triggers).
        await p.validatedForeignKeyMustExist("orders", "fk_users_id");

        // Inserting a row into the referenced table succeeds.
        await p.mustInsert("01_create_table", "users", {
          "name": "alice",
        });

        // Inserting a row into the referencing table succeeds as the referenced row exists.
        await p.mustInsert("02_add_column", "orders", {
          "user_id": "1",
          "quantity": "100",
        });

        // Inserting a row into the referencing table fails as the referenced row does not exist.
        await p.mustNotInsert("02_add_column", "orders", {
          "user_id": "2",
          "quantity": "200",
        }, sqlstate.fk);
      },
      afterRollback: async (_p: Replay) => {
        // The new column has been dropped, so the foreign key constraint is gone.
      },
      afterComplete: async (p: Replay) => {
        // The foreign key constraint still exists on the new table
        await p.validatedForeignKeyMustExist("orders", "fk_users_id");

        // Inserting a row into the referenced table succeeds.
        await p.mustInsert("02_add_column", "users", {
          "name": "bob",
        });

        // Inserting a row into the referencing table succeeds as the referenced row exists.
        await p.mustInsert("02_add_column", "orders", {
          "user_id": "2",
          "quantity": "200",
        });

        // Inserting a row into the referencing table fails as the referenced row does not exist.
        await p.mustNotInsert("02_add_column", "orders", {
          "user_id": "3",
          "quantity": "300",
        }, sqlstate.fk);
      },
    },
    {
      name: "add foreign key column with default ON DELETE NO ACTION",
      migrations: [
        {
          name: "01_create_table",
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
                    type: "varchar(255)",
                  },
                ],
              },
            },
            {
              create_table: {
                name: "orders",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "quantity",
                    type: "integer",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "orders",
                column: {
                  name: "user_id",
                  type: "integer",
                  nullable: true,
                  references: {
                    name: "fk_users_id",
                    table: "users",
                    column: "id",
                  },
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The foreign key constraint exists on the new table.
        await p.validatedForeignKeyMustExist("orders", "fk_users_id");

        // Inserting a row into the referenced table succeeds.
        await p.mustInsert("01_create_table", "users", {
          "name": "alice",
        });

        // Inserting a row into the referencing table succeeds as the referenced row exists.
        await p.mustInsert("02_add_column", "orders", {
          "user_id": "1",
          "quantity": "100",
        });

        // Inserting a row into the referencing table fails as the referenced row does not exist.
        await p.mustNotInsert("02_add_column", "orders", {
          "user_id": "2",
          "quantity": "200",
        }, sqlstate.fk);

        // Deleting a row in the referenced table fails as a referencing row exists.
        await p.mustNotDelete("02_add_column", "users", {
          "name": "alice",
        }, sqlstate.fk);
      },
      afterRollback: async (_p: Replay) => {
        // The new column has been dropped, so the foreign key constraint is gone.
      },
      afterComplete: async (p: Replay) => {
        // The foreign key constraint still exists on the new table
        await p.validatedForeignKeyMustExist("orders", "fk_users_id");

        // Inserting a row into the referenced table succeeds.
        await p.mustInsert("02_add_column", "users", {
          "name": "bob",
        });

        // Inserting a row into the referencing table succeeds as the referenced row exists.
        await p.mustInsert("02_add_column", "orders", {
          "user_id": "2",
          "quantity": "200",
        });

        // Inserting a row into the referencing table fails as the referenced row does not exist.
        await p.mustNotInsert("02_add_column", "orders", {
          "user_id": "3",
          "quantity": "300",
        }, sqlstate.fk);

        // Deleting a row in the referenced table fails as a referencing row exists.
        await p.mustNotDelete("02_add_column", "users", {
          "name": "bob",
        }, sqlstate.fk);
      },
    },
    {
      name: "add foreign key column with ON DELETE CASCADE",
      migrations: [
        {
          name: "01_create_table",
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
                    type: "varchar(255)",
                  },
                ],
              },
            },
            {
              create_table: {
                name: "orders",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "quantity",
                    type: "integer",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "orders",
                column: {
                  name: "user_id",
                  type: "integer",
                  nullable: true,
                  references: {
                    name: "fk_users_id",
                    table: "users",
                    column: "id",
                    on_delete: "CASCADE",
                  },
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The foreign key constraint exists on the new table.
        await p.validatedForeignKeyMustExistWithReferentialAction(
          "orders",
          "fk_users_id",
          "CASCADE",
          "NO ACTION",
        );

        // Inserting a row into the referenced table succeeds.
        await p.mustInsert("01_create_table", "users", {
          "name": "alice",
        });

        // Inserting a row into the referencing table succeeds as the referenced row exists.
        await p.mustInsert("02_add_column", "orders", {
          "user_id": "1",
          "quantity": "100",
        });

        // Inserting a row into the referencing table fails as the referenced row does not exist.
        await p.mustNotInsert("02_add_column", "orders", {
          "user_id": "2",
          "quantity": "200",
        }, sqlstate.fk);

        // Deleting a row in the referenced table succeeds due to the ON DELETE CASCADE.
        await p.mustDelete("02_add_column", "users", {
          "name": "alice",
        });

        // The row in the referencing table has been deleted by the ON DELETE CASCADE.
        const rows = await p.mustSelect("02_add_column", "orders");
        expect(rows as unknown[]).toHaveLength(0);
      },
      afterRollback: async (_p: Replay) => {
        // The new column has been dropped, so the foreign key constraint is gone.
      },
      afterComplete: async (p: Replay) => {
        // The foreign key constraint still exists on the new table
        await p.validatedForeignKeyMustExistWithReferentialAction(
          "orders",
          "fk_users_id",
          "CASCADE",
          "NO ACTION",
        );

        // Inserting a row into the referenced table succeeds.
        await p.mustInsert("02_add_column", "users", {
          "name": "bob",
        });

        // Inserting a row into the referencing table succeeds as the referenced row exists.
        await p.mustInsert("02_add_column", "orders", {
          "user_id": "2",
          "quantity": "200",
        });

        // Inserting a row into the referencing table fails as the referenced row does not exist.
        await p.mustNotInsert("02_add_column", "orders", {
          "user_id": "3",
          "quantity": "300",
        }, sqlstate.fk);

        // Deleting a row in the referenced table succeeds due to the ON DELETE CASCADE.
        await p.mustDelete("02_add_column", "users", {
          "name": "bob",
        });

        // The row in the referencing table has been deleted by the ON DELETE CASCADE.
        const rows = await p.mustSelect("02_add_column", "orders");
        expect(rows as unknown[]).toHaveLength(0);
      },
    },
  ]);
});

describe("TestAddColumnWithUpSql", () => {
  replayCases([
    {
      name: "add column with up sql and a serial pk",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "products",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "products",
                up: "UPPER(name)",
                column: {
                  name: "description",
                  type: "varchar(255)",
                  nullable: true,
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // inserting via both the old and the new views works
        await p.mustInsert("01_add_table", "products", {
          "name": "apple",
        });
        await p.mustInsert("02_add_column", "products", {
          "name": "banana",
          "description": "a yellow banana",
        });

        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          // the description column has been populated for the product inserted into the old view.
          { "id": 1, "name": "apple", "description": "APPLE" },
          // the description column for the product inserted into the new view is as inserted.
          { "id": 2, "name": "banana", "description": "a yellow banana" },
        ], res);
      },
      afterRollback: async (p: Replay) => {
        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
      afterComplete: async (p: Replay) => {
        // after rollback + restart + complete, all 'description' values are the backfilled ones.
        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          { "id": 1, "name": "apple", "description": "APPLE" },
          { "id": 2, "name": "banana", "description": "BANANA" },
        ], res);

        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
    },
    {
      name: "add column with up sql missing parentheses",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "products",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "products",
                up: "select name",
                column: {
                  name: "description",
                  type: "varchar(255)",
                  nullable: true,
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // inserting via both the old and the new views works
        await p.mustInsert("01_add_table", "products", {
          "name": "apple",
        });
        await p.mustInsert("02_add_column", "products", {
          "name": "banana",
          "description": "a yellow banana",
        });

        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          // the description column has been populated for the product inserted into the old view.
          { "id": 1, "name": "apple", "description": "apple" },
          // the description column for the product inserted into the new view is as inserted.
          { "id": 2, "name": "banana", "description": "a yellow banana" },
        ], res);
      },
      afterRollback: async (p: Replay) => {
        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
      afterComplete: async (p: Replay) => {
        // after rollback + restart + complete, all 'description' values are the backfilled ones.
        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          { "id": 1, "name": "apple", "description": "apple" },
          { "id": 2, "name": "banana", "description": "banana" },
        ], res);

        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
    },
    {
      name: "add column with up sql missing parentheses, no select",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "products",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "products",
                up: "name",
                column: {
                  name: "description",
                  type: "varchar(255)",
                  nullable: true,
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // inserting via both the old and the new views works
        await p.mustInsert("01_add_table", "products", {
          "name": "apple",
        });
        await p.mustInsert("02_add_column", "products", {
          "name": "banana",
          "description": "a yellow banana",
        });

        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          // the description column has been populated for the product inserted into the old view.
          { "id": 1, "name": "apple", "description": "apple" },
          // the description column for the product inserted into the new view is as inserted.
          { "id": 2, "name": "banana", "description": "a yellow banana" },
        ], res);
      },
      afterRollback: async (p: Replay) => {
        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
      afterComplete: async (p: Replay) => {
        // after rollback + restart + complete, all 'description' values are the backfilled ones.
        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          { "id": 1, "name": "apple", "description": "apple" },
          { "id": 2, "name": "banana", "description": "banana" },
        ], res);

        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
    },
    {
      name: "add column with up sql and a text pk",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "products",
                columns: [
                  {
                    name: "id",
                    type: "text",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "products",
                up: "UPPER(name)",
                column: {
                  name: "description",
                  type: "varchar(255)",
                  nullable: true,
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // inserting via both the old and the new views works
        await p.mustInsert("01_add_table", "products", {
          "id": "a",
          "name": "apple",
        });
        await p.mustInsert("02_add_column", "products", {
          "id": "b",
          "name": "banana",
          "description": "a yellow banana",
        });

        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          // the description column has been populated for the product inserted into the old view.
          { "id": "a", "name": "apple", "description": "APPLE" },
          // the description column for the product inserted into the new view is as inserted.
          { "id": "b", "name": "banana", "description": "a yellow banana" },
        ], res);
      },
      afterRollback: async (p: Replay) => {
        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
      afterComplete: async (p: Replay) => {
        // after rollback + restart + complete, all 'description' values are the backfilled ones.
        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          { "id": "a", "name": "apple", "description": "APPLE" },
          { "id": "b", "name": "banana", "description": "BANANA" },
        ], res);

        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
    },
    {
      name: "add column with up sql and no pk",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "products",
                columns: [
                  {
                    name: "id",
                    type: "text",
                  },
                  {
                    name: "name",
                    type: "varchar(255)",
                    unique: true,
                    nullable: false,
                  },
                ],
              },
            },
            // insert some data into the table to test backfill in the next migration
            {
              sql: {
                up: "INSERT INTO products (id, name) VALUES ('c', 'cherries')",
                onComplete: true,
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "products",
                up: "UPPER(name)",
                column: {
                  name: "description",
                  type: "varchar(255)",
                  nullable: true,
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // inserting via both the old and the new views works
        await p.mustInsert("01_add_table", "products", {
          "id": "a",
          "name": "apple",
        });
        await p.mustInsert("02_add_column", "products", {
          "id": "b",
          "name": "banana",
          "description": "a yellow banana",
        });

        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          // the description column has been populated by the backfill process
          { "id": "c", "name": "cherries", "description": "CHERRIES" },
          // the description column has been populated for the product inserted into the old view.
          { "id": "a", "name": "apple", "description": "APPLE" },
          // the description column for the product inserted into the new view is as inserted.
          { "id": "b", "name": "banana", "description": "a yellow banana" },
        ], res);
      },
      afterRollback: async (p: Replay) => {
        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
      afterComplete: async (p: Replay) => {
        // after rollback + restart + complete, all 'description' values are the backfilled ones.
        const res = await p.mustSelect("02_add_column", "products");
        p.equal([
          { "id": "c", "name": "cherries", "description": "CHERRIES" },
          { "id": "a", "name": "apple", "description": "APPLE" },
          { "id": "b", "name": "banana", "description": "BANANA" },
        ], res);

        // The trigger function has been dropped.
        const triggerFnName = syncTriggerName("products", "description");
        await p.functionMustNotExist(triggerFnName);

        // The trigger has been dropped.
        const triggerName = syncTriggerName("products", "description");
        await p.triggerMustNotExist("products", triggerName);
      },
    },
  ]);
});

describe("TestAddNotNullColumnWithNoDefault", () => {
  replayCases([
    {
      name: "add not null column with no default",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              create_table: {
                name: "products",
                columns: [
                  {
                    name: "id",
                    type: "serial",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "varchar(255)",
                    unique: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "products",
                up: "UPPER(name)",
                column: {
                  name: "description",
                  type: "varchar(255)",
                  nullable: false,
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a null description through the old view works (due to `up` sql populating the column).
        await p.mustInsert("01_add_table", "products", {
          "name": "apple",
        });
        // Inserting a null description through the new view fails.
        await p.mustNotInsert("02_add_column", "products", {
          "name": "banana",
        }, sqlstate.check);
      },
      afterRollback: async (p: Replay) => {
        // the check constraint has been dropped.
        const constraintName = "_pgroll_check_not_null_description";
        await p.checkConstraintMustNotExist("products", constraintName);
      },
      afterComplete: async (p: Replay) => {
        // the check constraint has been dropped.
        const constraintName = "_pgroll_check_not_null_description";
        await p.checkConstraintMustNotExist("products", constraintName);

        // can't insert a null description into the new view; the column now has a NOT NULL constraint.
        await p.mustNotInsert("02_add_column", "products", {
          "name": "orange",
        }, sqlstate.notNull);
      },
    },
  ]);
});

describe("TestAddColumnWithVolatileAndNonVolatileDefaults", () => {
  replayCases([
    {
      name: "add nullable column with non-volatile default",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
                  {
                    name: "id",
                    type: "int",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: true,
                  default: "0",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting via both the old and the new views works
        await p.mustInsert("01_create_table", "users", {
          "id": "1",
          "name": "alice",
        });
        await p.mustInsert("02_add_column", "users", {
          "id": "2",
          "name": "bob",
          "age": "21",
        });

        // Can insert a NULL value into the new view
        await p.mustInsert("02_add_column", "users", {
          "id": "3",
          "name": "carl",
          "age": "NULL",
        });

        // The old view has the expected rows
        const resOld = await p.mustSelect("01_create_table", "users");
        p.equal([
          { "id": 1, "name": "alice" },
          { "id": 2, "name": "bob" },
          { "id": 3, "name": "carl" },
        ], resOld);

        // The new view has the expected rows
        const resNew = await p.mustSelect("02_add_column", "users");
        p.equal([
          { "id": 1, "name": "alice", "age": 0 },
          { "id": 2, "name": "bob", "age": 21 },
          { "id": 3, "name": "carl", "age": null },
        ], resNew);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("users", "age");
      },
      afterComplete: async (p: Replay) => {
        // Inserting into the new view still works
        await p.mustInsert("02_add_column", "users", {
          "id": "4",
          "name": "dana",
          "age": "31",
        });
        await p.mustInsert("02_add_column", "users", {
          "id": "5",
          "name": "earl",
        });

        // The new view has the expected rows
        const res = await p.mustSelect("02_add_column", "users");
        p.equal([
          { "id": 1, "name": "alice", "age": 0 },
          { "id": 2, "name": "bob", "age": 0 },
          { "id": 3, "name": "carl", "age": 0 },
          { "id": 4, "name": "dana", "age": 31 },
          { "id": 5, "name": "earl", "age": 0 },
        ], res);
      },
    },
    {
      name: "add not null column with non-volatile default",
      migrations: [
        {
          name: "01_create_table",
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
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: false,
                  default: "0",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting via both the old and the new views works
        await p.mustInsert("01_create_table", "users", {
          "id": "1",
          "name": "alice",
        });
        await p.mustInsert("02_add_column", "users", {
          "id": "2",
          "name": "bob",
          "age": "21",
        });

        // Can't insert a NULL value into the new view
        await p.mustNotInsert("02_add_column", "users", {
          "id": "3",
          "name": "carl",
          "age": "NULL",
        }, sqlstate.notNull);

        // The old view has the expected rows
        const resOld = await p.mustSelect("01_create_table", "users");
        p.equal([
          { "id": 1, "name": "alice" },
          { "id": 2, "name": "bob" },
        ], resOld);

        // The new view has the expected rows
        const resNew = await p.mustSelect("02_add_column", "users");
        p.equal([
          { "id": 1, "name": "alice", "age": 0 },
          { "id": 2, "name": "bob", "age": 21 },
        ], resNew);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("users", "age");
      },
      afterComplete: async (p: Replay) => {
        // Inserting into the new view still works
        await p.mustInsert("02_add_column", "users", {
          "id": "3",
          "name": "dana",
          "age": "31",
        });
        await p.mustInsert("02_add_column", "users", {
          "id": "4",
          "name": "earl",
        });

        // Can't insert a NULL value into the new view
        await p.mustNotInsert("02_add_column", "users", {
          "id": "5",
          "name": "frankie",
          "age": "NULL",
        }, sqlstate.notNull);

        // The new view has the expected rows
        const res = await p.mustSelect("02_add_column", "users");
        p.equal([
          { "id": 1, "name": "alice", "age": 0 },
          { "id": 2, "name": "bob", "age": 0 },
          { "id": 3, "name": "dana", "age": 31 },
          { "id": 4, "name": "earl", "age": 0 },
        ], res);
      },
    },
    {
      name: "add nullable column with volatile default",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
                  {
                    name: "id",
                    type: "int",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_create_volatile_function",
          operations: [
            {
              sql: {
                up:
                  "CREATE FUNCTION public.always_ten() RETURNS integer AS $$ BEGIN RETURN 10; END; $$ LANGUAGE plpgsql VOLATILE;",
              },
            },
          ],
        },
        {
          name: "03_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                up: "public.always_ten()",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: true,
                  default: "public.always_ten()",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting via both the old and the new views works
        await p.mustInsert("02_create_volatile_function", "users", {
          "id": "1",
          "name": "alice",
        });
        await p.mustInsert("03_add_column", "users", {
          "id": "2",
          "name": "bob",
          "age": "21",
        });

        // Can insert a NULL value into the new view
        await p.mustInsert("03_add_column", "users", {
          "id": "3",
          "name": "carl",
          "age": "NULL",
        });

        // The old view has the expected rows
        const resOld = await p.mustSelect("02_create_volatile_function", "users");
        p.equal([
          { "id": 1, "name": "alice" },
          { "id": 2, "name": "bob" },
          { "id": 3, "name": "carl" },
        ], resOld);

        // The new view has the expected rows
        const resNew = await p.mustSelect("03_add_column", "users");
        p.equal([
          { "id": 1, "name": "alice", "age": 10 },
          { "id": 2, "name": "bob", "age": 21 },
          { "id": 3, "name": "carl", "age": null },
        ], resNew);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("users", "age");
      },
      afterComplete: async (p: Replay) => {
        // Inserting into the new view still works
        await p.mustInsert("03_add_column", "users", {
          "id": "4",
          "name": "dana",
        });
        await p.mustInsert("03_add_column", "users", {
          "id": "5",
          "name": "earl",
          "age": "51",
        });

        // Can insert a NULL value into the new view
        await p.mustInsert("03_add_column", "users", {
          "id": "6",
          "name": "frankie",
          "age": "NULL",
        });

        // The new view has the expected rows
        const res = await p.mustSelect("03_add_column", "users");
        p.equal([
          { "id": 1, "name": "alice", "age": 10 },
          { "id": 2, "name": "bob", "age": 10 },
          { "id": 3, "name": "carl", "age": 10 },
          { "id": 4, "name": "dana", "age": 10 },
          { "id": 5, "name": "earl", "age": 51 },
          { "id": 6, "name": "frankie", "age": null },
        ], res);
      },
    },
    {
      name: "add not null column with volatile default",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
                  {
                    name: "id",
                    type: "int",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_create_volatile_function",
          operations: [
            {
              sql: {
                up:
                  "CREATE FUNCTION public.always_ten() RETURNS integer AS $$ BEGIN RETURN 10; END; $$ LANGUAGE plpgsql VOLATILE;",
              },
            },
          ],
        },
        {
          name: "03_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                up: "public.always_ten()",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: false,
                  default: "public.always_ten()",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting via both the old and the new views works
        await p.mustInsert("02_create_volatile_function", "users", {
          "id": "1",
          "name": "alice",
        });
        await p.mustInsert("03_add_column", "users", {
          "id": "2",
          "name": "bob",
          "age": "21",
        });

        // Can't insert a NULL value into the new view
        await p.mustNotInsert("03_add_column", "users", {
          "id": "3",
          "name": "carl",
          "age": "NULL",
        }, sqlstate.check);

        // The old view has the expected rows
        const resOld = await p.mustSelect("02_create_volatile_function", "users");
        p.equal([
          { "id": 1, "name": "alice" },
          { "id": 2, "name": "bob" },
        ], resOld);

        // The new view has the expected rows
        const resNew = await p.mustSelect("03_add_column", "users");
        p.equal([
          { "id": 1, "name": "alice", "age": 10 },
          { "id": 2, "name": "bob", "age": 21 },
        ], resNew);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("users", "age");
      },
      afterComplete: async (p: Replay) => {
        // Inserting into the new view still works
        await p.mustInsert("03_add_column", "users", {
          "id": "3",
          "name": "carl",
          "age": "31",
        });
        await p.mustInsert("03_add_column", "users", {
          "id": "4",
          "name": "dana",
        });

        // Can't insert a NULL value into the new view
        await p.mustNotInsert("03_add_column", "users", {
          "id": "5",
          "name": "earl",
          "age": "NULL",
        }, sqlstate.notNull);

        // The new view has the expected rows
        const res = await p.mustSelect("03_add_column", "users");
        p.equal([
          { "id": 1, "name": "alice", "age": 10 },
          { "id": 2, "name": "bob", "age": 10 },
          { "id": 3, "name": "carl", "age": 31 },
          { "id": 4, "name": "dana", "age": 10 },
        ], res);
      },
    },
    {
      name:
        "up expression must be the default expression when adding a column with a volatile default",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "users",
                columns: [
                  {
                    name: "id",
                    type: "int",
                    pk: true,
                  },
                  {
                    name: "name",
                    type: "text",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_create_volatile_function",
          operations: [
            {
              sql: {
                up:
                  "CREATE FUNCTION public.always_ten() RETURNS integer AS $$ BEGIN RETURN 10; END; $$ LANGUAGE plpgsql VOLATILE;",
              },
            },
          ],
        },
        {
          name: "03_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                up: "'incorrect - must be the same as the column default'",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: false,
                  default: "public.always_ten()",
                },
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.UpSQLMustBeColumnDefaultError{Column: "age"} */
    },
  ]);
});

describe("TestAddColumnValidation", () => {
  const addTableMigration = {
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
              type: "varchar(255)",
              unique: true,
            },
          ],
        },
      },
    ],
  };

  const addTableMigrationNoPKNullable = {
    name: "01_add_table",
    operations: [
      {
        create_table: {
          name: "users",
          columns: [
            {
              name: "id",
              type: "serial",
            },
            {
              name: "name",
              type: "varchar(255)",
              unique: true,
              nullable: true,
            },
          ],
        },
      },
    ],
  };

  const addTableMigrationNoPKNotNull = {
    name: "01_add_table",
    operations: [
      {
        create_table: {
          name: "users",
          columns: [
            {
              name: "id",
              type: "serial",
            },
            {
              name: "name",
              type: "varchar(255)",
              unique: true,
              nullable: false,
            },
          ],
        },
      },
    ],
  };

  replayCases([
    {
      name: "table must exist",
      migrations: [
        addTableMigration,
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "doesntexist",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: false,
                  default: "0",
                },
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.TableDoesNotExistError{Name: "doesntexist"} */
    },
    {
      name: "column must not exist",
      migrations: [
        addTableMigration,
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "name",
                  type: "varchar(255)",
                },
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.ColumnAlreadyExistsError{Table: "users", Name: "name"} */
    },
    {
      name: "column must be valid (not missing its type)",
      migrations: [
        addTableMigration,
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "description",
                  // Missing type
                },
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.ColumnIsInvalidError{Table: "users", Name: "description"} */
    },
    {
      name: "column must be valid (not missing its name)",
      migrations: [
        addTableMigration,
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  // Missing name
                  type: "text",
                },
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.ColumnIsInvalidError{Table: "users", Name: ""} */
    },
    {
      name: "up SQL is mandatory when adding a NOT NULL column with no DEFAULT",
      migrations: [
        addTableMigration,
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: "age",
                  type: "integer",
                  nullable: false,
                },
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.FieldRequiredError{Name: "up"} */
    },
    {
      name: "table can have multiple primary keys",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              sql: {
                up:
                  "CREATE TABLE orders(id integer, order_id integer, name text, primary key (id, order_id))",
                down: "DROP TABLE orders",
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "orders",
                up: "UPPER(name)",
                column: {
                  name: "description",
                  type: "text",
                },
              },
            },
          ],
        },
      ],
    },
    {
      name: "table has no restrictions on primary keys if up is not defined",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              sql: {
                up:
                  "CREATE TABLE orders(id integer, order_id integer, name text, primary key (id, order_id))",
                down: "DROP TABLE orders",
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "orders",
                column: {
                  default: "'foo'",
                  name: "description",
                  type: "text",
                },
              },
            },
          ],
        },
      ],
    },
    {
      name: "table without a primary key on exactly one column or a unique can be backfilled",
      migrations: [
        addTableMigrationNoPKNullable,
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                up: "UPPER(name)",
                column: {
                  default: "'foo'",
                  name: "description",
                  type: "text",
                },
              },
            },
          ],
        },
      ],
    },
    {
      name: "table with a unique not null column can be backfilled",
      migrations: [
        addTableMigrationNoPKNotNull,
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                up: "UPPER(name)",
                column: {
                  default: "'foo'",
                  name: "description",
                  type: "text",
                },
              },
            },
          ],
        },
      ],
    },
  ]);
});

describe("TestAddColumnWithCheckConstraint", () => {
  replayCases([{
    name: "add column",
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
                  type: "varchar(255)",
                  unique: true,
                },
              ],
            },
          },
        ],
      },
      {
        name: "02_add_column",
        operations: [
          {
            add_column: {
              table: "users",
              column: {
                name: "age",
                type: "integer",
                default: "18",
                check: {
                  name: "age_check",
                  constraint: "age >= 18",
                },
              },
            },
          },
        ],
      },
    ],
    afterStart: async (p: Replay) => {
      // Inserting a row that meets the constraint into the new view succeeds.
      await p.mustInsert("02_add_column", "users", {
        "name": "alice",
        "age": "30",
      });

      // Inserting a row that does not meet the constraint into the new view fails.
      await p.mustNotInsert("02_add_column", "users", {
        "name": "bob",
        "age": "3",
      }, sqlstate.check);
    },
    afterRollback: async (_p: Replay) => {
    },
    afterComplete: async (p: Replay) => {
      // Inserting a row that meets the constraint into the new view succeeds.
      await p.mustInsert("02_add_column", "users", {
        "name": "carl",
        "age": "30",
      });

      // Inserting a row that does not meet the constraint into the new view fails.
      await p.mustNotInsert("02_add_column", "users", {
        "name": "dana",
        "age": "3",
      }, sqlstate.check);
    },
  }]);
});

describe("TestAddColumnWithComment", () => {
  replayCases([{
    name: "add column",
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
                  type: "varchar(255)",
                  unique: true,
                },
              ],
            },
          },
        ],
      },
      {
        name: "02_add_column",
        operations: [
          {
            add_column: {
              table: "users",
              column: {
                name: "age",
                type: "integer",
                nullable: false,
                default: "0",
                comment: "the age of the user",
              },
            },
          },
        ],
      },
    ],
    afterStart: async (p: Replay) => {
      // The comment has been added to the underlying column.
      const columnName = temporaryName("age");
      await p.columnMustHaveComment("users", columnName, "the age of the user");
    },
    afterRollback: async (_p: Replay) => {
    },
    afterComplete: async (p: Replay) => {
      // The comment is still present on the underlying column.
      await p.columnMustHaveComment("users", "age", "the age of the user");
    },
  }]);
});

describe("TestAddColumnInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "create table, add column",
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
                  },
                ],
              },
            },
            {
              add_column: {
                table: "items",
                column: {
                  name: "description",
                  type: "text",
                },
                up: "UPPER(name)",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert into the view in the new schema (the only version schema)
        await p.mustInsert("01_multi_operation", "items", {
          "name": "apples",
          "description": "green",
        });

        // The table has the expected rows
        const rows = await p.mustSelect("01_multi_operation", "items");
        p.equal([
          { "id": 1, "name": "apples", "description": "green" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table no longer exists
        await p.tableMustNotExist("items");
      },
      afterComplete: async (p: Replay) => {
        // Can insert into the view in the new schema (the only version schema)
        await p.mustInsert("01_multi_operation", "items", {
          "name": "bananas",
          "description": "yellow",
        });

        // The table has the expected rows
        const rows = await p.mustSelect("01_multi_operation", "items");
        p.equal([
          { "id": 1, "name": "bananas", "description": "yellow" },
        ], rows);
      },
    },
    {
      name: "rename table, add column",
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
              add_column: {
                table: "products",
                column: {
                  name: "description",
                  type: "text",
                },
                up: "UPPER(name)",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert into the new table in the new schema using its new name
        await p.mustInsert("02_multi_operation", "products", {
          "name": "apples",
          "description": "green",
        });

        // Can't insert into the new table in the new schema using its old name
        await p.mustNotInsert("02_multi_operation", "items", {
          "name": "bananas",
          "description": "yellow",
        }, sqlstate.undefinedTable);

        // The table has the expected rows in the old schema
        let rows = await p.mustSelect("01_create_table", "items");
        p.equal([
          { "id": 1, "name": "apples" },
        ], rows);

        // The table has the expected rows in the new schema
        rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apples", "description": "green" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // Can insert into the old table in the old schema using its old name
        await p.mustInsert("01_create_table", "items", {
          "name": "bananas",
        });

        // The temporary column, functions and triggers have been cleaned up
        await p.tableMustBeCleanedUp("items", "description");
      },
      afterComplete: async (p: Replay) => {
        // Can insert into the new table in the new schema using its new name
        await p.mustInsert("02_multi_operation", "products", {
          "name": "carrots",
          "description": "crunchy",
        });

        // The table has the new name in the new schema and has the expected
        // rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apples", "description": "APPLES" },
          { "id": 2, "name": "bananas", "description": "BANANAS" },
          { "id": 3, "name": "carrots", "description": "crunchy" },
        ], rows);

        // The temporary column, functions and triggers have been cleaned up
        await p.tableMustBeCleanedUp("products", "description");
      },
    },
  ]);
});

describe("TestAddColumnValidationInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "adding a column with the same name twice fails to validate",
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
              add_column: {
                table: "items",
                column: {
                  name: "description",
                  type: "text",
                },
                up: "UPPER(name)",
              },
            },
            {
              add_column: {
                table: "items",
                column: {
                  name: "description",
                  type: "varchar(255)",
                },
                up: "UPPER(name)",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ColumnAlreadyExistsError{Table: "items", Name: "description"} */
    },
  ]);
});

describe("TestAddColumnInvalidNameLength", () => {
  const invalidName = "x".repeat(64);
  replayCases([
    {
      name: "Column name too long",
      migrations: [
        {
          name: "01_create_table",
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
                ],
              },
            },
          ],
        },
        {
          name: "02_add_column",
          operations: [
            {
              add_column: {
                table: "users",
                column: {
                  name: invalidName,
                  type: "text",
                  default: "'default value 1'",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (_p: Replay) => {},
      afterRollback: async (_p: Replay) => {},
      afterComplete: async (_p: Replay) => {},
      wantStartErr: true, /* migrations.ValidateIdentifierLength(invalidName) */
    },
  ]);
});
