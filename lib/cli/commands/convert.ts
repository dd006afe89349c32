/**
 * `convert [FILE] [--ts|--yaml|--json] [--migrations DIR | --postgres-url URL]`: SQL DDL (a
 * file, or stdin) → a migration on stdout, TypeScript by default. Statements the operations
 * cannot express become raw `sql` operations; data migrations SQL does not give are written as
 * placeholders containing "TODO:", each listed on stderr (validate and start refuse them). Needs
 * no database; with `--migrations DIR` (replayed) or `--postgres-url` given on the command line
 * (read only) it knows old column types, so a type change gets its `down`.
 */
import { readFile } from "node:fs/promises";
import { Buffer } from "node:buffer";
import process from "node:process";
import { type Conversion, type ConvertOptions, convertSql } from "../../convert/convert.ts";
import { type ConvertFormat, formatConversion } from "../../convert/output.ts";
import { formatPath, PgtandemError } from "../../errors.ts";
import { SqlSyntaxError } from "../../pg/parser.ts";
import { type Command, UsageError } from "../command.ts";
import { databaseKnowledge, folderSchema } from "./convert-schema.ts";

export const convertCommand: Command = {
  name: "convert",
  summary: "Convert SQL DDL (file or stdin) into a migration: TypeScript, YAML or JSON",
  usage: "convert [FILE] [--ts|--yaml|--json] [--migrations DIR | --postgres-url URL]",
  examples: [
    "pgtandem convert schema-change.sql > migrations/05_change.ts",
    "pgtandem convert drizzle/0003_change.sql --migrations migrations > migrations/05_change.ts",
    "pgtandem convert change.sql --json --postgres-url $DATABASE_URL   # reads the schema only",
    "echo 'ALTER TABLE users ADD COLUMN age int' | pgtandem convert --yaml",
    "Placeholders (TODO:) are listed on stderr; validate and start refuse them until replaced.",
    "Exit codes: 0 converted; 1 SQL that does not parse (message with line and column), file",
    "missing, a folder that does not replay, a database not initialized, bad usage",
  ],
  migrationsPath: (args) => (args.flags.migrations as string | undefined) ?? args.positionals[0],
  async run(context) {
    const { args, io } = context;
    if (args.positionals.length > 1) {
      throw new UsageError(
        `"convert" takes at most one SQL file, got ${args.positionals.length} arguments`,
      );
    }
    const chosen = (["ts", "yaml", "json"] as const).filter((f) => args.flags[f] === true);
    if (chosen.length > 1) {
      throw new UsageError(
        `choose one output format, got ${chosen.map((f) => `--${f}`).join(" ")}`,
      );
    }
    const format: ConvertFormat = chosen[0] ?? "ts";
    const file = args.positionals[0];
    const source = file === undefined || file === "-" ? "stdin" : file;
    const sql = source === "stdin" ? await readStdin() : await readSqlFile(source);
    const folder = args.flags.migrations as string | undefined;
    // Only the flag, not PGROLL_PG_URL: convert stays offline unless asked on the command line.
    const url = args.flags["postgres-url"] as string | undefined;
    if (folder !== undefined && url !== undefined) {
      throw new UsageError("choose one of --migrations and --postgres-url, not both");
    }
    let conversion: Conversion;
    try {
      const run = (options: ConvertOptions) =>
        convertSql(sql, { ...options, schemaName: context.config.schema });
      if (folder !== undefined) {
        conversion = await run({ schema: await folderSchema(context, folder) });
      } else if (url !== undefined) conversion = await databaseKnowledge(context, run);
      else conversion = await run({});
    } catch (error) {
      if (error instanceof SqlSyntaxError) {
        throw new PgtandemError("invalid_input", `${source}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    if (conversion.operations.length === 0) {
      throw new PgtandemError("invalid_input", `${source}: no SQL statements to convert`);
    }
    io.stdout.write(formatConversion(conversion.operations, format));
    if (conversion.placeholders.length > 0) {
      io.stderr.write(
        `Warning: ${conversion.placeholders.length} placeholder(s) to review (each contains "TODO:"): ${
          conversion.placeholders.map((p) => formatPath(p.path)).join(", ")
        }\n`,
      );
    }
    return 0;
  },
};

async function readSqlFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const why = code === "ENOENT" ? "file not found" : `cannot read file: ${String(cause)}`;
    throw new PgtandemError("invalid_input", `${path}: ${why}`, { cause });
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError('"convert" needs a SQL file, or SQL on standard input');
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
