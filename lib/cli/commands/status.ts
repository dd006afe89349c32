import { versionSchemaName } from "../../naming.ts";
import type { MigrationRow } from "../../engine/state.ts";
import { type Drift, driftWithin, folderDrift } from "../../engine/drift.ts";
import { listMigrationFolder } from "../../migration/folder.ts";
import { type Command, UsageError } from "../command.ts";
import { withSession } from "../session.ts";

/** pgroll's status document, key for key. */
export interface StatusDocument {
  schema: string;
  version: string;
  status: "No migrations" | "In progress" | "Complete";
}

/** One row of `status --history`. */
export interface HistoryItem {
  name: string;
  type: MigrationRow["migrationType"];
  /** "active" while started and not completed. */
  state: "done" | "active";
  parent: string | null;
  /** The version schema the migration serves (or served); null for baselines and inferred rows. */
  versionSchema: string | null;
  /** Does that version schema exist now? */
  versionSchemaExists: boolean;
  createdAt: string;
  /** At or before the newest baseline: `migrate` and `pull` no longer look at it. */
  beforeBaseline: boolean;
}

export const statusCommand: Command = {
  name: "status",
  summary: "Show the schema's current version and whether a migration is in progress (JSON)",
  usage: "status [DIR] [--history [--json]]",
  examples: [
    'pgtandem status migrations/       # and "drift": applied files changed or missing since',
    "pgtandem status --schema public",
    "pgtandem status --history          # and every migration, as a table",
    'pgtandem status --history --json   # pgroll\'s document plus a "history" array',
  ],
  async run(context) {
    const [dir, ...extra] = context.args.positionals;
    if (extra.length > 0) {
      throw new UsageError(`"status" takes at most one migrations folder, got ${extra.length + 1}`);
    }
    const { config } = context;
    const withHistory = context.args.flags.history === true;
    const entries = dir === undefined ? undefined : await listMigrationFolder(dir);
    const { document, history, drift } = await withSession(
      config,
      context.registry,
      context.io,
      async ({ state, sql }) => {
        await state.assertInitialized();
        const version = (await state.latestVersion(config.schema)) ?? "";
        const active = await state.activeMigration(config.schema);
        const status: StatusDocument["status"] = version === "" && !active
          ? "No migrations"
          : active
          ? "In progress"
          : "Complete";
        const document = { schema: config.schema, version, status } satisfies StatusDocument;
        const drift = dir === undefined || entries === undefined ? undefined : driftWithin(
          await folderDrift(state, config.schema, dir, entries, context.registry),
          entries,
        );
        if (!withHistory) return { document, history: [], drift };
        const rows = await state.fullHistory(config.schema);
        const names = rows.map((r) => versionSchemaOf(config.schema, r)).filter((n) => n !== null);
        const existing = new Set(
          (await sql.unsafe<{ nspname: string }[]>(
            "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = ANY($1::text[])",
            [names],
          )).map((r) => r.nspname),
        );
        const lastBaseline = rows.map((r) => r.migrationType).lastIndexOf("baseline");
        const history = rows.map((row, index): HistoryItem => {
          const versionSchema = versionSchemaOf(config.schema, row);
          return {
            name: row.name,
            type: row.migrationType,
            state: row.done ? "done" : "active",
            parent: row.parent,
            versionSchema,
            versionSchemaExists: versionSchema !== null && existing.has(versionSchema),
            createdAt: timestamp(row.createdAt),
            beforeBaseline: index <= lastBaseline,
          };
        });
        return { document, history, drift };
      },
    );
    // With a folder, pgroll's document gains "drift" (an empty list when there is none).
    const withDrift = drift === undefined ? document : { ...document, drift };
    if (!withHistory) {
      context.io.stdout.write(`${JSON.stringify(withDrift, null, 2)}\n`);
    } else if (config.json) {
      context.io.stdout.write(`${JSON.stringify({ ...withDrift, history }, null, 2)}\n`);
    } else {
      context.io.stdout.write(historyTable(document, history));
    }
    if (!config.json) reportDrift(context.io.stderr, drift);
    return 0;
  },
};

/** One line per drifted migration on stderr (the JSON document has them as data). */
function reportDrift(stderr: { write(text: string): unknown }, drift: Drift[] | undefined): void {
  for (const d of drift ?? []) stderr.write(`Drift: ${d.message}\n`);
}

/** pgroll rows serve a version schema; baselines and inferred rows never create one. */
function versionSchemaOf(schema: string, row: MigrationRow): string | null {
  if (row.migrationType !== "pgroll") return null;
  const declared = row.migration.version_schema;
  return versionSchemaName(schema, typeof declared === "string" ? declared : row.name);
}

function timestamp(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function historyTable(document: StatusDocument, history: HistoryItem[]): string {
  const head = `Schema "${document.schema}": ${document.status}${
    document.version ? `, latest version "${document.version}"` : ""
  }\n`;
  if (history.length === 0) return `${head}No history\n`;
  const rows = [
    ["NAME", "TYPE", "STATE", "VERSION SCHEMA", "CREATED"],
    ...history.map((h) => [
      `${h.beforeBaseline ? "(" : ""}${h.name}${h.beforeBaseline ? ")" : ""}`,
      h.type,
      h.state,
      h.versionSchema === null
        ? "-"
        : `${h.versionSchema}${h.versionSchemaExists ? "" : " (removed)"}`,
      h.createdAt,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  const note = history.some((h) => h.beforeBaseline)
    ? "(names in parentheses: at or before the newest baseline; migrate and pull ignore them)\n"
    : "";
  return `${head}${lines.join("\n")}\n${note}`;
}
