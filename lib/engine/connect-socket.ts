/**
 * The sockets of a connection pool, opened by us rather than by postgres.js, to bound connecting.
 *
 * postgres.js reconnects at once, without limit and without its connect timeout, whenever the
 * server closes a connection before the startup finished: a port that answers something else and
 * hangs up (an HTTP server, a proxy with no backend) got thousands of attempts a second, forever.
 * Opening the sockets ourselves lets `connect` (connection.ts) bound the attempts, time each TCP
 * connect, and see what the server answered first, to say in one line what is at that port.
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Attempts of one `connect` before it gives up (the first and two retries). */
export const MAX_CONNECT_ATTEMPTS = 3;

/** What the attempts of one `connect` saw, for its error line. */
export interface ConnectAttempts {
  /** Sockets asked for so far. */
  count: number;
  /** Set once the pool answered a query: from then on reconnecting is unbounded again. */
  live: boolean;
  /** The last TCP-level failure (ECONNREFUSED, ENOTFOUND, a timeout …). */
  socketError?: Error & { code?: string };
  /** The server's first bytes when they cannot be PostgreSQL's protocol, printable. */
  foreignReply?: string;
  /** The attempts ran out (the factory refused to open one more socket). */
  exhausted: boolean;
}

/** The part of postgres.js's parsed options the factory reads. */
interface DriverTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * A postgres.js `socket` option: opens the socket of each attempt (TCP or a Unix socket), at most
 * MAX_CONNECT_ATTEMPTS while the pool is not live, each within the time left until `deadline`
 * (epoch ms), with a short pause before a retry. Once live, each socket gets `timeoutMs`.
 */
export function boundedSocketFactory(
  attempts: ConnectAttempts,
  deadline: number,
  timeoutMs: number,
): (options: DriverTarget) => Promise<net.Socket> {
  const open = async (options: DriverTarget): Promise<net.Socket> => {
    const attempt = attempts.count++;
    if (!attempts.live) {
      if (attempts.foreignReply !== undefined) throw new Error("not a PostgreSQL server");
      if (attempt >= MAX_CONNECT_ATTEMPTS) {
        attempts.exhausted = true;
        throw new Error(`gave up after ${MAX_CONNECT_ATTEMPTS} attempts`);
      }
      if (attempt > 0) await sleep(Math.min(250 * 2 ** (attempt - 1), remaining(deadline)));
    }
    const index = attempt % Math.max(1, options.host.length);
    let socket: net.Socket;
    try {
      socket = await openSocket(
        options.path || undefined,
        options.host[index] ?? "localhost",
        options.port[index] ?? options.port[0] ?? 5432,
        attempts.live ? timeoutMs : remaining(deadline),
      );
    } catch (error) {
      attempts.socketError = error as Error & { code?: string };
      // postgres.js does not call us again after a failed socket: retry here, as for a server
      // that hangs up (a server restarting refuses connections for a moment).
      const code = attempts.socketError.code;
      const transient = code === "ECONNREFUSED" || code === "ECONNRESET";
      if (!attempts.live && transient && attempts.count < MAX_CONNECT_ATTEMPTS) {
        return await open(options);
      }
      throw error;
    }
    // What this attempt met replaces what an earlier one did.
    delete attempts.socketError;
    if (!attempts.live) {
      socket.once("data", (chunk: Uint8Array) => {
        if (isPostgresReply(chunk[0])) return;
        // Whatever answers there will not start speaking PostgreSQL: stop here, retry no more.
        attempts.foreignReply = printable(chunk);
        socket.destroy();
      });
    }
    return socket;
  };
  return open;
}

/** Milliseconds until `deadline`, never negative. */
export function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}

/** Connects a socket; postgres.js takes it connected and writes the startup (or SSL) request. */
function openSocket(
  path: string | undefined,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = path ? net.connect({ path }) : net.connect({ host, port });
    // postgres.js names the server from these in its messages and sends `host` as the TLS SNI.
    Object.assign(socket, { host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer`), { code: "CONNECT_TIMEOUT" }));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    // Stays on after the connect (a late call is a no-op), so an error in the moment before
    // postgres.js adds its own listener is never unhandled.
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Can this be the first byte a PostgreSQL server (or a pooler speaking its protocol) sends? To
 * the SSL request: S or N; to the startup message: R (authentication), E (error),
 * v (NegotiateProtocolVersion).
 */
function isPostgresReply(byte: number | undefined): boolean {
  return byte !== undefined && "SNREv".includes(String.fromCharCode(byte));
}

/** The start of a foreign reply, as text a terminal can show. */
function printable(chunk: Uint8Array): string {
  const text = new TextDecoder().decode(chunk.subarray(0, 40)).replace(/[^\x20-\x7e]+/g, " ");
  return text.trim() + (chunk.length > 40 ? "…" : "");
}
