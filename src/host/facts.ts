// Never-block discovery: the addresses this host must never ban whatever the probes say, because
// banning them cuts the host off (its gateways, its resolvers) or is meaningless (loopback, its
// own addresses). The parsers are pure and exported for tests; discoverHostFacts() does the I/O.
// Inside a network namespace (`ip netns exec NS`) /proc/net/* shows that namespace's routes.

import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { CidrSet, canonicalIp, formatCidr, parseCidr } from '../core/address.js';

export type NeverBlockLabel = 'loopback' | 'own-address' | 'gateway' | 'resolver' | 'ignore-list';

export interface HostFacts {
  ownAddresses: string[];
  gateways: string[];
  resolvers: string[];
}

export interface FactPaths {
  route: string;
  ipv6Route: string;
  resolvConf: string;
}

export const DEFAULT_FACT_PATHS: FactPaths = {
  route: '/proc/net/route',
  ipv6Route: '/proc/net/ipv6_route',
  resolvConf: '/etc/resolv.conf',
};

export const LOOPBACK = ['127.0.0.0/8', '::1/128'] as const;

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;

/**
 * Default IPv4 gateways from /proc/net/route: destination 0 with mask 0, flags UP|GATEWAY. The
 * kernel prints each address as the hex of a little-endian u32, so "010200C0" is 192.0.2.1.
 */
export function parseProcNetRoute(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [, destination, gateway, flagsHex, , , , mask] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const flags = Number.parseInt(flagsHex, 16);
    if (destination !== '00000000' || mask !== '00000000') continue;
    if ((flags & (RTF_UP | RTF_GATEWAY)) !== (RTF_UP | RTF_GATEWAY)) continue;
    const address = hexLittleEndianIpv4(gateway);
    if (address && address !== '0.0.0.0' && !out.includes(address)) out.push(address);
  }
  return out;
}

/**
 * Default IPv6 gateways from /proc/net/ipv6_route: destination ::/0 with a non-zero next hop,
 * flags UP|GATEWAY. Columns: dest, dest prefix, src, src prefix, next hop, metric, refcnt, use,
 * flags, device; addresses are 32 hex digits in network order. Link-local next hops are kept:
 * they are what the neighbour (the router) sends from.
 */
export function parseProcNetIpv6Route(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [destination, prefix, , , nextHop, , , , flagsHex] = f as string[];
    if (destination !== '0'.repeat(32) || prefix !== '00') continue;
    const flags = Number.parseInt(flagsHex as string, 16);
    if ((flags & (RTF_UP | RTF_GATEWAY)) !== (RTF_UP | RTF_GATEWAY)) continue;
    if (!nextHop || !/^[0-9a-fA-F]{32}$/.test(nextHop) || /^0+$/.test(nextHop)) continue;
    const address = canonicalIp((nextHop.match(/.{4}/g) as string[]).join(':'));
    if (address && !out.includes(address)) out.push(address);
  }
  return out;
}

/** `nameserver ADDRESS` lines of resolv.conf (zone suffixes dropped, duplicates removed). */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const address = canonicalIp(m[1] as string);
    if (address && !out.includes(address)) out.push(address);
  }
  return out;
}

function hexLittleEndianIpv4(hex: string): string | undefined {
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) return undefined;
  const n = Number.parseInt(hex, 16);
  return `${n & 0xff}.${(n >>> 8) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 24) & 0xff}`;
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Reads the host's own addresses, default gateways and resolvers. Missing files mean "none". */
export async function discoverHostFacts(paths: Partial<FactPaths> = {}): Promise<HostFacts> {
  const p = { ...DEFAULT_FACT_PATHS, ...paths };
  const ownAddresses: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      const address = canonicalIp(info.address);
      if (address && !ownAddresses.includes(address)) ownAddresses.push(address);
    }
  }
  const [route, ipv6Route, resolvConf] = await Promise.all([
    readOr(p.route, ''),
    readOr(p.ipv6Route, ''),
    readOr(p.resolvConf, ''),
  ]);
  return {
    ownAddresses,
    gateways: [...parseProcNetRoute(route), ...parseProcNetIpv6Route(ipv6Route)],
    resolvers: parseResolvConf(resolvConf),
  };
}

export interface NeverBlockInput {
  /** Configured ignore list (CIDRs or addresses, IPv4 and IPv6). */
  ignore: string[];
  /** Entries read from legacy ignore files (one address or CIDR each, comments already removed). */
  ignoreFileEntries: string[];
  facts: HostFacts;
  /** Called for each entry that is not an address or network (it is skipped). */
  onInvalid?: (entry: string, label: NeverBlockLabel) => void;
}

/**
 * The compiled never-block set, each entry labelled with why it is there. For an address listed
 * twice the first label wins, in this order: loopback, own-address, gateway, resolver, ignore-list. Ignore entries
 * with host bits set (192.0.2.7/24, as old ignore files often have) are taken as their network.
 */
export function buildNeverBlock(input: NeverBlockInput): CidrSet {
  const set = new CidrSet();
  const add = (entry: string, label: NeverBlockLabel) => {
    const cidr = parseCidr(entry, true);
    if (cidr) set.add(formatCidr(cidr), label);
    else input.onInvalid?.(entry, label);
  };
  for (const c of LOOPBACK) add(c, 'loopback');
  // A fact already covered keeps the earlier label (127.0.0.1 on `lo` stays "loopback").
  const addFact = (address: string, label: NeverBlockLabel) => {
    if (!set.has(address)) add(address, label);
  };
  for (const a of input.facts.ownAddresses) addFact(a, 'own-address');
  for (const a of input.facts.gateways) addFact(a, 'gateway');
  for (const a of input.facts.resolvers) addFact(a, 'resolver');
  for (const e of [...input.ignore, ...input.ignoreFileEntries]) add(e.trim(), 'ignore-list');
  return set;
}
