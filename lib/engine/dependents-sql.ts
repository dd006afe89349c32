/**
 * The SQL and the messages for dependent objects: recreating views, triggers and policies as
 * they were, and the one-line refusals.
 *
 * @module
 */
import { dollarQuote, ident, identList, literal } from "../sql.ts";
import { duplicateName } from "../naming.ts";
import type {
  DependentObject,
  PolicyDefinition,
  TriggerDefinition,
  ViewDefinition,
} from "./dependents-catalog.ts";
import type { ColumnChange } from "./dependents-changes.ts";
import { type Action, sqlAction } from "../plan/action.ts";

/**
 * Drops the views that use rewritten columns, first keeping each one's query, as PostgreSQL
 * prints it at that moment, in a transaction-local setting: renames made earlier in the same
 * switch-over are already in it, so {@link createView} recreates the view over the names as they
 * are then.
 */
export function dropViews(views: readonly ViewDefinition[]): Action {
  const keep = views.map((v, i) =>
    `PERFORM pg_catalog.set_config(${literal(viewSetting(i))}, pg_catalog.regexp_replace(` +
    `pg_catalog.pg_get_viewdef(${
      literal(ident(v.schema, v.name))
    }::regclass), ';\\s*$', ''), true);`
  );
  const names = [...views].reverse().map((v) => ident(v.schema, v.name));
  const body = `BEGIN\n${keep.join("\n")}\nDROP VIEW ${names.join(", ")};\nEND`;
  return sqlAction(
    `drop_dependent_views_${views.map((v) => v.name).join("_")}`,
    `DO ${dollarQuote(body)}`,
    { table: views[0]!.name },
  );
}

/** The view again, as it was: query, column names, options, owner, grants, comments, triggers. */
export function createView(view: ViewDefinition, index: number): Action {
  const name = ident(view.schema, view.name);
  const options = view.options.length > 0 ? ` WITH (${view.options.join(", ")})` : "";
  const head = `CREATE VIEW ${name} (${identList(view.columns)})${options} AS\n`;
  const create = `BEGIN EXECUTE ${literal(head)} || pg_catalog.current_setting(${
    literal(viewSetting(index))
  }); END`;
  const statements = [
    `DO ${dollarQuote(create)}`,
    `ALTER VIEW ${name} OWNER TO ${ident(view.owner)}`,
    ...view.columnDefaults.map((d) =>
      `ALTER VIEW ${name} ALTER COLUMN ${ident(d.column)} SET DEFAULT ${d.expression}`
    ),
  ];
  if (view.grants.length > 0) {
    // An explicit ACL replaces the owner's implicit privileges: start from none, as it was.
    statements.push(`REVOKE ALL ON ${name} FROM PUBLIC, ${ident(view.owner)}`, ...view.grants);
  }
  if (view.comment !== null) {
    statements.push(`COMMENT ON VIEW ${name} IS ${literal(view.comment)}`);
  }
  for (const c of view.columnComments) {
    statements.push(`COMMENT ON COLUMN ${name}.${ident(c.column)} IS ${literal(c.comment)}`);
  }
  statements.push(...view.triggers);
  return sqlAction(`recreate_view_${view.schema}_${view.name}`, statements.join(";\n"), {
    table: view.name,
  });
}

/** The transaction-local setting that carries a dropped view's query to its recreation. */
function viewSetting(index: number): string {
  return `pgtandem.dependent_view_${index}`;
}

export function subject(change: ColumnChange | undefined, table: string): string {
  if (!change) return `cannot drop table "${table}"`;
  return change.kind === "dropped"
    ? `cannot drop column "${change.column}" of table "${table}"`
    : `cannot change column "${change.column}" of table "${table}"`;
}

export function qualifiedName(schema: string, name: string, baseSchema: string): string {
  return schema === baseSchema ? `"${name}"` : `"${schema}"."${name}"`;
}

export function describe(object: DependentObject, baseSchema: string): string {
  const on = `on table ${qualifiedName(object.schema, object.relation, baseSchema)}`;
  switch (object.kind) {
    case "view":
    case "materialized view":
      return `${object.kind} ${qualifiedName(object.schema, object.relation, baseSchema)} uses it;`;
    case "generated column":
      return `generated column "${object.name}" of table ${
        qualifiedName(object.schema, object.relation, baseSchema)
      } is computed from it;`;
    case "trigger":
    case "rule":
    case "policy":
      return `${object.kind} "${object.name}" ${on} depends on it;`;
    default:
      return `${object.description} depends on it;`;
  }
}

export function advice(object: DependentObject): string {
  const kind = object.kind === "other" ? "it" : `the ${object.kind}`;
  return `drop ${kind} before this migration and create it again after complete`;
}

const ENABLE: Record<string, string> = {
  D: "DISABLE TRIGGER",
  R: "ENABLE REPLICA TRIGGER",
  A: "ENABLE ALWAYS TRIGGER",
};

/** The trigger's definition under another name (and column list), with its enabled state. */
function triggerStatements(
  trigger: TriggerDefinition,
  name: string,
  updateOf: string | null,
): string[] {
  let definition = trigger.definition.replace(
    /^(CREATE (?:CONSTRAINT )?TRIGGER )(?:"(?:[^"]|"")*"|\S+)/,
    (_m, head: string) => `${head}${ident(name)}`,
  );
  if (updateOf !== null && trigger.updateOf !== null) {
    definition = definition.replace(trigger.updateOf, updateOf);
  }
  const table = ident(trigger.schema, trigger.table);
  const statements = [definition];
  const enable = ENABLE[trigger.enabled];
  if (enable) statements.push(`ALTER TABLE ${table} ${enable} ${ident(name)}`);
  return statements;
}

/**
 * Start: a companion firing on `UPDATE OF` the copies (undefined when the trigger's column list
 * names no rewritten column). `copyOf` gives a column's copy, if it is rewritten.
 */
export function triggerCompanion(
  trigger: TriggerDefinition,
  copyOf: (column: string) => string | undefined,
): Action | undefined {
  if (!trigger.columns.some((c) => copyOf(c))) return undefined;
  const columns = trigger.columns.map((c) => copyOf(c) ?? c);
  const statements = triggerStatements(
    trigger,
    duplicateName(trigger.name),
    `UPDATE OF ${identList(columns)}`,
  );
  return sqlAction(
    `create_trigger_companion_${trigger.table}_${trigger.name}`,
    [
      `DROP TRIGGER IF EXISTS ${ident(duplicateName(trigger.name))} ON ${
        ident(trigger.schema, trigger.table)
      }`,
      ...statements,
    ].join(";\n"),
    { table: trigger.table, lock: "SHARE ROW EXCLUSIVE" },
  );
}

/** Switch-over: the trigger and its companion go before the old column does. */
export function dropTrigger(trigger: TriggerDefinition): Action {
  const table = ident(trigger.schema, trigger.table);
  return sqlAction(
    `drop_dependent_trigger_${trigger.table}_${trigger.name}`,
    `DROP TRIGGER IF EXISTS ${ident(duplicateName(trigger.name))} ON ${table};\n` +
      `DROP TRIGGER IF EXISTS ${ident(trigger.name)} ON ${table}`,
    { table: trigger.table },
  );
}

/** Switch-over: the trigger as it was, now on the new column. */
export function createTrigger(trigger: TriggerDefinition): Action {
  const statements = triggerStatements(trigger, trigger.name, null);
  if (trigger.comment !== null) {
    statements.push(
      `COMMENT ON TRIGGER ${ident(trigger.name)} ON ${ident(trigger.schema, trigger.table)} IS ${
        literal(trigger.comment)
      }`,
    );
  }
  return sqlAction(
    `recreate_trigger_${trigger.table}_${trigger.name}`,
    statements.join(";\n"),
    { table: trigger.table },
  );
}

export function dropPolicy(policy: PolicyDefinition): Action {
  return sqlAction(
    `drop_dependent_policy_${policy.table}_${policy.name}`,
    `DROP POLICY IF EXISTS ${ident(policy.name)} ON ${ident(policy.schema, policy.table)}`,
    { table: policy.table },
  );
}

/** Switch-over: the policy as it was; its expressions now name the new column. */
export function createPolicy(policy: PolicyDefinition): Action {
  const on = ident(policy.schema, policy.table);
  const statements = [
    `CREATE POLICY ${ident(policy.name)} ON ${on} AS ${
      policy.permissive ? "PERMISSIVE" : "RESTRICTIVE"
    } FOR ${policy.command} TO ${policy.roles.join(", ")}${
      policy.using !== null ? ` USING (${policy.using})` : ""
    }${policy.withCheck !== null ? ` WITH CHECK (${policy.withCheck})` : ""}`,
  ];
  if (policy.comment !== null) {
    statements.push(
      `COMMENT ON POLICY ${ident(policy.name)} ON ${on} IS ${literal(policy.comment)}`,
    );
  }
  return sqlAction(`recreate_policy_${policy.table}_${policy.name}`, statements.join(";\n"), {
    table: policy.table,
  });
}
