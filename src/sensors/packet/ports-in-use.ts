// The host's socket table, read from /proc/net/{tcp,tcp6,udp,udp6} without binding anything
// (binding a port to test it would race the real service). Used by the capture modes to skip
// ports that any local socket owns: a listening service, and also the local end of the host's
// own connections (replies from a web server we talk to arrive at our ephemeral port, which may
// be in a watched list such as PortSentry's 32771-32774).

import { readFileSync } from 'node:fs';

/** Any state but TIME_WAIT (06) and CLOSE (07): a socket that still owns its local port. */
const TCP_OWNING = ['01', '02', '03', '04', '05', '08', '09', '0A', '0B', '0C'];
const UDP_SOCKET = ['01', '07']; // connected, unconnected

/** Parses one /proc/net table; returns the local ports in the given state(s). Malformed lines are skipped. */
export function parseProcNet(text: string, state: string | readonly string[]): number[] {
  const states = typeof state === 'string' ? [state] : state;
  const ports = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || !states.includes(fields[3] as string)) continue;
    const local = fields[1] ?? '';
    const colon = local.lastIndexOf(':');
    const port = Number.parseInt(local.slice(colon + 1), 16);
    if (colon > 0 && Number.isInteger(port) && port > 0 && port < 65536) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

export interface PortsInUse {
  tcp: Set<number>;
  udp: Set<number>;
}

export function readPortsInUse(root = '/proc/net'): PortsInUse {
  const read = (name: string) => {
    try {
      return readFileSync(`${root}/${name}`, 'utf8');
    } catch {
      return ''; // no IPv6 on this host, for example
    }
  };
  return {
    tcp: new Set([...parseProcNet(read('tcp'), TCP_OWNING), ...parseProcNet(read('tcp6'), TCP_OWNING)]),
    udp: new Set([...parseProcNet(read('udp'), UDP_SOCKET), ...parseProcNet(read('udp6'), UDP_SOCKET)]),
  };
}
