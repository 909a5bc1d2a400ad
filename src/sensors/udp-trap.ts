// Classic UDP mode: sockets on the trap ports, IPv4 and IPv6 separately (ipv6Only). Any datagram
// is a probe (technique `udp`). Nothing is ever sent back: a UDP source address can be forged, so a
// reply (PortSentry sent its banner) would make the trap a reflector aimed at an innocent host.

import dgram from 'node:dgram';
import { canonicalIp, ipFamily } from '../core/address.js';
import type { ProbeEvent } from '../core/records.js';
import type { TrapOptions, Traps } from './tcp-trap.js';
import { bindAll, type Closable, closeAll } from './trap-bind.js';

/** Socket receive buffer asked for; Linux's default (~208 KB) overflows within a 100k/s flood. */
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

export async function startUdpTraps(options: TrapOptions): Promise<Traps> {
  const now = options.now ?? Date.now;

  const bindOne = (port: number, address: string): Promise<Closable> =>
    new Promise((resolve, reject) => {
      const family = ipFamily(address) === 6 ? 'udp6' : 'udp4';
      // A large receive buffer rides out a burst (the kernel caps it at net.core.rmem_max).
      const socket = dgram.createSocket({
        type: family,
        ipv6Only: family === 'udp6',
        reuseAddr: false,
        recvBufferSize: RECEIVE_BUFFER_BYTES,
      });
      const destination = canonicalIp(address);
      socket.on('message', (_msg, rinfo) => {
        const source = canonicalIp(rinfo.address);
        if (!source) return;
        const e: ProbeEvent = {
          at: now(),
          source,
          port,
          protocol: 'udp',
          technique: 'udp',
          mode: 'udp',
          sensor: 'udp-trap',
        };
        // A wildcard bind does not tell which local address was hit; only record a specific one.
        if (destination && destination !== '0.0.0.0' && destination !== '::') e.destination = destination;
        try {
          options.onProbe(e);
        } catch (err) {
          options.onError?.(err as Error);
        }
      });
      // Kept by reference: `off` must remove this very function. (Removing `reject` removed
      // nothing, so the first runtime error closed the bound socket and the trap went silent.)
      const onBindError = (err: Error) => {
        try {
          socket.close();
        } catch {
          // never bound: nothing to release
        }
        reject(err);
      };
      socket.once('error', onBindError);
      socket.bind({ port, address, exclusive: true }, () => {
        socket.off('error', onBindError);
        // Once bound, errors are reported and the trap stays open.
        socket.on('error', (err) => options.onError?.(err));
        resolve({ close: () => new Promise<void>((done) => socket.close(() => done())) });
      });
    });

  const { summary, handles } = await bindAll(options.ports, options.bindAddresses, bindOne);
  return { summary, close: () => closeAll(handles) };
}
