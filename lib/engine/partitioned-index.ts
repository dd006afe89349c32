/**
 * Index work on partitioned tables, which PostgreSQL cannot do CONCURRENTLY. A build becomes:
 * the parent's index `ON ONLY` the partitioned table (catalog only, left invalid), then for each
 * partition an index built CONCURRENTLY and attached at once (`ALTER INDEX … ATTACH PARTITION`);
 * the parent's index turns valid when its last partition is attached. Sub-partitioned
 * partitions get an `ON ONLY` index of their own, attached the same way. Writes are never
 * blocked for longer than a catalog change, as for a plain table.
 *
 * Dropping such an index (rollback of create_index, drop_index at complete) cannot be done
 * CONCURRENTLY either: it is dropped plainly, which only removes catalog entries and files.
 *
 * The executor hands every concurrent index build and every `DROP INDEX CONCURRENTLY` here
 * first; anything not on a partitioned table is left to it.
 */
import { PgtandemError, QueryError, sqlstateOf } from "../errors.ts";
import { partitionIndexName } from "../naming.ts";
import { ident } from "../sql.ts";
import type { Sql } from "./connection.ts";
import type { Action, ConcurrentIndexAction } from "../plan/action.ts";
import { withLockRetry } from "./retry.ts";

/** Runs `action` when it is index work on a partitioned table; false when it is not. */
export async function runPartitionedIndexAction(
  sql: Sql,
  action: Action,
  schema: string,
): Promise<boolean> {
  if (action.kind === "concurrent_index") {
    const [table] = await sql.unsafe<{ oid: string; partitioned: boolean }[]>(
      `SELECT c.oid::int8::text AS oid, c.relkind = 'p' AS partitioned FROM pg_catalog.pg_class c
       WHERE c.oid = pg_catalog.to_regclass($1)`,
      [ident(schema, action.table)],
    );
    if (!table?.partitioned) return false;
    await reported(action, () => buildPartitionedIndex(sql, action, schema, table.oid));
    return true;
  }
  const drop = /^DROP INDEX CONCURRENTLY IF EXISTS (.+)$/s.exec(action.sql);
  if (!drop || action.userSql) return false;
  const [index] = await sql.unsafe(
    `SELECT 1 FROM pg_catalog.pg_class WHERE oid = pg_catalog.to_regclass($1) AND relkind = 'I'`,
    [drop[1]!],
  );
  if (!index) return false;
  await reported(
    action,
    () => withLockRetry(action.id, () => sql.unsafe(`DROP INDEX IF EXISTS ${drop[1]}`).simple()),
  );
  return true;
}

/** Errors name the action, as the executor's own do. */
async function reported(action: Action, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof PgtandemError || !(error instanceof Error)) throw error;
    const sqlstate = sqlstateOf(error);
    throw new QueryError(`failed to execute "${action.id}": ${error.message}`, {
      cause: error,
      statement: action.sql,
      ...(sqlstate ? { sqlstate } : {}),
    });
  }
}

interface Partition {
  oid: string;
  /** Schema-qualified, quoted. */
  qualified: string;
  schema: string;
  name: string;
  leaf: boolean;
  parent: string;
}

async function buildPartitionedIndex(
  sql: Sql,
  action: ConcurrentIndexAction,
  schema: string,
  tableOid: string,
): Promise<void> {
  const tail = statementTail(action, schema);
  const partitions = await sql.unsafe<Partition[]>(
    `SELECT t.relid::int8::text AS oid, t.relid::regclass::text AS qualified, n.nspname AS schema,
       c.relname AS name, t.isleaf AS leaf, t.parentrelid::int8::text AS parent
     FROM pg_catalog.pg_partition_tree($1::int8::oid) t
     JOIN pg_catalog.pg_class c ON c.oid = t.relid
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE t.level > 0
     ORDER BY t.level, c.relname`,
    [tableOid],
  );
  const unique = /^\s*CREATE\s+UNIQUE\s/i.test(action.sql) ? "UNIQUE " : "";
  // The index of each partitioned relation, by oid: partitions attach to their parent's.
  const indexOf = new Map<string, string>([[tableOid, ident(schema, action.name)]]);
  const run = (statement: string) => withLockRetry(action.id, () => sql.unsafe(statement).simple());
  if (!(await indexExists(sql, ident(schema, action.name)))) {
    // Without partitions there is nothing to build: a plain index is valid at once.
    const only = partitions.length > 0 ? "ONLY " : "";
    await run(
      `CREATE ${unique}INDEX ${ident(action.name)} ON ${only}${ident(schema, action.table)}${tail}`,
    );
  }
  for (const partition of partitions) {
    const parentIndex = indexOf.get(partition.parent);
    if (!parentIndex) {
      throw new PgtandemError(
        "internal",
        `cannot build index "${action.name}": partition ${partition.qualified} has no parent index`,
      );
    }
    const attached = await attachedIndex(sql, parentIndex, partition.oid);
    if (attached) {
      indexOf.set(partition.oid, ident(partition.schema, attached));
      continue;
    }
    const name = await freeIndexName(sql, action.name, partition);
    const qualified = ident(partition.schema, name);
    indexOf.set(partition.oid, qualified);
    if (partition.leaf) {
      await buildLeafIndex(
        sql,
        qualified,
        `CREATE ${unique}INDEX CONCURRENTLY IF NOT EXISTS ${ident(name)} ON ${
          ident(partition.schema, partition.name)
        }${tail}`,
        run,
      );
    } else {
      await run(
        `CREATE ${unique}INDEX IF NOT EXISTS ${ident(name)} ON ONLY ${
          ident(partition.schema, partition.name)
        }${tail}`,
      );
    }
    await run(`ALTER INDEX ${parentIndex} ATTACH PARTITION ${qualified}`);
  }
}

const BUILD_ATTEMPTS = 5;

/**
 * One partition's concurrent build. A failed build leaves an invalid index that IF NOT EXISTS
 * would then skip (and attach): it is dropped first, and again when the build fails, so an
 * unattached index is never left behind. Deadlocks and lock timeouts are retried.
 */
async function buildLeafIndex(
  sql: Sql,
  qualified: string,
  statement: string,
  run: (statement: string) => Promise<unknown>,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    await dropIfInvalid(sql, qualified, run);
    try {
      await sql.unsafe(statement).simple();
      return;
    } catch (error) {
      await dropIfInvalid(sql, qualified, run).catch(() => {});
      const state = sqlstateOf(error);
      if ((state !== "40P01" && state !== "55P03") || attempt >= BUILD_ATTEMPTS) throw error;
    }
  }
}

/**
 * The statement after `ON <table>` (USING …, columns, WITH, WHERE), the same for the parent and
 * every partition: partitions have the parent's column names.
 */
function statementTail(action: ConcurrentIndexAction, schema: string): string {
  const on = ` ON ${ident(schema, action.table)}`;
  for (const unique of ["", "UNIQUE "]) {
    const head = `CREATE ${unique}INDEX CONCURRENTLY ${ident(action.name)}${on}`;
    if (action.sql.startsWith(head)) return action.sql.slice(head.length);
    const ifNotExists = `CREATE ${unique}INDEX CONCURRENTLY IF NOT EXISTS ${
      ident(action.name)
    }${on}`;
    if (action.sql.startsWith(ifNotExists)) return action.sql.slice(ifNotExists.length);
  }
  throw new PgtandemError(
    "internal",
    `cannot build index "${action.name}" on partitioned table "${action.table}" partition by partition: unexpected statement ${action.sql}`,
  );
}

async function indexExists(sql: Sql, qualified: string): Promise<boolean> {
  const rows = await sql.unsafe(`SELECT 1 WHERE pg_catalog.to_regclass($1) IS NOT NULL`, [
    qualified,
  ]);
  return rows.length > 0;
}

/** The partition's index already attached to `parentIndex` (by a run that was interrupted). */
async function attachedIndex(
  sql: Sql,
  parentIndex: string,
  partitionOid: string,
): Promise<string | undefined> {
  const [row] = await sql.unsafe<{ name: string }[]>(
    `SELECT c.relname AS name FROM pg_catalog.pg_inherits i
     JOIN pg_catalog.pg_index x ON x.indexrelid = i.inhrelid
     JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = pg_catalog.to_regclass($1) AND x.indrelid = $2::int8::oid`,
    [parentIndex, partitionOid],
  );
  return row?.name;
}

/**
 * The partition's index name: `<partition>_<index>`, or with a number appended when that name
 * is taken by another relation (a partition's index keeps its name when complete renames the
 * parent's, so a later build of an index of the same name finds it). A free-standing index of
 * this partition with the name is taken over: an interrupted run built it.
 */
async function freeIndexName(sql: Sql, index: string, partition: Partition): Promise<string> {
  for (let i = 1;; i++) {
    const name = partitionIndexName(i === 1 ? index : `${index}_${i}`, partition.name);
    const [row] = await sql.unsafe<{ ours: boolean }[]>(
      `SELECT x.indrelid = $2::int8::oid
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = c.oid) AS ours
       FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_index x ON x.indexrelid = c.oid
       WHERE c.oid = pg_catalog.to_regclass($1)`,
      [ident(partition.schema, name), partition.oid],
    );
    if (!row || row.ours) return name;
  }
}

/** A killed or failed concurrent build leaves an invalid index: drop it before building again. */
async function dropIfInvalid(
  sql: Sql,
  qualified: string,
  run: (statement: string) => Promise<unknown>,
): Promise<void> {
  const rows = await sql.unsafe(
    `SELECT 1 FROM pg_catalog.pg_index WHERE indexrelid = pg_catalog.to_regclass($1)
       AND NOT indisvalid`,
    [qualified],
  );
  if (rows.length > 0) await run(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified}`);
}
