/**
 * `plan DIR` when migrate applies several unapplied files one by one: the plan of every file in
 * turn, each against the schema the ones before it leave (lib/engine/folder-explain.ts), in one
 * READ ONLY transaction. Other folders (one file, or a group) are planned by plan.ts.
 *
 * JSON: `{ schema, migrate: "one-by-one", sequence: [<plan FILE's document>, …], unplanned:
 * [names] }` (`unplanned`: the files after a raw SQL migration, which cannot be planned yet).
 */
import { explainSequence } from "../../engine/folder-explain.ts";
import { planFolder } from "../../engine/folder-plan.ts";
import { tableRowEstimates } from "../../engine/explain.ts";
import { lintMigration } from "../../lint/lint.ts";
import { listMigrationFolder, loadMigrations } from "../../migration/folder.ts";
import type { CommandContext } from "../command.ts";
import { refinedPlan, withReadOnlySession } from "../read-only.ts";
import { renderPlan } from "./plan.ts";

/** Plans the folder as a sequence and returns the exit code; undefined when it is not one. */
export async function planSequence(
  context: CommandContext,
  dir: string,
): Promise<number | undefined> {
  const { config, io } = context;
  const entries = await listMigrationFolder(dir);
  const sequence = await withReadOnlySession(
    context,
    async ({ sql: readOnly, state, serverMajor }) => {
      await state.assertInitialized();
      const pending = await planFolder(state, entries, {
        schema: config.schema,
        useVersionSchema: config.useVersionSchema,
        oneByOne: false,
      });
      const { unapplied } = pending.comparison;
      if (pending.group || unapplied.length < 2) return undefined;
      const loaded = await loadMigrations(unapplied, context.registry);
      const explained = await explainSequence(loaded, {
        sql: readOnly,
        state,
        schema: config.schema,
        useVersionSchema: config.useVersionSchema,
        allowUserTriggers: config.allowUserTriggers,
        serverMajor,
      });
      const rowEstimates = await tableRowEstimates(readOnly, config.schema);
      const planned = [];
      for (const { migration, explained: { plan, initial } } of explained.planned) {
        const lint = await lintMigration(migration.operations, {
          schema: initial,
          baseSchema: config.schema,
          rowEstimates,
        });
        planned.push({ plan, lint, file: migration.path });
      }
      return { planned, unplanned: explained.unplanned };
    },
  );
  if (sequence === undefined) return undefined;
  const plans = await Promise.all(sequence.planned.map(async ({ plan, lint, file }) => ({
    plan: await refinedPlan(plan),
    lint,
    file,
  })));
  const unplanned = sequence.unplanned.map((m) => m.migration.name);
  if (config.json) {
    const document = {
      schema: config.schema,
      migrate: "one-by-one",
      sequence: plans.map(({ plan, lint }) => ({ ...plan, lint })),
      unplanned,
    };
    io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    return 0;
  }
  const total = plans.length + unplanned.length;
  io.stdout.write(
    `migrate DIR applies ${total} migrations one by one; each is planned against the schema the ones before it leave.\n\n`,
  );
  for (const [index, { plan, lint, file }] of plans.entries()) {
    io.stdout.write(`Migration ${index + 1} of ${total}: "${plan.migration}" (${file})\n`);
    io.stdout.write(`${renderPlan(plan, lint, io, io.stdout)}\n`);
  }
  if (unplanned.length > 0) {
    io.stdout.write(
      `Not planned: ${
        unplanned.map((n) => `"${n}"`).join(", ")
      } (they follow raw SQL, whose effect is known only once it runs; plan them after it is applied)\n`,
    );
  }
  return 0;
}
