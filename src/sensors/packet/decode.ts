// Link, network and transport decoding for captured frames: pure functions over bytes.
// Every length is checked before it is read; a malformed frame yields a failure reason (which
// the caller counts), never an exception. The hot path allocates nothing but the result object
// and the two address strings.

import { formatIp } from '../../core/address.js';

/** libpcap LINKTYPE_* values we decode (https://www.tcpdump.org/linktypes.html). */
export const LinkType = {
  NULL: 0, // BSD loopback: 4-byte host-order address family
  ETHERNET: 1,
  RAW_OPENBSD: 12, // DLT_RAW on most systems
  RAW_BSD: 14,
  RAW: 101,
  LOOP: 108, // OpenBSD loopback: 4-byte network-order address family
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  LINUX_SLL2: 276,
} as const;

export type DecodeFailure =
  | 'truncated'
  | 'unsupported-link'
  | 'not-ip'
  | 'bad-ip-header'
  | 'not-tcp-udp'
  | 'fragment'
  | 'too-many-extension-headers'
  | 'bad-nflog';

export interface DecodedPacket {
  family: 4 | 6;
  src: string;
  dst: string;
  protocol: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  /** TCP flag byte (FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128); 0 for UDP. */
  tcpFlags: number;
  /** IPv4 options present (PortSentry flags these as suspicious too). */
  ipOptions: boolean;
  /** The packet was reassembled from fragments (`nmap -f`). */
  reassembled: boolean;
  /** NFLOG only: the `log prefix` of the nft rule that logged it (tells which trap rule fired). */
  logPrefix?: string;
}

export type DecodeResult = { ok: true; packet: DecodedPacket } | { ok: false; reason: DecodeFailure };

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
/** Bounds that keep a hostile frame from making us loop: at most this many VLAN tags / IPv6 extension headers. */
const MAX_VLAN_TAGS = 4;
const MAX_IPV6_EXTENSION_HEADERS = 8;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;
const latin1 = new TextDecoder('latin1');

const fail = (reason: DecodeFailure): DecodeResult => ({ ok: false, reason });

/** Fragments seen but not yet complete are handed to this; see fragments.ts. */
export interface FragmentSink {
  /** Returns the reassembled transport header bytes once enough of it is known, else undefined. */
  add(key: string, offset: number, payload: Uint8Array, need: number, now: number): Uint8Array | undefined;
}

export interface DecodeOptions {
  fragments?: FragmentSink;
  now?: number;
}

/** Decodes one captured frame of link type `linkType`. */
export function decodeFrame(linkType: number, frame: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  switch (linkType) {
    case LinkType.ETHERNET:
      return decodeEthernet(frame, options);
    case LinkType.LINUX_SLL: {
      if (frame.length < 16) return fail('truncated');
      return decodeByEthertype(be16(frame, 14), frame.subarray(16), options);
    }
    case LinkType.LINUX_SLL2: {
      if (frame.length < 20) return fail('truncated');
      return decodeByEthertype(be16(frame, 0), frame.subarray(20), options);
    }
    case LinkType.RAW:
    case LinkType.RAW_OPENBSD:
    case LinkType.RAW_BSD:
      return decodeIp(frame, options);
    case LinkType.IPV4:
    case LinkType.IPV6:
      return decodeIp(frame, options);
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (frame.length < 4) return fail('truncated');
      // The family is host order for NULL; accept either order (values are small).
      const le = frame[0]! | (frame[1]! << 8);
      const be = (frame[2]! << 8) | frame[3]!;
      const family = linkType === LinkType.LOOP ? be : le || be;
      if (family === 2) return decodeIp(frame.subarray(4), options, 4);
      if (family === 24 || family === 28 || family === 30 || family === 10)
        return decodeIp(frame.subarray(4), options, 6);
      return fail('not-ip');
    }
    case LinkType.NFLOG:
      return decodeNflog(frame, options);
    default:
      return fail('unsupported-link');
  }
}

function be16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function decodeEthernet(frame: Uint8Array, options: DecodeOptions): DecodeResult {
  if (frame.length < 14) return fail('truncated');
  let offset = 12;
  let type = be16(frame, offset);
  for (
    let tags = 0;
    type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD;
    tags++
  ) {
    if (tags >= MAX_VLAN_TAGS) return fail('not-ip');
    offset += 4;
    if (frame.length < offset + 2) return fail('truncated');
    type = be16(frame, offset);
  }
  return decodeByEthertype(type, frame.subarray(offset + 2), options);
}

function decodeByEthertype(type: number, payload: Uint8Array, options: DecodeOptions): DecodeResult {
  if (type === ETHERTYPE_IPV4) return decodeIp(payload, options, 4);
  if (type === ETHERTYPE_IPV6) return decodeIp(payload, options, 6);
  return fail('not-ip');
}

/**
 * NFLOG (LINKTYPE_NFLOG): a 4-byte header (family, version, resource id) followed by TLVs whose
 * length and type are in host byte order (little-endian on the machines we run on), each
 * padded to 4 bytes. The IP packet is the NFULA_PAYLOAD TLV.
 */
function decodeNflog(frame: Uint8Array, options: DecodeOptions): DecodeResult {
  if (frame.length < 4) return fail('truncated');
  const family = frame[0]!;
  let offset = 4;
  let prefix: string | undefined;
  while (offset + 4 <= frame.length) {
    const length = frame[offset]! | (frame[offset + 1]! << 8);
    // The two top bits are NLA_F_NESTED and NLA_F_NET_BYTEORDER, not part of the type.
    const type = (frame[offset + 2]! | (frame[offset + 3]! << 8)) & 0x3fff;
    if (length < 4 || offset + length > frame.length) return fail('bad-nflog');
    if (type === NFULA_PREFIX) {
      const value = frame.subarray(offset + 4, offset + length);
      const nul = value.indexOf(0);
      prefix = latin1.decode(nul >= 0 ? value.subarray(0, nul) : value);
    } else if (type === NFULA_PAYLOAD) {
      const payload = frame.subarray(offset + 4, offset + length);
      const result = decodeIp(payload, options, family === 10 ? 6 : family === 2 ? 4 : undefined);
      if (result.ok && prefix !== undefined) result.packet.logPrefix = prefix;
      return result;
    }
    offset += (length + 3) & ~3;
  }
  return fail('bad-nflog');
}

function decodeIp(packet: Uint8Array, options: DecodeOptions, expected?: 4 | 6): DecodeResult {
  if (packet.length < 1) return fail('truncated');
  const version = packet[0]! >> 4;
  if (expected !== undefined && version !== expected) return fail('bad-ip-header');
  if (version === 4) return decodeIpv4(packet, options);
  if (version === 6) return decodeIpv6(packet, options);
  return fail('not-ip');
}

function decodeIpv4(p: Uint8Array, options: DecodeOptions): DecodeResult {
  if (p.length < 20) return fail('truncated');
  const ihl = (p[0]! & 0x0f) * 4;
  if (ihl < 20) return fail('bad-ip-header');
  const totalLength = be16(p, 2);
  if (totalLength < ihl) return fail('bad-ip-header');
  // Captures may be snapped short or padded (Ethernet minimum frame): trust the smaller.
  const end = Math.min(totalLength, p.length);
  if (end < ihl) return fail('truncated');
  const protocol = p[9]!;
  if (protocol !== 6 && protocol !== 17) return fail('not-tcp-udp');
  const flagsFrag = be16(p, 6);
  const more = (flagsFrag & 0x2000) !== 0;
  const fragOffset = (flagsFrag & 0x1fff) * 8;
  const src = `${p[12]}.${p[13]}.${p[14]}.${p[15]}`;
  const dst = `${p[16]}.${p[17]}.${p[18]}.${p[19]}`;
  let l4 = p.subarray(ihl, end);
  let reassembled = false;
  if (more || fragOffset > 0) {
    if (!options.fragments) return fail('fragment');
    const key = `4|${src}|${dst}|${be16(p, 4)}|${protocol}`;
    const header = options.fragments.add(key, fragOffset, l4, protocol === 6 ? 14 : 8, options.now ?? 0);
    if (!header) return fail('fragment');
    l4 = header;
    reassembled = true;
  }
  return decodeTransport(protocol, l4, 4, src, dst, ihl > 20, reassembled);
}

function decodeIpv6(p: Uint8Array, options: DecodeOptions): DecodeResult {
  if (p.length < 40) return fail('truncated');
  const payloadLength = be16(p, 4);
  const end = payloadLength === 0 ? p.length : Math.min(40 + payloadLength, p.length); // 0 = jumbogram
  let next = p[6]!;
  let offset = 40;
  const src = formatIp({ family: 6, bytes: p.subarray(8, 24) });
  const dst = formatIp({ family: 6, bytes: p.subarray(24, 40) });
  let fragment: { offset: number; more: boolean; id: number } | undefined;
  for (let n = 0; ; n++) {
    if (next === 6 || next === 17) break;
    if (n >= MAX_IPV6_EXTENSION_HEADERS) return fail('too-many-extension-headers');
    if (offset + 8 > end) return fail('truncated');
    if (next === 0 || next === 43 || next === 60) {
      // hop-by-hop, routing, destination options: length in 8-octet units, not counting the first 8
      const len = (p[offset + 1]! + 1) * 8;
      next = p[offset]!;
      offset += len;
    } else if (next === 44) {
      const fo = be16(p, offset + 2);
      fragment = {
        offset: fo & 0xfff8,
        more: (fo & 1) !== 0,
        id: ((p[offset + 4]! << 24) | (p[offset + 5]! << 16) | (p[offset + 6]! << 8) | p[offset + 7]!) >>> 0,
      };
      next = p[offset]!;
      offset += 8;
    } else if (next === 51) {
      // AH: length in 4-octet units, minus 2
      const len = (p[offset + 1]! + 2) * 4;
      next = p[offset]!;
      offset += len;
    } else {
      return fail('not-tcp-udp'); // ESP, ICMPv6, no next header, unknown
    }
  }
  if (offset > end) return fail('truncated');
  let l4 = p.subarray(offset, end);
  let reassembled = false;
  if (fragment && (fragment.more || fragment.offset > 0)) {
    if (!options.fragments) return fail('fragment');
    const key = `6|${src}|${dst}|${fragment.id}|${next}`;
    const header = options.fragments.add(key, fragment.offset, l4, next === 6 ? 14 : 8, options.now ?? 0);
    if (!header) return fail('fragment');
    l4 = header;
    reassembled = true;
  }
  return decodeTransport(next, l4, 6, src, dst, false, reassembled);
}

function decodeTransport(
  protocol: number,
  l4: Uint8Array,
  family: 4 | 6,
  src: string,
  dst: string,
  ipOptions: boolean,
  reassembled: boolean,
): DecodeResult {
  if (protocol === 6) {
    if (l4.length < 14) return fail('truncated'); // ports + seq + ack + offset + flags byte
    return {
      ok: true,
      packet: {
        family,
        src,
        dst,
        protocol: 'tcp',
        srcPort: be16(l4, 0),
        dstPort: be16(l4, 2),
        tcpFlags: l4[13]!,
        ipOptions,
        reassembled,
      },
    };
  }
  if (l4.length < 8) return fail('truncated');
  return {
    ok: true,
    packet: {
      family,
      src,
      dst,
      protocol: 'udp',
      srcPort: be16(l4, 0),
      dstPort: be16(l4, 2),
      tcpFlags: 0,
      ipOptions,
      reassembled,
    },
  };
}
