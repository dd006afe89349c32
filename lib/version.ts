/** The release version; the binary build script checks it matches package.json. */
export const VERSION = "0.1.0";

/** What a release binary knows about its build (scripts/build-binaries.ts). */
export interface BuildInfo {
  /** Bun's compile target, e.g. "bun-linux-x64". */
  target: string;
  /** Short git commit the binary was built from, "unknown" outside a checkout. */
  commit: string;
  /** Build time, ISO 8601. */
  date: string;
}

/**
 * The global a release binary's generated entry sets before any of lib/ loads. Only
 * scripts/build-binaries.ts writes it; it is absent under `bun main.ts` and in tests.
 */
export const BUILD_INFO_KEY: unique symbol = Symbol.for("pgtandem.build");

/** The build details baked into this binary, if it is a release binary. */
export function buildInfo(): BuildInfo | undefined {
  const info = (globalThis as Record<PropertyKey, unknown>)[BUILD_INFO_KEY];
  return typeof info === "object" && info !== null ? info as BuildInfo : undefined;
}

/** `pgtandem --version`: "pgtandem 0.1.0", plus the build details of a release binary. */
export function versionLine(): string {
  const build = buildInfo();
  return build
    ? `pgtandem ${VERSION} (${build.target}, commit ${build.commit}, built ${build.date})`
    : `pgtandem ${VERSION}`;
}
