/**
 * `update DIR`: rewrites migration files written for older pgroll formats, as pgroll's update.
 * Known upgrades (pgroll ≥ 0.10): create_index `columns` as a list of names, or as a map of
 * name → settings, become a list of `{column, …settings}` (map order is kept; pgroll's Go map
 * loses it).
 *
 * Files keep their format and path unless --json / --yaml asks for another format (the old file
 * is then replaced by `<name>.json` / `<name>.yaml`; pgroll writes the new file and leaves the old
 * one, which makes the migration name ambiguous). YAML files are edited in place, so comments and
 * key order survive. TypeScript files are code, not data: they are skipped. Files that are still
 * invalid after the upgrades are reported and left alone.
 */
import { readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { parseDocument } from "yaml";
import { type Issue, PgtandemError, ValidationError } from "../../errors.ts";
import { formatPath } from "../../errors.ts";
import {
  DATA_FILE_EXTENSIONS,
  listMigrationFolder,
  type MigrationFileEntry,
} from "../../migration/folder.ts";
import { parseMigration } from "../../migration/migration.ts";
import {
  type DataFormat,
  formatMigration,
  writeMigrationFile,
  writeText,
} from "../../migration/writer.ts";
import { type Command, type CommandContext, requirePositional } from "../command.ts";

/** One change an upgrade made: where, the new value, and what it was. */
export interface Upgrade {
  path: (string | number)[];
  value: unknown;
  description: string;
}

interface FileReport {
  file: string;
  /** Set when the file was replaced by one in another format. */
  newFile?: string;
  changes: { path: string; description: string }[];
}

export const updateCommand: Command = {
  name: "update",
  summary: "Rewrite migration files written in older pgroll formats",
  usage: "update DIR [--json | --yaml]",
  examples: [
    "pgtandem update ./migrations",
    "Each file keeps its format unless --json or --yaml is given.",
    "Exit codes: 0 updated or nothing to update; 1 a file is invalid even after the upgrades",
    "            (it is left unchanged; the others are still updated), missing folder",
  ],
  async run(context) {
    const dir = requirePositional(context, "a migrations folder");
    const entries = await listMigrationFolder(dir);
    const updated: FileReport[] = [];
    const invalid: { file: string; issues: string[] }[] = [];
    const skipped: string[] = [];
    for (const entry of entries) {
      if (!(DATA_FILE_EXTENSIONS as readonly string[]).includes(entry.extension)) {
        skipped.push(entry.path);
        continue;
      }
      const outcome = await updateFile(context, entry);
      if (outcome.kind === "invalid") invalid.push({ file: entry.path, issues: outcome.issues });
      else if (outcome.kind === "updated") updated.push(outcome.report);
    }
    const { io, config } = context;
    if (config.json) {
      io.stdout.write(`${JSON.stringify({ updated, invalid, skipped }, null, 2)}\n`);
    } else {
      for (const report of updated) {
        const target = report.newFile ? ` (now ${report.newFile})` : "";
        io.stdout.write(`Updated ${report.file}${target}\n`);
        for (const change of report.changes) {
          io.stdout.write(`  ${change.path}: ${change.description}\n`);
        }
      }
      if (updated.length === 0 && invalid.length === 0) {
        io.stdout.write(`All migration files in "${dir}" are up to date\n`);
      }
      for (const { issues } of invalid) {
        for (const line of issues) io.stderr.write(`${line}\n`);
      }
    }
    if (invalid.length > 0) {
      throw new PgtandemError(
        "invalid_migration",
        `${invalid.length} migration file(s) are invalid and were not updated: ${
          invalid.map((i) => i.file).join(", ")
        }`,
      );
    }
    return 0;
  },
};

type Outcome =
  | { kind: "unchanged" }
  | { kind: "updated"; report: FileReport }
  | { kind: "invalid"; issues: string[] };

async function updateFile(context: CommandContext, entry: MigrationFileEntry): Promise<Outcome> {
  let text = await readFile(entry.path, "utf8");
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const ownFormat: DataFormat = entry.extension === ".json" ? "json" : "yaml";
  const yamlDocument = ownFormat === "yaml" ? parseYaml11(text) : undefined;
  let document: unknown;
  try {
    if (yamlDocument) {
      if (yamlDocument.errors.length > 0) throw yamlDocument.errors[0];
      document = yamlDocument.toJS();
    } else {
      document = JSON.parse(text);
    }
  } catch (error) {
    return {
      kind: "invalid",
      issues: [`${entry.path}: malformed ${ownFormat.toUpperCase()}: ${firstLine(error)}`],
    };
  }
  const upgrades = upgradeMigration(document);
  try {
    parseMigration(entry.path, entry.name, document, context.registry);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { kind: "invalid", issues: describe(entry.path, error.issues) };
  }
  // Files that need no upgrade are left alone, whatever format was asked for.
  if (upgrades.length === 0) return { kind: "unchanged" };
  const target = targetFormat(context, ownFormat);

  const report: FileReport = {
    file: entry.path,
    changes: upgrades.map((u) => ({ path: formatPath(u.path), description: u.description })),
  };
  if (target === ownFormat) {
    if (yamlDocument) {
      for (const upgrade of upgrades) {
        yamlDocument.setIn(upgrade.path, yamlDocument.createNode(upgrade.value));
      }
      await writeText(entry.path, yamlDocument.toString({ lineWidth: 0 }), { overwrite: true });
    } else {
      await writeText(
        entry.path,
        formatMigration(document as Record<string, unknown>, "json"),
        { overwrite: true },
      );
    }
  } else {
    report.newFile = await writeMigrationFile(
      dirname(entry.path),
      entry.name,
      document as Record<string, unknown>,
      target,
    );
    await rm(entry.path);
  }
  return { kind: "updated", report };
}

/**
 * Applies every known upgrade to a migration document, in place, and lists what changed. Only
 * shapes the current format rejects are touched, so a second run changes nothing.
 */
export function upgradeMigration(document: unknown): Upgrade[] {
  const upgrades: Upgrade[] = [];
  if (!isRecord(document) || !Array.isArray(document.operations)) return upgrades;
  document.operations.forEach((operation: unknown, index: number) => {
    if (!isRecord(operation) || !isRecord(operation.create_index)) return;
    const body = operation.create_index;
    const path = ["operations", index, "create_index", "columns"];
    const columns = body.columns;
    if (Array.isArray(columns) && columns.some((c) => typeof c === "string")) {
      body.columns = columns.map((c) => typeof c === "string" ? { column: c } : c);
      upgrades.push({
        path,
        value: body.columns,
        description: "list of column names → list of {column}",
      });
    } else if (isRecord(columns)) {
      body.columns = Object.entries(columns).map(([column, settings]) => ({
        column,
        ...(isRecord(settings) ? settings : {}),
      }));
      upgrades.push({
        path,
        value: body.columns,
        description: "map of column → settings → list of {column, …settings}",
      });
    }
  });
  return upgrades;
}

function targetFormat(context: CommandContext, own: DataFormat): DataFormat {
  const { yaml, json } = context.args.flags;
  if (yaml) return "yaml";
  if (json) return "json";
  return own;
}

/** YAML 1.1 as the loader (and pgroll's go-yaml v2) reads it; timestamps stay strings. */
function parseYaml11(text: string) {
  return parseDocument(text, {
    version: "1.1",
    customTags: (tags) =>
      tags.filter((tag) =>
        typeof tag === "string" ||
        (tag.tag !== "tag:yaml.org,2002:timestamp" && !("format" in tag && tag.format === "TIME"))
      ),
  });
}

function describe(path: string, issues: readonly Issue[]): string[] {
  return issues.map((i) =>
    `${path}: ${i.path.length > 0 ? `${formatPath(i.path)}: ` : ""}${i.message}`
  );
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
