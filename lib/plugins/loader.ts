/**
 * Loading plugin modules: import, check, register. Every problem is a PgtandemError with code
 * "plugin" whose message names the plugin file, and it is raised before anything touches the
 * database. A plugin kind registers exactly as a built-in kind does; a kind registered twice
 * (against a built-in or another plugin) is an error, never an override (STYLE 5).
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { PgtandemError } from "../errors.ts";
import { importFailure } from "../migration/module.ts";
import type { OperationDefinition } from "../operations/operation.ts";
import type { Registry } from "../operations/registry.ts";
import { runtime } from "../runtime.ts";
import { isPlugin, type Plugin, PLUGIN_API_VERSION, PLUGIN_BRAND } from "./define.ts";
import { pluginOf, pluginOperationDefinition } from "./definitions.ts";

/** A plugin module after loading and checking. */
export interface LoadedPlugin {
  name: string;
  /** Absolute path of the module. */
  path: string;
  /** The kinds it defines, in its order. */
  kinds: string[];
  definitions: OperationDefinition[];
}

const PLUGIN_NAME = /^[a-z][a-z0-9_-]*$/;
const KIND_SUFFIX = /^[a-z][a-z0-9_]*$/;

function pluginError(file: string, message: string, cause?: unknown): PgtandemError {
  return new PgtandemError(
    "plugin",
    `plugin file "${file}": ${message}`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Imports and checks the plugin module at `file` (relative to the working directory). `file` is
 * how messages name it.
 */
export async function loadPluginFile(file: string): Promise<LoadedPlugin> {
  const path = resolve(file);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) {
    throw pluginError(file, info ? "is not a file" : "does not exist");
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = await runtime().importModule(path);
  } catch (cause) {
    throw pluginError(file, importFailure(cause), cause);
  }
  return checkPlugin(namespace.default, file, path);
}

/** Checks a plugin module's default export and builds its operation definitions. */
export function checkPlugin(value: unknown, file: string, path = resolve(file)): LoadedPlugin {
  if (!isPlugin(value)) {
    throw pluginError(
      file,
      value === undefined
        ? 'the module has no default export; write "export default definePlugin({ … })"'
        : 'the default export is not a plugin; write "export default definePlugin({ … })"',
    );
  }
  const plugin: Plugin = value;
  const version = plugin[PLUGIN_BRAND];
  if (version !== PLUGIN_API_VERSION) {
    throw pluginError(
      file,
      `it uses plugin API version ${version}; this pgtandem supports version ${PLUGIN_API_VERSION}`,
    );
  }
  const { name, operations } = plugin;
  if (typeof name !== "string" || !PLUGIN_NAME.test(name)) {
    throw pluginError(
      file,
      `invalid plugin name ${JSON.stringify(name) ?? String(name)}: ` +
        "use lower-case letters, digits, _ and -, starting with a letter",
    );
  }
  if (typeof operations !== "object" || operations === null || Array.isArray(operations)) {
    throw pluginError(file, `plugin "${name}" has no operations object`);
  }
  const kinds = Object.keys(operations);
  if (kinds.length === 0) throw pluginError(file, `plugin "${name}" defines no operations`);
  const definitions: OperationDefinition[] = [];
  for (const kind of kinds) {
    const [namespace, suffix] = kind.split(/:(.*)/s) as [string, string | undefined];
    if (suffix === undefined || namespace !== name) {
      const base = suffix ?? kind;
      throw pluginError(
        file,
        `operation kind "${kind}" is not in the plugin's namespace: name it "${name}:${base}"`,
      );
    }
    if (!KIND_SUFFIX.test(suffix)) {
      throw pluginError(
        file,
        `invalid operation kind "${kind}": after "${name}:" use lower-case letters, digits and _`,
      );
    }
    const spec = (operations as Record<string, unknown>)[kind];
    checkSpec(spec, kind, file);
    definitions.push(pluginOperationDefinition(kind, spec as never, { name, path }));
  }
  return { name, path, kinds, definitions };
}

function checkSpec(spec: unknown, kind: string, file: string): void {
  if (typeof spec !== "object" || spec === null) {
    throw pluginError(
      file,
      `operation "${kind}" must be an object with params and expand or start`,
    );
  }
  const s = spec as Record<string, unknown>;
  if (!isZodSchema(s.params)) {
    throw pluginError(
      file,
      `operation "${kind}": params must be a zod schema (z.object({ … }).strict()), got ${
        describe(s.params)
      }`,
    );
  }
  if (s.description !== undefined && typeof s.description !== "string") {
    throw pluginError(file, `operation "${kind}": description must be a string`);
  }
  const hasExpand = s.expand !== undefined;
  const phases = ["start", "complete", "rollback"] as const;
  const given = phases.filter((p) => s[p] !== undefined);
  if (hasExpand && given.length > 0) {
    throw pluginError(
      file,
      `operation "${kind}" has both expand and ${given.join("/")}: an operation either expands ` +
        "into built-in operations or plans its own actions",
    );
  }
  if (hasExpand) {
    if (typeof s.expand !== "function") {
      throw pluginError(file, `operation "${kind}": expand must be a function`);
    }
    return;
  }
  if (given.length === 0) {
    throw pluginError(
      file,
      `operation "${kind}" needs expand, or start, complete and rollback`,
    );
  }
  for (const phase of [...phases, "validate"] as const) {
    if (phase === "validate" && s.validate === undefined) continue;
    if (typeof s[phase] !== "function") {
      throw pluginError(
        file,
        `operation "${kind}": ${phase} must be a function${
          s[phase] === undefined ? " (start, complete and rollback are all required)" : ""
        }`,
      );
    }
  }
}

/** A zod schema from any copy of zod: zod 4 schemas carry `_zod` and parse methods. */
function isZodSchema(value: unknown): boolean {
  return typeof value === "object" && value !== null && "_zod" in value &&
    typeof (value as { safeParse?: unknown }).safeParse === "function";
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object that is not a zod schema" : typeof value;
}

/**
 * Registers the plugins' kinds. A kind that is already registered (built-in or from another
 * plugin) or two files defining one plugin name are errors naming the files; nothing is registered
 * then.
 */
export function registerPlugins(registry: Registry, plugins: readonly LoadedPlugin[]): void {
  const names = new Map<string, string>();
  const kinds = new Map<string, LoadedPlugin>();
  for (const plugin of plugins) {
    for (const kind of plugin.kinds) {
      const existing = registry.get(kind);
      const earlier = kinds.get(kind);
      if (existing || earlier) {
        const owner = earlier ?? (existing && pluginOf(existing));
        throw pluginError(
          plugin.path,
          `operation kind "${kind}" is already registered by ${
            owner ? `plugin "${owner.name}" (${owner.path})` : "pgtandem's built-in operations"
          }`,
        );
      }
      kinds.set(kind, plugin);
    }
    const other = names.get(plugin.name);
    if (other !== undefined && other !== plugin.path) {
      throw pluginError(
        plugin.path,
        `plugin name "${plugin.name}" is already used by plugin file "${other}"`,
      );
    }
    names.set(plugin.name, plugin.path);
  }
  for (const plugin of plugins) {
    for (const definition of plugin.definitions) registry.register(definition);
  }
}
