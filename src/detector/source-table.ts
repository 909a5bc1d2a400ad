// The detector's fixed-capacity table of sources: one entry per source address seen recently,
// least recently seen evicted first. This is the only per-source state, so a flood of spoofed
// sources costs at most `capacity` entries (evictions are counted), never more memory.
//
// Memory bound (measured by bench/detector-flood.ts, Node 20 x64):
//   one entry ≈ 350 bytes with one port stored (key string, Map slot, entry object, ring of
//   `threshold` times, port array) and grows by ~8 bytes per stored port, up to `maxPorts` (64):
//   ≈ 850 bytes worst case. Default capacity 65 536 → ≈ 23 MB for a one-port-per-source flood,
//   ≈ 56 MB if every entry also holds 64 ports.

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

export interface SourceEntry {
  /** Latest event time seen from this source. */
  lastSeen: number;
  /** Ring of the last `threshold` probe times, for the sliding-window count. */
  times: number[];
  ringNext: number;
  // The current burst (probes === 0: none open).
  firstAt: number;
  lastAt: number;
  probes: number;
  /** Distinct ports, ascending, at most maxPorts. */
  ports: number[];
  otherPortProbes: number;
  protocolBits: number;
  techniqueBits: number;
  modeBits: number;
  outcome: OutcomeCode;
}

export class SourceTable {
  private readonly map = new Map<string, SourceEntry>();
  evicted = 0;

  constructor(
    readonly capacity: number,
    private readonly ringSize: number,
    private readonly maxPorts: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The entry for `source`, created if new, moved to the most-recently-seen end. */
  touch(source: string): SourceEntry {
    let entry = this.map.get(source);
    if (entry) {
      this.map.delete(source);
    } else {
      entry = newEntry();
      if (this.map.size >= this.capacity) {
        const oldest = this.map.keys().next();
        if (!oldest.done) {
          this.map.delete(oldest.value);
          this.evicted++;
        }
      }
    }
    this.map.set(source, entry);
    return entry;
  }

  /** Oldest first (least recently seen). Deleting the current entry while iterating is safe. */
  entries(): IterableIterator<[string, SourceEntry]> {
    return this.map.entries();
  }

  delete(source: string): void {
    this.map.delete(source);
  }

  /** Records a probe time in the ring; returns how many of the ring's times lie within `window` of `at`. */
  recordTime(entry: SourceEntry, at: number, window: number): number {
    if (entry.times.length < this.ringSize) entry.times.push(at);
    else {
      entry.times[entry.ringNext] = at;
      entry.ringNext = (entry.ringNext + 1) % this.ringSize;
    }
    let inWindow = 0;
    for (const t of entry.times) if (at - t <= window && t <= at) inWindow++;
    return inWindow;
  }

  /** Adds a probe to the entry's open burst (opening one if none). */
  addToBurst(
    entry: SourceEntry,
    at: number,
    port: number,
    protocol: Protocol,
    technique: Technique,
    mode: Mode,
  ): void {
    if (entry.probes === 0) {
      entry.firstAt = at;
      entry.lastAt = at;
    }
    entry.firstAt = Math.min(entry.firstAt, at);
    entry.lastAt = Math.max(entry.lastAt, at);
    entry.probes++;
    insertPort(entry, port, this.maxPorts);
    entry.protocolBits |= 1 << PROTOCOLS.indexOf(protocol);
    entry.techniqueBits |= 1 << TECHNIQUES.indexOf(technique);
    entry.modeBits |= 1 << MODES.indexOf(mode);
  }
}

export function resetBurst(entry: SourceEntry): void {
  entry.probes = 0;
  entry.ports = [];
  entry.otherPortProbes = 0;
  entry.protocolBits = 0;
  entry.techniqueBits = 0;
  entry.modeBits = 0;
  entry.outcome = 0;
}

export function fromBits<T>(bits: number, names: readonly T[]): T[] {
  return names.filter((_, i) => (bits & (1 << i)) !== 0);
}

function newEntry(): SourceEntry {
  return {
    lastSeen: 0,
    times: [],
    ringNext: 0,
    firstAt: 0,
    lastAt: 0,
    probes: 0,
    ports: [],
    otherPortProbes: 0,
    protocolBits: 0,
    techniqueBits: 0,
    modeBits: 0,
    outcome: 0,
  };
}

function insertPort(entry: SourceEntry, port: number, maxPorts: number): void {
  const ports = entry.ports;
  let lo = 0;
  let hi = ports.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((ports[mid] as number) < port) lo = mid + 1;
    else hi = mid;
  }
  if (ports[lo] === port) return;
  if (ports.length >= maxPorts) {
    entry.otherPortProbes++;
    return;
  }
  ports.splice(lo, 0, port);
}
