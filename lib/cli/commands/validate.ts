/**
 * `validate FILE`: everything `start` checks before it changes anything, and nothing else. The
 * file is parsed, then each operation is validated against the schema it would meet: the live
 * schema, or, while a migration is active, the schema that migration leaves once completed (the
 * next migration can only start then). Every problem is printed, one per line.
 */
import { type Issue, PgtandemError, ValidationError } from "../../errors.ts";
import { formatPath } from "../../errors.ts";
import type { StateStore } from "../../engine/state.ts";
import { buildSteps, hasOpaqueStep } from "../../operations/steps.ts";
import { schemaOnceCompleted } from "../../engine/group-checks.ts";
import { versionSchemaIssues } from "../../engine/version-schema.ts";
import { backfillIssues } from "../../engine/backfill-checks.ts";
import { dependentObjectIssues } from "../../engine/dependents.ts";
import { shapeIssues } from "../../engine/shape-checks.ts";
import { privilegeIssues } from "../../engine/privilege-checks.ts";
import { userSqlIssues } from "../../engine/expression-check.ts";
import { type LoadedMigration, loadMigrationFile } from "../../migration/loader.ts";
import { migrationVersionName, parseMigration } from "../../migration/migration.ts";
import { versionSchemaName } from "../../naming.ts";
import type { Registry } from "../../operations/registry.ts";
import type { VirtualSchema } from "../../schema/model.ts";
import { type Command, type CommandContext, requirePositional } from "../command.ts";
import { type Session, withSession } from "../session.ts";
import { tableRowEstimates } from "../../engine/explain.ts";
import { isDirectory, validateFolder } from "./validate-folder.ts";
import { type LintFinding, lintMigration } from "../../lint/lint.ts";

export const validateCommand: Command = {
  name: "validate",
  summary: "Check a migration file against the database's schema without changing anything",
  usage: "validate FILE|DIR [--json]",
  examples: [
    "pgtandem validate migrations/03_add_email.yaml",
    "pgtandem validate migrations/   # what migrate DIR would apply: a group, or one by one",
    'Prints "FILE: valid", or every problem as "FILE: path: message", one per line.',
    "Also runs the safety lint (see docs/plan-lint-convert.md): findings go to stderr, as",
    '"FILE: error|warning RULE: path: message" plus the safe alternative.',
    "Every expression (up, down, default, check, predicate, generated) is checked against",
    "the schema it will meet, read-only; raw SQL is parsed. A broken down is a warning.",
    "Exit codes: 0 valid (warnings allowed); 1 invalid (every issue printed), a lint",
    "error, file missing, not initialized",
  ],
  async run(context) {
    const file = requirePositional(context, "a migration file or folder");
    if (await isDirectory(file)) return await validateFolder(context, file);
    const { config, io } = context;
    let loaded: LoadedMigration | undefined;
    let issues: Issue[];
    let note: string | undefined;
    let lint: LintFinding[] = [];
    let warnings: Issue[] = [];
    try {
      loaded = await loadMigrationFile(file, context.registry);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues = error.issues;
    }
    if (loaded) {
      const found = await withSession(config, context.registry, io, async (session) => {
        await session.state.assertInitialized();
        return await check(session, context, loaded);
      });
      issues = found.issues;
      note = found.note;
      lint = found.lint;
      warnings = found.warnings;
    }
    issues ??= [];
    // A lint error makes the file invalid as an issue does; warnings never do.
    const lintErrors = lint.filter((f) => f.severity === "error").length;
    const valid = issues.length === 0 && lintErrors === 0;
    if (config.json) {
      io.stdout.write(
        `${JSON.stringify({ file, valid, issues, warnings, lint }, null, 2)}\n`,
      );
    } else if (issues.length === 0) {
      if (note) io.stderr.write(`${note}\n`);
      if (valid) io.stdout.write(`${file}: valid\n`);
    } else {
      for (const issue of issues) {
        const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : "";
        io.stderr.write(`${file}: ${where}${issue.message}\n`);
      }
    }
    if (!config.json) {
      for (const w of warnings) {
        const where = w.path.length > 0 ? `${formatPath(w.path)}: ` : "";
        io.stderr.write(`${file}: warning: ${where}${w.message}\n`);
      }
      for (const f of lint) {
        const where = f.path.length > 0 ? `${formatPath(f.path)}: ` : "";
        io.stderr.write(`${file}: ${f.severity} ${f.rule}: ${where}${f.message}\n`);
        io.stderr.write(`  safe alternative: ${f.safeAlternative}\n`);
      }
      if (issues.length === 0 && lintErrors > 0) {
        io.stderr.write(
          `${file}: invalid: ${lintErrors} lint error${lintErrors > 1 ? "s" : ""}\n`,
        );
      }
    }
    return valid ? 0 : 1;
  },
};

async function check(
  { state, sql }: Session,
  context: CommandContext,
  loaded: LoadedMigration,
): Promise<{ issues: Issue[]; note?: string; lint: LintFinding[]; warnings: Issue[] }> {
  const { config } = context;
  const schema = config.schema;
  const name = loaded.migration.name;
  const issues: Issue[] = [];
  const inHistory = await state.hasMigration(schema, name);
  if (inHistory) {
    issues.push({
      path: [],
      message: `migration "${name}" is already in the history of schema "${schema}"`,
    });
  }
  const { virtual, note } = await schemaToCheckAgainst(state, schema, context.registry);
  const built = buildSteps(loaded.operations, virtual, schema, { validate: true });
  issues.push(...built.issues);
  let warnings: Issue[] = [];
  if (built.issues.length === 0) {
    const checked = await userSqlIssues(sql, built.steps, { baseSchema: schema });
    issues.push(...checked.errors);
    warnings = checked.warnings;
  }
  // Objects depending on what the migration replaces or drops (only the live catalog knows them).
  if (note === undefined && built.issues.length === 0) {
    issues.push(...await shapeIssues(sql, schema, built.steps));
    issues.push(
      ...await privilegeIssues(
        sql,
        schema,
        built.steps,
        config.useVersionSchema
          ? versionSchemaName(schema, migrationVersionName(loaded.migration))
          : undefined,
      ),
    );
    issues.push(...await dependentObjectIssues({ sql, state, baseSchema: schema }, built.steps));
    const backfilled = built.steps.flatMap((s) => s.result.backfills ?? []).map((b) => b.table);
    issues.push(
      ...await backfillIssues(sql, schema, backfilled, {
        allowUserTriggers: config.allowUserTriggers,
      }),
    );
  }
  if (config.useVersionSchema) {
    issues.push(
      ...await versionSchemaIssues(sql, schema, loaded.migration, { applied: inHistory }),
    );
  }
  const linted = await lintMigration(loaded.operations, {
    schema: virtual,
    baseSchema: schema,
    rowEstimates: await tableRowEstimates(sql, schema),
  });
  // SQL that does not parse is already an issue of its field; the lint would only repeat it.
  const where = new Set(issues.map((i) => formatPath(i.path)));
  const lint = linted.filter((f) => !(f.rule === "sql-syntax" && where.has(formatPath(f.path))));
  return note === undefined ? { issues, lint, warnings } : { issues, note, lint, warnings };
}

/**
 * The live schema, or while a migration is active the virtual schema its start produced: what
 * the next migration sees once it is completed. Raw SQL in the active migration, or a migration
 * pgroll started (no start snapshot recorded), leave only the live schema to go by.
 */
async function schemaToCheckAgainst(
  state: StateStore,
  schema: string,
  registry: Registry,
): Promise<{ virtual: VirtualSchema; note?: string }> {
  const active = await state.activeMigration(schema);
  const live = async (why?: string) => {
    const virtual = await state.catalog.readVirtualSchema(schema);
    return why === undefined ? { virtual } : { virtual, note: why };
  };
  if (!active) return await live();
  const run = await state.runInfo(schema, active.name);
  const fallback = `Note: migration "${active.name}" is active; checked against the live schema`;
  if (!run) return await live(fallback);
  let operations;
  try {
    operations = parseMigration(
      `migration "${active.name}"`,
      active.name,
      active.migration,
      registry,
    ).operations;
  } catch (error) {
    if (error instanceof PgtandemError) return await live(fallback);
    throw error;
  }
  const { steps } = buildSteps(operations, run.startedSchema, schema, {
    validate: false,
  });
  if (hasOpaqueStep(steps, "atStart") || hasOpaqueStep(steps, "atComplete")) {
    return await live(fallback);
  }
  return {
    virtual: schemaOnceCompleted(steps.at(-1)?.after ?? (run.startedSchema)),
    note:
      `Note: migration "${active.name}" is active; checked against the schema it leaves once completed`,
  };
}
