/**
 * What a migration group refuses, said in terms of its member files. The composite is validated
 * like any migration (buildSteps threads the schema through every member); this module turns
 * the issues found into one error naming the member file they come from and, when the member is
 * fine on its own and only fails after an earlier member of the same group, that member's file
 * too: the group is what has to change (deploy in two steps, or --one-by-one).
 */
import { type Issue, ValidationError } from "../errors.ts";
import { formatPath } from "../errors.ts";
import { type GroupMember, memberOfOperation } from "../migration/group.ts";
import type { ParsedOperation } from "../operations/operation.ts";
import type { VirtualSchema } from "../schema/model.ts";
import { cloneSchema } from "../schema/virtual.ts";
import { buildSteps } from "../operations/steps.ts";

/**
 * The virtual schema a migration's start produced, as the next migration meets it: after
 * complete, every virtual name is the physical name (temporary columns renamed, renamed tables
 * and indexes physically renamed) and names reserved until complete are free. Operations read a
 * temporary physical name as "changed earlier in this migration", which must not leak into the
 * next one.
 */
export function schemaOnceCompleted(schema: VirtualSchema): VirtualSchema {
  const completed = cloneSchema(schema);
  delete completed.reservedRelationNames;
  for (const table of completed.tables) {
    table.physicalName = table.name;
    delete table.droppedConstraints;
    delete table.renamedConstraints;
    for (const column of table.columns) column.physicalName = column.name;
    for (const index of Object.values(table.indexes)) delete index.physicalName;
  }
  return completed;
}

/** A group's refusal: a ValidationError that also keeps the member file it is about. */
export class GroupValidationError extends ValidationError {
  /** The member file the issues are in. */
  readonly source: string;
  constructor(source: string, issues: Issue[]) {
    super(source, issues);
    this.source = source;
  }
}

/**
 * A raw SQL operation without onComplete changes the schema behind the model's back, so it must
 * run alone: in a group it is refused up front, naming the file to stop before.
 */
export function isolatedMemberIssue(
  group: readonly GroupMember[],
  operations: readonly ParsedOperation[],
): GroupValidationError | undefined {
  for (const [index, op] of operations.entries()) {
    if (!op.definition.opaque?.(op.params).atStart) continue;
    const { member, position, local } = memberOfOperation(group, index);
    const before = group[position - 1];
    const advice = before
      ? `apply the group up to ${before.path} first ("migrate DIR --to ${before.name}", then "complete"), then "${member.name}" alone`
      : `apply "${member.name}" alone first ("migrate DIR --to ${member.name}", then "complete"), then the rest`;
    return new GroupValidationError(member.path, [{
      path: ["operations", local, op.kind],
      message:
        `a raw SQL operation without onComplete cannot be part of a migration group (it must run alone): ${advice}`,
    }]);
  }
  return undefined;
}

/** The members' own operations. */
function operationsOf(
  member: GroupMember,
  operations: readonly ParsedOperation[],
): ParsedOperation[] {
  return operations.slice(member.firstOperation, member.firstOperation + member.operationCount);
}

/**
 * The error for `issues` found validating a group's composite: named after the member file of the
 * first issue, with paths inside that file. When that member validates on its own (every member
 * before it completed), the issue comes from being grouped with an earlier member, which is named
 * too.
 */
export function groupValidationError(
  group: readonly GroupMember[],
  operations: readonly ParsedOperation[],
  issues: readonly Issue[],
  initial: VirtualSchema,
  baseSchema: string,
  /** False for issues that are not about the schema threading (a misspelt expression). */
  fromSchema = true,
): GroupValidationError {
  const located = issues.map((issue) => locate(group, issue));
  const first = located[0]!;
  const rest = located.slice(1).map(({ member, issue }) =>
    member === first.member ? issue : { ...issue, message: `${issue.message} (in ${member.path})` }
  );
  const index = first.issue.path[0] === "operations" && typeof first.issue.path[1] === "number"
    ? first.member.firstOperation + first.issue.path[1]
    : undefined;
  const earlier = index === undefined || !fromSchema
    ? undefined
    : conflictingMember(group, operations, group.indexOf(first.member), initial, baseSchema);
  if (!earlier) return new GroupValidationError(first.member.path, [first.issue, ...rest]);
  // The issue's own advice is for one migration ("combine the changes …"): keep only its reason.
  const why = first.issue.message.split(";")[0]!.replaceAll("this migration", "this group");
  const message = `cannot be in one group with ${earlier.path}, which changes the same ` +
    `object first (${why}): deploy "${earlier.name}" first ("migrate DIR --to ${earlier.name}", ` +
    `then "complete") or use "migrate --one-by-one"`;
  return new GroupValidationError(first.member.path, [{ ...first.issue, message }, ...rest]);
}

/** The member an issue belongs to, with the issue's path made relative to that member's file. */
function locate(
  group: readonly GroupMember[],
  issue: Issue,
): { member: GroupMember; issue: Issue } {
  const [head, index, ...tail] = issue.path;
  if (head === "operations" && typeof index === "number") {
    const { member, local } = memberOfOperation(group, index);
    return { member, issue: { path: ["operations", local, ...tail], message: issue.message } };
  }
  // Group-wide issues (the version schema) belong to the last member, whose version it is.
  return { member: group.at(-1)!, issue };
}

/**
 * When member `position` is valid once every member before it is completed, the latest earlier
 * member that it cannot share a group with (validating the two, and everything in between, as
 * one group fails). Undefined when the member is invalid on its own.
 */
function conflictingMember(
  group: readonly GroupMember[],
  operations: readonly ParsedOperation[],
  position: number,
  initial: VirtualSchema,
  baseSchema: string,
): GroupMember | undefined {
  if (position === 0) return undefined;
  // completed[k]: the schema once members 0..k-1 are completed one by one.
  const completed: VirtualSchema[] = [initial];
  for (const member of group.slice(0, position)) {
    const current = completed.at(-1)!;
    const { steps } = buildSteps(operationsOf(member, operations), current, baseSchema, {
      validate: false,
    });
    completed.push(schemaOnceCompleted(steps.at(-1)?.after ?? current));
  }
  const member = group[position]!;
  const alone = buildSteps(operationsOf(member, operations), completed[position]!, baseSchema, {
    validate: true,
  });
  if (alone.issues.length > 0) return undefined;
  for (let start = position - 1; start >= 0; start--) {
    const together = group.slice(start, position + 1).flatMap((m) => operationsOf(m, operations));
    const built = buildSteps(together, completed[start]!, baseSchema, { validate: true });
    if (built.issues.length > 0) return group[start];
  }
  return group[position - 1];
}

/** One line per issue, `FILE: path: message`, for `validate` and `migrate`'s stderr. */
export function describeIssues(source: string, issues: readonly Issue[]): string[] {
  return issues.map((issue) => {
    const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : "";
    return `${source}: ${where}${issue.message}`;
  });
}
