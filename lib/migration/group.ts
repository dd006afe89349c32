/**
 * Migration groups: several pending migrations M2..MN started, completed or rolled back as one
 * (docs/migration-groups.md). A group is run as one composite migration, named after its last
 * member, whose operations are the members' operations in order; only the version before the
 * group and the group's last version are ever served. The members are kept alongside, so that
 * issues name the member file and complete can write history back file by file.
 */
import { PgtandemError } from "../errors.ts";
import type { LoadedMigration } from "./loader.ts";
import { type MigrationDocument, migrationVersionName, toCanonicalJson } from "./migration.ts";

/** One member of a group, in group order. */
export interface GroupMember {
  name: string;
  /** The file it was read from, as given: issues name it. */
  path: string;
  /** Its canonical JSON: what history holds for it once the group is complete. */
  document: MigrationDocument;
  /** Index of its first operation among the composite's operations. */
  firstOperation: number;
  operationCount: number;
}

/** A composite migration standing for a group (see composeGroup). */
export interface GroupedMigration extends LoadedMigration {
  group: GroupMember[];
}

/** What pgtandem_runs records about each member (see StateStore.startMigration). */
export interface RecordedMember {
  name: string;
  document: MigrationDocument;
}

/**
 * The composite migration of `members` (two or more, in order): named after the last one, its
 * version schema written out (pgroll reads `version_schema` first), its operations the members'
 * concatenated. Names must be distinct.
 */
export function composeGroup(members: readonly LoadedMigration[]): GroupedMigration {
  if (members.length < 2) {
    throw new PgtandemError("internal", "a migration group needs at least two members");
  }
  const seen = new Map<string, string>();
  for (const m of members) {
    const other = seen.get(m.migration.name);
    if (other !== undefined) {
      throw new PgtandemError(
        "invalid_input",
        `${m.path}: migration "${m.migration.name}" is given twice (also ${other})`,
      );
    }
    seen.set(m.migration.name, m.path);
  }
  const last = members.at(-1)!;
  const group: GroupMember[] = [];
  let firstOperation = 0;
  for (const m of members) {
    group.push({
      name: m.migration.name,
      path: m.path,
      document: toCanonicalJson(m.migration),
      firstOperation,
      operationCount: m.operations.length,
    });
    firstOperation += m.operations.length;
  }
  return {
    path: last.path,
    migration: {
      name: last.migration.name,
      version_schema: migrationVersionName(last.migration),
      operations: members.flatMap((m) => m.migration.operations),
    },
    operations: members.flatMap((m) => m.operations),
    group,
  };
}

/** The members when `loaded` is a group's composite, else undefined. */
export function groupOf(loaded: LoadedMigration): GroupMember[] | undefined {
  const group = (loaded as Partial<GroupedMigration>).group;
  return Array.isArray(group) ? group : undefined;
}

/** The member holding the composite's operation `index`, and its index within that member. */
export function memberOfOperation(
  group: readonly GroupMember[],
  index: number,
): { member: GroupMember; position: number; local: number } {
  for (const [position, member] of group.entries()) {
    if (index < member.firstOperation + member.operationCount) {
      return { member, position, local: index - member.firstOperation };
    }
  }
  const position = group.length - 1;
  const member = group[position]!;
  return { member, position, local: index - member.firstOperation };
}

/** `"02_a", "03_b" and "04_c"`, for messages. */
export function memberList(group: readonly { name: string }[]): string {
  const names = group.map((m) => `"${m.name}"`);
  return names.length <= 1
    ? names.join("")
    : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * Warnings for members before the last that set their own `version_schema`: a group serves only
 * the version before it and its last member's, so theirs is never created.
 */
export function intermediateVersionWarnings(members: readonly LoadedMigration[]): string[] {
  return members.slice(0, -1).filter((m) => m.migration.version_schema !== undefined).map((m) =>
    `Warning: ${m.path} sets version_schema "${m.migration.version_schema}", which is not ` +
    `created: a migration group serves only the version before it and its last migration's`
  );
}
