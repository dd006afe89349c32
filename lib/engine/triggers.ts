/**
 * The triggers that keep two versions of a table in step while a migration is active.
 *
 * Each (table, direction) pair gets ONE plpgsql function and ONE `BEFORE INSERT OR UPDATE FOR EACH
 * ROW` trigger, however many operations contribute specs to it; the specs run each in its own block,
 * up specs in operation order and down specs last operation first (each direction undoes what the
 * other's order built), so an expression sees what the blocks before it assigned.
 *
 * Direction: a write comes from the new version when the first schema the session resolves names
 * in — `current_schema()`, i.e. the first existing schema on its search_path — is the new version's
 * view schema. Unlike pgroll's textual comparison of the whole `search_path` setting, this is
 * immune to quoting, spacing and trailing entries (`"public_02_x", public`), and measured as cheap.
 *
 * Cost is what matters: these functions run for every row every client writes during the
 * migration, so they are lean. Only the columns an expression can reference are bound to variables
 * (pgroll copies every column of the table), an expression of the form `SELECT <expr>` is
 * evaluated as `<expr>` so plpgsql's fast path applies (a scalar sub-select goes through the full
 * executor per row), and the down trigger has a WHEN clause, so old-side writes never call it.
 *
 * The marker column `_pgroll_needs_backfill` (DEFAULT true, so existing rows read true without a
 * rewrite) tells whether a row is still in the old shape. The first write to a row, from either
 * side, brings it into the new shape and clears the marker, and the backfill only touches marked
 * rows, so it never rewrites a row a client wrote: the up function clears it on every old-side
 * write; the down function on inserts through the new version (born in the new shape) and on
 * new-side updates of a marked row, which it first brings into the new shape — the new columns the
 * update did not set are computed by the up expressions from the old row — before the down
 * expressions run.
 *
 * Names in user expressions resolve in the migrated schema, then pg_catalog, whatever the writing
 * client's search_path: the functions carry `SET search_path` (released when the expressions name
 * nothing outside pg_catalog; see expression-names.ts), and the start-time check of each
 * expression plans it under the same path.
 *
 * The backfill computes the new columns in its own UPDATE ({@link backfillAssignments}) and sets
 * `pgtandem.backfill` for its transaction, which the up trigger's WHEN clause tests: the trigger
 * stays out of those writes. When the backfill cannot do that, it leaves the work to the up
 * trigger. The triggers are `ENABLE ALWAYS`, so they still fire when the backfill runs with
 * `session_replication_role = replica` (which silences the user's own triggers), and their names
 * start with `~`, which sorts after every ASCII name: PostgreSQL fires the BEFORE triggers of one
 * event in byte order of their names, so a user's BEFORE trigger runs first and the value it
 * produces is the one copied to the other version. (The functions keep pgroll's names, by which
 * pgroll drops them, CASCADE taking the triggers along.)
 */
import { PgtandemError } from "../errors.ts";
import {
  markerFunctionName,
  NEEDS_BACKFILL_COLUMN,
  shortenIdentifier,
  syncFunctionName as functionName,
  syncTriggerName,
  temporaryColumnName,
  upColumn,
} from "../naming.ts";
import { dollarTag, ident, literal } from "../sql.ts";
import type { TriggerSpec } from "../operations/operation.ts";
import { type Action, sqlAction } from "../plan/action.ts";
import { tokenize } from "../sql-tokens.ts";
import { simplifyExpression } from "../sql-rewrite.ts";
import {
  expressionCheckSql,
  expressionSearchPath,
  releaseSearchPathSql,
} from "./expression-names.ts";

/** Where the triggers live and which version's writes count as "new". */
export interface TriggerOptions {
  /** The schema of the physical tables; functions are created there, schema-qualified. */
  baseSchema: string;
  /** The NEW version's view schema, e.g. "public_02_add". */
  versionSchema: string;
}

/** Specs of one table and direction, merged into one function. */
interface TriggerGroup {
  /**
   * Down group of a table that also has an up group: clears the marker on new-side inserts, and
   * on new-side updates of a marked row after bringing it into the new shape with these up specs.
   */
  upSpecs?: TriggerSpec[];
  table: string;
  direction: "up" | "down";
  /** Function and trigger name (the same identifier for both). */
  name: string;
  specs: TriggerSpec[];
}

/**
 * Actions that install the triggers for `specs`: the backfill marker column on every table with an
 * up trigger, then per (table, direction) one function and one trigger. Every statement is
 * idempotent (IF NOT EXISTS / OR REPLACE), so a retried start is harmless. Run them before the
 * version's views are published, so no write through the new version escapes the triggers.
 *
 * Expressions are raw user SQL (they name columns by their virtual names). Each is first planned
 * over the table by a read-only query (no row is read), so a misspelt column or function fails
 * the start before any trigger exists rather than failing client writes afterwards.
 */
export function triggerActions(specs: readonly TriggerSpec[], options: TriggerOptions): Action[] {
  const groups = groupSpecs(specs);
  const actions: Action[] = [];
  const markerTables = unique(groups.filter((g) => g.direction === "up").map((g) => g.table));
  for (const table of markerTables) {
    actions.push(sqlAction(
      `add_column_${table}_${NEEDS_BACKFILL_COLUMN}`,
      // A constant default is catalog-only: no table rewrite, existing rows read true.
      `ALTER TABLE ${ident(options.baseSchema, table)} ADD COLUMN IF NOT EXISTS ${
        ident(NEEDS_BACKFILL_COLUMN)
      } boolean DEFAULT true`,
      { table, lock: "ACCESS EXCLUSIVE" },
    ));
  }
  for (const group of groups) {
    group.specs.forEach((spec, i) => {
      // A broken `up` would fail the backfill anyway: refuse now. A broken `down` only fails
      // writes through the new version, and pgroll accepts it (its own example 35 has one):
      // warn loudly and go on.
      actions.push(sqlAction(
        `check_expression_${group.name}_${i}`,
        expressionCheckSql(spec.table, [spec], options.baseSchema),
        {
          table: group.table,
          lock: "ACCESS SHARE",
          ...(spec.origin ? { origin: spec.origin } : {}),
          ...(spec.direction === "down"
            ? {
              warnOnly:
                `the "down" expression for column "${spec.targetColumn}" of table "${spec.table}" will fail every write through the new version`,
            }
            : {}),
        },
      ));
    });
    actions.push(sqlAction(
      `create_function_${group.name}`,
      functionSql(group, options),
      { lock: "none" },
    ));
    actions.push(sqlAction(
      `resolve_names_${group.name}`,
      releaseSearchPathSql(
        ident(options.baseSchema, group.name),
        group.table,
        [...group.specs, ...(group.upSpecs ?? [])],
        options.baseSchema,
      ),
      { lock: "none" },
    ));
    actions.push(sqlAction(
      `create_trigger_${group.name}`,
      triggerSql(group, options),
      { table: group.table, lock: "SHARE ROW EXCLUSIVE" },
    ));
    // ALWAYS: the backfill silences user triggers with session_replication_role = replica, and
    // ours must still fire then. Idempotent, like the statements above.
    actions.push(sqlAction(
      `enable_trigger_${group.name}`,
      `ALTER TABLE ${ident(options.baseSchema, group.table)} ENABLE ALWAYS TRIGGER ${
        ident(syncTriggerName(group.name))
      }`,
      { table: group.table, lock: "SHARE ROW EXCLUSIVE" },
    ));
  }
  return actions;
}

/**
 * Actions that remove everything {@link triggerActions} created for `specs`: the functions (CASCADE
 * takes their triggers along) and the marker column of every table involved. Idempotent, for
 * complete and rollback. The function list covers every name a spec could have lent to a merged
 * function, so dropping with only one operation's specs still removes a function shared with
 * another operation of the same migration.
 */
export function triggerDropActions(
  specs: readonly TriggerSpec[],
  options: TriggerOptions,
): Action[] {
  const actions: Action[] = [];
  for (const table of unique(specs.map((s) => s.table))) {
    const names = new Set<string>();
    for (const group of groupSpecs(specs.filter((s) => s.table === table))) names.add(group.name);
    for (const spec of specs.filter((s) => s.table === table)) {
      for (const name of candidateNames(spec)) names.add(name);
    }
    const sorted = [...names].sort();
    actions.push(sqlAction(
      `drop_function_${sorted.join("_")}`,
      `DROP FUNCTION IF EXISTS ${
        sorted.map((n) => `${ident(options.baseSchema, n)}()`).join(", ")
      } CASCADE`,
      { table, lock: "ACCESS EXCLUSIVE" },
    ));
    actions.push(sqlAction(
      `drop_column_${table}_${NEEDS_BACKFILL_COLUMN}`,
      `ALTER TABLE IF EXISTS ${ident(options.baseSchema, table)} DROP COLUMN IF EXISTS ${
        ident(NEEDS_BACKFILL_COLUMN)
      }`,
      { table, lock: "ACCESS EXCLUSIVE" },
    ));
  }
  return actions;
}

/**
 * The transaction-local setting by which the backfill's own writes keep the up trigger out: set
 * to `on` by a batch that computes the new columns itself ({@link backfillAssignments}).
 */
export const BACKFILL_SETTING = "pgtandem.backfill";

/**
 * The SET list (without the marker) of a backfill UPDATE that computes what the up trigger of the
 * table would, over the row aliased `alias`, so the batch need not run the trigger: each target
 * column gets its spec's expression with the spec's column binding — in line when every name the
 * expression contains is either a bound column under its physical name or no column of the table
 * at all (so it resolves exactly as in the trigger), else as a sub-select binding the virtual names
 * as the start-time check does. PostgreSQL coerces each value to its column as the trigger's
 * assignment does (an assignment cast); an expression that needs more does not plan, and the
 * caller falls back to the trigger.
 *
 * Undefined when a single UPDATE cannot reproduce the trigger: two specs filling one column, or a
 * spec reading a column an earlier one fills (the trigger runs them in order).
 * `physicalColumns`: every column of the table now.
 */
export function backfillAssignments(
  specs: readonly TriggerSpec[],
  physicalColumns: ReadonlySet<string>,
  alias: string,
): string | undefined {
  const up = specs.filter((s) => s.direction === "up");
  if (up.length === 0) return undefined;
  const filled = new Set<string>();
  const assignments: string[] = [];
  for (const spec of up) {
    if (filled.has(spec.targetColumn)) return undefined;
    const expression = simplifyExpression(spec.expression);
    const referenced = referencedIdentifiers(expression);
    const bound = spec.columns.filter((c) => referenced === undefined || referenced.has(c.name));
    if (bound.some((c) => filled.has(c.physicalName))) return undefined;
    filled.add(spec.targetColumn);
    const byName = new Map(spec.columns.map((c) => [c.name, c.physicalName]));
    const inline = referenced !== undefined && [...referenced].every((name) => {
      const physical = byName.get(name);
      if (physical !== undefined) return physical === name;
      return !physicalColumns.has(name) && name !== alias;
    });
    const value = inline
      ? `(${expression}\n    )`
      : `(SELECT (${expression}\n    ) FROM (SELECT ${
        spec.columns.map((c) => `${ident(alias)}.${ident(c.physicalName)} AS ${ident(c.name)}`)
          .join(", ")
      }) AS pgtandem_expression_check)`;
    assignments.push(`${ident(spec.targetColumn)} = ${value}`);
  }
  return assignments.join(",\n    ");
}

/**
 * The function (and trigger) name of each (table, direction) group of `specs`, keyed
 * `"<direction>:<table>"`. Deterministic from the specs; exported for tests and diagnostics.
 *
 * Names follow pgroll's so that pgroll can complete or roll back a migration pgtandem started (it
 * drops functions by these names): the up function is named after the column being introduced
 * (`_pgroll_trigger_<table>_<column>`, the target with its `_pgroll_new_` prefix removed), the down
 * function after the column it fills (`_pgroll_trigger_<table>_<column>`, as pgroll's drop_column),
 * or — when that would clash with the table's up function, as for alter_column — after the
 * temporary column (`_pgroll_trigger_<table>__pgroll_new_<column>`). A merged group takes its
 * first spec's name. Names longer than 63 bytes are shortened with a hash.
 */
export function triggerFunctionNames(specs: readonly TriggerSpec[]): Map<string, string> {
  return new Map(groupSpecs(specs).map((g) => [`${g.direction}:${g.table}`, g.name]));
}

/** Groups specs by (table, direction) in order of first appearance and names each group. */
function groupSpecs(specs: readonly TriggerSpec[]): TriggerGroup[] {
  const groups = new Map<string, TriggerGroup>();
  for (const spec of specs) {
    if (spec.expression.trim() === "") {
      throw new PgtandemError(
        "invalid_migration",
        `cannot keep column "${spec.targetColumn}" of table "${spec.table}" in sync: the ${spec.direction} expression is empty`,
      );
    }
    const key = `${spec.direction}:${spec.table}`;
    const group = groups.get(key);
    if (group) group.specs.push(spec);
    else groups.set(key, { table: spec.table, direction: spec.direction, name: "", specs: [spec] });
  }
  for (const group of groups.values()) {
    const first = group.specs[0]!;
    if (group.direction === "up") {
      group.name = functionName(group.table, upColumn(first.targetColumn));
    } else {
      const up = groups.get(`up:${group.table}`);
      const upName = up ? functionName(up.table, upColumn(up.specs[0]!.targetColumn)) : undefined;
      let name = functionName(group.table, first.targetColumn);
      if (name === upName) {
        name = functionName(group.table, temporaryColumnName(first.targetColumn));
      }
      if (name === upName) name = functionName(group.table, `${first.targetColumn}_down`);
      group.name = name;
    }
  }
  // Rows the new version writes are in the new shape: the backfill must leave them alone. The up
  // trigger does not fire for them (its WHEN clause), so the table's down trigger clears their
  // marker; a table with nothing to fill downwards gets a down trigger for just that.
  for (const up of [...groups.values()].filter((g) => g.direction === "up")) {
    const down = groups.get(`down:${up.table}`);
    if (down) down.upSpecs = up.specs;
    else {
      groups.set(`down:${up.table}`, {
        table: up.table,
        direction: "down",
        name: markerFunctionName(up.table),
        specs: [],
        upSpecs: up.specs,
      });
    }
  }
  return [...groups.values()];
}

/** Every name {@link groupSpecs} could give a group whose first spec is `spec`. */
function candidateNames(spec: TriggerSpec): string[] {
  if (spec.direction === "up") {
    return [functionName(spec.table, upColumn(spec.targetColumn)), markerFunctionName(spec.table)];
  }
  return [
    functionName(spec.table, spec.targetColumn),
    functionName(spec.table, temporaryColumnName(spec.targetColumn)),
    functionName(spec.table, `${spec.targetColumn}_down`),
  ];
}

/** Name shortening lives with the other generated names; re-exported for older importers. */
export { shortenIdentifier, syncTriggerName };
/** `SELECT <expr>` → `<expr>` lives with the other SQL rewrites; re-exported for tests. */
export { simplifyExpression };

/**
 * CREATE OR REPLACE TRIGGER for a group; the down trigger only fires for new-version writes, the
 * up trigger for every other session, a NULL current_schema() (search_path `''`) included.
 */
function triggerSql(group: TriggerGroup, options: TriggerOptions): string {
  // The backfill computes the new columns in its own UPDATE and says so with a transaction-local
  // setting: the up trigger would only compute them again, and the down trigger never applies to
  // it. The setting is tested first: PostgreSQL stops at the first false term, and one setting
  // lookup per row is cheaper than current_schema() (measured: the backfill's UPDATE spends ~5 %
  // less per row than with current_schema() first). A client write pays one setting lookup.
  const notBackfill = `pg_catalog.current_setting(${
    literal(BACKFILL_SETTING)
  }, true) IS DISTINCT FROM 'on'`;
  const newVersion = `${notBackfill} AND pg_catalog.current_schema() = ${
    literal(options.versionSchema)
  }`;
  const oldVersion = `${notBackfill} AND pg_catalog.current_schema() IS DISTINCT FROM ${
    literal(options.versionSchema)
  }`;
  const when = `\n  WHEN (${group.direction === "down" ? newVersion : oldVersion})`;
  return `CREATE OR REPLACE TRIGGER ${ident(syncTriggerName(group.name))}
  BEFORE INSERT OR UPDATE ON ${ident(options.baseSchema, group.table)}
  FOR EACH ROW${when}
  EXECUTE FUNCTION ${ident(options.baseSchema, group.name)}()`;
}

/**
 * The plpgsql function of a group. NEW is always written `"<function>".new` (the function's
 * outermost block carries its name as a label), so a column called `new`, `old` or `tg_op`, bound
 * to a variable of that name, cannot hijack the assignments.
 */
function functionSql(group: TriggerGroup, options: TriggerOptions): string {
  const newRow = `${ident(group.name)}.new`;
  const marker = `${newRow}.${ident(NEEDS_BACKFILL_COLUMN)}`;
  const fromNew = (column: string) => `${newRow}.${ident(column)}`;
  // Down blocks undo the operations last first: an operation's down expression reads the values
  // a later operation's down computed (alter_column then drop_column of one column: the drop's
  // `down` fills the copy, which the alter's `down` converts into the old column).
  const ordered = group.direction === "down" ? [...group.specs].reverse() : group.specs;
  const blocks = ordered.map((spec) =>
    specBlock(spec, fromNew, fromNew(spec.targetColumn), options)
  )
    .join("\n");
  // Which version wrote the row is decided by the triggers' WHEN clauses, evaluated before
  // PL/pgSQL is even entered: cheaper than testing it inside the function, on every write.
  const body = group.direction === "up"
    ? `BEGIN
${blocks}
  ${marker} := false;
  RETURN NEW;
END`
    : `BEGIN${group.upSpecs ? `\n${newShapeSql(group, group.upSpecs, options)}` : ""}
${blocks}
  RETURN NEW;
END`;
  const tag = dollarTag(body);
  // SET search_path: user expressions resolve names as the start-time check planned them, not
  // through the writing client's search_path (a version schema, or none at all).
  return `CREATE OR REPLACE FUNCTION ${ident(options.baseSchema, group.name)}()
  RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = ${expressionSearchPath(options.baseSchema)}
AS ${tag}
${body}
${tag}`;
}

/**
 * The part of a down function that keeps the backfill from ever rewriting a row the new version
 * wrote. An insert is born in the new shape. An update of a row still in the old shape (marker
 * set) first brings it into the new shape, as if the backfill had reached it just before: every
 * new column the update left as it was gets the up expressions' value over the old row, so
 * neither the down expressions nor the row keep the still-empty new column. A column counts as
 * set when its value changed (compared as text, so types without `=` work too); setting a new
 * column to the value it already holds physically (NULL before the backfill) reads as not set.
 */
function newShapeSql(group: TriggerGroup, upSpecs: TriggerSpec[], options: TriggerOptions): string {
  const fn = ident(group.name);
  const marker = `${fn}.new.${ident(NEEDS_BACKFILL_COLUMN)}`;
  // One variable per new column, read by name: a row variable copied from OLD would map columns
  // by position, which a partition attached with another column order does not share.
  const targets = unique(upSpecs.map((s) => s.targetColumn));
  const variable = (column: string) =>
    `${ident(SHAPED_LABEL)}.${ident(`pgtandem_new_${targets.indexOf(column)}`)}`;
  // A spec reads the new columns earlier specs computed, the old row for everything else.
  const computed = new Set<string>();
  const source = (column: string) =>
    computed.has(column) ? variable(column) : `${fn}.old.${ident(column)}`;
  const declarations = targets.map((column, i) =>
    `      ${ident(`pgtandem_new_${i}`)} ${ident(options.baseSchema, group.table, column)}%TYPE;`
  );
  const blocks = upSpecs.map((spec) => {
    const block = specBlock(spec, source, variable(spec.targetColumn), options);
    computed.add(spec.targetColumn);
    return block;
  }).join("\n");
  const copies = targets.map((column) => {
    const c = ident(column);
    return `    IF ${fn}.new.${c}::text IS NOT DISTINCT FROM ${fn}.old.${c}::text THEN
      ${fn}.new.${c} := ${variable(column)};
    END IF;`;
  });
  return `  IF TG_OP = 'INSERT' THEN
    ${marker} := false;
  ELSIF ${fn}.old.${ident(NEEDS_BACKFILL_COLUMN)} THEN
    <<${ident(SHAPED_LABEL)}>>
    DECLARE
${declarations.join("\n")}
    BEGIN
${blocks}
${copies.join("\n")}
    END;
    ${marker} := false;
  END IF;`;
}

/** Label of the block computing the new shape of an old row, in {@link newShapeSql}. */
const SHAPED_LABEL = "pgtandem_new_shape";

/**
 * One spec as a nested block: variables for the columns its expression can name, initialised
 * when the block is entered (so after earlier specs' assignments) from `source` of each physical
 * column, then the assignment to `target`.
 */
function specBlock(
  spec: TriggerSpec,
  source: (physicalColumn: string) => string,
  target: string,
  options: TriggerOptions,
): string {
  const expression = simplifyExpression(spec.expression);
  const referenced = referencedIdentifiers(expression);
  const declarations = spec.columns
    .filter((c) => referenced === undefined || referenced.has(c.name))
    .map((c) =>
      `    ${ident(c.name)} ${ident(options.baseSchema, spec.table, c.physicalName)}%TYPE := ${
        source(c.physicalName)
      };`
    );
  // A newline before the closing parenthesis: a trailing `-- comment` must not swallow it.
  const assignment = `${target} := (${expression}\n    );`;
  if (declarations.length === 0) return `  BEGIN\n    ${assignment}\n  END;`;
  return `  DECLARE\n${declarations.join("\n")}\n  BEGIN\n    ${assignment}\n  END;`;
}

/**
 * The identifiers `expression` contains, as PostgreSQL resolves them (unquoted folded to lower
 * case, quoted kept exact), or undefined when the lexer gives up — then every column is bound.
 */
function referencedIdentifiers(expression: string): Set<string> | undefined {
  const tokens = tokenize(expression);
  if (!tokens) return undefined;
  return new Set(
    tokens.filter((t) => t.kind === "word" || t.kind === "quoted").map((t) => t.value),
  );
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
