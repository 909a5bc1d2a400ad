// The detector's fixed-capacity table of sources: one slot per source address seen recently,
// least recently seen evicted first (evictions counted). All per-source numbers live in typed
// arrays allocated once at construction, so a flood of spoofed sources reuses the same slots and
// cannot make the table grow: the only per-source heap objects are the address string and its
// Map entry.
//
// Memory bound, declared here because it is the reason for the layout:
//   per slot: 62 bytes of counters and links + 8 × threshold (ring of probe times)
//             + 2 × maxPorts (ports) + ≈ 90 bytes (address string, Map entry, key pointer)
//   defaults (65 536 slots, threshold 3, 64 ports): ≈ 304 bytes × 65 536 ≈ 20 MB, whatever the
//   traffic. Measured (bench/detector-flood.ts, 1M distinct sources, Node 20 x64): 12.7 MB of
//   typed arrays + 5.8 MB of heap (strings, Map) = 18.5 MB, ≈ 283 bytes per slot.

import type { Mode, Protocol, Technique } from '../core/records.js';

export const TECHNIQUES: readonly Technique[] = [
  'connect',
  'syn',
  'fin',
  'null',
  'xmas',
  'ack',
  'maimon',
  'udp',
  'odd',
];
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp'];
export const MODES: readonly Mode[] = ['tcp', 'udp', 'stcp', 'sudp', 'atcp', 'audp', 'trap'];

/** Outcome codes, weakest to strongest (index = strength); 0 = nothing yet. */
export const OUTCOMES = ['none', 'alert-only', 'rate-limited', 'already-blocked', 'blocked'] as const;
export type OutcomeCode = 0 | 1 | 2 | 3 | 4;

const NONE = -1;

export class SourceTable {
  private readonly index = new Map<string, number>();
  private readonly keys: (string | undefined)[];
  // LRU list: head = least recently seen, tail = most recently seen.
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
  private readonly free: number[] = [];
  private used = 0;
  evicted = 0;

  /** Latest event time seen from the source. */
  readonly lastSeen: Float64Array;
  /** Ring of the last `ringSize` probe times, for the sliding-window count. */
  private readonly times: Float64Array;
  private readonly ringLength: Uint16Array;
  private readonly ringNext: Uint16Array;
  // The current burst (probes === 0: none open).
  readonly firstAt: Float64Array;
  readonly lastAt: Float64Array;
  readonly probes: Uint32Array;
  readonly otherPortProbes: Uint32Array;
  private readonly portList: Uint16Array;
  private readonly portCount: Uint16Array;
  readonly protocolBits: Uint8Array;
  readonly techniqueBits: Uint16Array;
  readonly modeBits: Uint8Array;
  readonly outcome: Uint8Array;

  constructor(
    readonly capacity: number,
    private readonly ringSize: number,
    private readonly maxPorts: number,
  ) {
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.lastSeen = new Float64Array(capacity);
    this.times = new Float64Array(capacity * ringSize);
    this.ringLength = new Uint16Array(capacity);
    this.ringNext = new Uint16Array(capacity);
    this.firstAt = new Float64Array(capacity);
    this.lastAt = new Float64Array(capacity);
    this.probes = new Uint32Array(capacity);
    this.otherPortProbes = new Uint32Array(capacity);
    this.portList = new Uint16Array(capacity * maxPorts);
    this.portCount = new Uint16Array(capacity);
    this.protocolBits = new Uint8Array(capacity);
    this.techniqueBits = new Uint16Array(capacity);
    this.modeBits = new Uint8Array(capacity);
    this.outcome = new Uint8Array(capacity);
  }

  get size(): number {
    return this.index.size;
  }

  /** The slot for `source`, created if new (evicting the least recently seen when full), moved to the tail. */
  touch(source: string): number {
    let slot = this.index.get(source);
    if (slot !== undefined) {
      this.unlink(slot);
    } else {
      if (this.index.size >= this.capacity && this.head !== NONE) {
        this.delete(this.keys[this.head] as string);
        this.evicted++;
      }
      slot = this.free.pop() ?? this.used++;
      this.clear(slot);
      this.keys[slot] = source;
      this.index.set(source, slot);
    }
    this.append(slot);
    return slot;
  }

  delete(source: string): void {
    const slot = this.index.get(source);
    if (slot === undefined) return;
    this.index.delete(source);
    this.unlink(slot);
    this.keys[slot] = undefined;
    this.free.push(slot);
  }

  /** Least recently seen first. Deleting the yielded source while iterating is safe. */
  *oldestFirst(): Generator<[string, number]> {
    let slot = this.head;
    while (slot !== NONE) {
      const following = this.next[slot] as number;
      yield [this.keys[slot] as string, slot];
      slot = following;
    }
  }

  /** Records a probe time; returns how many of the remembered times lie within `window` before `at`. */
  recordTime(slot: number, at: number, window: number): number {
    const base = slot * this.ringSize;
    const length = this.ringLength[slot] as number;
    if (length < this.ringSize) {
      this.times[base + length] = at;
      this.ringLength[slot] = length + 1;
    } else {
      const i = this.ringNext[slot] as number;
      this.times[base + i] = at;
      this.ringNext[slot] = (i + 1) % this.ringSize;
    }
    let inWindow = 0;
    const filled = this.ringLength[slot] as number;
    for (let i = 0; i < filled; i++) {
      const t = this.times[base + i] as number;
      if (t <= at && at - t <= window) inWindow++;
    }
    return inWindow;
  }

  /** Adds a probe to the slot's open burst (opening one if none). */
  addToBurst(
    slot: number,
    at: number,
    port: number,
    protocol: Protocol,
    technique: Technique,
    mode: Mode,
  ): void {
    if (this.probes[slot] === 0) {
      this.firstAt[slot] = at;
      this.lastAt[slot] = at;
    }
    if (at < (this.firstAt[slot] as number)) this.firstAt[slot] = at;
    if (at > (this.lastAt[slot] as number)) this.lastAt[slot] = at;
    this.probes[slot] = (this.probes[slot] as number) + 1;
    this.insertPort(slot, port);
    this.protocolBits[slot] = (this.protocolBits[slot] as number) | (1 << PROTOCOLS.indexOf(protocol));
    this.techniqueBits[slot] = (this.techniqueBits[slot] as number) | (1 << TECHNIQUES.indexOf(technique));
    this.modeBits[slot] = (this.modeBits[slot] as number) | (1 << MODES.indexOf(mode));
  }

  raiseOutcome(slot: number, outcome: OutcomeCode): void {
    if (outcome > (this.outcome[slot] as number)) this.outcome[slot] = outcome;
  }

  /** Distinct ports in the current burst (capped at maxPortsPerSource). */
  distinctPorts(slot: number): number {
    return this.portCount[slot] as number;
  }

  ports(slot: number): number[] {
    const base = slot * this.maxPorts;
    return Array.from(this.portList.subarray(base, base + (this.portCount[slot] as number)));
  }

  resetBurst(slot: number): void {
    this.probes[slot] = 0;
    this.portCount[slot] = 0;
    this.otherPortProbes[slot] = 0;
    this.protocolBits[slot] = 0;
    this.techniqueBits[slot] = 0;
    this.modeBits[slot] = 0;
    this.outcome[slot] = 0;
  }

  private clear(slot: number): void {
    this.resetBurst(slot);
    this.lastSeen[slot] = 0;
    this.ringLength[slot] = 0;
    this.ringNext[slot] = 0;
  }

  private insertPort(slot: number, port: number): void {
    const base = slot * this.maxPorts;
    const count = this.portCount[slot] as number;
    const list = this.portList;
    let lo = base;
    let hi = base + count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as number) < port) lo = mid + 1;
      else hi = mid;
    }
    if (lo < base + count && list[lo] === port) return;
    if (count >= this.maxPorts) {
      this.otherPortProbes[slot] = (this.otherPortProbes[slot] as number) + 1;
      return;
    }
    list.copyWithin(lo + 1, lo, base + count);
    list[lo] = port;
    this.portCount[slot] = count + 1;
  }

  private append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail !== NONE) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot] as number;
    const n = this.next[slot] as number;
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
  }
}

export function fromBits<T>(bits: number, names: readonly T[]): T[] {
  return names.filter((_, i) => (bits & (1 << i)) !== 0);
}
