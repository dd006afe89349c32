/**
 * add_column: the column is added under a temporary name (old clients, which select explicit
 * columns through their views or see the table directly, never trip over it) and renamed at
 * complete. Every constraint that would scan or lock the table is added in its online form:
 * NOT NULL and CHECK as NOT VALID checks validated at complete, UNIQUE as an index built
 * concurrently, foreign keys NOT VALID. With `up`, existing rows are backfilled in batches and a
 * trigger fills the column for rows the old version writes.
 */
import type { Action, FastDefaultGuard } from "../plan/action.ts";
import { afterTriggers, sqlAction } from "../plan/action.ts";
import { type AddColumnParams, addColumnParams } from "../migration/params/add_column.ts";
import {
  byteLength,
  MAX_IDENTIFIER_BYTES,
  notNullCheckName,
  temporaryColumnName,
  uniqueIndexName,
} from "../naming.ts";
import type { VirtualSchema, VirtualTable } from "../schema/model.ts";
import { findTable, knownTable } from "../schema/virtual.ts";
import { ident, literal } from "../sql.ts";
import { renameIdentifiers } from "../sql-rewrite.ts";
import {
  columnNameFreeIssues,
  constraintNameFreeIssues,
  issue,
  nameLengthIssues,
  requireTable,
} from "./checks.ts";
import {
  addNotNullCheck,
  notNullFromCheck,
  recordCheck,
  recordForeignKey,
  renameNotNullConstraint,
  validateConstraint,
} from "./constraint-ddl.ts";
import {
  checkSql,
  columnSql,
  deferrableSql,
  isSerialType,
  physicalColumnNames,
  tableForeignKeySql,
} from "./column-sql.ts";
import type { OperationDefinition, StartResult } from "./operation.ts";

export const addColumn: OperationDefinition<AddColumnParams> = {
  kind: "add_column",
  description: "Add a column to an existing table",
  params: addColumnParams,

  validate(params, schema) {
    const { table, issues } = requireTable(schema, params.table, ["table"]);
    if (!table) return issues;
    const column = params.column;
    issues.push(
      ...nameLengthIssues(column.name, ["column", "name"]),
      ...columnNameFreeIssues(table, column.name, ["column", "name"]),
    );
    if (column.pk) {
      issues.push(
        issue(
          ["column", "pk"],
          "adding primary key columns is not supported; use create_constraint",
        ),
      );
    }
    if (column.generated) {
      issues.push(
        issue(
          ["column", "generated"],
          "adding generated columns to existing tables is not supported",
        ),
      );
    }
    const notNull = column.nullable !== true;
    const hasDefault = column.default !== undefined && column.default !== null;
    if (notNull && !hasDefault && !params.up && !isSerialType(column.type)) {
      issues.push(
        issue(
          ["up"],
          `column "${column.name}" is NOT NULL without a default: "up" is required to fill existing rows`,
        ),
      );
    }
    if (column.check) {
      issues.push(...nameLengthIssues(column.check.name, ["column", "check", "name"]));
      issues.push(
        ...constraintNameFreeIssues(table, column.check.name, ["column", "check", "name"]),
      );
    }
    if (column.references) {
      const ref = column.references;
      issues.push(...nameLengthIssues(ref.name, ["column", "references", "name"]));
      issues.push(...constraintNameFreeIssues(table, ref.name, ["column", "references", "name"]));
      const target = findTable(schema, ref.table);
      if (!target) {
        issues.push(
          issue(
            ["column", "references", "table"],
            `referenced table "${ref.table}" does not exist`,
          ),
        );
      } else if (!target.columns.some((c) => c.name === ref.column)) {
        issues.push(
          issue(
            ["column", "references", "column"],
            `referenced column "${ref.column}" does not exist in table "${ref.table}"`,
          ),
        );
      }
    }
    return issues;
  },

  start(params, { schema, baseSchema }): StartResult {
    const table = knownTable(schema, params.table);
    const oldColumns = table.columns.map((c) => ({ name: c.name, physicalName: c.physicalName }));
    const column = params.column;
    const hasDefault = column.default !== undefined && column.default !== null;
    const added: AddedColumn = {
      params,
      table,
      temp: temporaryColumnName(column.name),
      qualified: ident(baseSchema, table.physicalName),
      schema,
      baseSchema,
      // With `up`, the default is set after the column exists (catalog-only, applies to new rows)
      // and existing rows get `up` in batches. Without it, the default is part of ADD COLUMN and
      // must be non-volatile so PostgreSQL stores it without rewriting the table.
      inlineDefault: hasDefault && !params.up,
    };
    // The constraints on the new column run after the trigger that fills it.
    const actions = [...columnActions(added), ...constraintActions(added).map(afterTriggers)];
    if (column.unique) {
      // The temporary unique index is physically there until complete.
      schema.reservedRelationNames = [
        ...(schema.reservedRelationNames ?? []),
        uniqueIndexFor(schema, table, column.name),
      ];
    }
    addVirtualColumn(table, params, added.temp);
    if (!params.up) return { actions };
    return {
      actions,
      triggers: [{
        table: table.physicalName,
        direction: "up",
        targetColumn: added.temp,
        expression: params.up,
        columns: oldColumns,
        origin: { path: ["up"] },
      }],
      backfills: [{ table: table.physicalName }],
    };
  },
  complete(params, { before, baseSchema }) {
    const table = knownTable(before, params.table);
    const column = params.column;
    const temp = temporaryColumnName(column.name);
    const qualified = ident(baseSchema, table.physicalName);
    const id = (what: string) => `${what}_${table.physicalName}_${column.name}`;
    const on = { table: table.physicalName };
    const actions: Action[] = [];
    const inlineDefault = column.default !== undefined && column.default !== null && !params.up;
    if (column.nullable !== true && !inlineDefault) {
      actions.push(
        ...notNullFromCheck(baseSchema, table.physicalName, temp, notNullCheckName(column.name)),
      );
    }
    for (const name of [column.check?.name, column.references?.name]) {
      if (name) actions.push(validateConstraint(baseSchema, table.physicalName, name));
    }
    if (column.unique) {
      actions.push(
        sqlAction(
          id("add_unique"),
          `ALTER TABLE ${qualified} ADD CONSTRAINT ${
            ident(uniqueConstraintName(table, column.name))
          } UNIQUE USING INDEX ${ident(uniqueIndexFor(before, table, column.name))}`,
          on,
        ),
      );
    }
    actions.push(
      sqlAction(
        id("rename_added_column"),
        `ALTER TABLE ${qualified} RENAME COLUMN ${ident(temp)} TO ${ident(column.name)}`,
        on,
      ),
    );
    if (column.nullable !== true) {
      actions.push(
        renameNotNullConstraint(baseSchema, table.physicalName, column.name),
      );
    }
    return actions;
  },

  rollback(params, { before, baseSchema }) {
    const table = knownTable(before, params.table);
    const temp = temporaryColumnName(params.column.name);
    // Constraints and indexes on the column go with it.
    return [
      sqlAction(
        `drop_column_${table.physicalName}_${temp}`,
        `ALTER TABLE IF EXISTS ${ident(baseSchema, table.physicalName)} DROP COLUMN IF EXISTS ${
          ident(temp)
        }`,
        { table: table.physicalName },
      ),
    ];
  },
};

/** What start's action builders share about the column being added. */
interface AddedColumn {
  params: AddColumnParams;
  table: VirtualTable;
  /** The physical name until complete (`_pgroll_new_<name>`). */
  temp: string;
  /** The table, quoted and schema-qualified. */
  qualified: string;
  schema: VirtualSchema;
  baseSchema: string;
  /** The default goes into ADD COLUMN itself (no `up`): catalog-only only when not volatile. */
  inlineDefault: boolean;
}

/** The column itself: ADD COLUMN, its default when `up` fills existing rows, its comment. */
function columnActions(added: AddedColumn): Action[] {
  const { params, table, temp, qualified, schema, baseSchema, inlineDefault } = added;
  const column = params.column;
  const hasDefault = column.default !== undefined && column.default !== null;
  const definition = columnSql(column, schema, baseSchema, {
    physicalName: temp,
    omitUnique: true,
    omitCheck: true,
    omitNotNull: !inlineDefault,
    omitDefault: !inlineDefault,
    omitReferences: true,
  });
  const actions: Action[] = [
    sqlAction(
      `add_column_${table.physicalName}_${temp}`,
      `ALTER TABLE ${qualified} ADD COLUMN ${definition}`,
      {
        table: table.physicalName,
        ...(hasDefault && params.up !== column.default
          ? { guard: volatileDefaultGuard(table, column, inlineDefault) }
          : {}),
      },
    ),
  ];
  if (hasDefault && params.up) {
    actions.push(
      sqlAction(
        `set_default_${table.physicalName}_${temp}`,
        `ALTER TABLE ${qualified} ALTER COLUMN ${ident(temp)} SET DEFAULT ${column.default}`,
        { table: table.physicalName },
      ),
    );
  }
  if (column.comment !== undefined) {
    actions.push(
      sqlAction(
        `comment_column_${table.physicalName}_${temp}`,
        `COMMENT ON COLUMN ${qualified}.${ident(temp)} IS ${literal(column.comment)}`,
        { table: table.physicalName },
      ),
    );
  }
  return actions;
}

/** NOT NULL (as a NOT VALID check), CHECK, REFERENCES and UNIQUE on the new column. */
function constraintActions(added: AddedColumn): Action[] {
  const { params, table, temp, qualified, baseSchema, inlineDefault } = added;
  const column = params.column;
  const actions: Action[] = [];
  if (column.nullable !== true && !inlineDefault) {
    actions.push(
      addNotNullCheck(baseSchema, table.physicalName, temp, notNullCheckName(column.name)),
    );
  }
  if (column.check) {
    const renames = new Map([...physicalColumnNames(table), [column.name, temp]]);
    actions.push(
      sqlAction(
        `add_check_${table.physicalName}_${column.check.name}`,
        `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(column.check.name)} ${
          checkSql(
            renameIdentifiers(column.check.constraint, renames),
            column.check.no_inherit ?? false,
          )
        } NOT VALID`,
        { table: table.physicalName },
      ),
    );
  }
  if (column.references) actions.push(...foreignKeyActions(added));
  if (column.unique) {
    const index = uniqueIndexFor(added.schema, table, column.name);
    actions.push({
      kind: "concurrent_index",
      id: `create_unique_index_${table.physicalName}_${temp}`,
      name: index,
      table: table.physicalName,
      sql: `CREATE UNIQUE INDEX CONCURRENTLY ${ident(index)} ON ${qualified} (${ident(temp)})`,
      lock: "SHARE UPDATE EXCLUSIVE",
      transactional: false,
    });
  }
  return actions;
}

/** The column's REFERENCES: added NOT VALID, validated once start is done. */
function foreignKeyActions(added: AddedColumn): Action[] {
  const { params, table, temp, qualified, schema, baseSchema } = added;
  const ref = params.column.references!;
  const foreignKey = tableForeignKeySql(
    [temp],
    { ...ref, columns: [ref.column] },
    schema,
    baseSchema,
  );
  const deferrable = deferrableSql(ref.deferrable, ref.initially_deferred);
  // Valid once start is done, as pgroll's inline REFERENCES is (VALIDATE does not block writes).
  // With `up`, after the backfill: it skips foreign-key triggers, and only VALIDATE checks the
  // rows it wrote.
  const validate = validateConstraint(baseSchema, table.physicalName, ref.name);
  return [
    sqlAction(
      `add_foreign_key_${table.physicalName}_${ref.name}`,
      `ALTER TABLE ${qualified} ADD CONSTRAINT ${ident(ref.name)} ${foreignKey}${
        deferrable ? ` ${deferrable}` : ""
      } NOT VALID`,
      { table: table.physicalName, lock: "SHARE ROW EXCLUSIVE" },
    ),
    {
      ...validate,
      id: `start_${validate.id}`,
      ...(params.up ? { afterBackfill: true } : {}),
    },
  ];
}

/**
 * A volatile default is never stored for existing rows: `up` fills them, so pgroll requires `up`
 * to be the default itself, and refuses otherwise. Without `up` the default would be part of ADD
 * COLUMN and rewrite the table; with a different `up`, old rows and new rows would be filled by
 * different expressions. The engine probes volatility (it needs the database) and refuses before
 * the column is added. Constant defaults pass: existing rows get the default, then `up`.
 */
function volatileDefaultGuard(
  table: VirtualTable,
  column: AddColumnParams["column"],
  inlineDefault: boolean,
): FastDefaultGuard {
  const message = inlineDefault
    ? `default of column "${column.name}" is volatile and would rewrite table "${table.name}": set "up" to the same expression to backfill it in batches instead`
    : `default of column "${column.name}" is volatile, so "up" fills the existing rows: "up" must be equal to "default"`;
  return { kind: "fast_default", type: column.type, expression: column.default!, message };
}

/**
 * The temporary unique index: pgroll's `_pgroll_uniq_<column>`, unless an earlier add_column of
 * this migration (a column of the same name in another table) holds that name until complete;
 * then the table's name goes in too. `schema` is the one before this operation's start.
 */
function uniqueIndexFor(schema: VirtualSchema, table: VirtualTable, column: string): string {
  const name = uniqueIndexName(column);
  return schema.reservedRelationNames?.includes(name)
    ? uniqueIndexName(`${table.physicalName}_${column}`)
    : name;
}

/** The name PostgreSQL itself would give a column's unique constraint. */
function uniqueConstraintName(table: VirtualTable, column: string): string {
  // PostgreSQL's makeObjectName: the longer of the two names is cut, a byte at a time, until
  // `<table>_<column>_key` fits in 63 bytes (a plain cut at 63 bytes could give the table's own
  // name, which is taken).
  const available = MAX_IDENTIFIER_BYTES - "_key".length - 1;
  let tableBytes = byteLength(table.physicalName);
  let columnBytes = byteLength(column);
  while (tableBytes + columnBytes > available) {
    if (tableBytes > columnBytes) tableBytes--;
    else columnBytes--;
  }
  return `${clipBytes(table.physicalName, tableBytes)}_${clipBytes(column, columnBytes)}_key`;
}

/** The longest prefix of `name` of at most `bytes` UTF-8 bytes that ends on a character. */
function clipBytes(name: string, bytes: number): string {
  let prefix = "";
  for (const char of name) {
    if (byteLength(prefix + char) > bytes) break;
    prefix += char;
  }
  return prefix;
}

function addVirtualColumn(table: VirtualTable, params: AddColumnParams, temp: string): void {
  const column = params.column;
  table.columns.push({
    name: column.name,
    physicalName: temp,
    type: column.type,
    default: column.default ?? null,
    nullable: column.nullable === true,
    unique: column.unique ?? false,
    comment: column.comment ?? null,
  });
  if (column.check) {
    const { name, constraint, no_inherit } = column.check;
    recordCheck(table, name, [column.name], constraint, no_inherit);
  }
  if (column.references) {
    const ref = column.references;
    recordForeignKey(table, ref.name, [column.name], ref, [ref.column]);
  }
}
