/**
 * Replay of pgroll's op_alter_column_test.go (pkg/migrations) through the CLI: same migrations, same
 * assertions on the catalog and through the version schemas (tests/helpers/pgroll-replay.ts).
 */
import { describe } from "bun:test";
import { Replay, replayCases, sqlstate, temporaryName } from "../helpers/pgroll-replay.ts";

describe("TestAlterColumnMultipleSubOperations", () => {
  replayCases([
    {
      name:
        "can alter a column: set not null, change type, change comment, and add check constraint",
      migrations: [
        {
          name: "01_create_table",
          version_schema: "create_table",
          operations: [
            {
              create_table: {
                name: "events",
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
          name: "02_alter_column",
          version_schema: "alter_column",
          operations: [
            {
              alter_column: {
                table: "events",
                column: "name",
                up:
                  "SELECT CASE WHEN name IS NULL OR LENGTH(name) <= 3 THEN 'placeholder' ELSE name END",
                down: "name",
                type: "text",
                comment: "the name of the event",
                nullable: false,
                check: {
                  name: "name_length",
                  constraint: "length(name) > 3",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting a NULL into the new column should fail
        await p.mustNotInsert("alter_column", "events", {
          "id": "1",
        }, sqlstate.check);

        // Inserting a non-NULL value into the new column should succeed
        await p.mustInsert("alter_column", "events", {
          "id": "2",
          "name": "apples",
        });

        // The value inserted into the new column has been backfilled into the
        // old column.
        let rows = await p.mustSelect("create_table", "events");
        p.equal([
          { "id": 2, "name": "apples" },
        ], rows);

        // Inserting a NULL value into the old column should succeed
        await p.mustInsert("create_table", "events", {
          "id": "3",
        });

        // The NULL value inserted into the old column has been written into
        // the new column using the `up` SQL.
        rows = await p.mustSelect("alter_column", "events");
        p.equal([
          { "id": 2, "name": "apples" },
          { "id": 3, "name": "placeholder" },
        ], rows);

        // Inserting a non-NULL value into the old column should succeed
        await p.mustInsert("create_table", "events", {
          "id": "4",
          "name": "bananas",
        });

        // The non-NULL value inserted into the old column has been copied
        // unchanged into the new column.
        rows = await p.mustSelect("alter_column", "events");
        p.equal([
          { "id": 2, "name": "apples" },
          { "id": 3, "name": "placeholder" },
          { "id": 4, "name": "bananas" },
        ], rows);

        // Inserting a row into the new column that violates the
        // check constraint should fail
        await p.mustNotInsert("alter_column", "events", {
          "id": "5",
          "name": "x",
        }, sqlstate.check);

        // Inserting a row into the old column that violates the
        // check constraint should succeed.
        await p.mustInsert("create_table", "events", {
          "id": "5",
          "name": "x",
        });

        // The value that didn't meet the check constraint has been rewritten
        // into the new column using the `up` SQL.
        rows = await p.mustSelect("alter_column", "events");
        p.equal([
          { "id": 2, "name": "apples" },
          { "id": 3, "name": "placeholder" },
          { "id": 4, "name": "bananas" },
          { "id": 5, "name": "placeholder" },
        ], rows);

        // The type of the new column in the underlying table should be `text`
        await p.columnMustHaveType("events", temporaryName("name"), "text");

        // The new column should have the new comment.
        await p.columnMustHaveComment("events", temporaryName("name"), "the name of the event");
      },
      afterRollback: async (p: Replay) => {
        // The new (temporary) column should not exist on the underlying table.
        await p.columnMustNotExist("events", temporaryName("name"));
      },
      afterComplete: async (p: Replay) => {
        // Inserting a NULL into the new column should fail
        await p.mustNotInsert("alter_column", "events", {
          "id": "6",
        }, sqlstate.notNull);

        // Inserting a row into the new column that violates the
        // check constraint should fail
        await p.mustNotInsert("alter_column", "events", {
          "id": "6",
          "name": "x",
        }, sqlstate.check);

        // The type of the new column in the underlying table should be `text`
        await p.columnMustHaveType("events", "name", "text");

        // The new column should have the new comment.
        await p.columnMustHaveComment("events", "name", "the name of the event");

        // The table contains the expected rows
        const rows = await p.mustSelect("alter_column", "events");
        p.equal([
          { "id": 2, "name": "apples" },
          { "id": 3, "name": "placeholder" },
          { "id": 4, "name": "bananas" },
          { "id": 5, "name": "placeholder" },
        ], rows);
      },
    },
    {
      name: "can alter a column: set not null, and add a default",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "events",
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
          name: "02_alter_column",
          operations: [
            {
              alter_column: {
                table: "events",
                column: "name",
                nullable: false,
                default: "'default'",
                up: "SELECT CASE WHEN name IS NULL THEN 'rewritten by up SQL' ELSE name END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Inserting with no `name` into the new schema should succeed
        await p.mustInsert("02_alter_column", "events", {
          "id": "1",
        });

        // Updating name to default value should succeed
        await p.mustUpdate("02_alter_column", "events", "id", "1", {
          "name": "DEFAULT",
        });

        // Inserting a NULL explicitly into the new schema should fail
        await p.mustNotInsert("02_alter_column", "events", {
          "id": "100",
          "name": "NULL",
        }, sqlstate.check);

        // Inserting with no `name` into the old schema should succeed
        await p.mustInsert("01_create_table", "events", {
          "id": "2",
        });

        // The new schema has the expected rows:
        // * The first row has a default value because it was inserted with no
        //   value into the new schema which has a default
        // * The second row was rewritten by the `up` SQL because it was
        //   inserted with no value into the old schema which has no default
        let rows = await p.mustSelect("02_alter_column", "events");
        p.equal([
          { "id": 1, "name": "default" },
          { "id": 2, "name": "rewritten by up SQL" },
        ], rows);

        // The old schema has the expected rows:
        // * The first row has a default value because it was inserted with no
        //   value into the new schema which has a default and then backfilled
        //   to the old schema
        // * The second row is NULL because it was inserted with no value into
        //   the old schema which has no default
        rows = await p.mustSelect("01_create_table", "events");
        p.equal([
          { "id": 1, "name": "default" },
          { "id": 2, "name": null },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // Inserting with no `name` into the old schema should succeed
        await p.mustInsert("01_create_table", "events", {
          "id": "3",
        });

        // The old schema has the expected rows
        const rows = await p.mustSelect("01_create_table", "events");
        p.equal([
          { "id": 1, "name": "default" },
          { "id": 2, "name": null },
          { "id": 3, "name": null },
        ], rows);
      },
      afterComplete: async (p: Replay) => {
        // Inserting with no `name` into the new schema should succeed
        await p.mustInsert("02_alter_column", "events", {
          "id": "4",
        });

        // Updating name to default value should succeed
        await p.mustUpdate("02_alter_column", "events", "id", "4", {
          "name": "DEFAULT",
        });

        // Inserting a NULL explicitly into the new schema should fail
        await p.mustNotInsert("02_alter_column", "events", {
          "id": "100",
          "name": "NULL",
        }, sqlstate.notNull);

        // The new schema has the expected rows:
        // * The first and fourth rows have default values because they were
        //   inserted with no value into the new schema which has a default
        // * The second and third rows were rewritten by the `up` SQL because
        //   they were inserted with no value into the old schema which has no
        //   default
        const rows = await p.mustSelect("02_alter_column", "events");
        p.equal([
          { "id": 1, "name": "default" },
          { "id": 2, "name": "rewritten by up SQL" },
          { "id": 3, "name": "rewritten by up SQL" },
          { "id": 4, "name": "default" },
        ], rows);
      },
    },
    {
      name: "can alter a column: rename and add a unique constraint",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "events",
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
          name: "02_alter_column",
          operations: [
            {
              alter_column: {
                table: "events",
                column: "name",
                up: "name || '-' || random()*999::int",
                down: "name",
                unique: {
                  name: "events_name_unique",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the new column
        await p.mustInsert("02_alter_column", "events", {
          "id": "1",
          "name": "apples",
        });

        // Inserting a row with the same value into the new column fails
        await p.mustNotInsert("02_alter_column", "events", {
          "id": "2",
          "name": "apples",
        }, sqlstate.unique);

        // Inserting a row with a duplicate value into the old column succeeds
        await p.mustInsert("01_create_table", "events", {
          "id": "2",
          "name": "apples",
        });
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row with the same value into the new column fails
        await p.mustNotInsert("02_alter_column", "events", {
          "id": "2",
          "name": "apples",
        }, sqlstate.unique);
      },
    },
    {
      name: "can alter a column: add an FK constraint and set not null",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "events",
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
              create_table: {
                name: "people",
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
                  {
                    name: "manages",
                    type: "integer",
                    nullable: true,
                  },
                ],
              },
            },
          ],
        },
        {
          name: "02_alter_column",
          operations: [
            {
              alter_column: {
                table: "people",
                column: "manages",
                up: "SELECT CASE WHEN manages IS NULL THEN 1 ELSE manages END",
                down: "manages",
                nullable: false,
                references: {
                  table: "events",
                  column: "id",
                  name: "person_manages_event_fk",
                },
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert an initial event into the `events` table
        await p.mustInsert("02_alter_column", "events", {
          "id": "1",
          "name": "event1",
        });

        // Inserting a row into the `people` table with a NULL `manages` value fails
        await p.mustNotInsert("02_alter_column", "people", {
          "id": "1",
          "name": "alice",
        }, sqlstate.check);

        // Inserting a row into the `people` table with a `manages` field that
        // violates the FK constraint fails
        await p.mustNotInsert("02_alter_column", "people", {
          "id": "1",
          "name": "alice",
          "manages": "2",
        }, sqlstate.fk);

        // Inserting a row into the `people` table with a valid `manages` field
        // succeeds
        await p.mustInsert("02_alter_column", "people", {
          "id": "1",
          "name": "alice",
          "manages": "1",
        });

        // Inserting a row into the old version of the `people` table with a
        // NULL `manages` value succeeds
        await p.mustInsert("01_create_table", "people", {
          "id": "2",
          "name": "bob",
        });

        // The version of the `people` table in the new schema has the expected rows.
        // In particular, the `manages` field has been backfilled using the
        // `up` SQL for `bob`.
        const rows = await p.mustSelect("02_alter_column", "people");
        p.equal([
          { "id": 1, "name": "alice", "manages": 1 },
          { "id": 2, "name": "bob", "manages": 1 },
        ], rows);
      },
      afterRollback: async (_p: Replay) => {
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row into the `people` table with a NULL `manages` value fails
        await p.mustNotInsert("02_alter_column", "people", {
          "id": "1",
          "name": "carl",
        }, sqlstate.notNull);

        // Inserting a row into the `people` table with a `manages` field that
        // violates the FK constraint fails
        await p.mustNotInsert("02_alter_column", "people", {
          "id": "3",
          "name": "carl",
          "manages": "2",
        }, sqlstate.fk);

        // Inserting a row into the `people` table with a valid `manages` field
        // succeeds
        await p.mustInsert("02_alter_column", "people", {
          "id": "3",
          "name": "carl",
          "manages": "1",
        });

        // The `people` table has the expected rows.
        const rows = await p.mustSelect("02_alter_column", "people");
        p.equal([
          { "id": 1, "name": "alice", "manages": 1 },
          { "id": 2, "name": "bob", "manages": 1 },
          { "id": 3, "name": "carl", "manages": 1 },
        ], rows);
      },
    },
    {
      name: "can alter a column multiple times: add check and not null",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "people",
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
          name: "02_alter_column",
          operations: [
            {
              alter_column: {
                table: "people",
                column: "name",
                up: "INITCAP(name)",
                down: "name",
                check: {
                  name: "name_capitalized",
                  constraint: "name ~ '^[A-Z].*'",
                },
              },
            },
            {
              alter_column: {
                table: "people",
                column: "name",
                up: "SELECT CASE WHEN name IS NULL THEN 'Jane' ELSE name END",
                down: "name",
                nullable: false,
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        // Can insert a row into the `people` table with a lowercase `name` value
        await p.mustInsert("01_create_table", "people", {
          "name": "alice",
        });
        // Can insert a row into the `people` table with a NULL `name` value
        await p.mustInsert("01_create_table", "people", {
          "id": "2",
        });
        // Cannot insert a row into the `people` table with an lowercase `name` value
        await p.mustNotInsert("02_alter_column", "people", {
          "name": "bob",
        }, sqlstate.check);
        // Can insert a row into the `people` table with a missing `name` value
        await p.mustNotInsert("02_alter_column", "people", {
          "id": "4",
        }, sqlstate.check);
        // Can insert a row into the `people` table with a capitalized `name` value
        await p.mustInsert("01_create_table", "people", {
          "id": "4",
          "name": "Carl",
        });

        // The version of the `people` table in the new schema has the expected rows.
        const rows = await p.mustSelect("02_alter_column", "people");
        p.equal([
          { "id": 1, "name": "Alice" },
          { "id": 2, "name": "Jane" },
          { "id": 4, "name": "Carl" },
        ], rows);
      },
      afterRollback: async (p: Replay) => {
        // Can insert a row into the `people` table with a lowercase `name` value
        await p.mustInsert("01_create_table", "people", {
          "name": "alice",
        });
        // Can insert a row into the `people` table with a NULL `name` value
        await p.mustInsert("01_create_table", "people", {
          "id": "100",
        });
      },
      afterComplete: async (p: Replay) => {
        // Inserting a row into the `people` table with a NULL `manages` value fails
        await p.mustNotInsert("02_alter_column", "people", {
          "name": "carl",
        }, sqlstate.check);

        // The `people` table has the expected rows.
        const rows = await p.mustSelect("02_alter_column", "people");
        p.equal([
          { "id": 1, "name": "Alice" },
          { "id": 2, "name": "Jane" },
          { "id": 4, "name": "Carl" },
          { "id": 3, "name": "Alice" },
          { "id": 100, "name": "Jane" },
        ], rows);
      },
    },
  ]);
});

describe("TestAlterPrimaryKeyColumns", () => {
  replayCases([
    {
      name: "alter a single primary key column",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "people",
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
          name: "02_alter_column",
          operations: [
            {
              alter_column: {
                table: "people",
                column: "id",
                type: "bigint",
                up: "CAST(id AS bigint)",
                down: "SELECT CASE WHEN id < 2147483647 THEN CAST(id AS int) ELSE 0 END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        await p.primaryKeyConstraintMustExist("people", "people_pkey");
        await p.columnMustBePK("people", "id");

        const bigint = "31474836471"; // A value larger than int can hold
        const integer = "100";

        // Inserting a row with integer id into the old schema should succeed
        await p.mustInsert("01_create_table", "people", {
          "id": integer,
          "name": "alice",
        });
        // Inserting a row with integer bigint id into the old schema should fail
        await p.mustNotInsert("01_create_table", "people", {
          "id": bigint,
          "name": "alice",
        }, sqlstate.numericOutOfRange);

        // Inserting a row with bigint id into the new schema should succeed
        await p.mustInsert("02_alter_column", "people", {
          "id": bigint,
          "name": "alice",
        });
      },
      afterRollback: async (p: Replay) => {
        await p.primaryKeyConstraintMustExist("people", "people_pkey");
        await p.columnMustBePK("people", "id");
      },
      afterComplete: async (p: Replay) => {
        await p.primaryKeyConstraintMustExist("people", "people_pkey");
        await p.columnMustBePK("people", "id");

        // Inserting a row with integer bigint into the new schema should succeed
        await p.mustInsert("02_alter_column", "people", {
          "id": "31474836472",
          "name": "bob",
        });
      },
    },
    {
      name: "alter a composite primary key: one column changes type, the other is unchanged",
      migrations: [
        {
          name: "01_create_table",
          operations: [
            {
              create_table: {
                name: "people",
                columns: [
                  {
                    name: "id1",
                    type: "int",
                    pk: true,
                  },
                  {
                    name: "id2",
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
          name: "02_alter_column",
          operations: [
            {
              alter_column: {
                table: "people",
                column: "id1",
                type: "bigint",
                up: "CAST(id1 AS bigint)",
                down: "SELECT CASE WHEN id1 < 2147483647 THEN CAST(id1 AS int) ELSE 0 END",
              },
            },
          ],
        },
      ],
      afterStart: async (p: Replay) => {
        await p.primaryKeyConstraintMustExist("people", "people_pkey");
        await p.columnMustBePK("people", "id1");
        await p.columnMustBePK("people", "id2");

        const bigint = "31474836471"; // A value larger than int can hold
        const integer = "100";

        // Inserting a row with integer id into the old schema should succeed
        await p.mustInsert("01_create_table", "people", {
          "id1": integer,
          "id2": integer,
          "name": "alice",
        });
        // Inserting a row with integer bigint id into the old schema should fail
        await p.mustNotInsert("01_create_table", "people", {
          "id1": bigint,
          "id2": integer,
          "name": "alice",
        }, sqlstate.numericOutOfRange);

        // Inserting a row with bigint id into the new schema should succeed
        await p.mustInsert("02_alter_column", "people", {
          "id1": bigint,
          "id2": integer,
          "name": "alice",
        });
      },
      afterRollback: async (p: Replay) => {
        await p.primaryKeyConstraintMustExist("people", "people_pkey");
        await p.columnMustBePK("people", "id1");
        await p.columnMustBePK("people", "id2");
      },
      afterComplete: async (p: Replay) => {
        await p.primaryKeyConstraintMustExist("people", "people_pkey");
        await p.columnMustBePK("people", "id1");
        await p.columnMustBePK("people", "id2");

        // Inserting a row with integer bigint into the new schema should succeed
        await p.mustInsert("02_alter_column", "people", {
          "id1": "31474836472",
          "id2": "72",
          "name": "bob",
        });
      },
    },
  ]);
});

describe("TestAlterColumnValidation", () => {
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
      name: "table must exist",
      migrations: [
        createTablesMigration,
        {
          name: "01_alter_column",
          operations: [
            {
              alter_column: {
                table: "doesntexist",
                column: "title",
                nullable: false,
              },
            },
          ],
        },
      ],
      wantStartErr: true, /* migrations.TableDoesNotExistError{Name: "doesntexist"} */
    },
    {
      name: "column must exist",
      migrations: [
        createTablesMigration,
        {
          name: "01_alter_column",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "doesntexist",
                nullable: false,
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.ColumnDoesNotExistError{Table: "posts", Name: "doesntexist"} */
    },
    {
      name: "cant make no changes",
      migrations: [
        createTablesMigration,
        {
          name: "01_alter_column",
          operations: [
            {
              alter_column: {
                table: "posts",
                column: "title",
              },
            },
          ],
        },
      ],
      wantStartErr:
        true, /* migrations.AlterColumnNoChangesError{Table: "posts", Column: "title"} */
    },
    {
      name: "backfill with multiple primary keys",
      migrations: [
        {
          name: "01_add_table",
          operations: [
            {
              sql: {
                up:
                  "CREATE TABLE orders(id integer, order_id integer, quantity integer, primary key (id, order_id))",
                down: "DROP TABLE orders",
              },
            },
          ],
        },
        {
          name: "02_alter_column",
          operations: [
            {
              alter_column: {
                table: "orders",
                column: "quantity",
                nullable: false,
                up: "1",
              },
            },
          ],
        },
      ],
    },
  ]);
});
