// Addresses and CIDR sets. Everything that compares addresses goes through here, so the text
// form is canonical everywhere (no substring matching of addresses, PortSentry's bug).
// IPv4-mapped IPv6 addresses (::ffff:192.0.2.1, as dual-stack sockets report them) become IPv4.

export type Family = 4 | 6;

export interface IpAddress {
  family: Family;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr {
  family: Family;
  bytes: Uint8Array;
  prefix: number;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(input: string): Uint8Array | undefined {
  let text = input;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (text.length < 2 || text.length > 45) return undefined;
  const words: number[] = [];
  let tail4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > lastColon) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseHalf = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const w of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
      out.push(Number.parseInt(w, 16));
    }
    return out;
  };
  const head = parseHalf(halves[0] as string);
  if (!head) return undefined;
  if (halves.length === 2) {
    const tail = parseHalf(halves[1] as string);
    if (!tail || head.length + tail.length > 7) return undefined;
    words.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    if (head.length !== 8) return undefined;
    words.push(...head);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = (words[i] as number) >> 8;
    out[i * 2 + 1] = (words[i] as number) & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

export function parseIp(text: string): IpAddress | undefined {
  const t = text.trim();
  if (t.includes(':')) {
    const bytes = parseIpv6(t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t);
    if (!bytes) return undefined;
    if (isV4Mapped(bytes)) return { family: 4, bytes: bytes.slice(12) };
    return { family: 6, bytes };
  }
  const bytes = parseIpv4(t);
  return bytes ? { family: 4, bytes } : undefined;
}

export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[i * 2] as number) << 8) | (b[i * 2 + 1] as number));
  // RFC 5952: compress the longest run (length >= 2) of zero words, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Canonical text form, or undefined when `text` is not an address. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}

export function ipFamily(text: string): Family | undefined {
  return parseIp(text)?.family;
}

/** Parses `192.0.2.0/24`, `2001:db8::/32`, or a bare address (a host route). Host bits must be zero unless `loose`. */
export function parseCidr(text: string, loose = false): Cidr | undefined {
  const t = text.trim();
  const slash = t.indexOf('/');
  const ip = parseIp(slash >= 0 ? t.slice(0, slash) : t);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    // A mapped-v4 CIDR like ::ffff:192.0.2.0/120 becomes 192.0.2.0/24.
    if (ip.family === 4 && t.slice(0, slash).includes(':')) prefix -= 96;
    if (prefix < 0 || prefix > max) return undefined;
  }
  const bytes = ip.bytes.slice();
  const masked = maskBytes(bytes, prefix);
  if (!loose && !equalBytes(masked, bytes)) return undefined;
  return { family: ip.family, bytes: masked, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, bytes: c.bytes })}/${c.prefix}`;
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = (out[i] as number) & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  if (c.family !== ip.family) return false;
  return equalBytes(maskBytes(ip.bytes, c.prefix), c.bytes);
}

/** A compiled set of networks, checked once per probe; built once from config. */
export class CidrSet {
  private readonly entries: Cidr[] = [];
  /** Exact host addresses, for O(1) lookup of the common case. */
  private readonly hosts = new Set<string>();
  /** Why each entry is in the set ("loopback", "gateway", "ignore-list", ...), for `explain`. */
  private readonly labels = new Map<string, string>();

  add(cidr: Cidr | string, label = ''): this {
    const c = typeof cidr === 'string' ? parseCidr(cidr, true) : cidr;
    if (!c) throw new Error(`not an address or network: ${String(cidr)}`);
    const key = formatCidr(c);
    if (this.labels.has(key)) return this;
    this.labels.set(key, label);
    if (c.prefix === (c.family === 4 ? 32 : 128)) this.hosts.add(formatIp(c));
    else this.entries.push(c);
    return this;
  }

  /** The label of the first entry containing `address`, or undefined. */
  match(address: string): string | undefined {
    const ip = parseIp(address);
    if (!ip) return undefined;
    const text = formatIp(ip);
    if (this.hosts.has(text)) {
      const max = ip.family === 4 ? 32 : 128;
      return this.labels.get(`${text}/${max}`) ?? '';
    }
    for (const c of this.entries) if (cidrContains(c, ip)) return this.labels.get(formatCidr(c)) ?? '';
    return undefined;
  }

  has(address: string): boolean {
    return this.match(address) !== undefined;
  }

  list(): { cidr: string; label: string }[] {
    return [...this.labels].map(([cidr, label]) => ({ cidr, label }));
  }

  get size(): number {
    return this.labels.size;
  }
}
