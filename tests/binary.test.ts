/**
 * The standalone binary, as a user gets it: built with `bun build --compile` (or reused when it is
 * newer than every source), copied to an empty folder outside the repository (no node_modules, no
 * tsconfig), where the examples of docs/typescript.md ("TypeScript migrations, plugins and the
 * binary") are written and its command session is run, each command a process of its own, against
 * a real PostgreSQL. So the doc's
 * examples are tests, and "pgtandem" is served by the binary to files it has never seen.
 *
 * Skipped only when PGTANDEM_SKIP_BINARY=1 (CI runs it; the build takes about 15 seconds).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import type { Platform } from "../scripts/build-binaries.ts";
import { VERSION } from "../lib/version.ts";
import { builtBinary, runBinary } from "./helpers/binary.ts";
import { columnNames } from "./helpers/catalog.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

const SKIP = process.env.PGTANDEM_SKIP_BINARY === "1";
const ROOT = resolve(import.meta.dir, "..");
const DOC = join(ROOT, "docs", "typescript.md");
const SECTION_START = "# TypeScript migrations, plugins and the binary";
/** The DSL tour that follows is a separate example set (tested in tests/dsl.test.ts). */
const SECTION_END = "## The migration DSL";

/** The part of docs/typescript.md whose examples this file runs. */
function docSection(markdown: string): string {
  const start = markdown.indexOf(SECTION_START);
  const end = markdown.indexOf(SECTION_END, start);
  if (start === -1 || end === -1) {
    throw new Error(`docs/typescript.md lost its section "${SECTION_START}"`);
  }
  return markdown.slice(start, end);
}
const BUILD_TIMEOUT_MS = 300_000;

/** The platform of this machine, as build-binaries names it. */
function hostPlatform(): Platform {
  const os = { linux: "linux", darwin: "darwin", win32: "windows" }[process.platform as string];
  const arch = { x64: "x64", arm64: "arm64" }[process.arch as string];
  const platform = `${os}-${arch}`;
  if (!os || !arch || platform === "windows-arm64") {
    throw new Error(`no pgtandem binary for ${process.platform}-${process.arch}`);
  }
  return platform as Platform;
}

/** The doc's files (a first line `// path` or `# path`) and its shell sessions. */
function docExamples(markdown: string) {
  const files: { path: string; text: string }[] = [];
  const sessions: string[][] = [];
  for (const [, lang, body] of markdown.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) {
    const text = body!;
    const named = /^(?:\/\/|#) ((?:migrations|plugins)\/[\w./-]+)\n/.exec(text);
    if (named) files.push({ path: named[1]!, text });
    else if (lang === "sh") sessions.push(text.trim().split("\n"));
  }
  return { files, sessions };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(SKIP)("the standalone binary", () => {
  let db: TestDatabase;
  let work: string;
  let exe: string;
  let sessions: string[][];

  /** Runs the copied binary in the work folder, like a user would; `> FILE` redirects stdout. */
  async function pgtandem(commandLine: string): Promise<Run> {
    const [command, redirect] = commandLine.split(/\s+>\s+/);
    const args = command!.trim().split(/\s+/);
    expect(args[0]).toBe("pgtandem");
    const run = await runBinary([exe, ...args.slice(1)], work, db.url);
    if (redirect) await writeFile(join(work, redirect.trim()), run.stdout);
    return run;
  }

  async function ok(commandLine: string): Promise<Run> {
    const run = await pgtandem(commandLine);
    if (run.code !== 0) throw new Error(`${commandLine} exited ${run.code}: ${run.stderr}`);
    return run;
  }

  async function history() {
    return (await db.sql`select name, done from pgroll.migrations order by created_at`).map((r) =>
      `${r.name}${r.done ? "" : " (active)"}`
    );
  }

  beforeAll(async () => {
    const built = await builtBinary(hostPlatform());
    db = await testDatabase();
    // A folder outside the repository: nothing there resolves "pgtandem" but the binary.
    work = await mkdtemp(join(tmpdir(), "pgtandem-binary-"));
    exe = join(work, "pgtandem");
    await copyFile(built, exe);
    const examples = docExamples(docSection(await readFile(DOC, "utf8")));
    for (const file of examples.files) {
      await mkdir(dirname(join(work, file.path)), { recursive: true });
      await writeFile(join(work, file.path), file.text);
    }
    sessions = examples.sessions;
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("--version names the release and the build", async () => {
    const { stdout } = await ok("pgtandem --version");
    expect(stdout).toMatch(
      new RegExp(
        `^pgtandem ${
          VERSION.replaceAll(".", "\\.")
        } \\(bun-${hostPlatform()}, commit \\w+, built \\d{4}-`,
      ),
    );
  });

  test(
    "the doc's session: TS and YAML migrations with a plugin, start/rollback/complete",
    async () => {
      const session = sessions.find((s) => s.some((line) => line.startsWith("pgtandem migrate")));
      expect(session).toBeDefined();
      const after: Record<string, () => Promise<void>> = {
        "pgtandem migrate migrations": async () => {
          expect(await history()).toEqual(["01_users", "02_nickname", "03_audit (active)"]);
          expect(await columnNames(db.sql, "public_03_audit", "users")).toEqual([
            "id",
            "email",
            "nickname",
            "created_by",
            "created_at",
          ]);
          const [run] = await db
            .sql`select plugins from pgroll.pgtandem_runs where name = '03_audit'`;
          expect(run?.plugins).toEqual([{
            name: "acme",
            path: join(work, "plugins", "acme.ts"),
            kinds: ["acme:add_audit_columns", "acme:comment"],
          }]);
        },
        "pgtandem rollback": async () => {
          expect(await history()).toEqual(["01_users", "02_nickname"]);
          expect(await columnNames(db.sql, "public", "users")).toEqual(["id", "email", "nickname"]);
          expect(await tableComment("users")).toBeNull();
        },
        "pgtandem complete": async () => {
          expect(await history()).toEqual(["01_users", "02_nickname", "03_audit"]);
          expect(await columnNames(db.sql, "public", "users")).toEqual([
            "id",
            "email",
            "nickname",
            "created_by",
            "created_at",
          ]);
          expect(await tableComment("users")).toBe("People who can sign in");
        },
      };
      await ok("pgtandem init");
      for (const line of session!) {
        if (line === "pgtandem init") continue;
        await ok(line);
        await after[line]?.();
      }
      const schema = JSON.parse(await readFile(join(work, "migration.schema.json"), "utf8"));
      expect(schema.$defs["acme:comment"]).toBeDefined();
    },
    60_000,
  );

  test("a broken TS migration: one line naming the file, nothing changed", async () => {
    await writeFile(
      join(work, "broken.ts"),
      `import { createTable, defineMigration } from "pgtandem";\n` +
        `const columns: any = undefined;\n` +
        `export default defineMigration({ operations: [createTable("t", columns.all)] });\n`,
    );
    const before = await history();
    const run = await pgtandem("pgtandem start broken.ts");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: broken\.ts: loading the module failed: TypeError: .*\n$/);
    expect(await history()).toEqual(before);
  });

  test("pgtandem types: migrations and plugins type-check with no node_modules", async () => {
    const session = sessions.find((s) => s.includes("pgtandem types"));
    expect(session).toEqual(["pgtandem types"]);
    const run = await ok("pgtandem types");
    expect(run.stdout).toBe(
      "Wrote pgtandem.d.ts\nWrote pgtandem-schema.d.ts (the schema of migrations)\n" +
        "Wrote tsconfig.json\n",
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const check = async () => {
      const child = Bun.spawn([process.execPath, tsc, "-p", work], { cwd: work, stdout: "pipe" });
      const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
      return { out, code };
    };
    // The doc's migrations and plugin (and broken.ts, whose error is `any`-typed) check clean.
    expect(await check()).toEqual({ out: "", code: 0 });
    await writeFile(
      join(work, "migrations", "04_typo.ts"),
      `import { defineMigration, t } from "pgtandem";\n` +
        `export default defineMigration({ operations: [t.texxt()] });\n`,
    );
    const failed = await check();
    expect(failed.code).not.toBe(0);
    expect(failed.out).toMatch(
      /04_typo\.ts\(2,\d+\): error TS\d+: Property 'texxt' does not exist/,
    );
    await rm(join(work, "migrations", "04_typo.ts"));
  }, 120_000);

  async function tableComment(table: string) {
    const [row] = await db
      .sql`select obj_description(${`public.${table}`}::regclass, 'pg_class') as c`;
    return row?.c as string | null;
  }
});
