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

// The parsers scan character codes (no split, no regular expression): the detector parses the
// source of every probe, and under a flood of spoofed sources this was half its time.

function parseIpv4(
  text: string,
  start = 0,
  end = text.length,
  out = new Uint8Array(4),
  at = 0,
): Uint8Array | undefined {
  let part = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 0) leadingZero = c === 48;
      else if (leadingZero) return undefined; // "01": ambiguous (octal in some parsers), refused
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else if (c === 46 && digits > 0 && part < 3) {
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || part !== 3) return undefined;
  out[at + 3] = value;
  return out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseIpv6(input: string): Uint8Array | undefined {
  let end = input.indexOf('%'); // a zone (fe80::1%eth0) names an interface, not part of the address
  if (end < 0) end = input.length;
  if (end < 2 || end > 45) return undefined;
  const out = new Uint8Array(16);
  let n = 0; // 16-bit words written
  let gap = -1; // word index where "::" stands
  let i = 0;
  if (input.charCodeAt(0) === 58) {
    if (input.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let j = i;
    let value = 0;
    for (let h = hexValue(input.charCodeAt(j)); j < end && h >= 0; h = hexValue(input.charCodeAt(++j))) {
      value = value * 16 + h;
    }
    if (j < end && input.charCodeAt(j) === 46) {
      // an embedded IPv4 address ends the text: ::ffff:192.0.2.1
      if (n > 6 || !parseIpv4(input, i, end, out, n * 2)) return undefined;
      n += 2;
      i = end;
      break;
    }
    if (j === i || j - i > 4 || n === 8) return undefined;
    out[n * 2] = value >> 8;
    out[n * 2 + 1] = value & 0xff;
    n++;
    if (j === end) {
      i = end;
      break;
    }
    if (input.charCodeAt(j) !== 58) return undefined;
    if (input.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return undefined; // "::" twice
      gap = n;
      j += 2;
    } else {
      j += 1;
      if (j === end) return undefined; // a trailing single colon
    }
    i = j;
  }
  if (gap < 0) return n === 8 ? out : undefined;
  if (n > 7) return undefined;
  // Move the words after "::" to the end; the gap becomes zeros.
  const tail = (n - gap) * 2;
  out.copyWithin(16 - tail, gap * 2, n * 2);
  out.fill(0, gap * 2, 16 - tail);
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
    return ip ? this.matchIp(ip) : undefined;
  }

  /** The same for an address already parsed (the detector parses each source once). */
  matchIp(ip: IpAddress): string | undefined {
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
