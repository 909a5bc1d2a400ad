// Accepted trap connection → ban enforced, end to end in network namespaces: the real daemon
// (nftables backend, threshold 1) runs in the target; a client in the attacker namespace makes
// one TCP connection to a trap port from each of N distinct source addresses, one after the
// other. Latency = (daemon's "ban" event: the nftables transaction has committed) − (client's
// connect completed), both stamped on this process's clock when their lines arrive, so the
// two pipe delays largely cancel. At the end the set is checked to hold every address.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { addAttackerAddresses, createLab } from '../src/daemon/lab.js';
import { LabDaemon } from '../src/daemon/lab-daemon.js';

const SCANS = Math.min(240, Number(process.env.BENCH_SCANS ?? 240));
const TRAP_PORT = 31337;
/** Below the advanced limit, nothing listens: a probe the live capture must see. */
const ADVANCED_PORT = 81;

const CLIENT = `
const net = require('node:net');
const port = Number(process.argv[1]);
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (src) => {
  const s = net.connect({ host: src.includes(':') ? '2001:db8:51::2' : '198.51.100.2', port, localAddress: src });
  s.on('connect', () => { process.stdout.write('ok ' + src + '\\n'); s.destroy(); });
  s.on('error', (e) => process.stdout.write((e.code === 'ECONNREFUSED' ? 'ok ' : 'err ') + src + ' ' + e.code + '\\n'));
});`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export async function benchTrapToBan(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('   skipped: needs root (network namespaces)');
    return;
  }
  await measure('tcp');
  // Advanced mode: the probe is seen by live capture (the connection is refused by the kernel),
  // and the unverified source gets its provisional ban at once.
  await measure('atcp');
}

async function measure(mode: 'tcp' | 'atcp'): Promise<void> {
  const port = mode === 'tcp' ? TRAP_PORT : ADVANCED_PORT;
  const lab = createLab('bnch');
  const dir = mkdtempSync(join(tmpdir(), 'ps-bench-'));
  let daemon: LabDaemon | undefined;
  let client: ReturnType<typeof spawn> | undefined;
  try {
    // N attacker addresses on the attacker's link (198.51.100.10 ...), added in one batch.
    const sources: string[] = [];
    for (let i = 0; i < SCANS; i++) sources.push(`198.51.100.${10 + i}`);
    addAttackerAddresses(lab, sources);
    writeFileSync(
      join(dir, 'bench.toml'),
      `[detect]
modes = ["${mode}"]
tcp_ports = [${TRAP_PORT}]
interfaces = ["${lab.targetIface}"]
threshold = 1
resolve_host = false
[respond]
backends = ["nftables"]
ban_duration = "1h"
max_bans_per_minute = 0
reconcile_interval = "0s"
[store]
path = "${join(dir, 'state.db')}"
[log]
syslog = false
json = true
`,
    );
    daemon = await LabDaemon.start(
      lab.target,
      ['--config', join(dir, 'bench.toml')],
      join(dir, 'control.sock'),
    );
    client = spawn('ip', ['netns', 'exec', lab.attacker, process.execPath, '-e', CLIENT, String(port)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: client.stdout as NodeJS.ReadableStream });
    const connected = new Map<string, (t: number) => void>();
    lines.on('line', (line) => {
      const t = performance.now();
      const [kind, src] = line.split(' ');
      if (kind === 'ok' && src) connected.get(src)?.(t);
    });
    const latencies: number[] = [];
    let failed = 0;
    for (const src of sources) {
      const from = daemon.events.length;
      const connectedAt = new Promise<number>((r) => connected.set(src, r));
      const banned = daemon.waitFor((e) => e.event === 'ban' && e.address === src, 5000, from);
      client.stdin?.write(`${src}\n`);
      try {
        const [c, b] = await Promise.all([connectedAt, banned]);
        latencies.push(b.receivedAt - c);
      } catch {
        failed++;
      }
    }
    const list = spawnSync(
      'ip',
      ['netns', 'exec', lab.target, 'nft', '-j', 'list', 'table', 'inet', 'portsentinel'],
      {
        encoding: 'utf8',
      },
    ).stdout;
    const present = sources.filter((s) => list.includes(`"${s}"`)).length;
    latencies.sort((a, b) => a - b);
    const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
    console.log(
      `   scans: ${latencies.length} measured, ${failed} failed; set holds ${present}/${sources.length} addresses`,
    );
    console.log(
      `   ${mode === 'tcp' ? 'classic: accepted trap connection' : 'advanced: probe seen by live capture'} → ban enforced: p50 ${fmt(percentile(latencies, 50))}, p90 ${fmt(percentile(latencies, 90))}, ` +
        `p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1) ?? Number.NaN)}  (target p50 ≤ 2 ms; ` +
        'PortSentry 1.2: route 3–15 ms, nftables 16–28 ms)',
    );
  } finally {
    client?.kill();
    await daemon?.stop('SIGTERM');
    lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
