/**
 * Replay of pgroll's op_set_default_test.go (pkg/migrations) through the CLI: same migrations, same
 * assertions on the catalog and through the version schemas (tests/helpers/pgroll-replay.ts).
 */
import { describe } from "bun:test";
import { Replay, replayCases } from "../helpers/pgroll-replay.ts";

describe("TestSetDefault", () => {
  replayCases([
    {
      name: "set column default with default up and down SQL",
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
                    type: "text",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_default",
          version_schema: "set_default",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                default: "'unknown user'",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("set_default", "users", {
          "id": "1",
        });

        // Inserting a row into the old schema succeeds
        await p.mustInsert("add_table", "users", {
          "id": "2",
        });

        // The new schema has the expected rows:
        // * The first row has a default value because it was inserted without
        //   a value into the new schema which has a default
        // * The second is NULL because it was backfilled from the old schema
        //   which does not have a default
        let rows = await p.mustSelect("set_default", "users");
        p.equal([
          { "id": 1, "name": "unknown user" },
          { "id": 2, "name": null },
        ], rows);

        // The old schema has the expected rows:
        // * The first row has a default value because it was backfilled from the
        //   new schema which has a default
        // * The second row is NULL because it was inserted without a value
        //   into the old schema which does not have a default
        rows = await p.mustSelect("add_table", "users");
        p.equal([
          { "id": 1, "name": "unknown user" },
          { "id": 2, "name": null },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // Inserting a row into the old schema succeeds
        await p.mustInsert("add_table", "users", {
          "id": "3",
        });

        // The old schema has the expected rows
        const rows = await p.mustSelect("add_table", "users");
        p.equal([
          { "id": 1, "name": "unknown user" },
          { "id": 2, "name": null },
          { "id": 3, "name": null },
        ], rows);
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("set_default", "users", {
          "id": "4",
        });

        // The new schema has the expected rows:
        // The new schema has the expected rows:
        // * The first and fourth rows have default values because they were
        //   inserted without values into the new schema which has a default
        // * The second and third are NULL because they were backfilled from
        //   the old schema which does not have a default
        const rows = await p.mustSelect("set_default", "users");
        p.equal([
          { "id": 1, "name": "unknown user" },
          { "id": 2, "name": null },
          { "id": 3, "name": null },
          { "id": 4, "name": "unknown user" },
        ], rows);
      },
    },
    {
      name: "set column default with user-supplied up and down SQL",
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
          name: "02_set_default",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                default: "'unknown user'",
                up: "'rewritten by up SQL'",
                down: "'rewritten by down SQL'",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("02_set_default", "users", {
          "id": "1",
        });

        // Inserting a row into the old schema succeeds
        await p.mustInsert("01_add_table", "users", {
          "id": "2",
        });

        // The new schema has the expected rows:
        // * The first row has a default value because it was inserted without
        //   a value into the new schema which has a default
        // * The second was rewritten because it was backfilled from the old schema
        let rows = await p.mustSelect("02_set_default", "users");
        p.equal([
          { "id": 1, "name": "unknown user" },
          { "id": 2, "name": "rewritten by up SQL" },
        ], rows);

        // The old schema has the expected rows:
        // * The first row has a rewritten value because it was backfilled from the
        //   new schema.
        // * The second row is NULL because it was inserted without a value
        //   into the old schema which does not have a default
        rows = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "id": 1, "name": "rewritten by down SQL" },
          { "id": 2, "name": null },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // Inserting a row into the old schema succeeds
        await p.mustInsert("01_add_table", "users", {
          "id": "3",
        });

        // The old schema has the expected rows
        const rows = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "id": 1, "name": "rewritten by down SQL" },
          { "id": 2, "name": null },
          { "id": 3, "name": null },
        ], rows);
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("02_set_default", "users", {
          "id": "4",
        });

        // The new schema has the expected rows:
        // * The first three rows have rewritten values because they were
        //   backfilled from the old schema
        // * The fourth row has a default value because it was inserted into
        //   the new schema
        const rows = await p.mustSelect("02_set_default", "users");
        p.equal([
          { "id": 1, "name": "rewritten by up SQL" },
          { "id": 2, "name": "rewritten by up SQL" },
          { "id": 3, "name": "rewritten by up SQL" },
          { "id": 4, "name": "unknown user" },
        ], rows);
      },
    },
    {
      name: "set column default: remove the default",
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
                    default: "'unknown user'",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_default",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                default: "NULL",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("02_set_default", "users", {
          "id": "1",
        });

        // Inserting a row into the old schema succeeds
        await p.mustInsert("01_add_table", "users", {
          "id": "2",
        });

        // The new schema has the expected rows:
        // * The first row is NULL because it was inserted into the new schema which
        //   does not have a default
        // * The second has a default value because it was backfilled from the old
        //   schema which has a default
        let rows = await p.mustSelect("02_set_default", "users");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "unknown user" },
        ], rows);

        // The old schema has the expected rows:
        // * The first row is NULL because it was backfilled from the new schema
        //   which does not have a default
        // * The second row has a default value because it was inserted without
        //   a value into the old schema which has a default
        rows = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "unknown user" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // Inserting a row into the old schema succeeds
        await p.mustInsert("01_add_table", "users", {
          "id": "3",
        });

        // The old schema has the expected rows
        const rows = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "unknown user" },
          { "id": 3, "name": "unknown user" },
        ], rows);
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("02_set_default", "users", {
          "id": "4",
        });

        // The new schema has the expected rows:
        // * The first row is NULL because it was inserted into the new schema which
        //   does not have a default
        // * The second has a default value because it was backfilled from the old
        //   schema which has a default
        const rows = await p.mustSelect("02_set_default", "users");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "unknown user" },
          { "id": 3, "name": "unknown user" },
          { "id": 4, "name": null },
        ], rows);
      },
    },
    {
      name: "set column default: remove the default by setting it null",
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
                    default: "'unknown user'",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_default",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                default: null,
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("02_set_default", "users", {
          "id": "1",
        });

        // Inserting a row into the old schema succeeds
        await p.mustInsert("01_add_table", "users", {
          "id": "2",
        });

        // The new schema has the expected rows:
        // * The first row is NULL because it was inserted into the new schema which
        //   does not have a default
        // * The second has a default value because it was backfilled from the old
        //   schema which has a default
        let rows = await p.mustSelect("02_set_default", "users");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "unknown user" },
        ], rows);

        // The old schema has the expected rows:
        // * The first row is NULL because it was backfilled from the new schema
        //   which does not have a default
        // * The second row has a default value because it was inserted without
        //   a value into the old schema which has a default
        rows = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "unknown user" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // Inserting a row into the old schema succeeds
        await p.mustInsert("01_add_table", "users", {
          "id": "3",
        });

        // The old schema has the expected rows
        const rows = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "unknown user" },
          { "id": 3, "name": "unknown user" },
        ], rows);
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("02_set_default", "users", {
          "id": "4",
        });

        // The new schema has the expected rows:
        // * The first row is NULL because it was inserted into the new schema which
        //   does not have a default
        // * The second has a default value because it was backfilled from the old
        //   schema which has a default
        const rows = await p.mustSelect("02_set_default", "users");
        p.equal([
          { "id": 1, "name": null },
          { "id": 2, "name": "unknown user" },
          { "id": 3, "name": "unknown user" },
          { "id": 4, "name": null },
        ], rows);
      },
    },
  ]);
});

describe("TestSetDefaultInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "rename table, set default",
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
                default: "'unknown'",
                up: "name",
                down: "name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new schema that uses the default
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
        });

        // Can insert a row into the old schema
        await p.mustInsert("01_create_table", "items", {
          "id": "2",
          "name": "apple",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "unknown" },
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
        // Can insert a row into the new schema that uses the default
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
        });

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "unknown" },
          { "id": 2, "name": "apple" },
          { "id": 3, "name": "unknown" },
        ], rows);

        // The table has been cleaned up
        await p.tableMustBeCleanedUp("products", "name");
      },
    },
    {
      name: "rename table, rename column, set default",
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
                default: "'unknown'",
                up: "item_name",
                down: "item_name",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new schema that uses the default
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
        });

        // Can insert a row into the old schema
        await p.mustInsert("01_create_table", "items", {
          "id": "2",
          "name": "apple",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "unknown" },
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
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the new schema that uses the default
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
        });

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "item_name": "unknown" },
          { "id": 2, "item_name": "apple" },
          { "id": 3, "item_name": "unknown" },
        ], rows);

        // The table has been cleaned up
        await p.tableMustBeCleanedUp("products", "name");
      },
    },
  ]);
});
