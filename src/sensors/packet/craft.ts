// Builds well-formed frames (Ethernet, raw IP, NFLOG) carrying TCP or UDP headers, for tests,
// the replay fixtures and the benchmarks' synthetic captures. Checksums are left zero: nothing
// on our side verifies them.

import { parseIp } from '../../core/address.js';

export interface ProbeSpec {
  src: string;
  dst: string;
  protocol: 'tcp' | 'udp';
  srcPort?: number;
  dstPort: number;
  /** TCP flag byte, default SYN. */
  flags?: number;
  /** IPv4 options bytes (multiple of 4). */
  ipOptions?: Uint8Array;
  ipId?: number;
}

function addressBytes(text: string): Uint8Array {
  const ip = parseIp(text);
  if (!ip) throw new Error(`craft: not an address: ${text}`);
  return ip.bytes;
}

export function transportHeader(spec: ProbeSpec): Uint8Array {
  const srcPort = spec.srcPort ?? 40000;
  if (spec.protocol === 'udp') {
    const u = new Uint8Array(8);
    const v = new DataView(u.buffer);
    v.setUint16(0, srcPort);
    v.setUint16(2, spec.dstPort);
    v.setUint16(4, 8);
    return u;
  }
  const t = new Uint8Array(20);
  const v = new DataView(t.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, spec.dstPort);
  v.setUint32(4, 0x01020304);
  t[12] = 5 << 4;
  t[13] = spec.flags ?? 0x02;
  v.setUint16(14, 1024);
  return t;
}

/** An IP packet (v4 or v6 by the source address). */
export function ipPacket(spec: ProbeSpec, payload: Uint8Array = transportHeader(spec)): Uint8Array {
  const src = addressBytes(spec.src);
  const dst = addressBytes(spec.dst);
  const proto = spec.protocol === 'tcp' ? 6 : 17;
  if (src.length === 4) {
    const options = spec.ipOptions ?? new Uint8Array(0);
    const ihl = 20 + options.length;
    const p = new Uint8Array(ihl + payload.length);
    const v = new DataView(p.buffer);
    p[0] = 0x40 | (ihl / 4);
    v.setUint16(2, p.length);
    v.setUint16(4, spec.ipId ?? 1);
    p[8] = 64;
    p[9] = proto;
    p.set(src, 12);
    p.set(dst, 16);
    p.set(options, 20);
    p.set(payload, ihl);
    return p;
  }
  const p = new Uint8Array(40 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x60;
  v.setUint16(4, payload.length);
  p[6] = proto;
  p[7] = 64;
  p.set(src, 8);
  p.set(dst, 24);
  p.set(payload, 40);
  return p;
}

export function ethernetFrame(ip: Uint8Array, vlanIds: number[] = []): Uint8Array {
  const f = new Uint8Array(14 + vlanIds.length * 4 + ip.length);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0);
  let o = 12;
  for (const id of vlanIds) {
    v.setUint16(o, 0x8100);
    v.setUint16(o + 2, id & 0x0fff);
    o += 4;
  }
  v.setUint16(o, ip[0]! >> 4 === 6 ? 0x86dd : 0x0800);
  f.set(ip, o + 2);
  return f;
}

/** An NFLOG record as libpcap presents `nflog:N` frames: header + prefix TLV + payload TLV. */
export function nflogFrame(ip: Uint8Array, group = 5, prefix = 'portsentinel'): Uint8Array {
  const tlv = (type: number, value: Uint8Array) => {
    const len = 4 + value.length;
    const out = new Uint8Array((len + 3) & ~3);
    out[0] = len & 0xff;
    out[1] = len >> 8;
    out[2] = type & 0xff;
    out[3] = type >> 8;
    out.set(value, 4);
    return out;
  };
  const prefixTlv = tlv(10, new TextEncoder().encode(`${prefix}\0`));
  const payloadTlv = tlv(9, ip);
  const f = new Uint8Array(4 + prefixTlv.length + payloadTlv.length);
  f[0] = ip[0]! >> 4 === 6 ? 10 : 2;
  f[2] = group >> 8;
  f[3] = group & 0xff;
  f.set(prefixTlv, 4);
  f.set(payloadTlv, 4 + prefixTlv.length);
  return f;
}

/** Splits an IPv4 packet into fragments carrying `size` payload bytes each (size a multiple of 8), as `nmap -f` does. */
export function fragmentIpv4(packet: Uint8Array, size = 8): Uint8Array[] {
  const ihl = (packet[0]! & 0x0f) * 4;
  const payload = packet.subarray(ihl);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const part = payload.subarray(off, off + size);
    const f = new Uint8Array(ihl + part.length);
    f.set(packet.subarray(0, ihl), 0);
    const v = new DataView(f.buffer);
    v.setUint16(2, f.length);
    const more = off + size < payload.length ? 0x2000 : 0;
    v.setUint16(6, more | (off / 8));
    f.set(part, ihl);
    out.push(f);
  }
  return out;
}
