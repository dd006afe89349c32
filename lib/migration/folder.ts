/**
 * A folder of migration files, as every command sees it (migrate, validate, plan, status, create,
 * latest, baseline, pull, update, groups): the files directly inside it (no recursion) that
 * `isMigrationFileName` accepts, ordered by file name in byte order (pgroll orders the same way,
 * extension included). Listing never parses a file; `loadMigrations` parses the ones a command
 * needs and reports every broken file at once. The rule is documented in docs/folder-commands.md.
 */
import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { Buffer } from "node:buffer";
import { PgtandemError, ValidationError } from "../errors.ts";
import type { Registry } from "../operations/registry.ts";
import {
  type LoadedMigration,
  loadMigrationFile,
  migrationNameFromPath,
  SUPPORTED_EXTENSIONS,
} from "./loader.ts";

/**
 * The extensions a folder is scanned for: exactly those the loader reads (one list, kept in
 * loader.ts), so a `.ts` migration is never silently skipped.
 */
export const MIGRATION_FILE_EXTENSIONS = SUPPORTED_EXTENSIONS;

/** Extensions whose files hold plain data (pgroll's formats), which commands may rewrite. */
export const DATA_FILE_EXTENSIONS = [".json", ".yaml", ".yml"] as const;

/** One migration file of a folder. */
export interface MigrationFileEntry {
  /** Migration name: the file name minus its last extension. */
  name: string;
  /** File name inside the folder, e.g. `02_add_email.yaml`. */
  fileName: string;
  /** The folder joined with the file name. */
  path: string;
  /** Lower-cased extension with its dot, one of MIGRATION_FILE_EXTENSIONS. */
  extension: string;
}

/** Byte-order comparison of UTF-8 strings, as Go's string comparison in pgroll. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * Files a TypeScript or JavaScript project keeps next to its migrations, never migrations
 * (lower-cased names): project and editor configuration, and pgtandem's own config file.
 */
const PROJECT_FILES = new Set([
  "tsconfig.json",
  "jsconfig.json",
  "package.json",
  "package-lock.json",
  "deno.json",
  "pgtandem.json",
]);

/**
 * Is `fileName` (a file directly inside a migrations folder) a migration? It must carry one of
 * the loader's extensions (case-insensitive) and not be one of what a TypeScript project puts
 * beside migrations:
 * - names starting with `_` or `.` (helper modules: `_helpers.ts`; hidden files);
 * - declarations and tests: `*.d.ts` (`pgtandem.d.ts`, which `types` writes), `*.test.ts`,
 *   `*.spec.ts`;
 * - project files: `tsconfig.json`, `tsconfig.*.json`, `jsconfig.json`, `package.json`,
 *   `package-lock.json`, `deno.json`, `pgtandem.json` (the config file is `pgtandem.jsonc`,
 *   never a migration extension).
 * Subfolders are never scanned, so helpers and plugins may also live in one. Every command asks
 * this one function.
 */
export function isMigrationFileName(fileName: string): boolean {
  const extension = extname(fileName).toLowerCase();
  if (!(MIGRATION_FILE_EXTENSIONS as readonly string[]).includes(extension)) return false;
  if (fileName.length <= extension.length) return false;
  const lower = fileName.toLowerCase();
  if (lower.startsWith("_") || lower.startsWith(".")) return false;
  if (/\.(d|test|spec)\.ts$/.test(lower)) return false;
  if (PROJECT_FILES.has(lower)) return false;
  return !/^tsconfig\..+\.json$/.test(lower);
}

/**
 * Throws a clear error unless `dir` exists and is a folder. `what` names it in messages
 * ("migrations folder").
 */
export async function assertFolder(dir: string, what = "migrations folder"): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const why = code === "ENOENT" ? "does not exist" : `cannot be read: ${String(cause)}`;
    throw new PgtandemError("invalid_input", `${what} "${dir}" ${why}`, { cause });
  }
  if (!info.isDirectory()) {
    throw new PgtandemError("invalid_input", `${what} "${dir}" is not a folder`);
  }
}

/**
 * The migration files directly inside `dir`, sorted by file name in byte order. Throws when the
 * folder is missing or two files define the same migration name (`01_a.json` and `01_a.yaml`):
 * which one would run is otherwise an accident of sorting.
 */
export async function listMigrationFolder(dir: string): Promise<MigrationFileEntry[]> {
  await assertFolder(dir);
  const dirents = await readdir(dir, { withFileTypes: true });
  const entries: MigrationFileEntry[] = [];
  for (const dirent of dirents) {
    if (!isMigrationFileName(dirent.name)) continue;
    // Symbolic links count when they point at a file; folders never do.
    const isFile = dirent.isFile() ||
      (dirent.isSymbolicLink() && (await stat(join(dir, dirent.name)).catch(() => undefined))
            ?.isFile() === true);
    if (!isFile) continue;
    entries.push({
      name: migrationNameFromPath(dirent.name),
      fileName: dirent.name,
      path: join(dir, dirent.name),
      extension: extname(dirent.name).toLowerCase(),
    });
  }
  entries.sort((a, b) => compareBytes(a.fileName, b.fileName));
  const byName = new Map<string, string[]>();
  for (const entry of entries) {
    byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry.fileName]);
  }
  const duplicates = [...byName].filter(([, files]) => files.length > 1);
  if (duplicates.length > 0) {
    const list = duplicates.map(([name, files]) => `"${name}" (${files.join(", ")})`).join("; ");
    throw new PgtandemError(
      "invalid_input",
      `migrations folder "${dir}" defines ${
        duplicates.length === 1 ? "a migration" : "migrations"
      } more than once: ${list}; keep one file per migration`,
    );
  }
  return entries;
}

/** One file that failed to load, with the error the loader raised. */
export interface LoadFailure {
  entry: MigrationFileEntry;
  error: PgtandemError;
}

/** Several migration files failed to load; `failures` has each of them. */
export class MigrationFilesError extends PgtandemError {
  readonly failures: LoadFailure[];
  constructor(failures: LoadFailure[], total: number) {
    const first = failures[0]?.error.message ?? "";
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : "";
    super(
      "invalid_migration",
      `${failures.length} of ${total} migration files ${
        failures.length === 1 ? "is" : "are"
      } invalid: ${first}${more}`,
    );
    this.name = "MigrationFilesError";
    this.failures = failures;
  }

  /** Every problem of every file, one per line: `file: path: message`. */
  describe(): string[] {
    return this.failures.flatMap(({ entry, error }) =>
      error instanceof ValidationError
        ? error.describe().split("\n").map((line) => `${entry.path}: ${line}`)
        : [error.message.startsWith(entry.path) ? error.message : `${entry.path}: ${error.message}`]
    );
  }
}

/**
 * Loads every entry, in order. All files are read even after a failure, so one run reports every
 * broken file; any failure throws a MigrationFilesError and nothing is returned.
 */
export async function loadMigrations(
  entries: readonly MigrationFileEntry[],
  registry: Registry,
): Promise<LoadedMigration[]> {
  const loaded: LoadedMigration[] = [];
  const failures: LoadFailure[] = [];
  for (const entry of entries) {
    try {
      const migration = await loadMigrationFile(entry.path, registry);
      if (migration.migration.name !== entry.name) {
        // The folder is ordered and matched with the history by file name.
        throw new PgtandemError(
          "invalid_migration",
          `${entry.path}: the migration names itself "${migration.migration.name}" but its file name says "${entry.name}": in a migrations folder they must agree`,
        );
      }
      loaded.push(migration);
    } catch (error) {
      if (!(error instanceof PgtandemError)) throw error;
      failures.push({ entry, error });
    }
  }
  if (failures.length > 0) throw new MigrationFilesError(failures, entries.length);
  return loaded;
}

/** A history row as the folder comparison needs it. */
export interface HistoryEntry {
  name: string;
  migrationType: string;
}

export interface FolderComparison {
  /** Local files the database has applied (or has active), in order. */
  applied: MigrationFileEntry[];
  /** Local files still to apply, in order. */
  unapplied: MigrationFileEntry[];
  /** History entries after the last local file: the database is ahead of the folder. */
  remoteOnly: HistoryEntry[];
  /** Local files at or before the baseline, which migrate ignores. */
  beforeBaseline: MigrationFileEntry[];
}

/**
 * pgroll's rule for what `migrate` applies. Local files whose migration name sorts after the
 * newest baseline's name (all files when there is none) are compared pairwise, in order, with
 * the history after that baseline: the i-th file must be the i-th history entry. The files left
 * over are unapplied. A name mismatch throws: applying anything then would fork the history.
 * Where the history is longer than the folder, the extra entries are returned, not an error
 * (pgroll says "up to date" there too).
 */
export function compareWithHistory(
  entries: readonly MigrationFileEntry[],
  history: readonly HistoryEntry[],
  baselineName: string | undefined,
): FolderComparison {
  const beforeBaseline = baselineName === undefined
    ? []
    : entries.filter((e) => compareBytes(e.name, baselineName) <= 0);
  const candidates = baselineName === undefined
    ? [...entries]
    : entries.filter((e) => compareBytes(e.name, baselineName) > 0);
  const count = Math.min(candidates.length, history.length);
  for (let i = 0; i < count; i++) {
    const remote = history[i] as HistoryEntry;
    const local = candidates[i] as MigrationFileEntry;
    if (remote.name !== local.name) throw mismatch(remote, local, i, baselineName);
  }
  return {
    applied: candidates.slice(0, count),
    unapplied: candidates.slice(count),
    remoteOnly: history.slice(count),
    beforeBaseline,
  };
}

function mismatch(
  remote: HistoryEntry,
  local: MigrationFileEntry,
  index: number,
  baselineName: string | undefined,
): PgtandemError {
  const after = baselineName === undefined ? "" : ` after baseline "${baselineName}"`;
  const hint = remote.migrationType === "inferred"
    ? `"${remote.name}" records DDL run outside the tool: run "pgtandem pull DIR" to add it to the folder`
    : `the database's history and the folder differ; "pgtandem pull EMPTY_DIR" writes the database's history`;
  return new PgtandemError(
    "state",
    `remote migration "${remote.name}" does not match local migration "${local.name}" ` +
      `(position ${index + 1}${after}, file ${local.fileName}): ${hint}; nothing was applied`,
  );
}
