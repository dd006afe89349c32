/**
 * Runs the CLI in-process against a test database and captures its output; migration documents
 * are written to temporary files first, exactly as a user would pass them.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../lib/cli/run.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(url: string, args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { PGROLL_PG_URL: url, ...env },
  });
  return { code, stdout, stderr } satisfies CliResult;
}

let dir: string | undefined;

/** Writes a migration file (object → JSON, string → as is) and returns its path. */
export async function migrationFile(name: string, content: object | string): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), "pgtandem-test-"));
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

/** Like `cli` but fails the test with the CLI's stderr when the exit code is not 0. */
export async function cliOk(url: string, args: string[], env: Record<string, string> = {}) {
  const result = await cli(url, args, env);
  if (result.code !== 0) {
    throw new Error(`pgtandem ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return result;
}
