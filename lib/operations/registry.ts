/**
 * Maps operation kinds to their definitions. Built-in operations register here exactly as plugin
 * operations do; there is no switch on kind anywhere else.
 */
import { PgtandemError } from "../errors.ts";
import type { OperationDefinition } from "./operation.ts";

export class Registry {
  readonly #definitions = new Map<string, OperationDefinition>();

  /** Adds a kind; a kind registered twice is a hard error, never a silent override. */
  register(definition: OperationDefinition): void {
    if (this.#definitions.has(definition.kind)) {
      throw new PgtandemError(
        "plugin",
        `operation kind "${definition.kind}" is already registered`,
      );
    }
    this.#definitions.set(definition.kind, definition);
  }

  get(kind: string): OperationDefinition | undefined {
    return this.#definitions.get(kind);
  }

  has(kind: string): boolean {
    return this.#definitions.has(kind);
  }

  /** Kinds in registration order. */
  kinds(): string[] {
    return [...this.#definitions.keys()];
  }

  definitions(): OperationDefinition[] {
    return [...this.#definitions.values()];
  }
}
