/**
 * Replay of pgroll's op_set_fk_test.go (pkg/migrations) through the CLI: same migrations, same
 * assertions on the catalog and through the version schemas (tests/helpers/pgroll-replay.ts).
 */
import { describe, expect } from "bun:test";
import {
  duplicationName,
  Replay,
  replayCases,
  sqlstate,
  temporaryName,
} from "../helpers/pgroll-replay.ts";

describe("TestSetForeignKey", () => {
  replayCases([
    {
      name: "add foreign key constraint",
      migrations: [
        {
          name: "01_add_tables",
          version_schema: "add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          version_schema: "add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The new (temporary) `user_id` column should exist on the underlying table.
        await p.columnMustExist("posts", temporaryName("user_id"));

        // A temporary FK constraint has been created on the temporary column
        await p.notValidatedForeignKeyMustExist("posts", "fk_users_id");

        // Inserting some data into the `users` table works.
        await p.mustInsert("add_fk_constraint", "users", {
          "name": "alice",
        });
        await p.mustInsert("add_fk_constraint", "users", {
          "name": "bob",
        });

        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("add_fk_constraint", "posts", {
          "title": "post by alice",
          "user_id": "1",
        });

        // Inserting data into the new `posts` view with an invalid user reference fails.
        await p.mustNotInsert("add_fk_constraint", "posts", {
          "title": "post by unknown user",
          "user_id": "3",
        }, sqlstate.fk);

        // The post that was inserted successfully has been backfilled into the old view.
        let rows = await p.mustSelect("add_tables", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": 1 },
        ], rows);

        // Inserting data into the old `posts` view with a valid user reference works.
        await p.mustInsert("add_tables", "posts", {
          "title": "post by bob",
          "user_id": "2",
        });

        // Inserting data into the old `posts` view with an invalid user reference also works.
        await p.mustInsert("add_tables", "posts", {
          "title": "post by unknown user",
          "user_id": "3",
        });

        // The post that was inserted successfully has been backfilled into the new view.
        // The post by an unknown user has been backfilled with a NULL user_id.
        rows = await p.mustSelect("add_fk_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": 1 },
          { "id": 3, "title": "post by bob", "user_id": 2 },
          { "id": 4, "title": "post by unknown user", "user_id": null },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("posts", "user_id");
      },
      afterComplete: async (p: Replay) => {
        // The new (temporary) `user_id` column should not exist on the underlying table.
        await p.columnMustNotExist("posts", temporaryName("user_id"));

        // A validated foreign key constraint exists on the underlying table.
        await p.validatedForeignKeyMustExist("posts", "fk_users_id");

        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("add_fk_constraint", "posts", {
          "title": "another post by alice",
          "user_id": "1",
        });

        // Inserting data into the new `posts` view with an invalid user reference fails.
        await p.mustNotInsert("add_fk_constraint", "posts", {
          "title": "post by unknown user",
          "user_id": "3",
        }, sqlstate.fk);

        // The data in the new `posts` view is as expected.
        const rows = await p.mustSelect("add_fk_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": 1 },
          { "id": 3, "title": "post by bob", "user_id": 2 },
          { "id": 4, "title": "post by unknown user", "user_id": null },
          { "id": 5, "title": "another post by alice", "user_id": 1 },
        ], rows);

        // The table is cleaned up; temporary columns, trigger functions and triggers no longer exist.
        await p.tableMustBeCleanedUp("posts", "user_id");
      },
    },
    {
      name: "on delete NO ACTION is the default behavior when removing referenced rows",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting some data into the `users` table works.
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "alice",
        });
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "bob",
        });

        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "post by alice",
          "user_id": "1",
        });

        // Attempting to delete a row from the `users` table that is referenced
        // by a row in the `posts` table fails.
        await p.mustNotDelete("02_add_fk_constraint", "users", {
          "name": "alice",
        }, sqlstate.fk);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Attempting to delete a row from the `users` table that is referenced
        // by a row in the `posts` table fails.
        await p.mustNotDelete("02_add_fk_constraint", "users", {
          "name": "alice",
        }, sqlstate.fk);
      },
    },
    {
      name: "on delete CASCADE allows referenced rows to be removed",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                  on_delete: "CASCADE",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting some data into the `users` table works.
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "alice",
        });
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "bob",
        });

        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "post by alice",
          "user_id": "1",
        });

        // Attempting to delete a row from the `users` table that is referenced
        // by a row in the `posts` table succeeds.
        await p.mustDelete("02_add_fk_constraint", "users", {
          "name": "alice",
        });

        // The row in the `posts` table that referenced the deleted row in the
        // `users` table has been removed.
        const rows = await p.mustSelect("02_add_fk_constraint", "posts");
        expect(rows as unknown[]).toHaveLength(0);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "post by bob",
          "user_id": "2",
        });

        // Attempting to delete a row from the `users` table that is referenced
        // by a row in the `posts` table succeeds.
        await p.mustDelete("02_add_fk_constraint", "users", {
          "name": "bob",
        });

        // The row in the `posts` table that referenced the deleted row in the
        // `users` table has been removed.
        const rows = await p.mustSelect("02_add_fk_constraint", "posts");
        expect(rows as unknown[]).toHaveLength(0);
      },
    },
    {
      name: "on delete SET NULL allows referenced rows to be removed",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                  on_delete: "SET NULL",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting some data into the `users` table works.
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "alice",
        });
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "bob",
        });

        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "post by alice",
          "user_id": "1",
        });

        // Attempting to delete a row from the `users` table that is referenced
        // by a row in the `posts` table succeeds.
        await p.mustDelete("02_add_fk_constraint", "users", {
          "name": "alice",
        });

        // The user_id of the deleted row in the `posts` table is set to NULL.
        const rows = await p.mustSelect("02_add_fk_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": null },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "post by bob",
          "user_id": "2",
        });

        // Attempting to delete a row from the `users` table that is referenced
        // by a row in the `posts` table succeeds.
        await p.mustDelete("02_add_fk_constraint", "users", {
          "name": "bob",
        });

        // The user_id of the deleted row in the `posts` table is set to NULL.
        const rows = await p.mustSelect("02_add_fk_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": null },
          { "id": 2, "title": "post by bob", "user_id": null },
        ], rows);
      },
    },
    {
      name: "on delete SET DEFAULT allows referenced rows to be removed",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    nullable: true,
                    default: "3",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                  on_delete: "SET DEFAULT",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting some data into the `users` table works.
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "alice",
        });
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "bob",
        });
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "carl",
        });

        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "post by alice",
          "user_id": "1",
        });

        // Attempting to delete a row from the `users` table that is referenced
        // by a row in the `posts` table succeeds.
        await p.mustDelete("02_add_fk_constraint", "users", {
          "name": "alice",
        });

        // The user_id of the deleted row in the `posts` table is set to its default value.
        const rows = await p.mustSelect("02_add_fk_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": 3 },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting data into the new `posts` view with a valid user reference works.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "post by bob",
          "user_id": "2",
        });

        // Attempting to delete a row from the `users` table that is referenced
        // by a row in the `posts` table succeeds.
        await p.mustDelete("02_add_fk_constraint", "users", {
          "name": "bob",
        });

        // The user_id of the deleted row in the `posts` table is set to its default value.
        const rows = await p.mustSelect("02_add_fk_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": 3 },
          { "id": 2, "title": "post by bob", "user_id": 3 },
        ], rows);
      },
    },
    {
      name: "column defaults are preserved when adding a foreign key constraint",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    default: "1",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Set up the users table with a reference row
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "alice",
        });

        // A row can be inserted into the new version of the table.
        // The new row does not specify `user_id`, so the default value should be used.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "post by alice",
        });

        // The newly inserted row respects the default value of the `user_id` column.
        const rows = await p.mustSelect("02_add_fk_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": 1 },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // A row can be inserted into the new version of the table.
        // The new row does not specify `user_id`, so the default value should be used.
        await p.mustInsert("02_add_fk_constraint", "posts", {
          "title": "another post by alice",
        });

        // The newly inserted row respects the default value of the `user_id` column.
        const rows = await p.mustSelect("02_add_fk_constraint", "posts");
        p.equal([
          { "id": 1, "title": "post by alice", "user_id": 1 },
          { "id": 2, "title": "another post by alice", "user_id": 1 },
        ], rows);
      },
    },
    {
      name:
        "existing FK constraints on a column are preserved when adding a foreign key constraint",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    default: "1",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id_1",
                  table: "users",
                  column: "id",
                  on_delete: "CASCADE",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
        {
          name: "03_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id_2",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // A temporary FK constraint has been created on the temporary column
        // Validated once start is done: after the backfill (which skips foreign-key triggers).
        await p.validatedForeignKeyMustExistWithReferentialAction(
          "posts",
          duplicationName("fk_users_id_1"),
          "CASCADE",
          "NO ACTION",
        );
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The foreign key constraint still exists on the column
        await p.validatedForeignKeyMustExistWithReferentialAction(
          "posts",
          "fk_users_id_1",
          "CASCADE",
          "NO ACTION",
        );
      },
    },
    {
      name: "check constraints on a column are preserved when adding a foreign key constraint",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                      name: "title_length",
                      constraint: "length(title) > 3",
                    },
                  },
                  {
                    name: "user_id",
                    type: "integer",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Set up the users table with a reference row
        await p.mustInsert("02_add_fk_constraint", "users", {
          "name": "alice",
        });

        // Inserting a row that violates the check constraint should fail.
        await p.mustNotInsert("02_add_fk_constraint", "posts", {
          "id": "1",
          "user_id": "1",
          "title": "a",
        }, sqlstate.check);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row that violates the check constraint should fail.
        await p.mustNotInsert("02_add_fk_constraint", "posts", {
          "id": "2",
          "user_id": "1",
          "title": "b",
        }, sqlstate.check);
      },
    },
    {
      name: "not null is preserved when adding a foreign key constraint",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                    nullable: true,
                  },
                  {
                    name: "user_id",
                    type: "integer",
                    nullable: false,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a row that violates the NOT NULL constraint on `user_id` fails.
        await p.mustNotInsert("02_add_fk_constraint", "posts", {
          "id": "1",
          "title": "post by alice",
        }, sqlstate.notNull);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row that violates the NOT NULL constraint on `user_id` fails.
        await p.mustNotInsert("02_add_fk_constraint", "posts", {
          "id": "1",
          "title": "post by alice",
        }, sqlstate.notNull);
      },
    },
    {
      name: "unique constraints are preserved when adding a foreign key constraint",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
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
                column: "user_id",
                unique: { name: "unique_user_id" },
                up: "user_id",
                down: "user_id",
              },
            },
          ],
        },
        {
          name: "03_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Set up the users table with a reference row
        await p.mustInsert("03_add_fk_constraint", "users", {
          "name": "alice",
          "id": "1",
        });

        // Inserting an initial row succeeds
        await p.mustInsert("03_add_fk_constraint", "posts", {
          "title": "post by alice",
          "user_id": "1",
        });

        // Inserting a row with a duplicate `user_id` fails.
        await p.mustNotInsert("03_add_fk_constraint", "posts", {
          "title": "post by alice 2",
          "user_id": "1",
        }, sqlstate.unique);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The 'posts' table has a unique constraint defined on it
        await p.uniqueConstraintMustExist("posts", "unique_user_id");

        // Inserting a row with a duplicate `user_id` fails
        await p.mustNotInsert("03_add_fk_constraint", "posts", {
          "title": "post by alice 3",
          "user_id": "1",
        }, sqlstate.unique);

        // Set up the users table with another reference row
        await p.mustInsert("03_add_fk_constraint", "users", {
          "name": "bob",
          "id": "2",
        });

        // Inserting a row with a different `user_id` succeeds
        await p.mustInsert("03_add_fk_constraint", "posts", {
          "title": "post by bob",
          "user_id": "2",
        });
      },
    },
    {
      name: "comments are preserved when adding a foreign key constraint",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    comment: "the id of the author",
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // The duplicated column has a comment defined on it
        await p.columnMustHaveComment("posts", temporaryName("user_id"), "the id of the author");
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // The final column has a comment defined on it
        await p.columnMustHaveComment("posts", "user_id", "the id of the author");
      },
    },
    {
      name: "validate that foreign key name is unique",
      migrations: [
        {
          name: "01_add_tables",
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
                  },
                ],
              },
            },
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
                  {
                    name: "user_id",
                    type: "integer",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
        {
          name: "03_add_fk_constraint_again",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_id",
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ConstraintAlreadyExistsError{ Table: "posts", Constraint: "fk_users_id", } */
      afterStart: async (_p: Replay) => {},
      afterRollback: async (_p: Replay) => {},
      afterComplete: async (_p: Replay) => {},
    },
  ]);
});

describe("TestSetForeignKeyInMultiOperationMigrations", () => {
  replayCases([
    {
      name: "rename referencing table, set fk",
      migrations: [
        {
          name: "01_create_tables",
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
                  {
                    name: "supplier_id",
                    type: "int",
                    nullable: true,
                  },
                ],
              },
            },
            {
              create_table: {
                name: "suppliers",
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
                column: "supplier_id",
                references: {
                  name: "fk_products_suppliers",
                  table: "suppliers",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM suppliers WHERE suppliers.id = supplier_id) THEN supplier_id ELSE NULL END",
                down: "supplier_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the suppliers table
        await p.mustInsert("02_multi_operation", "suppliers", {
          "id": "1",
          "name": "supplier1",
        });

        // Can insert a row into the products table that meets the FK constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
          "name": "apples",
          "supplier_id": "1",
        });

        // Can't insert a row into the products table that violates the FK constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "2",
          "name": "bananas",
          "supplier_id": "999",
        }, sqlstate.fk);

        // Can insert a row into the old schema that violates the FK constraint
        await p.mustInsert("01_create_tables", "items", {
          "id": "2",
          "name": "bananas",
          "supplier_id": "999",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": null },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_tables", "items");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": 999 },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the products table that meets the FK constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
          "name": "carrots",
          "supplier_id": "1",
        });

        // Can't insert a row into the products table that violates the FK constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "4",
          "name": "durian",
          "supplier_id": "999",
        }, sqlstate.fk);

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": null },
          { "id": 3, "name": "carrots", "supplier_id": 1 },
        ], rows);
      },
    },
    {
      name: "rename referencing table, rename referencing column, set fk",
      migrations: [
        {
          name: "01_create_tables",
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
                  {
                    name: "supplier_id",
                    type: "int",
                    nullable: true,
                  },
                ],
              },
            },
            {
              create_table: {
                name: "suppliers",
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
                from: "supplier_id",
                to: "sup_id",
              },
            },
            {
              alter_column: {
                table: "products",
                column: "sup_id",
                references: {
                  name: "fk_products_suppliers",
                  table: "suppliers",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM suppliers WHERE suppliers.id = sup_id) THEN sup_id ELSE NULL END",
                down: "sup_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the suppliers table
        await p.mustInsert("02_multi_operation", "suppliers", {
          "id": "1",
          "name": "supplier1",
        });

        // Can insert a row into the products table that meets the FK constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "1",
          "name": "apples",
          "sup_id": "1",
        });

        // Can't insert a row into the products table that violates the FK constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "2",
          "name": "bananas",
          "sup_id": "999",
        }, sqlstate.fk);

        // Can insert a row into the old schema that violates the FK constraint
        await p.mustInsert("01_create_tables", "items", {
          "id": "2",
          "name": "bananas",
          "supplier_id": "999",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apples", "sup_id": 1 },
          { "id": 2, "name": "bananas", "sup_id": null },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_tables", "items");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": 999 },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the products table that meets the FK constraint
        await p.mustInsert("02_multi_operation", "products", {
          "id": "3",
          "name": "carrots",
          "sup_id": "1",
        });

        // Can't insert a row into the products table that violates the FK constraint
        await p.mustNotInsert("02_multi_operation", "products", {
          "id": "4",
          "name": "durian",
          "sup_id": "999",
        }, sqlstate.fk);

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "products");
        p.equal([
          { "id": 1, "name": "apples", "sup_id": 1 },
          { "id": 2, "name": "bananas", "sup_id": null },
          { "id": 3, "name": "carrots", "sup_id": 1 },
        ], rows);
      },
    },
    {
      name: "rename referenced table, set fk",
      migrations: [
        {
          name: "01_create_tables",
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
                  {
                    name: "supplier_id",
                    type: "int",
                    nullable: true,
                  },
                ],
              },
            },
            {
              create_table: {
                name: "suppliers",
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
                from: "suppliers",
                to: "producers",
              },
            },
            {
              alter_column: {
                table: "items",
                column: "supplier_id",
                references: {
                  name: "fk_items_producers",
                  table: "producers",
                  column: "id",
                },
                // Still have to refer to the renamed referenced table by its old name here which is not ideal
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM suppliers WHERE suppliers.id = supplier_id) THEN supplier_id ELSE NULL END",
                down: "supplier_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the suppliers table
        await p.mustInsert("02_multi_operation", "producers", {
          "id": "1",
          "name": "producer1",
        });

        // Can insert a row into the products table that meets the FK constraint
        await p.mustInsert("02_multi_operation", "items", {
          "id": "1",
          "name": "apples",
          "supplier_id": "1",
        });

        // Can't insert a row into the products table that violates the FK constraint
        await p.mustNotInsert("02_multi_operation", "items", {
          "id": "2",
          "name": "bananas",
          "supplier_id": "999",
        }, sqlstate.fk);

        // Can insert a row into the old schema that violates the FK constraint
        await p.mustInsert("01_create_tables", "items", {
          "id": "2",
          "name": "bananas",
          "supplier_id": "999",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "items");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": null },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_tables", "items");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": 999 },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the products table that meets the FK constraint
        await p.mustInsert("02_multi_operation", "items", {
          "id": "3",
          "name": "carrots",
          "supplier_id": "1",
        });

        // Can't insert a row into the products table that violates the FK constraint
        await p.mustNotInsert("02_multi_operation", "items", {
          "id": "4",
          "name": "durian",
          "supplier_id": "999",
        }, sqlstate.fk);

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "items");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": null },
          { "id": 3, "name": "carrots", "supplier_id": 1 },
        ], rows);
      },
    },
    {
      name: "rename referenced column, set fk",
      migrations: [
        {
          name: "01_create_tables",
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
                  {
                    name: "supplier_id",
                    type: "int",
                    nullable: true,
                  },
                ],
              },
            },
            {
              create_table: {
                name: "suppliers",
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
              rename_column: {
                table: "suppliers",
                from: "id",
                to: "supplier_id",
              },
            },
            {
              alter_column: {
                table: "items",
                column: "supplier_id",
                references: {
                  name: "fk_items_suppliers",
                  table: "suppliers",
                  column: "supplier_id",
                },
                // Still have to refer to the renamed referenced column by its old name here which is not ideal
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM suppliers WHERE suppliers.id = supplier_id) THEN supplier_id ELSE NULL END",
                down: "supplier_id",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the suppliers table
        await p.mustInsert("02_multi_operation", "suppliers", {
          "supplier_id": "1",
          "name": "producer1",
        });

        // Can insert a row into the products table that meets the FK constraint
        await p.mustInsert("02_multi_operation", "items", {
          "id": "1",
          "name": "apples",
          "supplier_id": "1",
        });

        // Can't insert a row into the products table that violates the FK constraint
        await p.mustNotInsert("02_multi_operation", "items", {
          "id": "2",
          "name": "bananas",
          "supplier_id": "999",
        }, sqlstate.fk);

        // Can insert a row into the old schema that violates the FK constraint
        await p.mustInsert("01_create_tables", "items", {
          "id": "2",
          "name": "bananas",
          "supplier_id": "999",
        });

        // The new view has the expected rows
        let rows = await p.mustSelect("02_multi_operation", "items");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": null },
        ], rows);

        // The old view has the expected rows
        rows = await p.mustSelect("01_create_tables", "items");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": 999 },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // The table has been cleaned up
        await p.tableMustBeCleanedUp("items", "name");
      },
      afterComplete: async (p: Replay) => {
        // Can insert a row into the products table that meets the FK constraint
        await p.mustInsert("02_multi_operation", "items", {
          "id": "3",
          "name": "carrots",
          "supplier_id": "1",
        });

        // Can't insert a row into the products table that violates the FK constraint
        await p.mustNotInsert("02_multi_operation", "items", {
          "id": "4",
          "name": "durian",
          "supplier_id": "999",
        }, sqlstate.fk);

        // The new view has the expected rows
        const rows = await p.mustSelect("02_multi_operation", "items");
        p.equal([
          { "id": 1, "name": "apples", "supplier_id": 1 },
          { "id": 2, "name": "bananas", "supplier_id": null },
          { "id": 3, "name": "carrots", "supplier_id": 1 },
        ], rows);
      },
    },
  ]);
});

describe("TestSetForeignKeyValidation", () => {
  const createTablesMigration = {
    name: "01_add_tables",
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
            },
          ],
        },
      },
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
            {
              name: "user_id",
              type: "integer",
            },
          ],
        },
      },
    ],
  };

  replayCases([
    {
      name: "foreign key must have a name",
      migrations: [
        createTablesMigration,
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  table: "users",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ColumnReferenceError{ Table: "posts", Column: "user_id", Err: migrations.FieldRequiredError{Name: "name"}, } */
    },
    {
      name: "referenced table must exist",
      migrations: [
        createTablesMigration,
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_doesntexist_id",
                  table: "doesntexist",
                  column: "id",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ColumnReferenceError{ Table: "posts", Column: "user_id", Err: migrations.TableDoesNotExistError{Name: "doesntexist"}, } */
    },
    {
      name: "referenced column must exist",
      migrations: [
        createTablesMigration,
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_doesntexist",
                  table: "users",
                  column: "doesntexist",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ColumnReferenceError{ Table: "posts", Column: "user_id", Err: migrations.ColumnDoesNotExistError{Table: "users", Name: "doesntexist"}, } */
    },
    {
      name: "on_delete must be a valid value",
      migrations: [
        createTablesMigration,
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_doesntexist",
                  table: "users",
                  column: "id",
                  on_delete: "invalid",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.InvalidOnDeleteSettingError{ Name: "fk_users_doesntexist", Setting: "invalid", } */
    },
    {
      name: "on_delete can be specified as lowercase",
      migrations: [
        createTablesMigration,
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_doesntexist",
                  table: "users",
                  column: "id",
                  on_delete: "NO ACTION",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
    },
    {
      name: "on_delete can be specified as uppercase",
      migrations: [
        createTablesMigration,
        {
          name: "02_add_fk_constraint",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "user_id",
                references: {
                  name: "fk_users_doesntexist",
                  table: "users",
                  column: "id",
                  on_delete: "SET NULL",
                },
                up:
                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = user_id) THEN user_id ELSE NULL END",
                down: "user_id",
              },
            },
          ],
        },
      ],
    },
  ]);
});
