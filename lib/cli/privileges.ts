/**
 * Turns PostgreSQL's "permission denied" (SQLSTATE 42501) into one line that also says who lacks
 * which privilege. Two users matter: the login user (the state store runs as it) and the --role
 * the migration's DDL and backfill run as.
 */
import { PgtandemError, sqlstateOf } from "../errors.ts";
import { ident } from "../sql.ts";

export interface Actors {
  /** The user of the connection URL. */
  loginUser: string;
  /** --role, when given. */
  role: string | undefined;
  stateSchema: string;
}

/** `error` with a privilege hint appended when it is a permission error; otherwise `error`. */
export function explainPermissionError(error: unknown, actors: Actors): unknown {
  const denied = permissionError(error);
  if (!denied || !(error instanceof Error)) return error;
  const setRole = /permission denied to set role "(.+)"/.exec(denied.message);
  const stateSide = denied.message.includes(`schema ${actors.stateSchema}`) ||
    (denied.query ?? "").includes(`${ident(actors.stateSchema)}.`);
  // CREATE SCHEMA of the state store (init): the database privilege is what lacks, not the
  // state schema's, which does not exist yet.
  const stateDatabase = stateSide
    ? /permission denied for database (.+)$/.exec(denied.message)
    : null;
  const needed = setRole
    ? `membership in role "${setRole[1]}" (GRANT "${setRole[1]}" TO "${actors.loginUser}")`
    : stateDatabase
    ? `CREATE on database "${stateDatabase[1]}" to create the state schema "${actors.stateSchema}"`
    : stateSide
    ? `USAGE on schema "${actors.stateSchema}" and SELECT, INSERT, UPDATE, DELETE on its tables`
    : missingPrivilege(denied.message);
  if (!needed) return error;
  const who = setRole || stateSide || !actors.role
    ? `user "${actors.loginUser}"${
      stateSide && actors.role ? ` (the state store runs as the login user, not --role)` : ""
    }`
    : `role "${actors.role}" (--role: the migration's DDL and backfill run as it)`;
  return new PgtandemError(
    error instanceof PgtandemError ? error.code : "query",
    `${error.message}: ${who} needs ${needed}`,
    { cause: error },
  );
}

/** The PostgreSQL error with SQLSTATE 42501 in `error`'s cause chain. */
function permissionError(error: unknown): { message: string; query?: string } | undefined {
  for (let e = error, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    if (sqlstateOf(e) === "42501") return e as { message: string; query?: string };
  }
  return undefined;
}

/** What PostgreSQL's message says is missing for the migration's DDL, in GRANT terms. */
function missingPrivilege(message: string): string | undefined {
  let m: RegExpExecArray | null;
  if ((m = /permission denied for schema (.+)$/.exec(message))) {
    return `USAGE and CREATE on schema "${m[1]}"`;
  }
  if ((m = /permission denied for database (.+)$/.exec(message))) {
    return `CREATE on database "${m[1]}" (to create the version schema)`;
  }
  if (/permission denied to create temporary tables/.test(message)) {
    return "TEMPORARY on the database";
  }
  if ((m = /must be owner of (\w+(?: \w+)?) (.+)$/.exec(message))) {
    return `to own ${m[1]} "${m[2]}" (or be a member of its owner role)`;
  }
  if ((m = /permission denied for (\w+(?: \w+)?) (.+)$/.exec(message))) {
    return `privileges on ${m[1]} "${m[2]}"`;
  }
  return undefined;
}
