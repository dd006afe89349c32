/**
 * Small SQL text helpers shared by the converter's passes.
 *
 * @module
 */
import { ident } from "../sql.ts";

/** A column as an SQL expression: its name, quoted only when it must be. */
export function columnExpression(column: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(column) ? column : ident(column);
}
