/**
 * Sharpens a plan's locks with PostgreSQL's parse tree. Actions declare a coarse lock (most say
 * ACCESS EXCLUSIVE); the statement itself tells more: CREATE INDEX CONCURRENTLY and VALIDATE
 * CONSTRAINT take SHARE UPDATE EXCLUSIVE, a NOT VALID foreign key SHARE ROW EXCLUSIVE, ADD COLUMN
 * is catalog-only unless its default is volatile, SET NOT NULL after a validated check needs no
 * scan, COMMENT takes SHARE UPDATE EXCLUSIVE.
 *
 * @module
 */
import type { MigrationPlan, PlannedStatement } from "../engine/explain.ts";
import {
  type EffectContext,
  lockRank,
  recordValidatedNotNull,
  type StatementEffect,
  statementEffect,
  type TableEffect,
  type TableLock,
} from "./effects.ts";
import type { SqlParser } from "../pg/parser.ts";

const EFFECT_ORDER: readonly TableEffect[] = ["none", "catalog", "write", "scan", "rewrite"];

/** The plan with each statement's lock, table and effect read from its parse tree. */
export function refinePlan(plan: MigrationPlan, parser: SqlParser): MigrationPlan {
  const contexts = new Map<string, EffectContext>();
  return {
    ...plan,
    phases: plan.phases.map((phase) => {
      let context = contexts.get(phase.command);
      if (!context) contexts.set(phase.command, context = {});
      const ctx = context;
      return { ...phase, statements: phase.statements.map((s) => refineStatement(s, parser, ctx)) };
    }),
  };
}

/** One statement: the strongest lock and effect among the SQL statements it holds. */
export function refineStatement(
  statement: PlannedStatement,
  parser: SqlParser,
  context: EffectContext,
): PlannedStatement {
  let parsed;
  try {
    parsed = parser.parse(statement.sql);
  } catch {
    return statement; // user SQL PostgreSQL itself will reject: leave it as declared
  }
  const effects: StatementEffect[] = [];
  for (const one of parsed) {
    effects.push(statementEffect(one, context));
    recordValidatedNotNull(one, context);
  }
  if (effects.length === 0) return statement;
  const strongest = effects.reduce((a, b) => (lockRank(b.lock) > lockRank(a.lock) ? b : a));
  const effect = effects.map((e) => e.effect).reduce((a, b) =>
    EFFECT_ORDER.indexOf(b) > EFFECT_ORDER.indexOf(a) ? b : a
  );
  const refined: PlannedStatement = { ...statement, effect };
  // Dropping a function CASCADE drops the triggers on the table the action names: the parse
  // tree cannot see that dependency, the action's declaration can.
  if (strongest.lock === "none" && statement.table !== null) {
    const catalog = statement.lock === "ACCESS EXCLUSIVE" && effect === "none";
    return { ...refined, effect: catalog ? "catalog" : effect };
  }
  refined.lock = strongest.lock satisfies TableLock;
  refined.table = statement.table ?? strongest.table ?? null;
  const notes = [...new Set(effects.map((e) => e.note).filter((n): n is string => !!n))];
  if (notes.length > 0) refined.note = notes.join("; ");
  else delete refined.note;
  return refined;
}
