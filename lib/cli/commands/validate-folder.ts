/**
 * `validate DIR`: checks what `migrate DIR` would apply now, the way it would apply it, before
 * anything is applied (lib/engine/folder-validate.ts), and prints what it found.
 */
import { stat } from "node:fs/promises";
import { checkFolder, type FolderCheck } from "../../engine/folder-validate.ts";
import { formatPath } from "../../errors.ts";
import { listMigrationFolder } from "../../migration/folder.ts";
import { memberList } from "../../migration/group.ts";
import type { CommandContext } from "../command.ts";
import { withSession } from "../session.ts";

/** Is `path` a folder (validate and plan take a file or a folder)? */
export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** Runs `validate DIR`; returns the exit code. */
export async function validateFolder(context: CommandContext, dir: string): Promise<number> {
  const { config, io } = context;
  const entries = await listMigrationFolder(dir);
  const found = await withSession(config, context.registry, io, async (session) => {
    await session.state.assertInitialized();
    return await checkFolder({ ...session, registry: context.registry }, dir, entries, {
      schema: config.schema,
      useVersionSchema: config.useVersionSchema,
      allowUserTriggers: config.allowUserTriggers,
      allowDrift: context.args.flags["allow-drift"] === true,
    });
  });
  const valid = found.issues.length === 0;
  if (config.json) {
    io.stdout.write(`${JSON.stringify({ dir, valid, ...found }, null, 2)}\n`);
    return valid ? 0 : 1;
  }
  if (found.note) io.stderr.write(`${found.note}\n`);
  if (context.args.flags["allow-drift"] === true) {
    for (const d of found.drift) io.stderr.write(`Warning: ${d.message}\n`);
  }
  for (const issue of found.issues) {
    const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : "";
    io.stderr.write(`${issue.file}: ${where}${issue.message}\n`);
  }
  if (valid) io.stdout.write(`${dir}: valid${summary(found)}\n`);
  return valid ? 0 : 1;
}

function summary(found: FolderCheck): string {
  const names = memberList(found.migrations.map((name) => ({ name })));
  switch (found.mode) {
    case "group":
      return ` (migrate starts ${names} as one migration group)`;
    case "one-by-one":
      return found.migrations.length > 1
        ? ` (migrate applies ${names} one by one)`
        : ` (migrate applies ${names})`;
    default:
      return "";
  }
}
