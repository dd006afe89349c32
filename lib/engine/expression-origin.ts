/**
 * Anchors the origins operations give their user SQL (`["up"]`, relative to the operation body)
 * to the migration file and the operation, so a statement that fails at start is reported where
 * the user wrote it: `03_emails.ts: operations[1].alter_column.up: …` (or, for a statement of its
 * own, the operation: `03_emails.ts: operations[1].create_table: …`). For a group, the member
 * file and its own operation index; for an operation a plugin expanded, `expanded[j]` below it.
 */
import { groupOf, memberOfOperation } from "../migration/group.ts";
import type { LoadedMigration } from "../migration/loader.ts";
import type { ActionOrigin } from "../plan/action.ts";
import type { OperationStep } from "../operations/steps.ts";

/**
 * Sets file and full path on every origin of `steps` (in place). `steps` are the steps of the
 * operations as written, or, when `expanded` is true, of the operations they expand into.
 */
export function anchorOrigins(
  steps: readonly OperationStep[],
  loaded: LoadedMigration,
  expanded = false,
): void {
  const written = writtenPositions(loaded, expanded);
  const group = groupOf(loaded);
  for (const step of steps) {
    const position = written[step.index];
    if (!position) continue;
    const { member, local } = group
      ? memberOfOperation(group, position.index)
      : { member: { path: loaded.path }, local: position.index };
    const operation = loaded.operations[position.index]!;
    const prefix: (string | number)[] = ["operations", local, operation.kind];
    if (position.expanded !== undefined) {
      prefix.push("expanded", position.expanded, step.operation.kind);
    }
    const anchor = (origin: ActionOrigin): ActionOrigin =>
      origin.file !== undefined ? origin : { file: member.path, path: [...prefix, ...origin.path] };
    // A statement with no user field of its own is still the operation's: a failure names it.
    for (const action of step.result.actions) {
      if (action.kind === "sql") action.origin = anchor(action.origin ?? { path: [] });
    }
    for (const trigger of step.result.triggers ?? []) {
      if (trigger.origin) trigger.origin = anchor(trigger.origin);
    }
  }
}

/** For each step index: the written operation, and the position in its expansion. */
function writtenPositions(
  loaded: LoadedMigration,
  expanded: boolean,
): { index: number; expanded?: number }[] {
  if (!expanded) return loaded.operations.map((_, index) => ({ index }));
  return loaded.operations.flatMap((operation, index) => {
    const expansion = operation.definition.expansion?.(operation.params);
    if (!expansion) return [{ index }];
    return expansion.map((_, j) => ({ index, expanded: j }));
  });
}
