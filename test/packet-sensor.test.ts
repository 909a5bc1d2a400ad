// Packet sensors against real nmap scans inside network namespaces: the kernel tripwire's
// NFLOG feed (trap mode) and live capture on the target's interface (advanced mode) must each
// report every nmap technique with the right name, over IPv4 and IPv6, fragmented too.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ProbeEvent } from '../src/core/records.js';
import { createLab, nsExec, requireLab } from './lab.js';

const PRINTER = fileURLToPath(new URL('./fixtures/print-probes.js', import.meta.url));

interface Printer {
  child: ChildProcess;
  events: ProbeEvent[];
  stop(): Promise<Record<string, number>>;
}

async function startPrinter(ns: string, device: string, locals: string[]): Promise<Printer> {
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, PRINTER, device, locals.join(','), '1024'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const events: ProbeEvent[] = [];
  let counters: Record<string, number> = {};
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => (ready = r));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.ready) ready();
    else if (msg.counters) counters = msg.counters;
    else events.push(msg);
  });
  await Promise.race([
    isReady,
    new Promise((_, rej) => setTimeout(() => rej(new Error('sensor did not start')), 5000)),
  ]);
  return {
    child,
    events,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve(counters));
        child.kill('SIGTERM');
      }),
  };
}

const NMAP = ['nmap', '-n', '-Pn', '-T5', '--max-retries', '0'];
const SCANS: { flag: string; technique: string; extra?: string[] }[] = [
  { flag: '-sS', technique: 'syn' },
  { flag: '-sF', technique: 'fin' },
  { flag: '-sN', technique: 'null' },
  { flag: '-sX', technique: 'xmas' },
  { flag: '-sA', technique: 'ack' },
  { flag: '-sM', technique: 'maimon' },
  { flag: '-sU', technique: 'udp' },
  { flag: '-sS', technique: 'syn', extra: ['-f'] },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('trap mode NFLOG feed and advanced-mode live capture see every nmap technique', async (t) => {
  if (!requireLab(t, ['nmap', 'nft'])) return;
  const lab = createLab('pks');
  const printers: Printer[] = [];
  try {
    // A minimal tripwire: log every TCP/UDP packet to a closed port below 1025 (no ban, so each scan gets through).
    nsExec(
      lab.target,
      ['nft', '-f', '-'],
      [
        'add table inet pks',
        'add chain inet pks in { type filter hook input priority -5; policy accept; }',
        'add rule inet pks in iif "lo" accept',
        'add rule inet pks in meta l4proto { tcp, udp } socket transparent 0 accept',
        'add rule inet pks in tcp flags & (rst) == rst accept',
        'add rule inet pks in tcp dport 1-1024 log group 7 queue-threshold 1 drop',
        'add rule inet pks in udp dport 1-1024 log group 7 queue-threshold 1 drop',
        '',
      ].join('\n'),
    );
    const locals = [lab.targetV4, lab.targetV6];
    const nflog = await startPrinter(lab.target, 'nflog:7', locals);
    const vethName = lab.targetIface;
    const live = await startPrinter(lab.target, vethName, locals);
    printers.push(nflog, live);

    for (const scan of SCANS) {
      for (const [v6, address] of [
        [false, lab.targetV4],
        [true, lab.targetV6],
      ] as const) {
        if (v6 && scan.extra?.includes('-f')) continue; // nmap -f is IPv4 only
        nsExec(lab.attacker, [
          ...NMAP,
          ...(v6 ? ['-6'] : []),
          scan.flag,
          ...(scan.extra ?? []),
          '-p',
          '7,79,111',
          address,
        ]);
      }
    }
    await sleep(500);
    const nflogCounters = await nflog.stop();
    const liveCounters = await live.stop();
    for (const [name, printer, counters] of [
      ['nflog', nflog, nflogCounters],
      ['live', live, liveCounters],
    ] as const) {
      const seen = new Set(printer.events.map((e) => `${e.source.includes(':') ? 6 : 4}:${e.technique}`));
      for (const scan of SCANS) {
        assert.ok(
          seen.has(`4:${scan.technique}`),
          `${name}: ${scan.flag} over IPv4 not seen (${[...seen]}) ${JSON.stringify(counters)}`,
        );
        assert.ok(seen.has(`6:${scan.technique}`), `${name}: ${scan.flag} over IPv6 not seen (${[...seen]})`);
      }
      assert.ok(
        printer.events.every((e) => e.source === lab.attackerV4 || e.source === lab.attackerV6),
        `${name}: only the attacker is reported`,
      );
      assert.ok(printer.events.every((e) => [7, 79, 111].includes(e.port)));
    }
  } finally {
    for (const p of printers) p.child.kill('SIGKILL');
    lab.close();
  }
});
