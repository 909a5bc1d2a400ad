// Shared pieces of the daemon end-to-end tests (test/e2e-*.test.ts): config files, nmap, probes
// from a chosen source address, and what the kernel in the target holds. Everything runs inside
// the lab's namespaces.

import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_PATH } from '../src/daemon/lab-daemon.js';
import { NFT_SET_V4, NFT_SET_V6 } from '../src/responders/nftables.js';

export const TRAP_TCP = [1, 11, 79, 111, 143, 1080, 12345, 31337];
export const TRAP_UDP = [1, 7, 9, 69, 161, 31337];
/** A real service in the target; never a trap port. */
export const SERVICE_PORT = 8080;

export function run(argv: string[], input?: string, timeoutMs = 60_000) {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', input, timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A config for one test run; `extra` is appended TOML (whole tables). */
export function writeConfig(
  dir: string,
  options: { respond?: string; detect?: string; log?: string; extra?: string } = {},
): string {
  const path = join(dir, 'portsentinel.toml');
  writeFileSync(
    path,
    `[detect]
modes = ["tcp", "udp"]
tcp_ports = [${TRAP_TCP.join(', ')}]
udp_ports = [${TRAP_UDP.join(', ')}]
threshold = 1
resolve_host = false
provisional_ban = "0s"
corroborate_ports = 0
${options.detect ?? ''}

[respond]
max_bans_per_minute = 0
reconcile_interval = "0s"
${options.respond ?? 'backends = ["nftables"]\nban_duration = "1h"'}

[store]
path = "${join(dir, 'state.db')}"

[log]
json = true
${options.log ?? 'syslog = false'}

${options.extra ?? ''}
`,
  );
  return path;
}

/** A config for the packet modes (trap, stealth, advanced): provisional bans, corroboration. */
export function writeTrapConfig(
  dir: string,
  options: { modes: string[]; interfaces?: string[]; nflogGroup?: number; detect?: string },
): string {
  const path = join(dir, 'portsentinel.toml');
  writeFileSync(
    path,
    `[detect]
modes = ${JSON.stringify(options.modes)}
advanced_tcp_limit = 1024
advanced_udp_limit = 1024
tcp_ports = [31337]
udp_ports = [31337]
provisional_ban = "30s"
corroborate_ports = 3
resolve_host = false
interfaces = ${JSON.stringify(options.interfaces ?? ['any'])}
nflog_group = ${options.nflogGroup ?? 31}
${options.detect ?? ''}

[respond]
backends = ["nftables"]
max_bans_per_minute = 0
reconcile_interval = "0s"
ban_duration = "1h"

[store]
path = "${join(dir, 'state.db')}"

[log]
json = true
syslog = false
`,
  );
  return path;
}

export function nmap(ns: string, args: string[]): string {
  return run([
    'ip',
    'netns',
    'exec',
    ns,
    'nmap',
    '-Pn',
    '-n',
    '-T4',
    '--max-retries',
    '0',
    '--host-timeout',
    '30s',
    ...args,
  ]).stdout;
}

/** One TCP connection from `source` (an address of namespace `ns`) to host:port; true if it connected. */
export function tcpConnect(
  ns: string,
  source: string | undefined,
  host: string,
  port: number,
  timeoutMs = 1500,
): boolean {
  const script = `const s=require('node:net').connect({host:${JSON.stringify(host)},port:${port}${
    source ? `,localAddress:${JSON.stringify(source)}` : ''
  }});s.setTimeout(${timeoutMs},()=>{process.exit(2)});s.on('connect',()=>{s.destroy();process.exit(0)});s.on('error',()=>process.exit(1));`;
  return (
    run(['ip', 'netns', 'exec', ns, process.execPath, '-e', script], undefined, timeoutMs + 5000).code === 0
  );
}

/** The addresses in the nftables ban sets of namespace `ns` (empty when the table is absent). */
export function nftBanned(ns: string): string[] {
  const r = run(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'portsentinel']);
  if (r.code !== 0) return [];
  const out: string[] = [];
  const doc = JSON.parse(r.stdout) as { nftables: Record<string, { name?: string; elem?: unknown[] }>[] };
  for (const item of doc.nftables) {
    const set = item.set;
    // Only the responder's ban sets: the table also holds trap mode's allow and peer sets.
    if (!set?.elem || (set.name !== NFT_SET_V4 && set.name !== NFT_SET_V6)) continue;
    for (const e of set.elem) {
      if (typeof e === 'string') out.push(e);
      else {
        const v = (e as { elem?: { val?: unknown } }).elem?.val;
        if (typeof v === 'string') out.push(v);
      }
    }
  }
  return out.sort();
}

export function blackholes(ns: string): string {
  return (
    run(['ip', 'netns', 'exec', ns, 'ip', 'route', 'show', 'type', 'blackhole']).stdout +
    run(['ip', 'netns', 'exec', ns, 'ip', '-6', 'route', 'show', 'type', 'blackhole']).stdout
  );
}

/** The CLI (bin/portsentinel) inside namespace `ns`. */
export function cli(ns: string, args: string[]) {
  return run(['ip', 'netns', 'exec', ns, BIN_PATH, ...args]);
}

export function cliJson<T>(ns: string, args: string[]): T {
  const r = cli(ns, [...args, '--json']);
  if (r.code !== 0) throw new Error(`portsentinel ${args.join(' ')} → ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A TCP service in namespace `ns` that accepts and closes; returns a stop function. */
export function startService(ns: string, port: number): { stop(): void } {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      `require('node:net').createServer((s)=>{s.on('error',()=>{});s.end('hello\\n')}).listen(${port},'::')`,
    ],
    { stdio: 'ignore' },
  );
  return { stop: () => child.kill('SIGKILL') };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
