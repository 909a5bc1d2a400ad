// Classic TCP mode: listeners on the trap ports, IPv4 and IPv6 on separate sockets (ipv6Only).
// A completed connection is a probe (technique `connect`: the handshake proves the source
// address). The attacker's socket is never kept: an optional banner is written, then the socket
// is closed, and destroyed outright if it has not gone within a second. Concurrent sockets are
// bounded per listener; past the bound the kernel-accepted connection is dropped by Node, and the
// drop still counts as a probe.

import net from 'node:net';
import { canonicalIp, ipFamily } from '../core/address.js';
import type { ProbeEvent } from '../core/records.js';
import { peerOfClosedSocket } from './peer-name.js';
import { bindAll, type Closable, closeAll, type TrapSummary } from './trap-bind.js';

type PeerHandle = Parameters<typeof peerOfClosedSocket>[0];

export type { TrapSummary } from './trap-bind.js';

export interface TrapOptions {
  ports: number[];
  /** e.g. ['0.0.0.0', '::']; IPv6 addresses get their own ipv6Only socket. */
  bindAddresses: string[];
  onProbe: (e: ProbeEvent) => void;
  onError?: (err: Error) => void;
  /** Event time source; accept time by default. */
  now?: () => number;
}

export interface TcpTrapOptions extends TrapOptions {
  /** Written to each connection before it is closed; '' = none. */
  banner: string;
  /** Open attacker sockets per listener before new ones are dropped at once. Default 64. */
  maxConnectionsPerListener?: number;
}

export interface Traps {
  summary: TrapSummary;
  close(): Promise<void>;
  /** Connections whose source could not be learnt (reset before accept, addon not built). */
  unattributed?: () => number;
}

/** How long a trapped socket may take to flush the banner before it is destroyed. */
const LINGER_MS = 1000;

export async function startTcpTraps(options: TcpTrapOptions): Promise<Traps> {
  const now = options.now ?? Date.now;
  let unattributed = 0;
  const emit = (remote: string | undefined, local: string | undefined, port: number) => {
    const source = remote === undefined ? undefined : canonicalIp(remote);
    if (!source) return;
    const e: ProbeEvent = {
      at: now(),
      source,
      port,
      protocol: 'tcp',
      technique: 'connect',
      mode: 'tcp',
      sensor: 'tcp-trap',
    };
    const destination = local === undefined ? undefined : canonicalIp(local);
    if (destination) e.destination = destination;
    try {
      options.onProbe(e);
    } catch (err) {
      options.onError?.(err as Error);
    }
  };

  const bindOne = (port: number, address: string): Promise<Closable> =>
    new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true });
      server.maxConnections = options.maxConnectionsPerListener ?? 64;
      server.on('connection', (socket) => {
        socket.on('error', () => {});
        // A peer that reset at once (nmap -sT) leaves no remoteAddress: ask the kernel directly.
        const remote = socket.remoteAddress ?? peerOfClosedSocket(socket as unknown as PeerHandle);
        if (remote === undefined) unattributed++;
        emit(remote, socket.localAddress, port);
        const timer = setTimeout(() => socket.destroy(), LINGER_MS);
        timer.unref();
        socket.on('close', () => clearTimeout(timer));
        if (options.banner) {
          socket.end(options.banner);
          // Read (and drop) whatever the peer sends so its FIN is seen and the socket closes
          // cleanly once the banner is out; the linger timer bounds how long that may take.
          socket.resume();
        } else {
          socket.destroy();
        }
      });
      server.on('drop', (data) => emit(data?.remoteAddress, data?.localAddress, port));
      server.once('error', reject);
      server.listen({ port, host: address, ipv6Only: ipFamily(address) === 6, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => options.onError?.(err));
        resolve({ close: () => new Promise<void>((done) => server.close(() => done())) });
      });
    });

  const { summary, handles } = await bindAll(options.ports, options.bindAddresses, bindOne);
  return { summary, close: () => closeAll(handles), unattributed: () => unattributed };
}
