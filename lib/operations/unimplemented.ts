/**
 * A placeholder definition for an operation kind whose params are known but whose behaviour is not
 * written yet. Files using it still parse (so the format can be tested end to end), and any attempt
 * to run one fails validation with a clear message instead of doing half the work.
 */
import type { z } from "zod";
import { PgtandemError } from "../errors.ts";
import type { OperationDefinition } from "./operation.ts";

/** A definition that parses `params` but refuses to validate or run. */
export function unimplementedOperation<Params>(
  kind: string,
  description: string,
  params: z.ZodType<Params>,
): OperationDefinition<Params> {
  const refuse = (phase: string): never => {
    throw new PgtandemError(
      "internal",
      `operation "${kind}" is not supported yet: cannot run its ${phase} phase`,
    );
  };
  return {
    kind,
    description,
    params,
    validate: () => [{ path: [], message: `operation "${kind}" is not supported yet` }],
    start: () => refuse("start"),
    complete: () => refuse("complete"),
    rollback: () => refuse("rollback"),
  };
}
