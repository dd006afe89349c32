/**
 * `plan FILE... | DIR [--json]`: what start, complete and rollback would run, in execution order, with the
 * lock each statement takes, whether it scans or rewrites its table, the backfill's estimated
 * rows, and the safety lint's findings. Nothing is changed: every read runs in one READ ONLY
 * transaction, so PostgreSQL itself guarantees it.
 *
 * The JSON shape (stable; documented in docs/plan-lint-convert.md, "plan"):
 * `{ migration, schema, versionSchema, phases: [{ command, phase, transaction, note?,
 * statements: [{ id, sql, table, lock, effect, concurrent, userSql, note? }] }],
 * backfill: [{ table, estimatedRows }], warnings: [{ file, path, message }],
 * lint: [{ rule, severity, path, message,
 * safeAlternative }] }`. A group (several files, or a folder whose unapplied files migrate starts
 * as one) adds `group: { members, migrate }` and lint findings carry the member `file`. A folder
 * whose unapplied files migrate applies one by one is planned file by file (plan-folder.ts).
 */
import {
  explainMigration,
  type MigrationPlan,
  type PlannedStatement,
  tableRowEstimates,
} from "../../engine/explain.ts";
import { planFolder } from "../../engine/folder-plan.ts";
import { formatPath } from "../../errors.ts";
import { type LintFinding, lintMigration } from "../../lint/lint.ts";
import { type LoadedMigration, loadMigrationFile } from "../../migration/loader.ts";
import { listMigrationFolder, loadMigrations } from "../../migration/folder.ts";
import {
  composeGroup,
  type GroupMember,
  groupOf,
  memberList,
  memberOfOperation,
} from "../../migration/group.ts";
import { type Command, UsageError } from "../command.ts";
import { isDirectory } from "./validate-folder.ts";
import { planSequence } from "./plan-folder.ts";
import { type Io, type Output, useColor } from "../io.ts";
import { refinedPlan, withReadOnlySession } from "../read-only.ts";

export const planCommand: Command = {
  name: "plan",
  summary: "Show the SQL, locks and backfill start/complete/rollback would run, and lint it",
  usage: "plan FILE... | DIR [--json]",
  examples: [
    "pgtandem plan migrations/03_add_email.yaml",
    "pgtandem plan migrations/03_add_email.yaml --json | jq '.phases[].statements[].lock'",
    "pgtandem plan migrations/          # what migrate DIR would start: one file, or a group",
    "pgtandem plan 02_a.yaml 03_b.yaml  # the group `start 02_a.yaml 03_b.yaml` would start",
    "Changes nothing (one READ ONLY transaction). Exit codes: 0 planned (lint findings are",
    "reported, not fatal); 1 invalid migration (same errors as start), not initialized,",
    "another migration active, cannot connect",
  ],
  async run(context) {
    const paths = context.args.positionals;
    if (paths.length === 0) throw new UsageError(`"plan" needs a migration file or folder`);
    const folder = paths.length === 1 && await isDirectory(paths[0]!) ? paths[0] : undefined;
    if (folder) {
      // Several files migrate applies one by one: each planned after the ones before it.
      const code = await planSequence(context, folder);
      if (code !== undefined) return code;
    }
    // Parse and check the files before touching the database.
    const files: LoadedMigration[] = [];
    if (!folder) {
      for (const path of paths) files.push(await loadMigrationFile(path, context.registry));
    }
    const entries = folder ? await listMigrationFolder(folder) : [];
    const { io, config } = context;
    const planned = await withReadOnlySession(
      context,
      async ({ sql: readOnly, state, serverMajor }) => {
        let members = files;
        let migrateMode: GroupInfo["migrate"] = null;
        if (folder) {
          await state.assertInitialized();
          const pending = await planFolder(state, entries, {
            schema: config.schema,
            useVersionSchema: config.useVersionSchema,
            oneByOne: false,
          });
          const { unapplied } = pending.comparison;
          if (unapplied.length === 0) return undefined;
          members = await loadMigrations(unapplied, context.registry);
          migrateMode = pending.group ? "group" : "one-by-one";
        }
        const loaded = members.length === 1 ? members[0]! : composeGroup(members);
        const { plan, initial, warnings } = await explainMigration(loaded, {
          sql: readOnly,
          state,
          schema: config.schema,
          useVersionSchema: config.useVersionSchema,
          allowUserTriggers: config.allowUserTriggers,
          serverMajor,
        });
        const lint = await lintMigration(loaded.operations, {
          schema: initial,
          baseSchema: config.schema,
          rowEstimates: await tableRowEstimates(readOnly, config.schema),
        });
        const group = groupOf(loaded);
        if (!group) {
          const located = warnings.map((w) => ({ file: loaded.path, ...w }));
          return { plan, lint, warnings: located, group: undefined };
        }
        return {
          plan,
          lint: lint.map((f) => inMemberFile(group, f)),
          warnings: warnings.map((w) => inMemberFile(group, w)),
          group: { members: group.map((m) => m.name), migrate: migrateMode },
        };
      },
    );
    if (!planned) {
      if (config.json) {
        io.stdout.write(`${JSON.stringify({ schema: config.schema, status: "up_to_date" })}\n`);
      } else io.stdout.write("Database is up to date; no migrations to plan\n");
      return 0;
    }
    const { plan, lint, warnings, group } = planned;
    const refined = await refinedPlan(plan);
    if (config.json) {
      io.stdout.write(
        `${JSON.stringify({ ...refined, ...(group ? { group } : {}), warnings, lint }, null, 2)}\n`,
      );
    } else {
      if (group) io.stdout.write(groupHeader(refined, group));
      io.stdout.write(renderPlan(refined, lint, io, io.stdout));
      // What start accepts with a warning (a broken `down`), as validate prints it.
      for (const w of warnings) {
        io.stderr.write(`${w.file}: warning: ${formatPath(w.path)}: ${w.message}\n`);
      }
    }
    return 0;
  },
};

/** What `plan` says about a group: its members, and whether `migrate DIR` starts them so. */
interface GroupInfo {
  members: string[];
  /** For `plan DIR`: how migrate applies the files now; null for files given by name. */
  migrate: "group" | "one-by-one" | null;
}

/** A lint finding or warning of a group, located in its member file. */
type GroupLintFinding = LintFinding & { file?: string };

function inMemberFile<F extends { path: (string | number)[] }>(
  group: readonly GroupMember[],
  finding: F,
): F & { file?: string } {
  const [head, index, ...rest] = finding.path;
  if (head !== "operations" || typeof index !== "number") return finding;
  const { member, local } = memberOfOperation(group, index);
  return { ...finding, file: member.path, path: ["operations", local, ...rest] };
}

function groupHeader(plan: MigrationPlan, group: GroupInfo): string {
  const lines = [
    `Migration group "${plan.migration}": ${
      memberList(group.members.map((name) => ({ name })))
    } start, complete and roll back as one migration; only the version before the group and "${plan.versionSchema}" are served meanwhile.`,
  ];
  if (group.migrate === "one-by-one") {
    lines.push(
      "Note: migrate DIR applies these files one by one now (no version schema is deployed); this is the plan of starting them with one `pgtandem start FILE...`.",
    );
  }
  return `${lines.join("\n")}\n\n`;
}

interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  lock(lock: string, text: string): string;
  severity(severity: string, text: string): string;
}

function palette(color: boolean): Palette {
  const wrap = (code: string) => (text: string) => color ? `\x1b[${code}m${text}\x1b[0m` : text;
  const red = wrap("31");
  const yellow = wrap("33");
  const green = wrap("32");
  return {
    bold: wrap("1"),
    dim: wrap("2"),
    lock: (lock, text) =>
      lock === "ACCESS EXCLUSIVE" || lock === "EXCLUSIVE"
        ? red(text)
        : lock === "none" || lock === "ACCESS SHARE"
        ? green(text)
        : yellow(text),
    severity: (severity, text) => severity === "error" ? red(text) : yellow(text),
  };
}

const PHASE_TITLES: Record<string, string> = {
  "start/columns": "new columns and other changes",
  "start/triggers": "sync triggers",
  "start/constraints": "constraints on the new columns",
  "start/views": "version schema and views",
  "complete/prepare": "drop the previous version, validate, build",
  "complete/switch-over": "switch-over",
  "complete/refresh-views": "refresh the views",
  "rollback/undo": "undo",
  "rollback/after": "what cannot run in a transaction, and the raw SQL's down",
};

/** The human plan: phases, then one aligned line per statement, then backfill and lint. */
export function renderPlan(
  plan: MigrationPlan,
  lint: readonly LintFinding[],
  io: Io,
  stream: Output,
): string {
  const p = palette(useColor(io, stream));
  const all = plan.phases.flatMap((ph) => ph.statements);
  const lockWidth = Math.max(4, ...all.map((s) => s.lock.length));
  const tableWidth = Math.max(5, ...all.map((s) => (s.table ?? "-").length));
  const effectWidth = Math.max(6, ...all.map((s) => effectLabel(s).length));
  const out: string[] = [];
  out.push(
    p.bold(`Plan for migration "${plan.migration}" on schema "${plan.schema}"`) +
      (plan.versionSchema ? ` (new version schema "${plan.versionSchema}")` : ""),
  );
  out.push(p.dim("Nothing was changed. Locks are the strongest table lock each statement takes."));
  let number = 0;
  for (const command of ["start", "complete", "rollback"] as const) {
    out.push("", p.bold(command));
    const phases = plan.phases.filter((ph) => ph.command === command);
    for (const phase of phases) {
      if (phase.statements.length === 0 && !phase.note) continue;
      const title = PHASE_TITLES[`${command}/${phase.phase}`] ?? phase.phase;
      const transaction = phase.transaction === "single"
        ? "one transaction"
        : "each statement commits on its own";
      out.push(`  ${p.bold(phase.phase)}: ${title} ${p.dim(`(${transaction})`)}`);
      if (phase.note) out.push(`    ${p.dim(`note: ${phase.note}`)}`);
      for (const statement of phase.statements) {
        number++;
        const head = `    ${String(number).padStart(3)}  ${
          p.lock(statement.lock, statement.lock.padEnd(lockWidth))
        }  ${(statement.table ?? "-").padEnd(tableWidth)}  ${
          effectLabel(statement).padEnd(effectWidth)
        }  `;
        const indent = " ".repeat(4 + 3 + 2 + lockWidth + 2 + tableWidth + 2 + effectWidth + 2);
        const lines = statement.sql.split("\n");
        out.push(head + lines[0]);
        for (const line of lines.slice(1)) out.push(indent + line);
        if (statement.note) out.push(indent + p.dim(`-- ${statement.note}`));
      }
    }
    if (command === "start" && plan.backfill.length > 0) {
      out.push(`  ${p.bold("backfill")}: batches of rows, each in its own short transaction`);
      for (const b of plan.backfill) {
        const rows = b.estimatedRows === null ? "unknown size" : `~${b.estimatedRows} rows`;
        out.push(`    ${b.table}: ${rows} (estimated by PostgreSQL)`);
      }
    }
  }
  out.push("", p.bold("lint"));
  if (lint.length === 0) out.push("  no findings");
  for (const f of lint) {
    const where = `${(f as GroupLintFinding).file ? `${(f as GroupLintFinding).file}: ` : ""}${
      f.path.length > 0 ? `${formatPath(f.path)}: ` : ""
    }`;
    out.push(`  ${p.severity(f.severity, f.severity)} ${f.rule}: ${where}${f.message}`);
    out.push(`    ${p.dim(`safe alternative: ${f.safeAlternative}`)}`);
  }
  return `${out.join("\n")}\n`;
}

function effectLabel(statement: PlannedStatement): string {
  const label: Record<string, string> = {
    none: "no table data",
    catalog: "catalog only",
    scan: "scans table",
    rewrite: "REWRITES table",
    write: "writes rows",
    unknown: "?",
  };
  const text = label[statement.effect] ?? statement.effect;
  return statement.concurrent ? `${text}, online` : text;
}
