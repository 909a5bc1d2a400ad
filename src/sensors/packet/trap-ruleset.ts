// The kernel tripwire (trap mode): nftables rules that see the first probe to an unused port,
// hand it to user space through NFLOG, and (when the policy says so) put the source into the
// ban set with a short provisional timeout, so the scan stops at its first packet instead of
// after the daemon has reacted. Blocking from user space cannot beat a scanner sending 100
// probes per millisecond; the kernel can.
//
// Layout (all inside portsentinel's own table; the ban sets and the chain that drops their
// members belong to the nftables responder, which runs at an earlier priority):
//
//   trap_allow4/6   never-block addresses (loopback, own, gateways, resolvers, ignore list)
//   trap_peers4/6   sources with an established session (refreshed by the kernel itself)
//   trap_peerhits4/6  per-peer trap-hit meters: a peer that keeps hitting traps is banned too
//   trap_tcp/udp    the trapped port ranges (1..limit minus excludes, plus explicit ports)
//   trap_input      the tripwire, hooked at input
//
// "Port in use" is decided by the kernel's own socket lookup (`socket transparent 0` matches
// when a socket owns the packet's destination): exact and race-free, so a service started
// after the daemon is never trapped and nothing has to bind a port to find out. A trap can
// therefore never block a real service.

import type { Cidr } from '../../core/address.js';
import { formatCidr } from '../../core/address.js';

/** NFLOG prefixes: which trap rule handed a packet over (see packetToProbe's callers). */
export const TRAP_PREFIX = 'portsentinel-trap';
export const PEER_PREFIX = 'portsentinel-peer';
export const BANNED_PREFIX = 'portsentinel-banned';

/** Trap hits a session peer may make before the kernel bans it too (per source). */
const PEER_TRAP_RATE = '2/second';
const PEER_TRAP_BURST = 3;

export interface TrapRulesetOptions {
  table: string;
  nflogGroup: number;
  allow: Cidr[];
  tcpPorts: number[];
  udpPorts: number[];
  /** Put the source into the ban set at the first probe, for this long (seconds); 0 = only log. */
  provisionalBanSeconds: number;
  /**
   * Which protocols the kernel may ban on their own (default both): none in dry-run, and not a
   * protocol whose response level is `alert` — the daemon's policy, applied in the kernel too.
   */
  kernelBan?: { tcp: boolean; udp: boolean };
  /** Packets from sources already banned are still logged (evidence), at most this many per second. */
  evidenceRate: number;
  /** Names of the responder's ban sets. */
  banSet4: string;
  banSet6: string;
}

/** Collapses a port list into nft interval syntax: [1,2,3,7] → "1-3, 7". */
export function portIntervals(ports: number[]): string {
  const sorted = [...new Set(ports)].filter((p) => p >= 1 && p <= 65535).sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** The nft script that (re)creates the trap part of the table, atomically (one `nft -f`). */
export function trapRuleset(o: TrapRulesetOptions): string {
  const allow4 = o.allow
    .filter((c) => c.family === 4)
    .map(formatCidr)
    .join(', ');
  const allow6 = o.allow
    .filter((c) => c.family === 6)
    .map(formatCidr)
    .join(', ');
  const tcp = portIntervals(o.tcpPorts);
  const udp = portIntervals(o.udpPorts);
  // queue-threshold 1: hand each packet over at once. The kernel's default batches up to 100
  // packets or one second, which would delay detection by up to a second.
  const logAs = (prefix: string) => `log group ${o.nflogGroup} prefix "${prefix}" queue-threshold 1`;
  const log = logAs(TRAP_PREFIX);
  const ban = (family: 4 | 6, proto: 'tcp' | 'udp') =>
    o.provisionalBanSeconds > 0 && (o.kernelBan?.[proto] ?? true)
      ? ` add @${family === 4 ? o.banSet4 : o.banSet6} { ${family === 4 ? 'ip' : 'ip6'} saddr timeout ${o.provisionalBanSeconds}s }`
      : '';
  const t = `inet ${o.table}`;
  // A set that rules add to is marked `dynamic` by the kernel; declaring it with the same flags
  // keeps a re-apply (restart, reload) from failing with "File exists" (nft 1.0.6).
  const declare = (name: string, spec: string) => `add set ${t} ${name} { ${spec} }`;
  const lines = [
    // Declare-then-flush makes the script idempotent without touching the responder's objects.
    `add table ${t}`,
    declare('trap_allow4', 'type ipv4_addr; flags interval; auto-merge;'),
    declare('trap_allow6', 'type ipv6_addr; flags interval; auto-merge;'),
    declare('trap_peers4', 'type ipv4_addr; flags dynamic,timeout; size 65536;'),
    declare('trap_peers6', 'type ipv6_addr; flags dynamic,timeout; size 65536;'),
    declare('trap_peerhits4', 'type ipv4_addr; flags dynamic,timeout; size 65536;'),
    declare('trap_peerhits6', 'type ipv6_addr; flags dynamic,timeout; size 65536;'),
    declare('trap_tcp', 'type inet_service; flags interval;'),
    declare('trap_udp', 'type inet_service; flags interval;'),
    `add chain ${t} trap_evidence { type filter hook prerouting priority -350; policy accept; }`,
    `add chain ${t} trap_input { type filter hook input priority -5; policy accept; }`,
    `flush set ${t} trap_allow4`,
    `flush set ${t} trap_allow6`,
    `flush set ${t} trap_tcp`,
    `flush set ${t} trap_udp`,
    `flush chain ${t} trap_evidence`,
    `flush chain ${t} trap_input`,
    allow4 ? `add element ${t} trap_allow4 { ${allow4} }` : '',
    allow6 ? `add element ${t} trap_allow6 { ${allow6} }` : '',
    tcp ? `add element ${t} trap_tcp { ${tcp} }` : '',
    udp ? `add element ${t} trap_udp { ${udp} }` : '',
    // Evidence keeps flowing for banned sources (before the responder's drop at -300), rate-limited.
    `add rule ${t} trap_evidence ip saddr @${o.banSet4} limit rate ${o.evidenceRate}/second ${logAs(BANNED_PREFIX)}`,
    `add rule ${t} trap_evidence ip6 saddr @${o.banSet6} limit rate ${o.evidenceRate}/second ${logAs(BANNED_PREFIX)}`,
    `add rule ${t} trap_input iif "lo" accept`,
    // Packets of real sessions, and the peers that hold one, are never trapped on their own:
    // a single forged packet must not ban a host we talk to. Their stray packets are logged
    // for the detector to weigh, and dropped.
    `add rule ${t} trap_input ct state established,related update @trap_peers4 { ip saddr timeout 10m } accept`,
    // (the rule above only matches IPv4 sources; IPv6 peers get their own)
    `add rule ${t} trap_input ct state established,related update @trap_peers6 { ip6 saddr timeout 10m } accept`,
    `add rule ${t} trap_input ct state established,related accept`,
    `add rule ${t} trap_input ip saddr @trap_allow4 accept`,
    `add rule ${t} trap_input ip6 saddr @trap_allow6 accept`,
    // Broadcast and multicast are never probes of this host (Wake-on-LAN, NTP broadcast,
    // rwho...): a neighbour sending them must not be banned.
    `add rule ${t} trap_input meta pkttype != host accept`,
    // Any socket that owns the destination (transparent proxies' sockets too) is a real service.
    `add rule ${t} trap_input meta l4proto { tcp, udp } socket transparent { 0, 1 } accept`,
    // RSTs and SYN+ACKs are replies, never probes; a forged one must not ban anybody.
    `add rule ${t} trap_input tcp flags & (rst) == rst accept`,
    `add rule ${t} trap_input tcp flags & (syn | ack) == syn | ack accept`,
    // A peer that keeps hitting traps is scanning after all (a scanner can open one ordinary
    // connection first to become a peer): past a small burst it is banned like anyone else.
    // A forger claiming a peer's address needs more than a stray packet or two to get it banned.
    ...(['tcp', 'udp'] as const).flatMap((proto) =>
      ([4, 6] as const).flatMap((family) => {
        const ip = family === 4 ? 'ip' : 'ip6';
        const match = `${proto} dport @trap_${proto} ${ip} saddr @trap_peers${family}`;
        const meter = `update @trap_peerhits${family} { ${ip} saddr timeout 1m limit rate over ${PEER_TRAP_RATE} burst ${PEER_TRAP_BURST} packets }`;
        return [
          `add rule ${t} trap_input ${match} ${meter} ${log}${ban(family, proto)} drop`,
          `add rule ${t} trap_input ${match} ${logAs(PEER_PREFIX)} drop`,
        ];
      }),
    ),
    `add rule ${t} trap_input meta nfproto ipv4 tcp dport @trap_tcp ${log}${ban(4, 'tcp')} drop`,
    `add rule ${t} trap_input meta nfproto ipv6 tcp dport @trap_tcp ${log}${ban(6, 'tcp')} drop`,
    `add rule ${t} trap_input meta nfproto ipv4 udp dport @trap_udp ${log}${ban(4, 'udp')} drop`,
    `add rule ${t} trap_input meta nfproto ipv6 udp dport @trap_udp ${log}${ban(6, 'udp')} drop`,
  ];
  return `${lines.filter(Boolean).join('\n')}\n`;
}

/** Removes the trap part only (the responder's sets and chain stay). */
export function trapTeardown(table: string): string {
  const t = `inet ${table}`;
  return ['trap_input', 'trap_evidence']
    .map((c) => `delete chain ${t} ${c}`)
    .concat(
      [
        'trap_allow4',
        'trap_allow6',
        'trap_peers4',
        'trap_peers6',
        'trap_peerhits4',
        'trap_peerhits6',
        'trap_tcp',
        'trap_udp',
      ].map((s) => `delete set ${t} ${s}`),
    )
    .join('\n')
    .concat('\n');
}
