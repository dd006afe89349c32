/**
 * What `convert` may know of the schema its SQL will meet: the schema a migrations folder leaves
 * (`--migrations DIR`, each migration replayed through the virtual schema as start and complete
 * would leave it; no database), or the database's (`--postgres-url` given on the command line;
 * read only). With the database, casts are looked up in pg_cast.
 */
import { schemaOnceCompleted } from "../../engine/group-checks.ts";
import { buildSteps } from "../../operations/steps.ts";
import { PgtandemError } from "../../errors.ts";
import { listMigrationFolder, loadMigrations } from "../../migration/folder.ts";
import type { VirtualSchema } from "../../schema/model.ts";
import type { CommandContext } from "../command.ts";
import { withSession } from "../session.ts";
import type { ConvertOptions } from "../../convert/convert.ts";

/**
 * The schema the migrations of `dir` leave, in folder order. Raw SQL changes nothing the model
 * sees (its effect is only known once it runs).
 */
export async function folderSchema(context: CommandContext, dir: string): Promise<VirtualSchema> {
  const entries = await listMigrationFolder(dir);
  const loaded = await loadMigrations(entries, context.registry);
  let schema: VirtualSchema = { name: context.config.schema, tables: [] };
  for (const migration of loaded) {
    try {
      const { steps } = buildSteps(migration.operations, schema, context.config.schema, {
        validate: false,
      });
      const last = steps.at(-1);
      if (last) schema = schemaOnceCompleted(last.after);
    } catch (cause) {
      throw new PgtandemError(
        "invalid_migration",
        `${migration.path}: cannot replay it to learn the schema (${
          cause instanceof Error ? cause.message : String(cause)
        }): check it with "pgtandem validate", or convert without --migrations`,
        { cause },
      );
    }
  }
  return schema;
}

/** The database's schema and its casts, read in one session (nothing is written). */
export async function databaseKnowledge<T>(
  context: CommandContext,
  fn: (options: ConvertOptions) => Promise<T>,
): Promise<T> {
  const { config, registry, io } = context;
  return await withSession(config, registry, io, async (session) => {
    await session.state.assertInitialized();
    const schema = await session.state.catalog.readVirtualSchema(config.schema);
    const castExists = async (from: string, to: string): Promise<boolean> => {
      const [row] = await session.sql.unsafe<{ ok: boolean | null }[]>(
        `SELECT s.oid = t.oid
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast c
                       WHERE c.castsource = s.oid AND c.casttarget = t.oid)
            OR s.typcategory = 'S' OR t.typcategory = 'S' AS ok
           FROM pg_catalog.pg_type s, pg_catalog.pg_type t
          WHERE s.oid = pg_catalog.to_regtype($1) AND t.oid = pg_catalog.to_regtype($2)`,
        [from, to],
      );
      return row?.ok === true;
    };
    return await fn({ schema, castExists });
  });
}
