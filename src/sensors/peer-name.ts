// The source address of an accepted connection that the peer has already reset (nmap -sT does
// that to every port it finds open). Node learns remoteAddress with getpeername(2), which fails
// on a closed socket; the small native addon in native/peername.c asks with SO_PEERNAME, which
// does not. Without the addon (not built), such probes are counted as unattributed.

import { createRequire } from 'node:module';

type PeerNameFn = (fd: number) => { address: string; port: number } | undefined;

let peerNameFn: PeerNameFn | null | undefined;

function load(): PeerNameFn | null {
  if (peerNameFn !== undefined) return peerNameFn;
  try {
    const require = createRequire(import.meta.url);
    // dist/src/sensors/peer-name.js → build/Release/peername.node at the package root
    peerNameFn = (require('../../../build/Release/peername.node') as { peerName: PeerNameFn }).peerName;
  } catch {
    peerNameFn = null;
  }
  return peerNameFn;
}

/** The peer of a net.Socket whose remoteAddress is gone, via its file descriptor. */
export function peerOfClosedSocket(socket: { _handle?: { fd?: number } | null }): string | undefined {
  const fd = socket._handle?.fd;
  const fn = load();
  if (!fn || typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return fn(fd)?.address;
  } catch {
    return undefined;
  }
}
