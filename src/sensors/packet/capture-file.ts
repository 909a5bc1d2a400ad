// Reading and writing capture files (pcap and pcapng), without libpcap: the replay sensor and
// the benchmarks stream millions of packets through here, so the reader works on large chunks
// and hands out subarrays (no copy per packet). Malformed files give a clear error with the
// byte offset; a truncated final record is counted and ignored, as tcpdump does.

import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { SentinelError } from '../../core/errors.js';

export interface CapturedPacket {
  /** Epoch milliseconds (fractional for sub-ms precision). */
  at: number;
  linkType: number;
  data: Uint8Array;
  /** Original length on the wire (may exceed data.length when snapped). */
  wireLength: number;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const CHUNK = 4 * 1024 * 1024;
/**
 * Refuse records larger than this: a corrupt length must not make us allocate gigabytes. Real
 * captures hold up to tcpdump's 256 KiB snaplen plus block overhead, or GRO/BIG TCP packets.
 */
const MAX_RECORD = 4 * 1024 * 1024;

export interface ReadStats {
  packets: number;
  truncated: number;
}

/**
 * Calls `onPacket` for every packet of the pcap or pcapng file at `path`, in file order. The
 * packet's `data` is only valid during the call (it is a view into a reused buffer).
 */
export function forEachPacket(path: string, onPacket: (packet: CapturedPacket) => void): ReadStats {
  const fd = openSync(path, 'r');
  try {
    const reader = new ChunkReader(fd);
    const head = reader.peek(4);
    if (!head) throw new SentinelError('E_IO', `${path}: empty file, not a capture`);
    const view = new DataView(head.buffer, head.byteOffset, 4);
    const magicBE = view.getUint32(0, false);
    const magicLE = view.getUint32(0, true);
    if (magicBE === PCAPNG_SHB) return readPcapng(reader, path, onPacket);
    if (
      [PCAP_MAGIC_US, PCAP_MAGIC_NS].includes(magicLE) ||
      [PCAP_MAGIC_US, PCAP_MAGIC_NS].includes(magicBE)
    ) {
      return readPcap(reader, path, onPacket);
    }
    throw new SentinelError('E_IO', `${path}: not a pcap or pcapng file (magic 0x${magicBE.toString(16)})`);
  } finally {
    closeSync(fd);
  }
}

/** Buffered reader over a file descriptor that hands out views of up to CHUNK bytes. */
class ChunkReader {
  private buf = Buffer.alloc(CHUNK * 2);
  private start = 0;
  private end = 0;
  private eof = false;
  /** File offset of buf[start]. */
  offset = 0;

  constructor(private readonly fd: number) {}

  /** At least `n` bytes from the current position, or undefined at end of file. Does not advance. */
  peek(n: number): Uint8Array | undefined {
    while (this.end - this.start < n && !this.eof) this.fill(n);
    if (this.end - this.start < n) return undefined;
    // A plain Uint8Array view: Buffer#subarray goes through a much slower path, per packet.
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.start, n);
  }

  skip(n: number): void {
    this.start += n;
    this.offset += n;
  }

  get remaining(): number {
    return this.end - this.start;
  }

  private fill(n: number): void {
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.buf.length < n) {
      const bigger = Buffer.alloc(Math.max(n, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    const read = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
    if (read === 0) this.eof = true;
    this.end += read;
  }
}

function u32(b: Uint8Array, i: number, little: boolean): number {
  return little
    ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
    : ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function readPcap(reader: ChunkReader, path: string, onPacket: (p: CapturedPacket) => void): ReadStats {
  const header = reader.peek(24);
  if (!header) throw new SentinelError('E_IO', `${path}: truncated pcap header`);
  const hv = new DataView(header.buffer, header.byteOffset, 24);
  const little = hv.getUint32(0, true) === PCAP_MAGIC_US || hv.getUint32(0, true) === PCAP_MAGIC_NS;
  const nanos = hv.getUint32(0, little) === PCAP_MAGIC_NS;
  const linkType = hv.getUint32(20, little) & 0x0fffffff;
  reader.skip(24);
  const stats: ReadStats = { packets: 0, truncated: 0 };
  const packet: CapturedPacket = { at: 0, linkType, data: new Uint8Array(0), wireLength: 0 };
  for (;;) {
    const rec = reader.peek(16);
    if (!rec) {
      if (reader.remaining > 0) stats.truncated++;
      break;
    }
    // Read the record header from the bytes (a DataView per record is measurably slower).
    const sec = u32(rec, 0, little);
    const frac = u32(rec, 4, little);
    const caplen = u32(rec, 8, little);
    const wire = u32(rec, 12, little);
    if (caplen > MAX_RECORD) {
      throw new SentinelError(
        'E_IO',
        `${path}: record at byte ${reader.offset} claims ${caplen} bytes; file corrupt`,
      );
    }
    const whole = reader.peek(16 + caplen);
    if (!whole) {
      stats.truncated++;
      break;
    }
    packet.at = sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3);
    packet.data = whole.subarray(16);
    packet.wireLength = wire;
    stats.packets++;
    onPacket(packet);
    reader.skip(16 + caplen);
  }
  return stats;
}

function readPcapng(reader: ChunkReader, path: string, onPacket: (p: CapturedPacket) => void): ReadStats {
  const stats: ReadStats = { packets: 0, truncated: 0 };
  let little = true;
  let interfaces: { linkType: number; unitsPerSecond: number }[] = [];
  const packet: CapturedPacket = { at: 0, linkType: 0, data: new Uint8Array(0), wireLength: 0 };
  for (;;) {
    const head = reader.peek(12);
    if (!head) {
      if (reader.remaining > 0) stats.truncated++;
      break;
    }
    let hv = new DataView(head.buffer, head.byteOffset, 12);
    const type = hv.getUint32(0, little);
    if (hv.getUint32(0, false) === PCAPNG_SHB) {
      const bom = hv.getUint32(8, true);
      little = bom === 0x1a2b3c4d;
      if (!little && hv.getUint32(8, false) !== 0x1a2b3c4d) {
        throw new SentinelError('E_IO', `${path}: bad pcapng byte-order magic at byte ${reader.offset}`);
      }
      interfaces = []; // a new section starts a new interface list
    }
    const length = hv.getUint32(4, little);
    if (length < 12 || length % 4 !== 0 || length > MAX_RECORD) {
      throw new SentinelError('E_IO', `${path}: bad pcapng block length ${length} at byte ${reader.offset}`);
    }
    const block = reader.peek(length);
    if (!block) {
      stats.truncated++;
      break;
    }
    hv = new DataView(block.buffer, block.byteOffset, length);
    if (type === 1 && length < 20) {
      throw new SentinelError(
        'E_IO',
        `${path}: interface block too short (${length} bytes) at byte ${reader.offset}`,
      );
    }
    if (type === 1) {
      // Interface Description Block: link type, snaplen, options (if_tsresol = 9)
      const linkType = hv.getUint16(8, little);
      let unitsPerSecond = 1e6;
      let o = 16;
      while (o + 4 <= length - 4) {
        const code = hv.getUint16(o, little);
        const len = hv.getUint16(o + 2, little);
        if (code === 0) break;
        if (code === 9 && len >= 1) {
          const v = block[o + 4]!;
          unitsPerSecond = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
        }
        o += 4 + ((len + 3) & ~3);
      }
      interfaces.push({ linkType, unitsPerSecond });
    } else if ((type === 6 && length < 32) || (type === 3 && length < 16)) {
      throw new SentinelError(
        'E_IO',
        `${path}: packet block too short (${length} bytes) at byte ${reader.offset}`,
      );
    } else if (type === 6 || type === 3) {
      let ifc: { linkType: number; unitsPerSecond: number } | undefined;
      let caplen: number;
      let wire: number;
      let dataOffset: number;
      let at = 0;
      if (type === 6) {
        ifc = interfaces[hv.getUint32(8, little)];
        const ts = hv.getUint32(12, little) * 2 ** 32 + hv.getUint32(16, little);
        caplen = hv.getUint32(20, little);
        wire = hv.getUint32(24, little);
        dataOffset = 28;
        if (ifc) at = (ts / ifc.unitsPerSecond) * 1000;
      } else {
        ifc = interfaces[0];
        wire = hv.getUint32(8, little);
        caplen = Math.min(wire, length - 16);
        dataOffset = 12;
      }
      if (!ifc)
        throw new SentinelError(
          'E_IO',
          `${path}: packet block before its interface at byte ${reader.offset}`,
        );
      if (dataOffset + caplen > length - 4) {
        throw new SentinelError('E_IO', `${path}: packet overruns its block at byte ${reader.offset}`);
      }
      packet.at = at;
      packet.linkType = ifc.linkType;
      packet.data = block.subarray(dataOffset, dataOffset + caplen);
      packet.wireLength = wire;
      stats.packets++;
      onPacket(packet);
    }
    reader.skip(length);
  }
  return stats;
}

/** Writes classic pcap files (microsecond timestamps, little-endian); for tests and benchmarks. */
export class PcapWriter {
  private readonly fd: number;
  private buf = Buffer.alloc(1024 * 1024);
  private used = 0;

  constructor(path: string, linkType: number, snaplen = 65535) {
    this.fd = openSync(path, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(PCAP_MAGIC_US, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(snaplen, 16);
    h.writeUInt32LE(linkType, 20);
    writeSync(this.fd, h);
  }

  write(atMs: number, data: Uint8Array): void {
    if (this.used + 16 + data.length > this.buf.length) this.flush();
    if (16 + data.length > this.buf.length) this.buf = Buffer.alloc(16 + data.length);
    const sec = Math.floor(atMs / 1000);
    const usec = Math.round((atMs - sec * 1000) * 1000);
    this.buf.writeUInt32LE(sec, this.used);
    this.buf.writeUInt32LE(usec, this.used + 4);
    this.buf.writeUInt32LE(data.length, this.used + 8);
    this.buf.writeUInt32LE(data.length, this.used + 12);
    this.buf.set(data, this.used + 16);
    this.used += 16 + data.length;
  }

  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
