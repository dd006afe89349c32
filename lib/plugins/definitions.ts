/**
 * Turns a plugin's operation specs into OperationDefinitions, so the registry and the engine
 * treat a plugin kind exactly like a built-in one (ARCHITECTURE decision 4).
 *
 * An expansion becomes a definition whose phases delegate to the expanded built-in operations,
 * with the virtual schema threaded through them as through a migration's operations: validate
 * checks each against the schema the previous ones leave, start runs their starts in order,
 * complete and rollback replay those starts from the schema before the plugin operation (the
 * operations are pure, so the replay reproduces every intermediate schema, in any later run) and
 * collect their complete actions in order, their rollback actions in reverse order.
 */
import { isOperation, operationData } from "../dsl/operation.ts";
import { buildSteps } from "../operations/steps.ts";
import type { Action } from "../plan/action.ts";
import { type Issue, ValidationError } from "../errors.ts";
import { parseMigration } from "../migration/migration.ts";
import { builtinRegistry } from "../operations/builtins.ts";
import type {
  FinishContext,
  OperationDefinition,
  ParsedOperation,
  StartContext,
  StartResult,
} from "../operations/operation.ts";
import type { Registry } from "../operations/registry.ts";
import { cloneSchema } from "../schema/virtual.ts";
import type { DirectOperationSpec, ExpandOperationSpec, PluginOperationSpec } from "./define.ts";

/** What pgtandem_runs.plugins records about a plugin a migration used. */
export interface PluginRecord {
  name: string;
  /** Absolute path of the plugin module, as it was loaded. */
  path: string;
  /** The plugin's kinds the migration used. */
  kinds: string[];
}

/** Where each plugin definition came from; definitions are created here and nowhere else. */
const sources = new WeakMap<OperationDefinition, { name: string; path: string }>();

/** The plugin behind a definition; undefined for built-in kinds. */
export function pluginOf(
  definition: OperationDefinition,
): { name: string; path: string } | undefined {
  return sources.get(definition);
}

/** The definition of one plugin kind; `spec` has been checked by the plugin loader. */
export function pluginOperationDefinition(
  kind: string,
  spec: PluginOperationSpec,
  plugin: { name: string; path: string },
): OperationDefinition {
  const description = spec.description ?? `Operation "${kind}" of plugin "${plugin.name}".`;
  const definition = "expand" in spec && typeof spec.expand === "function"
    ? expansionDefinition(kind, description, spec as ExpandOperationSpec<never>)
    : directDefinition(kind, description, spec as DirectOperationSpec<never>);
  sources.set(definition, { name: plugin.name, path: plugin.path });
  return definition;
}

/** The plugins a migration's operations come from, for pgtandem_runs.plugins. */
export function pluginsUsed(operations: readonly ParsedOperation[]): PluginRecord[] {
  const byName = new Map<string, PluginRecord>();
  for (const operation of operations) {
    const source = sources.get(operation.definition);
    if (!source) continue;
    const record = byName.get(source.name) ?? { ...source, kinds: [] };
    if (!record.kinds.includes(operation.kind)) record.kinds.push(operation.kind);
    byName.set(source.name, record);
  }
  return [...byName.values()];
}

function directDefinition(
  kind: string,
  description: string,
  spec: DirectOperationSpec<never>,
): OperationDefinition {
  return {
    kind,
    description,
    params: spec.params,
    validate: (params, schema) => spec.validate?.(params as never, schema) ?? [],
    start(params, context): StartResult {
      const result = spec.start(params as never, context);
      return Array.isArray(result) ? { actions: result } : result as StartResult;
    },
    complete: (params, context) => spec.complete(params as never, context),
    rollback: (params, context) => spec.rollback(params as never, context),
  };
}

/** Built-in kinds an expansion may use; plugin kinds would need their plugin at complete. */
let builtins: Registry | undefined;

function expansionDefinition(
  kind: string,
  description: string,
  spec: ExpandOperationSpec<never>,
): OperationDefinition {
  // One expansion per params object: validate, start, complete and rollback of one run all see
  // the same operations even if `expand` is not as pure as it should be.
  const cache = new WeakMap<object, Expansion>();
  const expanded = (params: unknown): Expansion & { issues: Issue[] } => {
    const key = typeof params === "object" && params !== null ? params : undefined;
    const cached = key && cache.get(key);
    if (cached) return { ...cached, issues: [] };
    const result = expand(kind, spec, params);
    if (key && result.issues.length === 0) cache.set(key, result);
    return result;
  };
  const operationsOrThrow = (params: unknown): ParsedOperation[] => {
    const { operations, issues } = expanded(params);
    if (issues.length > 0) throw new ValidationError(`operation "${kind}"`, issues);
    return operations;
  };

  return {
    kind,
    description,
    params: spec.params,
    validate(params, schema) {
      const { operations, issues } = expanded(params);
      if (issues.length > 0) return issues;
      const steps = buildSteps(operations, schema, schema.name, { validate: true });
      return steps.issues.map(asExpansionIssue);
    },
    start(params, context: StartContext): StartResult {
      const result: Required<StartResult> = { actions: [], triggers: [], backfills: [] };
      for (const operation of operationsOrThrow(params)) {
        const step = operation.definition.start(operation.params, context);
        result.actions.push(...step.actions);
        result.triggers.push(...(step.triggers ?? []));
        result.backfills.push(...(step.backfills ?? []));
      }
      return result;
    },
    complete(params, context: FinishContext): Action[] {
      return replay(operationsOrThrow(params), context).flatMap((step) =>
        step.operation.definition.complete(step.operation.params, finishContext(step, context))
      );
    },
    rollback(params, context: FinishContext): Action[] {
      return replay(operationsOrThrow(params), context).reverse().flatMap((step) =>
        step.operation.definition.rollback(step.operation.params, finishContext(step, context))
      );
    },
    expansion(params) {
      const { documents, issues } = expanded(params);
      if (issues.length > 0) throw new ValidationError(`operation "${kind}"`, issues);
      return documents;
    },
    opaque(params) {
      // Asked before validate: an expansion with problems is not opaque, validate reports them.
      const { operations } = expanded(params);
      const phase = (p: "atStart" | "atComplete") =>
        operations.some((op) => op.definition.opaque?.(op.params)[p] ?? false);
      return { atStart: phase("atStart"), atComplete: phase("atComplete") };
    },
  };
}

/** The expanded operations' starts, replayed from the schema before the plugin operation. */
function replay(operations: ParsedOperation[], context: FinishContext) {
  return buildSteps(operations, cloneSchema(context.before), context.baseSchema, {
    validate: false,
  }).steps;
}

function finishContext(
  step: ReturnType<typeof replay>[number],
  context: FinishContext,
): FinishContext {
  return { before: step.before, after: step.after, baseSchema: context.baseSchema };
}

/** An expansion: the built-in operations' documents and the same operations parsed. */
interface Expansion {
  documents: Record<string, unknown>[];
  operations: ParsedOperation[];
}

/** Runs `expand` and parses what it returns with the built-in kinds' params schemas. */
function expand(
  kind: string,
  spec: ExpandOperationSpec<never>,
  params: unknown,
): Expansion & { issues: Issue[] } {
  let raw: unknown;
  try {
    raw = spec.expand(params as never);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      documents: [],
      operations: [],
      issues: [{ path: [], message: `expand failed: ${message}` }],
    };
  }
  if (!Array.isArray(raw)) {
    return {
      documents: [],
      operations: [],
      issues: [{ path: [], message: "expand must return an array of operations" }],
    };
  }
  const issues: Issue[] = [];
  const data = raw.map((operation: unknown, index) => {
    if (isOperation(operation)) {
      try {
        return operationData(operation);
      } catch (error) {
        issues.push({ path: ["expanded", index], message: (error as Error).message });
        return {};
      }
    }
    const key = typeof operation === "object" && operation !== null
      ? Object.keys(operation)[0]
      : undefined;
    if (key?.includes(":")) {
      issues.push({
        path: ["expanded", index],
        message: `expands to "${key}", a plugin kind; an expansion may only use built-in kinds`,
      });
    }
    return operation;
  });
  if (issues.length > 0) return { documents: [], operations: [], issues };
  builtins ??= builtinRegistry();
  try {
    const parsed = parseMigration(`operation "${kind}"`, kind, { operations: data }, builtins);
    return { documents: parsed.migration.operations, operations: parsed.operations, issues: [] };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { documents: [], operations: [], issues: error.issues.map(asExpansionIssue) };
  }
}

/** `operations[1].add_column.column` of the expansion → `expanded[1].add_column.column`. */
function asExpansionIssue(issue: Issue): Issue {
  const [first, ...rest] = issue.path;
  return {
    path: first === "operations" ? ["expanded", ...rest] : issue.path,
    message: issue.message,
  };
}
