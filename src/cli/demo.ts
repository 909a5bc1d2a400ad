// `portsentinel demo`: a two-namespace lab on documentation addresses. The daemon runs in the
// target namespace with nftables; nmap scans it from the attacker namespace (-sT over IPv4, then
// -sU over IPv6); then we print what was detected and blocked, and clean up everything, also on
// Ctrl-C or an error.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentinelError } from '../core/errors.js';
import { controlRequest } from '../daemon/control.js';
import { createLab, type Lab } from '../daemon/lab.js';
import { Store } from '../store/store.js';
import { EXIT_OK, EXIT_UNAVAILABLE } from './args.js';
import type { Io } from './context.js';
import { formatExplain } from './format.js';

const TCP_PORTS = [1, 11, 15, 79, 111, 119, 143, 540, 635, 1080, 1524, 2000, 6667, 12345, 31337];
const UDP_PORTS = [1, 7, 9, 69, 161, 162, 513, 635, 31337];
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/portsentinel');

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'the demo needs root (it creates network namespaces)';
  for (const tool of ['ip', 'nmap', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `the demo needs ${tool} on PATH`;
  }
  return undefined;
}

function demoConfig(dir: string): string {
  return `# portsentinel demo configuration (temporary)
[detect]
modes = ["tcp", "udp"]
tcp_ports = [${TCP_PORTS.join(', ')}]
udp_ports = [${UDP_PORTS.join(', ')}]
threshold = 1
resolve_host = false

[respond]
backends = ["nftables"]
ban_duration = "10m"
reconcile_interval = "1m"

[store]
path = "${join(dir, 'state.db')}"

[log]
syslog = false
json = true

[control]
socket = "${join(dir, 'control.sock')}"
`;
}

async function waitForDaemon(socket: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new SentinelError('E_DAEMON', `daemon exited with status ${child.exitCode}`);
    try {
      await controlRequest(socket, { op: 'ping' }, 1000);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new SentinelError('E_TIMEOUT', 'daemon did not come up');
}

function nmap(io: Io, lab: Lab, title: string, args: string[]): void {
  io.out(`\n$ nmap ${args.join(' ')}    # from the attacker namespace (${title})`);
  const r = spawnSync('ip', ['netns', 'exec', lab.attacker, 'nmap', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const interesting = (r.stdout ?? '')
    .split('\n')
    .filter((l) => /^\d+\/(tcp|udp)|Nmap done|Host is|All \d+ scanned/.test(l));
  for (const l of interesting.slice(0, 20)) io.out(`  ${l}`);
}

export async function runDemo(io: Io, keepDir?: string): Promise<number> {
  const why = missing();
  if (why) {
    io.err(`portsentinel demo: ${why}`);
    return EXIT_UNAVAILABLE;
  }
  const dir = keepDir ?? mkdtempSync(join(tmpdir(), 'portsentinel-demo-'));
  let lab: Lab | undefined;
  let daemon: ChildProcess | undefined;
  const cleanup = () => {
    if (daemon?.pid && daemon.exitCode === null) daemon.kill('SIGTERM');
    lab?.close();
    lab = undefined;
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    lab = createLab('demo', { gatewayVia: 'benign' });
    io.out(`lab: target ${lab.targetV4} / ${lab.targetV6}, attacker ${lab.attackerV4} / ${lab.attackerV6}`);
    const configPath = join(dir, 'portsentinel.toml');
    writeFileSync(configPath, demoConfig(dir), { mode: 0o600 });
    const socket = join(dir, 'control.sock');
    const events: Record<string, unknown>[] = [];
    const stderr: string[] = [];
    daemon = spawn('ip', ['netns', 'exec', lab.target, BIN, 'run', '--config', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    daemon.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a JSON line
        }
      }
    });
    daemon.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    try {
      await waitForDaemon(socket, daemon, 15_000);
    } catch (err) {
      io.err(stderr.join(''));
      throw err;
    }
    io.out(
      `daemon: running in ${lab.target} (traps on TCP ${TCP_PORTS.length} ports, UDP ${UDP_PORTS.length} ports)`,
    );
    nmap(io, lab, 'TCP connect scan, IPv4', [
      '-sT',
      '-Pn',
      '-n',
      '-T4',
      '--max-retries',
      '0',
      '--host-timeout',
      '20s',
      '-p',
      TCP_PORTS.join(','),
      lab.targetV4,
    ]);
    nmap(io, lab, 'UDP scan, IPv6', [
      '-6',
      '-sU',
      '-Pn',
      '-n',
      '-T4',
      '--max-retries',
      '0',
      '--host-timeout',
      '20s',
      '-p',
      UDP_PORTS.join(','),
      lab.targetV6,
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const nft = spawnSync(
      'ip',
      ['netns', 'exec', lab.target, 'nft', 'list', 'table', 'inet', 'portsentinel'],
      { encoding: 'utf8' },
    );
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon?.once('exit', r));
    io.out('\nwhat the daemon saw and did:');
    const store = Store.open(join(dir, 'state.db'), { readonly: true });
    try {
      for (const address of [lab.attackerV4, lab.attackerV6])
        io.out(formatExplain(address, store.explain(address)));
    } finally {
      store.close();
    }
    const elements = (nft.stdout ?? '').split('\n').filter((l) => /elements|198\.51|2001:db8/.test(l));
    io.out(
      `\nnftables in the target (inet portsentinel):\n${elements.map((l) => `  ${l.trim()}`).join('\n') || '  (empty)'}`,
    );
    const blocks = events.filter((e) => e.event === 'ban').length;
    io.out(`\n${events.filter((e) => e.event === 'probe').length} probes logged, ${blocks} ban(s) enforced.`);
    io.out(
      'A UDP datagram can be forged: see detect.block_unverified_udp / provisional_ban for how it is treated.',
    );
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}
