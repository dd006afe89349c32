/** Temporary migration folders for tests of the folder commands. */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A new temporary folder holding `files` (objects as indented JSON, strings as is). */
export async function tempFolder(files: Record<string, object | string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pgtandem-folder-"));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(
      join(dir, name),
      typeof content === "string" ? content : JSON.stringify(content, null, 2),
    );
  }
  return dir;
}
