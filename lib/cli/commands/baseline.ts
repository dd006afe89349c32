/**
 * `baseline VERSION DIR`: declares the schema as it is now the starting point of its history,
 * for databases that existed before the tool (pgroll's baseline). Records a baseline row (history
 * readers start after it) and writes a placeholder migration file named VERSION, so that the
 * folder and the history line up: `migrate` only considers files whose name sorts after VERSION.
 *
 * The placeholder holds one raw SQL operation whose SQL is a comment: pgroll writes an empty
 * string there, which pgtandem's stricter format rejects; a comment behaves the same when run
 * (a fresh database migrated from the folder runs it as a no-op) and tells the reader that the
 * schema's DDL may be pasted there to build new databases from the folder. A file already named
 * VERSION in the folder is kept as it is.
 */
import { mkdir, rm } from "node:fs/promises";
import process from "node:process";
import { createInterface } from "node:readline/promises";
import { StateError } from "../../errors.ts";
import { compareBytes, listMigrationFolder } from "../../migration/folder.ts";
import { writeMigrationFile } from "../../migration/writer.ts";
import { type Command, type CommandContext, UsageError } from "../command.ts";
import { withSession } from "../session.ts";
import { assertFileName, dataFormat } from "./pull.ts";

export const baselineCommand: Command = {
  name: "baseline",
  summary: "Start the history from the schema as it is now (existing databases)",
  usage: "baseline VERSION DIR [--yes] [--json | --yaml]",
  migrationsPath: (args) => args.positionals[1],
  examples: [
    "pgtandem baseline 00_baseline ./migrations --yes",
    "Asks for confirmation on a terminal; with stdin not a terminal or CI=true, --yes is",
    "required. Name later migrations so they sort after VERSION: migrate ignores the others.",
    "Exit codes: 0 created or declined at the prompt; 1 a migration is active, --yes missing,",
    "            not initialized, file or database error, bad usage",
  ],
  async run(context) {
    const [version, dir, ...rest] = context.args.positionals;
    if (version === undefined || dir === undefined || rest.length > 0) {
      throw new UsageError(
        `"baseline" takes a version name and a target folder, got ${context.args.positionals.length} arguments`,
      );
    }
    assertFileName(version);
    const { config, io } = context;
    const format = dataFormat(context, "yaml");
    const confirm = context.args.flags.yes !== true;
    if (confirm && !canPrompt(context)) {
      throw new UsageError(
        `baseline restarts the migration history of schema "${config.schema}": pass --yes to confirm (no prompt: ${
          io.env.CI && io.env.CI !== "false" ? "CI is set" : "stdin is not a terminal"
        })`,
      );
    }
    await mkdir(dir, { recursive: true });
    const entries = await listMigrationFolder(dir);
    const existing = entries.find((e) => e.name === version);
    const after = entries.filter((e) => compareBytes(e.name, version) > 0).map((e) => e.fileName);

    const result = await withSession(config, context.registry, io, async ({ state }) => {
      await state.assertInitialized();
      const active = await state.activeMigration(config.schema);
      if (active) {
        throw new StateError(
          `cannot create baseline while a migration is in progress: complete or roll back "${active.name}" first`,
        );
      }
      if (confirm && !(await ask(context, version))) return undefined;
      const path = existing?.path ??
        await writeMigrationFile(dir, version, placeholder(config.schema), format);
      try {
        await state.createBaseline(config.schema, version);
      } catch (error) {
        if (!existing) await rm(path, { force: true });
        throw error;
      }
      return { path, written: !existing };
    }, { writes: true });
    if (!result) {
      io.stdout.write(
        config.json
          ? `${JSON.stringify({ schema: config.schema, baseline: version, created: false })}\n`
          : "Baseline not created\n",
      );
      return 0;
    }
    if (config.json) {
      io.stdout.write(
        `${
          JSON.stringify(
            {
              schema: config.schema,
              baseline: version,
              created: true,
              file: result.path,
              placeholderWritten: result.written,
              filesAfterBaseline: after,
            },
            null,
            2,
          )
        }\n`,
      );
    } else {
      io.stdout.write(
        `Baseline "${version}" created for schema "${config.schema}"; ${
          result.written ? "placeholder migration written to" : "kept the existing file"
        } ${result.path}\n`,
      );
    }
    if (after.length > 0) {
      io.stderr.write(
        `Warning: ${after.length} file(s) sort after "${version}" and will be applied by migrate: ${
          after.join(", ")
        }\n`,
      );
    }
    return 0;
  },
};

function placeholder(schema: string): Record<string, unknown> {
  return {
    operations: [{
      sql: {
        up:
          `-- Baseline of schema "${schema}": the schema as it was when the baseline was taken. ` +
          "To build new databases from this folder, replace this comment with its DDL " +
          "(pg_dump --schema-only).",
      },
    }],
  };
}

/** A prompt needs a terminal on stdin and no CI. */
function canPrompt(context: CommandContext): boolean {
  const ci = context.io.env.CI;
  return process.stdin.isTTY === true && (ci === undefined || ci === "" || ci === "false");
}

async function ask(context: CommandContext, version: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      `Creating baseline "${version}" restarts the migration history of schema "${context.config.schema}". Continue? [y/N] `,
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
