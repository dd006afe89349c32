/**
 * What one SQL statement does to the tables it touches, read from PostgreSQL's parse tree: the
 * strongest table lock it takes (as PostgreSQL's AlterTableGetLockLevel and friends decide it),
 * on which table, and whether it only changes the catalog, scans the table, rewrites it, or
 * writes rows. `plan` uses it to refine the lock an action declares; the lint uses it on raw SQL.
 *
 * @module
 */
import { isSerialType } from "../operations/column-sql.ts";
import { notNullCheckName } from "../naming.ts";
import { findNodes, nodeOf, type ParsedStatement, type PgNode, stringList } from "../pg/parser.ts";

/** Table lock modes, weakest first (PostgreSQL's order). */
export const LOCK_MODES = [
  "none",
  "ACCESS SHARE",
  "ROW SHARE",
  "ROW EXCLUSIVE",
  "SHARE UPDATE EXCLUSIVE",
  "SHARE",
  "SHARE ROW EXCLUSIVE",
  "EXCLUSIVE",
  "ACCESS EXCLUSIVE",
] as const;

export type TableLock = (typeof LOCK_MODES)[number];

/**
 * What a statement does to the data of the table it locks:
 * - `none`: touches no existing table (new table, function, schema);
 * - `catalog`: catalog-only, instant once the lock is held;
 * - `scan`: reads every row (validating a constraint, building an index, SET NOT NULL);
 * - `rewrite`: rewrites every row into a new file (column type change, volatile default);
 * - `write`: changes rows (UPDATE, DELETE, INSERT).
 */
export type TableEffect = "none" | "catalog" | "scan" | "rewrite" | "write";

export interface StatementEffect {
  /** Node kind of the statement, e.g. "AlterTableStmt". */
  kind: string;
  /** The table locked most strongly (unqualified), when there is one. */
  table?: string;
  /** Its schema, when the statement names it. */
  tableSchema?: string;
  lock: TableLock;
  effect: TableEffect;
  /** Runs without blocking writes for its duration (CONCURRENTLY). */
  concurrent: boolean;
  /** A short reason for the effect, e.g. "default calls random()". */
  note?: string;
}

/** Functions whose result differs per row: a DEFAULT calling one makes ADD COLUMN rewrite. */
export const VOLATILE_FUNCTIONS = new Set([
  "random",
  "random_normal",
  "clock_timestamp",
  "timeofday",
  "gen_random_uuid",
  "uuidv4",
  "uuidv7",
  "uuid_generate_v1",
  "uuid_generate_v1mc",
  "uuid_generate_v4",
  "nextval",
  "setval",
  "txid_current",
  "pg_current_xact_id",
  "gen_random_bytes",
]);

/** Lock modes by the numbers LOCK TABLE's parse node uses (lockdefs.h). */
const LOCK_BY_NUMBER: Record<number, TableLock> = {
  1: "ACCESS SHARE",
  2: "ROW SHARE",
  3: "ROW EXCLUSIVE",
  4: "SHARE UPDATE EXCLUSIVE",
  5: "SHARE",
  6: "SHARE ROW EXCLUSIVE",
  7: "EXCLUSIVE",
  8: "ACCESS EXCLUSIVE",
};

export function lockRank(lock: TableLock): number {
  return LOCK_MODES.indexOf(lock);
}

const EFFECT_RANK: Record<TableEffect, number> = {
  none: 0,
  catalog: 1,
  write: 2,
  scan: 3,
  rewrite: 4,
};

/** The names of the volatile functions an expression calls (lower case, unqualified). */
export function volatileCalls(expression: unknown): string[] {
  const names = findNodes(expression, "FuncCall").map((f) => stringList(f.funcname).at(-1) ?? "")
    .map((n) => n.toLowerCase());
  return [...new Set(names.filter((n) => VOLATILE_FUNCTIONS.has(n)))];
}

/** The unqualified name of a column definition's type, lower case. */
export function typeNameOf(column: PgNode): string {
  return (stringList(column.typeName?.names).at(-1) ?? "").toLowerCase();
}

/**
 * What ADD COLUMN does to existing rows: catalog-only (PostgreSQL stores a constant default as the
 * "missing value"), or a rewrite (volatile default, serial, identity, stored generated column).
 */
export function addColumnEffect(column: PgNode): { effect: TableEffect; note?: string } {
  if (isSerialType(typeNameOf(column))) {
    return { effect: "rewrite", note: `${typeNameOf(column)} fills every row from a sequence` };
  }
  for (const c of column.constraints ?? []) {
    const constraint = nodeOf(c, "Constraint");
    if (!constraint) continue;
    if (constraint.contype === "CONSTR_IDENTITY") {
      return { effect: "rewrite", note: "an identity column fills every row from a sequence" };
    }
    if (constraint.contype === "CONSTR_GENERATED" && constraint.generated_kind !== "v") {
      return { effect: "rewrite", note: "a stored generated column is computed for every row" };
    }
    if (constraint.contype === "CONSTR_DEFAULT") {
      const volatile = volatileCalls(constraint.raw_expr);
      if (volatile.length > 0) {
        return {
          effect: "rewrite",
          note: `default calls ${volatile.map((v) => `${v}()`).join(", ")}`,
        };
      }
    }
  }
  return { effect: "catalog" };
}

interface CommandEffect {
  lock: TableLock;
  effect: TableEffect;
  concurrent?: boolean;
  note?: string;
  /** Another table locked too (the referenced table of a foreign key). */
  other?: { table: string; schema?: string; lock: TableLock };
}

/** One ALTER TABLE sub-command. */
function alterTableCommand(cmd: PgNode, context: EffectContext, table: string): CommandEffect {
  switch (cmd.subtype) {
    case "AT_AddColumn": {
      const column = nodeOf(cmd.def, "ColumnDef") ?? {};
      const { effect, note } = addColumnEffect(column);
      const fk = (column.constraints ?? []).map((c: unknown) => nodeOf(c, "Constraint"))
        .find((c: PgNode | undefined) => c?.contype === "CONSTR_FOREIGN");
      return {
        lock: "ACCESS EXCLUSIVE",
        effect,
        ...(note ? { note } : {}),
        ...(fk ? { other: referenced(fk) } : {}),
      };
    }
    case "AT_AddConstraint":
      return addConstraintEffect(nodeOf(cmd.def, "Constraint") ?? {});
    case "AT_ValidateConstraint":
      return { lock: "SHARE UPDATE EXCLUSIVE", effect: "scan", note: "writes go on" };
    case "AT_SetNotNull":
      if (context.validatedNotNullChecks?.has(table)) {
        return { lock: "ACCESS EXCLUSIVE", effect: "catalog", note: "a validated check proves it" };
      }
      return { lock: "ACCESS EXCLUSIVE", effect: "scan", note: "checks every row" };
    case "AT_AlterColumnType":
      return {
        lock: "ACCESS EXCLUSIVE",
        effect: "rewrite",
        note: "rewrites the table unless the types are binary-compatible",
      };
    case "AT_SetStatistics":
    case "AT_ClusterOn":
    case "AT_DropCluster":
    case "AT_SetRelOptions":
    case "AT_ResetRelOptions":
      return { lock: "SHARE UPDATE EXCLUSIVE", effect: "catalog" };
    case "AT_EnableTrig":
    case "AT_DisableTrig":
    case "AT_EnableAlwaysTrig":
    case "AT_EnableReplicaTrig":
    case "AT_EnableTrigAll":
    case "AT_DisableTrigAll":
    case "AT_EnableTrigUser":
    case "AT_DisableTrigUser":
      return { lock: "SHARE ROW EXCLUSIVE", effect: "catalog" };
    case "AT_SetLogged":
    case "AT_SetUnLogged":
    case "AT_SetAccessMethod":
    case "AT_SetTableSpace":
      return { lock: "ACCESS EXCLUSIVE", effect: "rewrite" };
    default:
      // Drops, renames, defaults, DROP NOT NULL, replica identity …: catalog-only.
      return { lock: "ACCESS EXCLUSIVE", effect: "catalog" };
  }
}

/** ADD CONSTRAINT: foreign keys lock both tables; NOT VALID skips the scan. */
function addConstraintEffect(constraint: PgNode): CommandEffect {
  const notValid = constraint.skip_validation === true;
  switch (constraint.contype) {
    case "CONSTR_FOREIGN":
      return {
        lock: "SHARE ROW EXCLUSIVE",
        effect: notValid ? "catalog" : "scan",
        ...(notValid ? { note: "NOT VALID: no scan" } : {}),
        other: referenced(constraint),
      };
    case "CONSTR_UNIQUE":
    case "CONSTR_PRIMARY":
    case "CONSTR_EXCLUSION":
      if (constraint.indexname) {
        return { lock: "ACCESS EXCLUSIVE", effect: "catalog", note: "uses an existing index" };
      }
      return { lock: "ACCESS EXCLUSIVE", effect: "scan", note: "builds an index" };
    case "CONSTR_CHECK":
      return notValid
        ? { lock: "ACCESS EXCLUSIVE", effect: "catalog", note: "NOT VALID: no scan" }
        : { lock: "ACCESS EXCLUSIVE", effect: "scan", note: "validates every row" };
    default:
      return { lock: "ACCESS EXCLUSIVE", effect: "catalog" };
  }
}

function referenced(constraint: PgNode): { table: string; schema?: string; lock: TableLock } {
  const pk = constraint.pktable ?? {};
  return {
    table: pk.relname ?? "",
    ...(pk.schemaname ? { schema: pk.schemaname } : {}),
    lock: "SHARE ROW EXCLUSIVE",
  };
}

/** What the statements before this one established (e.g. validated NOT NULL checks). */
export interface EffectContext {
  /** Tables on which a NOT NULL check was validated earlier, so SET NOT NULL needs no scan. */
  validatedNotNullChecks?: Set<string>;
}

/**
 * The effect of one statement. Unknown statement kinds (functions, schemas, grants…) report
 * `none`: they lock no table's data.
 */
export function statementEffect(
  statement: ParsedStatement,
  context: EffectContext = {},
): StatementEffect {
  const { kind, node } = statement;
  const on = (
    relation: PgNode | undefined,
    lock: TableLock,
    effect: TableEffect,
    extra: EffectExtra = {},
  ) => effectOn(kind, relation, lock, effect, extra);
  switch (kind) {
    case "AlterTableStmt":
      return alterTableEffect(statement, context);
    case "IndexStmt":
      return node.concurrent
        ? on(node.relation, "SHARE UPDATE EXCLUSIVE", "scan", {
          concurrent: true,
          note: "writes go on during the build",
        })
        : on(node.relation, "SHARE", "scan", { note: "blocks writes during the build" });
    case "DropStmt":
      return dropEffect(statement);
    case "RenameStmt":
      if (node.renameType === "OBJECT_INDEX") {
        return on(undefined, "SHARE UPDATE EXCLUSIVE", "catalog");
      }
      return on(node.relation, "ACCESS EXCLUSIVE", "catalog");
    case "CommentStmt":
      return commentEffect(statement);
    case "CreateTrigStmt":
      return on(node.relation, "SHARE ROW EXCLUSIVE", "catalog");
    case "CreateStmt":
      return createTableEffect(statement);
    case "ViewStmt":
      return on(findNodes(node.query, "RangeVar")[0], "ACCESS SHARE", "none");
    case "VacuumStmt":
      return vacuumEffect(statement);
    case "ClusterStmt":
      return on(node.relation, "ACCESS EXCLUSIVE", "rewrite", {
        note: "CLUSTER rewrites the table",
      });
    case "LockStmt": {
      const relation = nodeOf(node.relations?.[0], "RangeVar");
      return on(relation, LOCK_BY_NUMBER[node.mode as number] ?? "ACCESS EXCLUSIVE", "none", {
        note: "held until the transaction ends",
      });
    }
    case "UpdateStmt":
    case "DeleteStmt":
    case "InsertStmt":
      return on(node.relation, "ROW EXCLUSIVE", "write");
    case "TruncateStmt":
      return on(nodeOf(node.relations?.[0], "RangeVar"), "ACCESS EXCLUSIVE", "rewrite");
    case "RefreshMatViewStmt":
      return node.concurrent
        ? on(node.relation, "EXCLUSIVE", "rewrite", { concurrent: true })
        : on(node.relation, "ACCESS EXCLUSIVE", "rewrite");
    default:
      return on(undefined, "none", "none");
  }
}

interface EffectExtra {
  concurrent?: boolean;
  note?: string;
}

/** The effect of a statement on `relation` (a RangeVar), or on no table in particular. */
function effectOn(
  kind: string,
  relation: PgNode | undefined,
  lock: TableLock,
  effect: TableEffect,
  extra: EffectExtra = {},
): StatementEffect {
  return {
    kind,
    ...(relation?.relname ? { table: relation.relname as string } : {}),
    ...(relation?.schemaname ? { tableSchema: relation.schemaname as string } : {}),
    lock,
    effect,
    concurrent: extra.concurrent ?? false,
    ...(extra.note ? { note: extra.note } : {}),
  };
}

/** ALTER TABLE: the strongest lock and effect of its commands, with their notes. */
function alterTableEffect({ kind, node }: ParsedStatement, context: EffectContext) {
  // ALTER VIEW / INDEX / SEQUENCE …: the lock is on that object, not on a table's data.
  if (node.objtype !== "OBJECT_TABLE") return effectOn(kind, undefined, "none", "catalog");
  const table = node.relation?.relname ?? "";
  let best: CommandEffect = { lock: "none", effect: "none" };
  const notes: string[] = [];
  for (const raw of node.cmds ?? []) {
    const cmd = nodeOf(raw, "AlterTableCmd");
    if (!cmd) continue;
    const found = alterTableCommand(cmd, context, table);
    if (found.note) notes.push(found.note);
    if (found.other) notes.push(`also locks table "${found.other.table}" ${found.other.lock}`);
    best = {
      lock: lockRank(found.lock) > lockRank(best.lock) ? found.lock : best.lock,
      effect: EFFECT_RANK[found.effect] > EFFECT_RANK[best.effect] ? found.effect : best.effect,
    };
  }
  const effect = effectOn(kind, node.relation, best.lock, best.effect);
  if (notes.length > 0) effect.note = [...new Set(notes)].join("; ");
  return effect;
}

/** DROP INDEX [CONCURRENTLY] and DROP TABLE; other drops touch no table's data. */
function dropEffect({ kind, node }: ParsedStatement): StatementEffect {
  if (node.removeType === "OBJECT_INDEX") {
    return node.concurrent
      ? effectOn(kind, undefined, "SHARE UPDATE EXCLUSIVE", "catalog", { concurrent: true })
      : effectOn(kind, undefined, "ACCESS EXCLUSIVE", "catalog", {
        note: "locks the index's table",
      });
  }
  if (node.removeType === "OBJECT_TABLE") {
    const name = stringList(nodeOf(node.objects?.[0], "List")?.items);
    return {
      kind,
      ...(name.length > 0 ? { table: name.at(-1)! } : {}),
      ...(name.length > 1 ? { tableSchema: name.at(-2)! } : {}),
      lock: "ACCESS EXCLUSIVE",
      effect: "catalog",
      concurrent: false,
    };
  }
  return effectOn(kind, undefined, "none", "none");
}

/** COMMENT ON TABLE / COLUMN names its table in a name list, not a RangeVar. */
function commentEffect({ kind, node }: ParsedStatement): StatementEffect {
  const parts = stringList(nodeOf(node.object, "List")?.items);
  const table = node.objtype === "OBJECT_COLUMN" ? parts.at(-2) : parts.at(-1);
  return {
    kind,
    ...(table && (node.objtype === "OBJECT_COLUMN" || node.objtype === "OBJECT_TABLE")
      ? { table }
      : {}),
    lock: "SHARE UPDATE EXCLUSIVE",
    effect: "catalog",
    concurrent: false,
  };
}

/** A new table locks nothing, unless a foreign key of it locks the table it references. */
function createTableEffect({ kind, node }: ParsedStatement): StatementEffect {
  const fk = findNodes(node.tableElts, "Constraint").find((c) => c.contype === "CONSTR_FOREIGN");
  if (!fk) return effectOn(kind, undefined, "none", "none", { note: "a new table" });
  const other = referenced(fk);
  return {
    kind,
    table: other.table,
    ...(other.schema ? { tableSchema: other.schema } : {}),
    lock: "SHARE ROW EXCLUSIVE",
    effect: "none",
    concurrent: false,
    note: "a new table; its foreign key locks the referenced table",
  };
}

/** VACUUM (FULL rewrites under ACCESS EXCLUSIVE) and ANALYZE. */
function vacuumEffect({ kind, node }: ParsedStatement): StatementEffect {
  const options = (node.options ?? []).map((o: unknown) => nodeOf(o, "DefElem")?.defname);
  const relation = nodeOf(node.rels?.[0], "VacuumRelation")?.relation;
  if (!node.is_vacuumcmd) return effectOn(kind, relation, "SHARE UPDATE EXCLUSIVE", "scan");
  return options.includes("full")
    ? effectOn(kind, relation, "ACCESS EXCLUSIVE", "rewrite", {
      note: "VACUUM FULL rewrites the table",
    })
    : effectOn(kind, relation, "SHARE UPDATE EXCLUSIVE", "scan", { concurrent: true });
}

/**
 * Notes `ALTER TABLE … VALIDATE CONSTRAINT` of a NOT NULL stand-in check, so that the SET NOT NULL
 * that follows is known to skip its scan.
 */
export function recordValidatedNotNull(statement: ParsedStatement, context: EffectContext): void {
  if (statement.kind !== "AlterTableStmt") return;
  for (const raw of statement.node.cmds ?? []) {
    const cmd = nodeOf(raw, "AlterTableCmd");
    // The engine's stand-in checks (and their copies on duplicated columns) carry this name.
    if (
      cmd?.subtype === "AT_ValidateConstraint" && String(cmd.name).includes(notNullCheckName(""))
    ) {
      context.validatedNotNullChecks ??= new Set();
      context.validatedNotNullChecks.add(statement.node.relation?.relname ?? "");
    }
  }
}
