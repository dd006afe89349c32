/**
 * The engine's link to plugins across runs. At start the plugins a migration uses are recorded
 * (name, resolved path, kinds) in pgtandem_runs.plugins; complete or rollback may run in a later
 * process that was not given them, so a kind the registry lacks is loaded again from the path the
 * start recorded. A plugin file that is gone is a clear error, raised before any DDL runs.
 */
import { stat } from "node:fs/promises";
import { PgtandemError } from "../errors.ts";
import type { ParsedOperation } from "../operations/operation.ts";
import type { Registry } from "../operations/registry.ts";
import { type PluginRecord, pluginsUsed } from "./definitions.ts";
import { loadPluginFile } from "./loader.ts";

/** What the engine asks of plugins (lib/engine/roll.ts, option `plugins`). */
export interface PluginTracker {
  /** The records to keep for a migration about to start. */
  used(operations: readonly ParsedOperation[]): PluginRecord[];
  /**
   * Makes sure `registry` knows every kind of the active migration `name` (its stored `document`),
   * loading what is missing from the plugins its start recorded.
   */
  restore(
    registry: Registry,
    migration: { name: string; document: unknown },
    recorded: readonly unknown[],
  ): Promise<void>;
}

/** The engine's default tracker: records from the definitions, restores from the files. */
export const pluginTracker: PluginTracker = { used: pluginsUsed, restore: restorePlugins };

/** See PluginTracker.restore. */
export async function restorePlugins(
  registry: Registry,
  migration: { name: string; document: unknown },
  recorded: readonly unknown[],
): Promise<void> {
  const missing = kindsOf(migration.document).filter((kind) => !registry.has(kind));
  if (missing.length === 0) return;
  const records = recorded.filter(isRecord);
  const wanted = new Map<PluginRecord, string[]>();
  for (const kind of missing) {
    const record = records.find((r) => r.kinds.includes(kind));
    if (!record) {
      // Leave it to parseMigration, which lists the known kinds; only plugin kinds need a hint.
      if (!kind.includes(":")) continue;
      throw new PgtandemError(
        "plugin",
        `migration "${migration.name}" uses operation kind "${kind}", which no loaded plugin ` +
          `defines and its start recorded no plugin for: pass the plugin with --plugin`,
      );
    }
    wanted.set(record, [...(wanted.get(record) ?? []), kind]);
  }
  for (const [record, kinds] of wanted) {
    const exists = await stat(record.path).then((s) => s.isFile(), () => false);
    if (!exists) {
      throw new PgtandemError(
        "plugin",
        `cannot load plugin "${record.name}" that migration "${migration.name}" was started with: ` +
          `file "${record.path}" does not exist; pass its new location with --plugin`,
      );
    }
    const plugin = await loadPluginFile(record.path);
    for (const kind of kinds) {
      const definition = plugin.name === record.name
        ? plugin.definitions.find((d) => d.kind === kind)
        : undefined;
      if (!definition) {
        throw new PgtandemError(
          "plugin",
          `plugin file "${record.path}" no longer defines operation kind "${kind}" that ` +
            `migration "${migration.name}" was started with (plugin "${record.name}")`,
        );
      }
      registry.register(definition);
    }
  }
}

function kindsOf(document: unknown): string[] {
  const operations = (document as { operations?: unknown } | null)?.operations;
  if (!Array.isArray(operations)) return [];
  return [
    ...new Set(
      operations.flatMap((op) => typeof op === "object" && op !== null ? Object.keys(op) : []),
    ),
  ];
}

function isRecord(value: unknown): value is PluginRecord {
  const r = value as PluginRecord | null;
  return typeof r === "object" && r !== null && typeof r.name === "string" &&
    typeof r.path === "string" && Array.isArray(r.kinds) &&
    r.kinds.every((k) => typeof k === "string");
}
