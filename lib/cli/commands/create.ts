/**
 * `create`: scaffolds a migration file with an empty list of operations. TypeScript by default
 * (`export default defineMigration({ operations: [] })`, importing "pgtandem", which the binary
 * serves), or pgroll's YAML / JSON. pgroll's create asks for operations interactively; this one
 * never prompts, so it behaves the same in scripts.
 *
 * `--json` is the global "print JSON" flag and pgroll's "write JSON" at once. Alone, it writes a
 * JSON file as pgroll does, except in a folder of TypeScript migrations (its last migration is a
 * `.ts` file): there it writes TypeScript, so asking for a JSON report never turns a TypeScript
 * project into a mixed one. A file of the same name with any migration extension is refused,
 * whether or not the folder counts it as a migration.
 */
import { mkdir, readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { PgtandemError } from "../../errors.ts";
import { listMigrationFolder, MIGRATION_FILE_EXTENSIONS } from "../../migration/folder.ts";
import { extensionOf, formatMigration, writeText } from "../../migration/writer.ts";
import { byteLength, MAX_IDENTIFIER_BYTES, versionSchemaName } from "../../naming.ts";
import { type Command, type CommandContext, UsageError } from "../command.ts";
import { assertFileName } from "./pull.ts";
import { refreshSchemaTypes } from "./types.ts";

type FileFormat = "ts" | "yaml" | "json";

export const createCommand: Command = {
  name: "create",
  summary: "Create a migration file with no operations yet (TypeScript by default)",
  usage: "create [NAME | --name NAME] [--ts | --yaml | --json] [--empty] [--dir DIR]",
  migrationsPath: (args) => (args.flags.dir as string | undefined) ?? ".",
  examples: [
    "pgtandem create --name 03_add_email --dir ./migrations        # 03_add_email.ts",
    "pgtandem create 03_add_email --yaml --dir ./migrations        # 03_add_email.yaml",
    "--json makes the report JSON; alone it also writes JSON (pgroll), except in a folder",
    "whose last migration is TypeScript: there the file is TypeScript too.",
    "Exit codes: 0 created; 1 a migration of that name exists, bad name, bad usage",
  ],
  run(context) {
    return create(context);
  },
};

async function create(context: CommandContext): Promise<number> {
  const { flags, positionals } = context.args;
  if (positionals.length > 1 || (positionals.length === 1 && flags.name !== undefined)) {
    throw new UsageError(`"create" takes one name, as an argument or with --name`);
  }
  const name = (flags.name as string | undefined) ?? positionals[0];
  if (name === undefined || name === "") {
    throw new UsageError(`"create" needs a migration name: pgtandem create --name 03_add_email`);
  }
  assertFileName(name);
  const versionSchema = versionSchemaName(context.config.schema, name);
  if (byteLength(versionSchema) > MAX_IDENTIFIER_BYTES) {
    throw new PgtandemError(
      "invalid_input",
      `migration name "${name}" is too long: its version schema "${versionSchema}" would exceed ${MAX_IDENTIFIER_BYTES} bytes`,
    );
  }
  const dir = (flags.dir as string | undefined) ?? ".";
  await mkdir(dir, { recursive: true });
  const clash = (await readdir(dir)).find((file) =>
    (MIGRATION_FILE_EXTENSIONS as readonly string[]).includes(extname(file).toLowerCase()) &&
    file.slice(0, -extname(file).length) === name
  );
  if (clash) {
    throw new PgtandemError(
      "invalid_input",
      `a migration named "${name}" already exists: ${join(dir, clash)}`,
    );
  }
  const format = fileFormat(context, (await listMigrationFolder(dir)).at(-1)?.extension);
  const path = join(dir, `${name}${format === "ts" ? ".ts" : extensionOf(format)}`);
  await writeText(path, scaffold(format, flags.empty === true));
  const types = await refreshSchemaTypes(context, dir);
  context.io.stdout.write(
    context.config.json
      ? `${JSON.stringify({ name, file: path, format }, null, 2)}\n`
      : `Created ${path}\n${types.map((file) => `Updated ${file}\n`).join("")}`,
  );
  return 0;
}

/** --ts, --yaml; --json alone: JSON, or TypeScript when the folder's last migration is. */
function fileFormat(context: CommandContext, lastExtension: string | undefined): FileFormat {
  const { ts, yaml, json } = context.args.flags;
  if (ts && yaml) throw new UsageError("choose one of --ts and --yaml");
  if (ts) return "ts";
  if (yaml) return "yaml";
  if (!json) return "ts";
  return lastExtension === ".ts" ? "ts" : "json";
}

/** The new file's text: no operations, and unless `empty` a commented example. */
export function scaffold(format: FileFormat, empty: boolean): string {
  if (format === "json") return formatMigration({ operations: [] }, "json");
  if (format === "yaml") {
    const example = [
      "# Operations run in order, in pgroll's format. For example:",
      "#",
      "# operations:",
      "#   - create_table:",
      "#       name: users",
      "#       columns:",
      "#         - name: id",
      "#           type: serial",
      "#           pk: true",
      "#         - name: email",
      "#           type: text",
      "#           unique: true",
      "",
    ];
    return [...(empty ? [] : example), "operations: []", ""].join("\n");
  }
  const example = [
    "    // Operations run in order, built with the DSL. For example (import createTable, t and",
    '    // sql from "pgtandem" too):',
    "    //",
    '    // createTable("users", {',
    "    //   id: t.serial().primaryKey(),",
    "    //   email: t.text().unique(),",
    "    //   created_at: t.timestamptz().default(sql`now()`),",
    "    // }),",
  ];
  return [
    'import { defineMigration } from "pgtandem";',
    "",
    "export default defineMigration({",
    ...(empty ? ["  operations: [],"] : ["  operations: [", ...example, "  ],"]),
    "});",
    "",
  ].join("\n");
}
