/**
 * The layer check (scripts/check-layers.ts) on this repository, and on imports that break the
 * order, so a check that silently passes everything would fail here.
 */
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { layerOf, layerViolations, relativeImports } from "../scripts/check-layers.ts";

const root = path.resolve(import.meta.dir, "..");

describe("layer check", () => {
  test("every import in lib/ and main.ts points down the layer order", async () => {
    expect(await layerViolations(root)).toEqual([]);
  });

  test("an operation importing the engine is above its layer", () => {
    const operation = layerOf("lib/operations/add_column.ts")!;
    expect(layerOf("lib/engine/roll.ts")!).toBeGreaterThan(operation);
    expect(layerOf("lib/plan/action.ts")!).toBeLessThan(operation);
  });

  test("the params schemas sit below the operations, the loader above them", () => {
    expect(layerOf("lib/migration/params/add_column.ts")!).toBeLessThan(
      layerOf("lib/operations/add_column.ts")!,
    );
    expect(layerOf("lib/migration/loader.ts")!).toBeGreaterThan(
      layerOf("lib/operations/registry.ts")!,
    );
    expect(layerOf("scripts/demo.ts")).toBeUndefined();
  });

  test("static, type-only, re-export and dynamic imports are all seen", () => {
    const source = [
      'import { a } from "../engine/roll.ts";',
      'import type { B } from "./b.ts";',
      'export { c } from "../cli/run.ts";',
      'const d = await import("../lint/lint.ts");',
      'import { e } from "postgres";',
    ].join("\n");
    expect(relativeImports(source)).toEqual([
      "../engine/roll.ts",
      "./b.ts",
      "../cli/run.ts",
      "../lint/lint.ts",
    ]);
  });
});
