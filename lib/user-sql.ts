/**
 * The one type user SQL travels in. A migration's expressions and types (up, down, default, check,
 * predicate, generated, type, raw SQL …) are the only text pasted into statements unquoted, so they
 * carry a brand from the moment they are parsed: the params schemas
 * (lib/migration/params/shared.ts `userSqlSchema`) stamp it, and every SQL builder that pastes such
 * text takes `UserSql`, never `string`. A plain string reaching a builder is a compile error.
 *
 * Text the engine itself puts in a user-SQL slot (a default it derives, a column name standing for
 * an `up`, an expression read back from the catalog) goes through {@link engineSql}, so each place
 * that manufactures such text is one grep away. Plugins mark theirs with {@link userSql}.
 *
 * The brand is zod's: parsing is the only place it is stamped without a function of this module,
 * and `.brand()` changes no runtime behaviour and nothing in the generated JSON Schema.
 *
 * @module
 */
import type { z } from "zod";

/** The brand name `userSqlSchema` stamps with zod's `.brand()`. */
export type UserSqlBrand = "pgtandem.UserSql";

/** SQL text written by the migration author (or vouched for by the engine), pasted verbatim. */
export type UserSql = string & z.$brand<UserSqlBrand>;

/**
 * Text the engine writes into a user-SQL slot. Safe because the engine, not a raw string from
 * outside, wrote it: a literal it rendered (`false`, `NULL`), a quoted identifier, or an
 * expression PostgreSQL itself printed from the catalog. Callers say which in a comment.
 */
export function engineSql(text: string): UserSql {
  return text as UserSql;
}

/**
 * Marks a plugin author's SQL expression as user SQL, for a slot that takes one (a trigger spec's
 * `expression`). It is inserted verbatim: the author owns it. Wrapped in parentheses so it
 * composes safely inside larger statements.
 */
export function userSql(expression: string): UserSql {
  return `(${expression})` as UserSql;
}
