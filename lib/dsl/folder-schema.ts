/**
 * The folder's schema as types. `pgtandem types DIR` replays the migrations of DIR through the
 * engine's virtual schema and writes `pgtandem-schema.d.ts`, which augments the interface
 * `FolderSchema` below with:
 *
 *  - `migrations`: for each migration of the folder, the tables and columns as the migrations
 *    before it leave them (`migration("06_x", …)` checks its operations against that);
 *  - `latest`: the schema after the last migration (for a migration not generated yet);
 *  - `operations`: the params of the configured plugins' kinds (`operation("acme:comment", …)`).
 *
 * Until a file is generated `FolderSchema` is empty and every name is accepted, as before.
 * See docs/typescript.md.
 */
import type { TableRef } from "./table-ref.ts";

/**
 * Filled in by the file `pgtandem types` writes (a module augmentation of "pgtandem"); empty
 * otherwise. Write no members by hand: regenerate instead.
 */
// deno-lint-ignore no-empty-interface
export interface FolderSchema {}

/** Tables as types: table name → column name → its SQL type (as text). */
export type SchemaShape = { readonly [table: string]: { readonly [column: string]: string } };

/** The schema of a folder nothing was generated for: any table, any column. */
export type UntypedSchema = SchemaShape;

/** The generated migrations, keyed by name (empty when nothing was generated). */
type Migrations = FolderSchema extends { readonly migrations: infer M } ? M : Record<never, never>;

/** The names of the folder's migrations, for `migration(name, …)`. */
export type FolderMigrationName = keyof Migrations & string;

/**
 * `SchemaBefore` for the generated folder types `F` (an interface shaped like the augmented
 * `FolderSchema`); exported so the rule can be tested without an augmentation.
 */
export type SchemaBeforeIn<F, N extends string> = F extends {
  readonly migrations: infer M;
  readonly latest: infer L;
} ? (N extends keyof M ? Shape<M[N]> : Shape<L>)
  : UntypedSchema;

/**
 * The schema a migration named `N` sees: as the migrations before it leave it. A name the
 * generated file does not know is a new migration: it sees the schema after the last one.
 */
export type SchemaBefore<N extends string> = SchemaBeforeIn<FolderSchema, N>;

type Shape<T> = T extends SchemaShape ? T : UntypedSchema;

/** `PluginOperationParams` for the generated folder types `F`. */
export type PluginOperationParamsIn<F> = F extends { readonly operations: infer O } ? O
  : Record<never, never>;

/** The params of the plugin kinds `pgtandem types` found in the folder's plugins. */
export type PluginOperationParams = PluginOperationParamsIn<FolderSchema>;

/** A table argument under schema `S`: a known table's name, or a reference (typed or not). */
export type TableIn<S extends SchemaShape> = (keyof S & string) | TableRef<string>;

/** The column names table argument `T` has under schema `S`. */
export type ColumnIn<S extends SchemaShape, T> = T extends TableRef<infer C> ? C
  : T extends keyof S ? keyof S[T] & string
  : never;
