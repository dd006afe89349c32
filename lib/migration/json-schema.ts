/**
 * The JSON Schema of migration files, generated from the registry's zod schemas so that editors,
 * the loader and the DSL cannot disagree. Rules zod checks in code (refinements) appear only where
 * a params schema spells them out in its metadata; the loader remains the final judge.
 */
import { z } from "zod";
import type { Registry } from "../operations/registry.ts";

/**
 * The schema's identity. A URN rather than a URL: the schema ships in the repository
 * (schema/migration.schema.json) and the binary, and is not served from any address yet.
 */
export const MIGRATION_SCHEMA_ID = "urn:pgtandem:migration-schema";

/**
 * A draft 2020-12 JSON Schema for migration files using the registry's kinds. Each operation is an
 * object with exactly one property, its kind, defined under `$defs/<kind>`; shared shapes (Column,
 * ForeignKeyReference …) sit in `$defs` under pgroll's names. Every object forbids extra fields.
 */
export function migrationJsonSchema(registry: Registry): Record<string, unknown> {
  const definitions = registry.definitions();
  const operation: z.ZodType[] = definitions.map((definition) =>
    z.object({ [definition.kind]: definition.params }).strict().describe(definition.description)
  );
  const migration = z
    .object({
      version_schema: z
        .string()
        .min(1)
        .optional()
        .describe(
          "Suffix of the version schema this migration creates, instead of the migration name " +
            "(which comes from the file name).",
        ),
      operations: z
        .array(z.union(operation))
        .describe("Operations, run in order; each is an object whose one key names its kind."),
    })
    .strict();

  const generated = z.toJSONSchema(migration, {
    target: "draft-2020-12",
    // Params may normalise values (transforms); a file holds the input side.
    io: "input",
    // A plugin's params may use a type JSON cannot describe; accept anything there.
    unrepresentable: "any",
  }) as Record<string, any>;

  // Give each operation a named definition instead of an anonymous inline branch.
  const defs: Record<string, unknown> = { ...generated.$defs };
  const branches: unknown[] = generated.properties.operations.items.anyOf ?? [];
  const refs = definitions.map((definition, index) => {
    defs[definition.kind] = branches[index];
    // JSON Pointer escaping; plugin kinds contain ":", which a fragment may hold as is.
    const pointer = definition.kind.replaceAll("~", "~0").replaceAll("/", "~1");
    return { $ref: `#/$defs/${pointer}` };
  });
  generated.properties.operations.items = { anyOf: refs };

  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: MIGRATION_SCHEMA_ID,
    title: "pgtandem migration",
    description: "A zero-downtime PostgreSQL schema migration, in pgroll's migration format. " +
      "The migration name is the file name without its extension.",
    ...rest,
    $defs: defs,
  };
}
