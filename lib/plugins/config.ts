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
 * pgtandem and to pgroll. JSON with comments (`//`, `/* … *\/`) and trailing commas is accepted
 * (jsonc.ts); every error names the line and column, and a plugin listed here that fails to load
 * names this file and its place in `plugins`.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { formatPath, PgtandemError } from "../errors.ts";
import type { Registry } from "../operations/registry.ts";
import { formatPosition, JsoncSyntaxError, parseJsonc, positionOf } from "./jsonc.ts";
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
  /** For each plugin, where the config file lists it: `plugins[1] (line 3, column 5)`. */
  origins: string[];
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
  text = text.replace(/^\uFEFF/, "");
  let raw: unknown;
  try {
    raw = parseJsonc(text);
  } catch (cause) {
    if (!(cause instanceof JsoncSyntaxError)) throw cause;
    throw new PgtandemError(
      "invalid_input",
      `${path}: malformed JSON at ${formatPosition(cause.position)}: ${cause.message}`,
      { cause },
    );
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const issuePath = issue.path.map((p) => typeof p === "symbol" ? String(p) : p);
    const unknownKey = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
    const position = unknownKey !== undefined
      ? positionOf(text, [...issuePath, unknownKey], { key: true })
      : positionOf(text, issuePath);
    const where = [
      ...(position ? [formatPosition(position)] : []),
      ...(issuePath.length > 0 ? [formatPath(issuePath)] : []),
    ].map((part) => `${part}: `).join("");
    const message = unknownKey !== undefined
      ? `unknown field "${unknownKey}" (known: plugins)`
      : issue.message;
    throw new PgtandemError("invalid_input", `${path}: ${where}${message}`);
  }
  const folder = dirname(path);
  const plugins = parsed.data.plugins ?? [];
  return {
    path,
    plugins: plugins.map((p) => resolve(folder, p)),
    origins: plugins.map((_, i) => {
      const position = positionOf(text, ["plugins", i]);
      return `plugins[${i}]${position ? ` (${formatPosition(position)})` : ""}`;
    }),
  };
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
  const files = [
    ...flags.map((file) => ({ file, origin: undefined })),
    ...(config?.plugins ?? []).map((file, i) => ({ file, origin: config!.origins[i] })),
  ];
  const seen = new Set<string>();
  const plugins: LoadedPlugin[] = [];
  for (const { file, origin } of files) {
    const absolute = resolve(file);
    if (seen.has(absolute)) continue;
    seen.add(absolute);
    try {
      plugins.push(await loadPluginFile(file));
    } catch (error) {
      // A path from the config file: say so, or the user looks for a --plugin nobody gave.
      if (origin === undefined || !(error instanceof PgtandemError)) throw error;
      throw new PgtandemError(
        error.code,
        `${config!.path}: ${origin}: ${error.message}`,
        { cause: error },
      );
    }
  }
  registerPlugins(registry, plugins);
  return plugins;
}
