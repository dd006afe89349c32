/**
 * `pull DIR`: writes the database's history (after the newest baseline, active and inferred
 * migrations included) into a migrations folder, one file per migration the folder lacks, so
 * that `migrate` finds the folder and the history in agreement again. Existing files are never
 * replaced.
 */
import { mkdir } from "node:fs/promises";
import { PgtandemError } from "../../errors.ts";
import { listMigrationFolder } from "../../migration/folder.ts";
import { type DataFormat, writeMigrationFile } from "../../migration/writer.ts";
import { type Command, type CommandContext, requirePositional } from "../command.ts";
import { withSession } from "../session.ts";

export const pullCommand: Command = {
  name: "pull",
  summary: "Write the database's migration history to a folder (files it lacks only)",
  usage: "pull DIR [--json | --yaml]",
  examples: [
    "pgtandem pull ./migrations          # missing migrations as YAML files",
    "pgtandem pull ./migrations --json   # as JSON files, and a JSON report",
    "Exit codes: 0 written or nothing to write; 1 not initialized, cannot write, bad usage",
  ],
  async run(context) {
    const dir = requirePositional(context, "a target folder");
    const format = dataFormat(context, "yaml");
    await mkdir(dir, { recursive: true });
    const localNames = new Set((await listMigrationFolder(dir)).map((e) => e.name));
    const history = await withSession(
      context.config,
      context.registry,
      context.io,
      async ({ state }) => {
        await state.assertInitialized();
        return await state.historyByFile(context.config.schema);
      },
    );
    const written: { name: string; path: string; type: string }[] = [];
    for (const row of history) {
      if (localNames.has(row.name)) continue;
      assertFileName(row.name);
      const stored: unknown = row.migration;
      if (typeof stored !== "object" || stored === null || Array.isArray(stored)) {
        throw new PgtandemError(
          "state",
          `migration "${row.name}" of schema "${context.config.schema}" is stored as ${typeof stored}, not as a JSON object; nothing more was written`,
        );
      }
      // The file name carries the name; old pgroll versions also stored it inside.
      const { name: _ignored, ...document } = stored as Record<string, unknown>;
      const path = await writeMigrationFile(dir, row.name, document, format);
      written.push({ name: row.name, path, type: row.migrationType });
      if (!context.config.json) context.io.stdout.write(`Wrote ${path}\n`);
    }
    if (context.config.json) {
      context.io.stdout.write(`${JSON.stringify({ written }, null, 2)}\n`);
    } else if (written.length === 0) {
      context.io.stdout.write(
        `Nothing to pull: "${dir}" has every migration of schema "${context.config.schema}"\n`,
      );
    }
    return 0;
  },
};

/**
 * The file format pull, baseline and update write: `--yaml` wins, then `--json` (pgroll's -j),
 * then `fallback`.
 */
export function dataFormat(context: CommandContext, fallback: DataFormat): DataFormat {
  const { json, yaml } = context.args.flags;
  if (yaml) return "yaml";
  if (json) return "json";
  return fallback;
}

/** A migration name from the database becomes a file name: it must not leave the folder. */
export function assertFileName(name: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new PgtandemError(
      "invalid_input",
      `migration name "${name}" cannot be used as a file name`,
    );
  }
}
