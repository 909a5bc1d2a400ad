// RSS of the detector under a flood of 1M distinct (spoofed) sources, and the worst case of a
// full table whose every entry holds the maximum number of ports. Prints figures, asserts nothing.
// Run alone: node --expose-gc dist/bench/detector-flood.js

import { pathToFileURL } from 'node:url';
import { CidrSet } from '../src/core/address.js';
import type { ProbeEvent } from '../src/core/records.js';
import { Detector } from '../src/detector/detector.js';
import type { DetectorOptions } from '../src/detector/options.js';

const MB = 1024 * 1024;

function settle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

function options(over: Partial<DetectorOptions> = {}): DetectorOptions {
  return {
    threshold: 3,
    window: 60_000,
    response: { tcp: 'block', udp: 'block' },
    blockUnverifiedUdp: false,
    neverBlock: new CidrSet().add('127.0.0.0/8', 'loopback'),
    banDuration: 3_600_000,
    banGrowth: 2,
    banMax: 0,
    maxBansPerMinute: 60,
    dryRun: false,
    ...over,
  };
}

/** Half IPv4, half IPv6 (longer keys), all distinct. */
function spoofed(i: number): string {
  if (i % 2 === 0) return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return `2001:db8::${((i >> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}`;
}

function measure(name: string, det: Detector, feed: () => number): void {
  settle();
  const before = process.memoryUsage();
  const start = process.hrtime.bigint();
  const events = feed();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  settle();
  const after = process.memoryUsage();
  const s = det.stats();
  console.log(
    `${name}: ${events.toLocaleString('en')} events in ${seconds.toFixed(2)} s ` +
      `(${Math.round(events / seconds).toLocaleString('en')}/s); tracked ${s.tracked}, evicted ${s.evicted}; ` +
      `RSS ${(before.rss / MB).toFixed(1)} → ${(after.rss / MB).toFixed(1)} MB ` +
      `(+${((after.rss - before.rss) / MB).toFixed(1)}), heap +${((after.heapUsed - before.heapUsed) / MB).toFixed(1)} MB ` +
      `, heapTotal ${(after.heapTotal / MB).toFixed(1)} MB, arrayBuffers ${(after.arrayBuffers / MB).toFixed(1)} MB`,
  );
}

export async function benchDetectorFlood(): Promise<void> {
  console.log('detector flood (maxSources 65536, 64 ports per source)');
  {
    const det = new Detector(options());
    measure('1M distinct spoofed sources, 1 UDP probe each', det, () => {
      const e: ProbeEvent = {
        at: 0,
        source: '',
        port: 53,
        protocol: 'udp',
        technique: 'udp',
        mode: 'udp',
        sensor: 'bench',
      };
      const n = 1_000_000;
      for (let i = 0; i < n; i++) {
        e.at = i;
        e.source = spoofed(i);
        det.observe(e);
        if (i % 100_000 === 0) det.tick(i);
      }
      return n;
    });
  }
  {
    const det = new Detector(options());
    measure('worst case: 65536 sources x 64 ports (TCP SYN)', det, () => {
      const e: ProbeEvent = {
        at: 0,
        source: '',
        port: 0,
        protocol: 'tcp',
        technique: 'syn',
        mode: 'stcp',
        sensor: 'bench',
      };
      let n = 0;
      for (let p = 1; p <= 64; p++) {
        for (let i = 0; i < 65_536; i++) {
          e.at = n;
          e.source = spoofed(i);
          e.port = p;
          det.observe(e);
          n++;
        }
      }
      return n;
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchDetectorFlood();
}
