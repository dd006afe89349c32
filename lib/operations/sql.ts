/**
 * sql: raw SQL, run verbatim (it is the migration author's own SQL). `up` runs at start, or at
 * complete when `onComplete` is set; `down` runs on rollback and must be idempotent, because a
 * failed start is cleaned up with it too. The engine re-reads the catalog after it runs.
 */
import { userSqlAction } from "../plan/action.ts";
import { type SqlParams, sqlParams } from "../migration/params/sql.ts";
import type { OperationDefinition } from "./operation.ts";

let counter = 0;
/** Raw SQL is never de-duplicated, so its ids only need to be readable. */
function rawId(phase: string): string {
  counter += 1;
  return `raw_sql_${phase}_${counter}`;
}

export const rawSql: OperationDefinition<SqlParams> = {
  kind: "sql",
  description: "Run raw SQL (up at start or on complete; down on rollback)",
  params: sqlParams,

  validate() {
    return [];
  },

  start(params) {
    if (params.onComplete) return { actions: [] };
    return {
      actions: [
        userSqlAction(rawId("up"), params.up, {
          lock: "ACCESS EXCLUSIVE",
          origin: { path: ["up"] },
        }),
      ],
    };
  },

  complete(params) {
    if (!params.onComplete) return [];
    return [
      userSqlAction(rawId("on_complete"), params.up, { origin: { path: ["up"] } }),
    ];
  },

  rollback(params) {
    if (!params.down) return [];
    return [
      userSqlAction(rawId("down"), params.down, { origin: { path: ["down"] } }),
    ];
  },

  opaque(params) {
    const atComplete = params.onComplete === true;
    return { atStart: !atComplete, atComplete };
  },
};
