/**
 * Operations that stand for built-in operations (a plugin's `expand`) run as those operations:
 * each expanded operation is a step of its own, so the engine threads the schema through them
 * exactly as through operations written in the file. The expansion is recorded at start and
 * complete and rollback replay what was recorded, never a fresh expansion: a plugin that expands
 * differently in another process (or is gone) cannot make complete disagree with start.
 */
import { parseMigration } from "../migration/migration.ts";
import { builtinRegistry } from "../operations/builtins.ts";
import type { ParsedOperation } from "../operations/operation.ts";
import type { Registry } from "../operations/registry.ts";

/** A migration's operations with every expansion replaced by the operations it stands for. */
export interface Expanded {
  /** `{ <kind>: <body> }` each: what start records. */
  documents: Record<string, unknown>[];
  operations: ParsedOperation[];
}

/**
 * Expands `operations` (documents: the same operations as written). Undefined when no operation
 * expands, so migrations without plugins keep their steps one per operation.
 */
export function expandOperations(
  documents: readonly Record<string, unknown>[],
  operations: readonly ParsedOperation[],
): Expanded | undefined {
  if (!operations.some((op) => op.definition.expansion)) return undefined;
  const expanded: Expanded = { documents: [], operations: [] };
  operations.forEach((operation, index) => {
    const expansion = operation.definition.expansion?.(operation.params);
    if (!expansion) {
      expanded.documents.push(documents[index]!);
      expanded.operations.push(operation);
      return;
    }
    expanded.documents.push(...expansion);
    expanded.operations.push(
      ...parseMigration(
        `operation "${operation.kind}"`,
        operation.kind,
        { operations: expansion },
        builtins(),
      ).operations,
    );
  });
  return expanded;
}

/** The operations recorded at start, parsed again (plugin kinds that do not expand need `registry`). */
export function recordedOperations(
  name: string,
  documents: readonly unknown[],
  registry: Registry,
): ParsedOperation[] {
  return parseMigration(
    `migration "${name}" (operations recorded at its start)`,
    name,
    { operations: documents },
    registry,
  ).operations;
}

let builtinKinds: Registry | undefined;

function builtins(): Registry {
  builtinKinds ??= builtinRegistry();
  return builtinKinds;
}
