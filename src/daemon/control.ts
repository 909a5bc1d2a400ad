// The control socket: a unix stream socket only root can reach (socket 0600 inside a 0700
// directory) that speaks newline-delimited JSON. One request per line, one response per line:
//   → {"op":"status"} | {"op":"ping"} | {"op":"reload"}
//     {"op":"block","address":"192.0.2.7","for":3600000[,"force":true]} | {"op":"unblock","address":"192.0.2.7"}
//   ← {"ok":true,"result":...} | {"ok":false,"error":{"code":"E_...","message":"..."}}
// The CLI sends changes here when a daemon runs, so the daemon stays the only writer of bans.

import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { errorMessage, SentinelError } from '../core/errors.js';

export type ControlRequest =
  | { op: 'ping' }
  | { op: 'status' }
  | { op: 'reload' }
  | {
      op: 'block';
      address: string;
      for?: number | null;
      reason?: string;
      /** Block even an address in the never-block set (refused otherwise). */
      force?: boolean;
    }
  | { op: 'unblock'; address: string; reason?: string };

export type ControlResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/** Longest request line accepted; a client sending more is cut off (nothing legitimate is this big). */
const MAX_LINE = 64 * 1024;

function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new SentinelError('E_USAGE', 'request is not valid JSON');
  }
  if (typeof value !== 'object' || value === null)
    throw new SentinelError('E_USAGE', 'request must be an object');
  const r = value as Record<string, unknown>;
  switch (r.op) {
    case 'ping':
    case 'status':
    case 'reload':
      return { op: r.op };
    case 'block':
    case 'unblock': {
      if (typeof r.address !== 'string') throw new SentinelError('E_USAGE', `${r.op} needs "address"`);
      const req: ControlRequest =
        r.op === 'block' ? { op: 'block', address: r.address } : { op: 'unblock', address: r.address };
      if (typeof r.reason === 'string') req.reason = r.reason;
      if (req.op === 'block' && (typeof r.for === 'number' || r.for === null)) req.for = r.for;
      if (req.op === 'block' && r.force === true) req.force = true;
      return req;
    }
    default:
      throw new SentinelError('E_USAGE', `unknown op ${JSON.stringify(r.op)}`);
  }
}

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

/** Refuses to start when another daemon answers on `path`; removes a stale socket file otherwise. */
async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new SentinelError('E_LOCKED', `another daemon is listening on ${path}`);
  unlinkSync(path);
}

export async function startControlServer(path: string, handler: ControlHandler): Promise<ControlServer> {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });

  await clearStaleSocket(path);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    let chain = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE) {
        socket.end(
          `${JSON.stringify({ ok: false, error: { code: 'E_USAGE', message: 'request too long' } })}\n`,
        );
        return;
      }
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        // Requests on one connection are answered in order.
        chain = chain.then(async () => {
          let response: ControlResponse;
          try {
            response = { ok: true, result: await handler(parseRequest(line)) };
          } catch (err) {
            const code = err instanceof SentinelError ? err.code : 'E_DAEMON';
            response = { ok: false, error: { code, message: errorMessage(err) } };
          }
          if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
        });
      }
    });
  });
  // Created with a umask so there is no window in which the socket is reachable by others.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }),
  };
}

/** Thrown by `controlRequest` when no daemon listens on the socket (the CLI then works offline). */
export class NoDaemonError extends SentinelError {
  constructor(path: string) {
    super('E_DAEMON', `no daemon listening on ${path}`);
    this.name = 'NoDaemonError';
  }
}

/** Sends one request and waits for its response. */
export function controlRequest(path: string, request: ControlRequest, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SentinelError('E_TIMEOUT', `daemon did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      let response: ControlResponse;
      try {
        response = JSON.parse(buffer.slice(0, nl)) as ControlResponse;
      } catch {
        reject(new SentinelError('E_DAEMON', 'daemon sent an invalid response'));
        return;
      }
      if (response.ok) resolve(response.result);
      else reject(new SentinelError(response.error.code as SentinelError['code'], response.error.message));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED'))
        reject(new NoDaemonError(path));
      else reject(new SentinelError('E_DAEMON', `control socket ${path}: ${err.message}`, { cause: err }));
    });
  });
}
