/**
 * Replay of pgroll's op_set_comment_test.go (pkg/migrations) through the CLI: same migrations, same
 * assertions on the catalog and through the version schemas (tests/helpers/pgroll-replay.ts).
 */
import { describe } from "bun:test";
import { Replay, replayCases, temporaryName } from "../helpers/pgroll-replay.ts";

describe("TestSetComment", () => {
  replayCases([
    {
      name: "set column comment with default up and down SQL",
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
                    comment: "apples",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_comment",
          version_schema: "set_comment",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                comment: "name of the user",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("set_comment", "users", {
          "name": "alice",
        });

        // Inserting a row into the old schema succeeds
        await p.mustInsert("add_table", "users", {
          "name": "bob",
        });

        // The old column should have the old comment.
        await p.columnMustHaveComment("users", "name", "apples");

        // The new column should have the new comment.
        await p.columnMustHaveComment("users", temporaryName("name"), "name of the user");

        // The old schema view has the expected rows
        let rows = await p.mustSelect("add_table", "users");
        p.equal([
          { "id": 1, "name": "alice" },
          { "id": 2, "name": "bob" },
        ], rows);

        // The new schema view has the expected rows
        rows = await p.mustSelect("set_comment", "users");
        p.equal([
          { "id": 1, "name": "alice" },
          { "id": 2, "name": "bob" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The column should have the old comment.
        await p.columnMustHaveComment("users", "name", "apples");
      },
      afterComplete: async (p: Replay) => {
        // The new column should have the new comment.
        await p.columnMustHaveComment("users", "name", "name of the user");

        // The new schema view has the expected rows
        const rows = await p.mustSelect("set_comment", "users");
        p.equal([
          { "id": 1, "name": "alice" },
          { "id": 2, "name": "bob" },
        ], rows);
      },
    },
    {
      name: "set column comment with user-supplied up and down SQL",
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
                    comment: "apples",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_comment",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                comment: "name of the user",
                up: "'rewritten by up SQL'",
                down: "'rewritten by down SQL'",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row into the new schema succeeds
        await p.mustInsert("02_set_comment", "users", {
          "name": "alice",
        });

        // Inserting a row into the old schema succeeds
        await p.mustInsert("01_add_table", "users", {
          "name": "bob",
        });

        // The old column should have the old comment.
        await p.columnMustHaveComment("users", "name", "apples");

        // The new column should have the new comment.
        await p.columnMustHaveComment("users", temporaryName("name"), "name of the user");

        // The old schema view has the expected rows
        let rows = await p.mustSelect("01_add_table", "users");
        p.equal([
          { "id": 1, "name": "rewritten by down SQL" },
          { "id": 2, "name": "bob" },
        ], rows);

        // The new schema view has the expected rows
        rows = await p.mustSelect("02_set_comment", "users");
        p.equal([
          { "id": 1, "name": "alice" },
          { "id": 2, "name": "rewritten by up SQL" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The column should have the old comment.
        await p.columnMustHaveComment("users", "name", "apples");
      },
      afterComplete: async (p: Replay) => {
        // The new column should have the new comment.
        await p.columnMustHaveComment("users", "name", "name of the user");

        // The new schema view has the expected rows
        const rows = await p.mustSelect("02_set_comment", "users");
        p.equal([
          { "id": 1, "name": "rewritten by up SQL" },
          { "id": 2, "name": "rewritten by up SQL" },
        ], rows);
      },
    },
    {
      name: "set column comment to NULL",
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
                    comment: "apples",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_comment",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                comment: null,
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The old column should have the old comment.
        await p.columnMustHaveComment("users", "name", "apples");

        // The new column should have no comment.
        await p.columnMustNotHaveComment("users", temporaryName("name"));
      },
      afterRollback: async (p: Replay) => {
        // The old column should have the old comment.
        await p.columnMustHaveComment("users", "name", "apples");
      },
      afterComplete: async (p: Replay) => {
        // The new column should have no comment.
        await p.columnMustNotHaveComment("users", "name");
      },
    },
    {
      name: "leaving the comment unspecified does not change the comment",
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
                    comment: "apples",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_set_comment",
          operations: [
            {
              alter_column: {
                table: "users",
                column: "name",
                nullable: true,
                down: "SELECT CASE WHEN name IS NULL THEN 'placeholder' ELSE name END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The comment has not been changed on the temporary column.
        await p.columnMustHaveComment("users", temporaryName("name"), "apples");
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The comment has not been changed on the new column.
        await p.columnMustHaveComment("users", "name", "apples");
      },
    },
  ]);
});
