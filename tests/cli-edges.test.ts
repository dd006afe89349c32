/**
 * The CLI at its edges, driven as a user would: connecting to something that is not PostgreSQL,
 * --json on every command, the config file's errors, unknown commands and flags, per-command help
 * and `create` next to a migration of the same name.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, cliOk } from "./helpers/cli.ts";
import { type TestDatabase, testDatabase } from "./helpers/postgres.ts";

let db: TestDatabase;

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

/** A temporary folder holding `files` (objects as JSON, strings as is). */
async function folder(files: Record<string, object | string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pgtandem-edges-"));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(
      join(dir, name),
      typeof content === "string" ? content : JSON.stringify(content, null, 2),
    );
  }
  return dir;
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
