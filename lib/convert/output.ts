/**
 * Writes converted operations as a migration file: TypeScript using the DSL (the default), or
 * pgroll's YAML or JSON.
 *
 * @module
 */
import { type DataFormat, formatMigration } from "../migration/writer.ts";
import { typescriptMigration } from "./typescript.ts";

export type ConvertFormat = "ts" | DataFormat;

/** The migration text of `operations` in `format`. */
export function formatConversion(
  operations: readonly Record<string, unknown>[],
  format: ConvertFormat,
): string {
  if (format !== "ts") return formatMigration({ operations: [...operations] }, format);
  return typescriptMigration(operations);
}
