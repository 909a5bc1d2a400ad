// The host's socket table, read from /proc/net/{tcp,tcp6,udp,udp6} without binding anything
// (binding a port to test it would race the real service). Used by the advanced modes to
// skip ports a real service listens on, and by `status` to show what trap mode leaves alone.

import { readFileSync } from 'node:fs';

const TCP_LISTEN = '0A';
const UDP_UNCONNECTED = '07';

/** Parses one /proc/net table; returns the local ports in the given state. Malformed lines are skipped. */
export function parseProcNet(text: string, state: string): number[] {
  const ports = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== state) continue;
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
    tcp: new Set([...parseProcNet(read('tcp'), TCP_LISTEN), ...parseProcNet(read('tcp6'), TCP_LISTEN)]),
    udp: new Set([
      ...parseProcNet(read('udp'), UDP_UNCONNECTED),
      ...parseProcNet(read('udp6'), UDP_UNCONNECTED),
    ]),
  };
}
