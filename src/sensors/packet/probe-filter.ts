// Decides whether a decoded packet is a probe worth reporting, and turns it into a ProbeEvent.
// Pure: the caller supplies which addresses are ours and which ports each mode watches.
//
// PortSentry's stealth modes never checked the destination address of a raw packet, so a
// packet merely passing by (or sent to another host on a shared segment) counted as a probe.
// We require the destination to be one of the host's addresses.

import type { Mode, ProbeEvent, Protocol } from '../../core/records.js';
import { TCP_ACK, techniqueOf } from './classify.js';
import type { DecodedPacket } from './decode.js';

export interface ProbeScope {
  /** Is this (canonical) address one of the host's own? */
  isLocal(address: string): boolean;
  /** Is this source the host itself (default: isLocal)? */
  isSelf?(address: string): boolean;
  /** The mode that watches this port, or undefined when the port is not watched (or in use). */
  modeFor(protocol: Protocol, port: number): Mode | undefined;
}

export type FilterOutcome =
  | { kind: 'probe'; event: ProbeEvent }
  | { kind: 'ignored'; why: 'not-a-probe' | 'not-for-us' | 'port-not-watched' | 'from-self' };

export function packetToProbe(
  packet: DecodedPacket,
  at: number,
  sensor: string,
  scope: ProbeScope,
): FilterOutcome {
  const technique = techniqueOf(packet);
  if (!technique) return { kind: 'ignored', why: 'not-a-probe' };
  if (!scope.isLocal(packet.dst)) return { kind: 'ignored', why: 'not-for-us' };
  if ((scope.isSelf ?? scope.isLocal)(packet.src)) return { kind: 'ignored', why: 'from-self' };
  const mode = scope.modeFor(packet.protocol, packet.dstPort);
  if (!mode) return { kind: 'ignored', why: 'port-not-watched' };
  // Capture modes see every packet, with no connection tracking: an odd flag set that carries
  // ACK (PSH|ACK, FIN|PSH|ACK ...) is a segment of some session (a reply that arrived before
  // the socket table was re-read), not a scan; nmap's probes are the plain flag sets above.
  // Trap mode never sees those: the kernel accepts established sessions before the trap.
  if (technique === 'odd' && (packet.tcpFlags & TCP_ACK) !== 0 && (mode === 'stcp' || mode === 'atcp')) {
    return { kind: 'ignored', why: 'not-a-probe' };
  }
  return {
    kind: 'probe',
    event: {
      at,
      source: packet.src,
      destination: packet.dst,
      port: packet.dstPort,
      protocol: packet.protocol,
      technique,
      mode,
      sensor,
    },
  };
}

export interface WatchedPorts {
  /** Stealth: exactly these ports. */
  stealthTcp?: number[];
  stealthUdp?: number[];
  /** Advanced: every port 1..limit except the excludes and the ports in use. */
  advancedTcp?: { limit: number; exclude: number[] };
  advancedUdp?: { limit: number; exclude: number[] };
}

/** Builds `modeFor` from the configured modes; `inUse` is consulted live (it may change). */
export function watchedPortsScope(
  watched: WatchedPorts,
  inUse: () => { tcp: Set<number>; udp: Set<number> },
): ProbeScope['modeFor'] {
  const stcp = new Set(watched.stealthTcp ?? []);
  const sudp = new Set(watched.stealthUdp ?? []);
  const xtcp = new Set(watched.advancedTcp?.exclude ?? []);
  const xudp = new Set(watched.advancedUdp?.exclude ?? []);
  return (protocol, port) => {
    const used = inUse();
    if (protocol === 'tcp') {
      if (used.tcp.has(port)) return undefined;
      if (watched.advancedTcp && port <= watched.advancedTcp.limit && !xtcp.has(port)) return 'atcp';
      return stcp.has(port) ? 'stcp' : undefined;
    }
    if (used.udp.has(port)) return undefined;
    if (watched.advancedUdp && port <= watched.advancedUdp.limit && !xudp.has(port)) return 'audp';
    return sudp.has(port) ? 'sudp' : undefined;
  };
}

/**
 * A BPF filter for live capture: only packets that can be probes reach user space (no
 * replies, no RSTs), so a busy host's ordinary traffic costs almost nothing.
 */
export function captureFilter(watched: WatchedPorts): string {
  const tcpPorts = portExpr(watched.stealthTcp, watched.advancedTcp);
  const udpPorts = portExpr(watched.stealthUdp, watched.advancedUdp);
  // tcp[13] is the flags byte; drop RST and SYN+ACK (replies). IPv6 TCP flags cannot be
  // indexed by tcp[] in BPF when extension headers are present, so IPv6 TCP is filtered by port only.
  const parts: string[] = [];
  if (tcpPorts) {
    parts.push(`(ip and tcp and (${tcpPorts}) and tcp[13] & 4 == 0 and tcp[13] & 0x12 != 0x12)`);
    parts.push(`(ip6 and tcp and (${tcpPorts}))`);
  }
  if (udpPorts) parts.push(`(udp and (${udpPorts}))`);
  if (parts.length === 0) return 'less 0'; // 'less 0' matches nothing
  // BPF cannot look past IPv4 fragmentation (nmap -f) or IPv6 extension headers: let those
  // through and leave them to the decoder, which reassembles and walks them.
  parts.push('(ip and ip[6:2] & 0x3fff != 0)');
  parts.push('(ip6 and ip6[6] != 6 and ip6[6] != 17 and ip6[6] != 58)');
  return parts.join(' or ');
}

function portExpr(
  list: number[] | undefined,
  advanced: { limit: number; exclude: number[] } | undefined,
): string {
  const terms: string[] = [];
  if (advanced) terms.push(`dst portrange 1-${advanced.limit}`);
  for (const p of list ?? []) if (!advanced || p > advanced.limit) terms.push(`dst port ${p}`);
  return terms.join(' or ');
}
