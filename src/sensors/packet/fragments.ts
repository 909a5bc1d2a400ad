// Just enough IP reassembly to read the transport header of a fragmented probe (`nmap -f`
// splits the TCP header over 8-byte fragments so a naive filter never sees the flags).
// We only need the first `need` bytes of the transport header (14 for TCP: ports and flags;
// 8 for UDP), so a pending datagram costs at most 20 bytes plus its key. The table is bounded:
// a flood of never-completed fragments evicts the oldest entries (counted), it cannot grow.
// Later fragments of an already-decoded datagram are ignored by the caller (no header in them).

import type { FragmentSink } from './decode.js';

const HEADER_BYTES = 20;

interface Pending {
  bytes: Uint8Array;
  /** Bit i set = byte i of the header is known. */
  known: number;
  firstAt: number;
}

export class FragmentTable implements FragmentSink {
  private readonly pending = new Map<string, Pending>();
  evicted = 0;
  expired = 0;

  /**
   * @param capacity  most datagrams held at once (default 4096 × ~100 bytes ≈ 400 KB)
   * @param timeoutMs a datagram whose header is not complete by then is dropped (Linux: 30 s)
   */
  constructor(
    private readonly capacity = 4096,
    private readonly timeoutMs = 30_000,
  ) {}

  add(key: string, offset: number, payload: Uint8Array, need: number, now: number): Uint8Array | undefined {
    if (offset >= need) return undefined; // a fragment past the header: nothing for us
    let entry = this.pending.get(key);
    if (entry && now - entry.firstAt > this.timeoutMs) {
      this.pending.delete(key);
      this.expired++;
      entry = undefined;
    }
    if (!entry) {
      if (this.pending.size >= this.capacity) {
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
        this.evicted++;
      }
      entry = { bytes: new Uint8Array(HEADER_BYTES), known: 0, firstAt: now };
      this.pending.set(key, entry);
    }
    const upto = Math.min(need, offset + payload.length);
    for (let i = offset; i < upto; i++) {
      entry.bytes[i] = payload[i - offset]!;
      entry.known |= 1 << i;
    }
    const full = (1 << need) - 1;
    if ((entry.known & full) !== full) return undefined;
    this.pending.delete(key);
    return entry.bytes.subarray(0, need);
  }

  get size(): number {
    return this.pending.size;
  }
}
