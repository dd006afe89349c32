/**
 * Which plugins a command loads: every `--plugin PATH` (relative to the working directory) and
 * the `plugins` of the config file `pgtandem.jsonc` in the migrations folder (relative to that
 * file). The folder is the command's migration file's folder (`start migrations/02.ts`) or the
 * folder it is given (`migrate migrations`).
 *
 * ```jsonc
 * // migrations/pgtandem.jsonc
 * { "plugins": ["../plugins/audit.ts"] }
 * ```
 *
 * The name is not `*.json` on purpose: a migrations folder's `.json` files are migrations, to
 * pgtandem and to pgroll. JSON with comments (`//`, `/* … *\/`) is accepted.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { formatPath, PgtandemError } from "../errors.ts";
import type { Registry } from "../operations/registry.ts";
import { type LoadedPlugin, loadPluginFile, registerPlugins } from "./loader.ts";

/** The config file's name, looked for in the migrations folder. */
export const CONFIG_FILE_NAME = "pgtandem.jsonc";

const configSchema = z
  .object({
    $schema: z.string().optional(),
    plugins: z.array(z.string().min(1)).optional(),
  })
  .strict();

/** A config file, read and checked. */
export interface PluginConfig {
  /** Path of the config file. */
  path: string;
  /** Plugin paths as written, resolved against the config file's folder. */
  plugins: string[];
}

/**
 * The config file of the folder `target` is in (a file) or is (a folder); undefined when there is
 * none or `target` does not exist (the command reports that itself).
 */
export async function findConfig(target: string | undefined): Promise<PluginConfig | undefined> {
  if (target === undefined) return undefined;
  const info = await stat(target).catch(() => undefined);
  if (!info) return undefined;
  const path = join(info.isDirectory() ? target : dirname(target), CONFIG_FILE_NAME);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    if ((cause as { code?: unknown }).code === "ENOENT") return undefined;
    throw new PgtandemError("invalid_input", `${path}: cannot read file: ${String(cause)}`, {
      cause,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(stripComments(text.replace(/^\uFEFF/, "")));
  } catch (cause) {
    throw new PgtandemError(
      "invalid_input",
      `${path}: malformed JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0
      ? `${formatPath(issue.path.map((p) => typeof p === "symbol" ? String(p) : p))}: `
      : "";
    const message = issue.code === "unrecognized_keys"
      ? `unknown field "${issue.keys[0]}" (known: plugins)`
      : issue.message;
    throw new PgtandemError("invalid_input", `${path}: ${where}${message}`);
  }
  const folder = dirname(path);
  return { path, plugins: (parsed.data.plugins ?? []).map((p) => resolve(folder, p)) };
}

/**
 * Loads and registers the plugins of one command: `flags` (the --plugin values) and the config
 * file next to `target`. A file named twice is loaded once.
 */
export async function loadCommandPlugins(
  flags: readonly string[],
  target: string | undefined,
  registry: Registry,
): Promise<LoadedPlugin[]> {
  const config = await findConfig(target);
  const files = [...flags, ...(config?.plugins ?? [])];
  const seen = new Set<string>();
  const plugins: LoadedPlugin[] = [];
  for (const file of files) {
    const absolute = resolve(file);
    if (seen.has(absolute)) continue;
    seen.add(absolute);
    plugins.push(await loadPluginFile(file));
  }
  registerPlugins(registry, plugins);
  return plugins;
}

/** JSON with comments → JSON: drops `//` and `/* *\/` comments outside strings. */
function stripComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      // Keep line breaks so JSON.parse positions still match the file's lines.
      out += text.slice(i, end === -1 ? text.length : end + 2).replace(/[^\n]/g, " ");
      i = end === -1 ? text.length : end + 1;
    } else out += ch;
  }
  return out;
}
