/**
 * Drift: applied migrations whose file no longer says what the database recorded. The database
 * keeps each migration's canonical JSON (pgroll's `migrations.migration`); a file is compared by
 * the canonical data it produces now (YAML, JSON or a TypeScript module alike), so re-formatting
 * a file, reordering keys or converting YAML to JSON or TS is not drift. Baselines and the history
 * before the newest one are not compared (migrate ignores those files too).
 */
import { formatPath, PgtandemError } from "../errors.ts";
import { compareBytes, type MigrationFileEntry } from "../migration/folder.ts";
import { loadMigrationFile } from "../migration/loader.ts";
import { toCanonicalJson } from "../migration/migration.ts";
import type { Registry } from "../operations/registry.ts";
import type { StateStore } from "./state.ts";

/** One applied migration whose file changed, is missing or no longer loads. */
export interface Drift {
  /** The migration name (as in the history). */
  name: string;
  /** The file's path, null when the folder has no file for the migration. */
  file: string | null;
  kind: "changed" | "missing" | "unreadable";
  /** One line for humans, starting with the file (or the migration name when missing). */
  message: string;
}

/**
 * Compares every applied migration of `schema` (after the newest baseline; members of a group
 * one by one) with its file in `entries`. Reads only.
 */
export async function folderDrift(
  state: StateStore,
  schema: string,
  dir: string,
  entries: readonly MigrationFileEntry[],
  registry: Registry,
): Promise<Drift[]> {
  const files = new Map(entries.map((e) => [e.name, e]));
  const drift: Drift[] = [];
  for (const row of await state.historyByFile(schema)) {
    if (row.migrationType === "baseline") continue;
    const entry = files.get(row.name);
    if (!entry) {
      drift.push({
        name: row.name,
        file: null,
        kind: "missing",
        message:
          `migration "${row.name}" is applied but the folder "${dir}" has no file for it; restore it ("pgtandem pull" writes the database's history)`,
      });
      continue;
    }
    let current: unknown;
    try {
      current = toCanonicalJson((await loadMigrationFile(entry.path, registry)).migration);
    } catch (error) {
      if (!(error instanceof PgtandemError)) throw error;
      const why = error.message.startsWith(entry.path)
        ? error.message.slice(entry.path.length).replace(/^: /, "")
        : error.message;
      drift.push({
        name: row.name,
        file: entry.path,
        kind: "unreadable",
        message:
          `${entry.path}: applied, but the file no longer loads (${why}); restore what was applied`,
      });
      continue;
    }
    // Old pgroll versions stored the name inside the document; the file name carries it.
    const { name: _name, ...recorded } = row.migration;
    const where = firstDifference(normalize(recorded), normalize(current), []);
    if (where === undefined) continue;
    drift.push({
      name: row.name,
      file: entry.path,
      kind: "changed",
      message: `${entry.path}: changed since it was applied (${
        where === "" ? "the document" : where
      } differs from what the database recorded); restore it and put the change in a new migration`,
    });
  }
  return drift;
}

/** Plain JSON data with object keys sorted and null-valued keys dropped (pgroll omits them). */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item === null || item === undefined) continue;
      out[key] = normalize(item);
    }
    return out;
  }
  return value;
}

/** The path of the first difference (`operations[1].alter_column.up`), "" for the root. */
function firstDifference(a: unknown, b: unknown, path: (string | number)[]): string | undefined {
  const here = () => formatPath(path);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return here();
    for (let i = 0; i < a.length; i++) {
      const found = firstDifference(a[i], b[i], [...path, i]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      if (!(key in a) || !(key in b)) return formatPath([...path, key]);
      const found = firstDifference(a[key], b[key], [...path, key]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return a === b ? undefined : here();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The drift that counts against a folder: migrations the database has beyond the folder's last
 * file are left out (pgroll's migrate says "up to date" there, and `pull` adds them).
 */
export function driftWithin(
  drift: readonly Drift[],
  entries: readonly MigrationFileEntry[],
): Drift[] {
  const last = entries.at(-1)?.name;
  return drift.filter((d) =>
    d.kind !== "missing" || (last !== undefined && compareBytes(d.name, last) < 0)
  );
}

/**
 * The drift that stops `migrate` and fails `validate DIR`: changed files and files that no longer
 * load. A missing file is left to the history comparison, whose mismatch error already stops the
 * run and says what to do (`pull`).
 */
export function blockingDrift(drift: readonly Drift[]): Drift[] {
  return drift.filter((d) => d.kind !== "missing");
}
