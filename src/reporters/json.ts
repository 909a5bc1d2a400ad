// Structured output: one JSON object per line on stdout (or any stream) for every probe, decision,
// apply outcome and burst summary. JSON.stringify escapes control characters, so hostile text
// (a PTR name, an error message) stays inside its string. Like syslog it never blocks the
// detector: past a bound of unflushed bytes, lines are dropped and counted.

import type { Writable } from 'node:stream';
import type { BurstSummary, Decision, ProbeEvent } from '../core/records.js';

export type JsonRecord =
  | { type: 'probe'; event: ProbeEvent }
  | { type: 'decision'; decision: Decision; name?: string }
  | {
      type: 'apply';
      action: 'block' | 'release';
      address: string;
      backend: string;
      ok: boolean;
      error?: string;
      /** What was run or changed, for the audit trail (argv joined, nft batch line...). */
      detail?: string;
    }
  | { type: 'summary'; summary: BurstSummary; name?: string }
  | { type: 'admin'; message: string; [key: string]: unknown };

export interface JsonLinesOptions {
  out?: Writable;
  maxBufferedBytes?: number;
  now?: () => number;
}

export class JsonLines {
  private readonly out: Writable;
  private readonly now: () => number;
  private readonly limit: number;
  private counters = { written: 0, dropped: 0 };

  constructor(options: JsonLinesOptions = {}) {
    this.out = options.out ?? process.stdout;
    this.now = options.now ?? Date.now;
    this.limit = options.maxBufferedBytes ?? 1024 * 1024;
    this.out.on('error', () => {
      // stdout closed (a pipe reader went away): keep running, count from now on.
    });
  }

  write(record: JsonRecord): void {
    if (this.out.writableLength > this.limit || this.out.destroyed) {
      this.counters.dropped++;
      return;
    }
    this.out.write(`${JSON.stringify({ time: new Date(this.now()).toISOString(), ...record })}\n`);
    this.counters.written++;
  }

  stats(): { written: number; dropped: number } {
    return { ...this.counters };
  }
}
