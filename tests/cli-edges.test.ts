/**
 * The CLI at its edges, driven as a user would: connecting to something that is not PostgreSQL,
 * --json on every command, the config file's errors, unknown commands and flags, per-command help
 * and `create` next to a migration of the same name.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import net from "node:net";
import { join, resolve } from "node:path";
import { parseCommandLine } from "../lib/cli/args.ts";
import { oneJsonDocument } from "../lib/cli/io.ts";
import { COMMANDS } from "../lib/cli/run.ts";
import { tempFolder as folder } from "./helpers/folder.ts";
import { cli, cliOk } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

const AUDIT_PLUGIN = resolve(import.meta.dir, "..", "plugins", "audit.ts");

beforeAll(async () => {
  db = await testDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** A local TCP server that does `onConnection` with each connection; counts them. */
async function fakeServer(onConnection: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `postgres://someone:s3cret-pw@127.0.0.1:${port}/app`,
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("connecting to something that is not PostgreSQL", () => {
  test("a server that answers garbage and hangs up: a few attempts, then one line", async () => {
    const server = await fakeServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    try {
      const result = await cli(server.url, ["status"]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        `Error: cannot connect to PostgreSQL at 127.0.0.1:${server.port}: the server's reply is ` +
          `not PostgreSQL's protocol ("HTTP/1.1 400 Bad Request"): is this the right port?\n`,
      );
      // postgres.js alone reconnected thousands of times a second, forever.
      expect(server.connections()).toBeLessThanOrEqual(3);
    } finally {
      await server.close();
    }
  });

  test("a server that hangs up without a word: three attempts", async () => {
    const server = await fakeServer((socket) => socket.end());
    try {
      const result = await cli(server.url, ["status"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `Error: cannot connect to PostgreSQL at 127.0.0.1:${server.port}: the server closed the ` +
          `connection before the startup finished (3 attempts): is this a PostgreSQL server?\n`,
      );
      expect(server.connections()).toBe(3);
    } finally {
      await server.close();
    }
  });

  test("a server that accepts and says nothing: --connect-timeout, then one line", async () => {
    const server = await fakeServer(() => {});
    try {
      const result = await cli(server.url, ["status", "--connect-timeout", "300ms"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `Error: cannot connect to PostgreSQL at 127.0.0.1:${server.port}: ` +
          `no answer within 0.3s (--connect-timeout)\n`,
      );
      const viaEnv = await cli(server.url, ["status"], { PGTANDEM_CONNECT_TIMEOUT: "0.2" });
      expect(viaEnv.stderr).toContain("no answer within 0.2s (--connect-timeout)");
    } finally {
      await server.close();
    }
  });

  test("a closed port: refused, retried, one line without the password", async () => {
    const server = await fakeServer(() => {});
    const { url, port } = server;
    await server.close();
    const result = await cli(url, ["status"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused ` +
        `(3 attempts): is PostgreSQL running and listening there?\n`,
    );
    expect(result.stderr).not.toContain("s3cret-pw");
  });

  test("a bad --connect-timeout is refused before connecting", async () => {
    const result = await cli(db.url, ["status", "--connect-timeout", "soon"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: --connect-timeout: expected a duration like 100ms, 1s or 2m, got "soon"\n`,
    );
  });

  test("a real server still connects, with a short timeout too", async () => {
    await cliOk(db.url, ["init", "--connect-timeout", "5"]);
    const result = await cliOk(db.url, ["status", "--connect-timeout", "2s"]);
    expect(JSON.parse(result.stdout).status).toBe("No migrations");
  });
});

/** Runs a --json command line and returns its one document (stdout must parse as one). */
async function jsonRun(args: string[], env: Record<string, string> = {}) {
  const result = await cli(db.url, [...args, "--json"], env);
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `pgtandem ${args.join(" ")} --json: stdout is not one JSON document:\n${result.stdout}`,
    );
  }
  return { code: result.code, document, stderr: result.stderr };
}

const USERS = {
  operations: [{
    create_table: {
      name: "users",
      columns: [{ name: "id", type: "serial", pk: true }, { name: "email", type: "text" }],
    },
  }],
};
const NICKNAME = {
  operations: [{
    add_column: { table: "users", column: { name: "nickname", type: "text", nullable: true } },
  }],
};

describe("--json: one document on stdout for every command", () => {
  test("the lifecycle: init, start, status, complete, rollback", async () => {
    await db.sql.unsafe(`create schema "js_life"`);
    const env = { PGROLL_SCHEMA: "js_life" };
    const dir = await folder({ "01_users.json": USERS, "02_nickname.json": NICKNAME });
    expect(await jsonRun(["init"], env)).toEqual({
      code: 0,
      document: { status: "initialized", stateSchema: "pgroll" },
      stderr: "",
    });
    const started = await jsonRun(["start", join(dir, "01_users.json")], env);
    expect(started.document).toEqual({
      migration: "01_users",
      status: "started",
      versionSchema: "js_life_01_users",
    });
    expect((await jsonRun(["status"], env)).document).toEqual({
      schema: "js_life",
      version: "01_users",
      status: "In progress",
    });
    expect((await jsonRun(["complete"], env)).document).toEqual({
      migration: "01_users",
      status: "complete",
    });
    await cliOk(db.url, ["start", join(dir, "02_nickname.json")], env);
    expect((await jsonRun(["rollback"], env)).document).toEqual({
      migration: "02_nickname",
      status: "rolled_back",
    });
    const completed = await jsonRun(["start", join(dir, "02_nickname.json"), "--complete"], env);
    expect(completed.document).toMatchObject({ migration: "02_nickname", status: "complete" });
  });

  test("the folder and offline commands print their own document", async () => {
    await db.sql.unsafe(`create schema "js_folder"`);
    const env = { PGROLL_SCHEMA: "js_folder" };
    const dir = await folder({ "01_users.json": USERS, "02_nickname.json": NICKNAME });
    const plan = await jsonRun(["plan", join(dir, "01_users.json")], env);
    expect(plan.code).toBe(0);
    const valid = await jsonRun(["validate", join(dir, "01_users.json")], env);
    expect(valid.document).toMatchObject({ valid: true });
    const migrated = await jsonRun(["migrate", dir, "--complete"], env);
    expect(migrated.document).toMatchObject({ schema: "js_folder", status: "applied" });
    expect((await jsonRun(["latest", "migration"], env)).document).toEqual({
      migration: "02_nickname",
    });
    expect((await jsonRun(["analyze"], env)).code).toBe(0);
    const pulled = await jsonRun(["pull", await folder()], env);
    expect(pulled.document).toHaveProperty("written");
    expect((await jsonRun(["update", dir], env)).document).toHaveProperty("updated");
    const converted = await cli(db.url, [
      "convert",
      await sqlFile("ALTER TABLE a ADD COLUMN b int"),
      "--json",
    ]);
    expect(JSON.parse(converted.stdout)).toHaveProperty("operations");
    expect((await jsonRun(["schema"])).document).toHaveProperty("$defs");
    // A command with nothing but lines to say (types): its lines, as data.
    expect(JSON.parse(oneJsonDocument("Wrote a.d.ts\nWrote tsconfig.json\n"))).toEqual({
      messages: ["Wrote a.d.ts", "Wrote tsconfig.json"],
    });
    expect((await jsonRun(["--version"])).document).toHaveProperty("version");
    expect((await jsonRun(["status", "--help"])).document.help).toMatch(/^Usage: pgtandem status/);
  });

  test("errors: {error: {code, message}} on stdout, the line on stderr, exit 1", async () => {
    await db.sql.unsafe(`create schema "js_err"`);
    const env = { PGROLL_SCHEMA: "js_err" };
    const dir = await folder({
      "01_users.json": USERS,
      "02_broken.json": '{\n  "operations": [\n    { "sql": ',
      "03_bad_field.json": {
        operations: [{ create_table: { name: "t", columns: [{ name: "a" }] } }],
      },
    });
    const cases: [string[], string, RegExp][] = [
      [["statsu"], "invalid_input", /^unknown command "statsu": did you mean "status"\?$/],
      [["status", "--nope"], "invalid_input", /^unknown flag "--nope" for "status"/],
      [["start", join(dir, "missing.json")], "invalid_input", /missing\.json/],
      [["start", join(dir, "02_broken.json")], "invalid_migration", /02_broken\.json.*line 3/],
      [["complete"], "state", /^no migration is in progress in schema "js_err"$/],
      [[], "invalid_input", /^no command given/],
    ];
    for (const [args, code, message] of cases) {
      const run = await jsonRun(args, env);
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
      const error = run.document.error as { code: string; message: string };
      expect(Object.keys(run.document)).toEqual(["error"]);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      // The same line on stderr, for a CI log that keeps stdout in a file.
      expect(run.stderr).toBe(`Error: ${error.message}\n`);
    }
    // A validation error carries every issue.
    const invalid = await jsonRun(["start", join(dir, "03_bad_field.json")], env);
    expect(invalid.document.error).toMatchObject({
      code: "invalid_migration",
      issues: [{ path: ["operations", 0, "create_table", "columns", 0, "type"] }],
    });
    // validate reports a file that does not load as its own document, exit 1.
    const validate = await jsonRun(["validate", join(dir, "02_broken.json")], env);
    expect(validate.code).toBe(1);
    expect(validate.document).toMatchObject({ valid: false });
    // Cannot connect: code "connection", host and port, no password.
    const server = await fakeServer((socket) => socket.end("nope"));
    try {
      const result = await cli(server.url, ["status", "--json"]);
      expect(result.code).toBe(1);
      const { error } = JSON.parse(result.stdout);
      expect(error.code).toBe("connection");
      expect(error.message).toContain(`127.0.0.1:${server.port}`);
      expect(result.stdout).not.toContain("s3cret-pw");
    } finally {
      await server.close();
    }
  });

  test("a migrate that fails after applying some: one document, the report and the error", async () => {
    await db.sql.unsafe(`create schema "js_partial"`);
    const env = { PGROLL_SCHEMA: "js_partial" };
    const dir = await folder({
      "01_users.json": USERS,
      "02_fails.json": { operations: [{ sql: { up: "SELECT no_such_function()" } }] },
    });
    const run = await jsonRun(["migrate", dir, "--complete", "--one-by-one"], env);
    expect(run.code).toBe(1);
    expect(run.document).toMatchObject({
      applied: [expect.objectContaining({ name: "01_users" })],
      error: { code: "query" },
    });
  });
});

/** A SQL file for `convert`. */
async function sqlFile(text: string): Promise<string> {
  const path = join(await folder(), "change.sql");
  await writeFile(path, text);
  return path;
}

describe("pgtandem.jsonc", () => {
  const migration = "operations:\n  - audit:add_timestamps:\n      table: items\n";

  test("comments and trailing commas are accepted", async () => {
    const dir = await folder({
      "pgtandem.jsonc": `{\n  // the audit plugin\n  "plugins": [\n    ${
        JSON.stringify(AUDIT_PLUGIN)
      },\n  ],\n}\n`,
      "01_audit.yaml": migration,
    });
    const schema = JSON.parse((await cliOk(db.url, ["schema", dir])).stdout);
    expect(Object.keys(schema.$defs)).toContain("audit:add_timestamps");
  });

  test("a syntax error names the line and column", async () => {
    const dir = await folder({
      "pgtandem.jsonc": `{\n  "plugins": [\n    "a.ts"\n    "b.ts"\n  ]\n}\n`,
      "01_audit.yaml": migration,
    });
    const result = await cli(db.url, ["validate", join(dir, "01_audit.yaml")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: ${join(dir, "pgtandem.jsonc")}: malformed JSON at line 4, column 5: comma expected\n`,
    );
  });

  test("a wrong field names the line and column", async () => {
    const dir = await folder({ "pgtandem.jsonc": `{\n  "plugins": ["a.ts", 7]\n}\n` });
    const result = await cli(db.url, ["schema", dir]);
    expect(result.stderr).toBe(
      `Error: ${join(dir, "pgtandem.jsonc")}: line 2, column 23: plugins[1]: ` +
        `Invalid input: expected string, received number\n`,
    );
  });

  test("a plugin path from the config file says it came from there", async () => {
    const dir = await folder({
      "pgtandem.jsonc": `{\n  "plugins": [\n    ${
        JSON.stringify(AUDIT_PLUGIN)
      },\n    "../nowhere/acme.ts"\n  ]\n}\n`,
      "01_audit.yaml": migration,
    });
    const result = await cli(db.url, ["validate", join(dir, "01_audit.yaml")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: ${join(dir, "pgtandem.jsonc")}: plugins[1] (line 4, column 5): plugin file ` +
        `"${resolve(dir, "../nowhere/acme.ts")}": does not exist\n`,
    );
    // The same file given with --plugin: no config file in the message.
    const flag = await cli(db.url, ["schema", "--plugin", "../nowhere/acme.ts"]);
    expect(flag.stderr).toBe(`Error: plugin file "../nowhere/acme.ts": does not exist\n`);
  });
});

describe("unknown commands and flags", () => {
  const cases: [string[], string][] = [
    [["statsu"], `unknown command "statsu": did you mean "status"?`],
    [["migarte", "dir"], `unknown command "migarte": did you mean "migrate"?`],
    [["frobnicate"], `unknown command "frobnicate"; run "pgtandem --help" to see the commands`],
    [["status", "--histroy"], `unknown flag "--histroy" for "status": did you mean "--history"?`],
    [
      ["start", "f.json", "--complet"],
      `unknown flag "--complet" for "start": did you mean "--complete"?`,
    ],
    [
      ["status", "--zzz"],
      `unknown flag "--zzz" for "status"; run "pgtandem status --help" to see the flags`,
    ],
    [
      ["create", "-x"],
      `unknown flag "-x" for "create"; run "pgtandem create --help" to see the flags`,
    ],
    [
      ["start", "f.json", "--complete=yes"],
      `flag --complete takes no value (or =true / =false), got "--complete=yes"`,
    ],
    [["create", "--name"], "flag --name needs a value"],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), async () => {
      const result = await cli(db.url, args);
      expect(result).toEqual({ code: 1, stdout: "", stderr: `Error: ${message}\n` });
    });
  }
});

describe("--help of each command", () => {
  /** The flags a help text lists, from its flag lines. */
  function listedFlags(help: string): string[] {
    return flagLines(help).map((f) => f.name);
  }

  function flagLines(help: string): { name: string; value: boolean }[] {
    return [...help.matchAll(/^ {2}(?:-\w, | {4})--([a-z-]+)( VALUE)?/gm)].map((m) => ({
      name: m[1]!,
      value: m[2] !== undefined,
    }));
  }

  test("lists only flags the command accepts; convert of the connection flags only --postgres-url", async () => {
    for (const command of COMMANDS) {
      const help = (await cliOk(db.url, [command.name, "--help"])).stdout;
      const flags = flagLines(help);
      expect(flags.length).toBeGreaterThan(0);
      for (const flag of flags) {
        const args = [command.name, `--${flag.name}`, ...(flag.value ? ["x"] : [])];
        expect(() => parseCommandLine(args)).not.toThrow();
      }
    }
    const convert = (await cliOk(db.url, ["convert", "--help"])).stdout;
    expect(listedFlags(convert).sort()).toEqual([
      "help",
      "json",
      "migrations",
      "postgres-url",
      "ts",
      "verbose",
      "yaml",
    ]);
    expect(convert).toMatch(/--json +print the migration as JSON/);
    expect(convert).not.toMatch(/pull|baseline|PGROLL_PG_URL|connect-timeout/);
    const start = listedFlags((await cliOk(db.url, ["start", "--help"])).stdout);
    expect(start).toEqual(expect.arrayContaining(["complete", "postgres-url", "connect-timeout"]));
    expect(start).not.toContain("history");
  });
});

describe("create next to a migration of the same name", () => {
  test("--json never adds a .json file to a TypeScript folder", async () => {
    const dir = await folder();
    await cliOk(db.url, ["create", "01_users", "--dir", dir]);
    const clash = await cli(db.url, ["create", "01_users", "--json", "--dir", dir]);
    expect(clash.code).toBe(1);
    expect(JSON.parse(clash.stdout).error.message).toBe(
      `a migration named "01_users" already exists: ${join(dir, "01_users.ts")}`,
    );
    const next = JSON.parse(
      (await cliOk(db.url, ["create", "02_email", "--json", "--dir", dir])).stdout,
    );
    expect(next).toEqual({ name: "02_email", file: join(dir, "02_email.ts"), format: "ts" });
    expect((await readdir(dir)).sort()).toEqual(["01_users.ts", "02_email.ts"]);
  });

  test("--json alone in a folder of pgroll files writes JSON, as pgroll does", async () => {
    const dir = await folder({ "01_users.yaml": "operations: []\n" });
    const created = JSON.parse(
      (await cliOk(db.url, ["create", "02_b", "--json", "--dir", dir])).stdout,
    );
    expect(created.format).toBe("json");
    // Any file of that name, even one the folder would not take for a migration, is refused.
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "sub", "03_c.ts"), "export const helper = 1;\n");
    const refused = await cli(db.url, ["create", "03_c", "--yaml", "--dir", join(dir, "sub")]);
    expect(refused.stderr).toMatch(/a migration named "03_c" already exists/);
  });
});
