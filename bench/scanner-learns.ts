// What a scanner learns: nmap (-sS, -sT, -sU at -T4 and -T5) and masscan from an attacker
// namespace against a target with real services (tcp/22, tcp/80, tcp/443 and udp/53, node
// listeners) protected by the kernel tripwire alone (trapRuleset + a ban chain at prerouting
// -300, as test/trap-tripwire.test.ts loads it; no daemon: this is the kernel's share). Each run
// gets a fresh lab, so no ban, peer entry or conntrack state leaks from one run to the next.
// An unprotected target is measured too, for contrast.
//
// Per run: open ports the scanner reported, replies the target sent to the attacker (an nft
// counter at the output hook: SYN+ACKs, RSTs, ICMP errors, UDP answers; the ban drops everything
// from the attacker at prerouting, so every reply counted was sent before the cut-off), and the
// run's duration.
//
// First probe to enforcement (trap mode): tcpdump on the target's interface records every
// packet from the attacker (AF_PACKET sees them before netfilter). P1 = the first probe to a
// trapped port. The trap rule adds the source to the ban set while it handles P1, so every
// attacker packet after P1 must be dropped by the ban chain: we check that the ban chain's drop
// counter equals the number of attacker packets captured after P1, and report the gap between P1
// and the next attacker packet as the upper bound on enforcement latency (if any packet after P1
// had got through, the counts would differ).
//
// Env: BENCH_LEARNS_RUNS=sS-T4,masscan (substrings of run names) to run a subset.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCidr } from '../src/core/address.js';
import { forEachPacket } from '../src/sensors/packet/capture-file.js';
import { decodeFrame } from '../src/sensors/packet/decode.js';
import { trapRuleset } from '../src/sensors/packet/trap-ruleset.js';
import { createLab, type Lab, missingPrerequisite, nsExec } from '../test/lab.js';

const TCP_SERVICES = [22, 80, 443];
const UDP_SERVICE = 53;
/** nmap -sU against 65,535 ports waits out every silent port; 1-1024 keeps a run to minutes. */
const UDP_RANGE = '1-1024';

const BASE = `add table inet pst
add set inet pst ban4 { type ipv4_addr; flags timeout; }
add set inet pst ban6 { type ipv6_addr; flags timeout; }
add chain inet pst ban { type filter hook prerouting priority -300; policy accept; }
add rule inet pst ban ip saddr @ban4 counter drop
add rule inet pst ban ip6 saddr @ban6 counter drop
`;

/** Counts what the target sends to the attacker, by kind; in its own table. */
function replyCounter(attacker: string): string {
  return `add table inet lrn
add chain inet lrn out { type filter hook output priority 0; policy accept; }
add rule inet lrn out ip daddr ${attacker} tcp flags & (syn | ack) == syn | ack counter comment "synack"
add rule inet lrn out ip daddr ${attacker} tcp flags & rst == rst counter comment "rst"
add rule inet lrn out ip daddr ${attacker} meta l4proto icmp counter comment "icmp"
add rule inet lrn out ip daddr ${attacker} meta l4proto udp counter comment "udp"
add rule inet lrn out ip daddr ${attacker} counter comment "all"
`;
}

interface Run {
  name: string;
  trap: boolean;
  /** The attacker first completes one ordinary connection to tcp/80 (it becomes a trap "peer"). */
  peer?: boolean;
  scanner: 'nmap' | 'masscan';
  args: string[];
}

const NMAP = (flag: string, timing: string, ports: string) => ['-n', '-Pn', flag, timing, '-p', ports];
const RUNS: Run[] = [
  ...['-T4', '-T5'].flatMap((timing) => [
    {
      name: `trap nmap -sS ${timing} -p1-65535`,
      trap: true,
      scanner: 'nmap' as const,
      args: NMAP('-sS', timing, '1-65535'),
    },
    {
      name: `trap nmap -sT ${timing} -p1-65535`,
      trap: true,
      scanner: 'nmap' as const,
      args: NMAP('-sT', timing, '1-65535'),
    },
    {
      name: `trap nmap -sU ${timing} -p${UDP_RANGE}`,
      trap: true,
      scanner: 'nmap' as const,
      args: NMAP('-sU', timing, UDP_RANGE),
    },
  ]),
  { name: 'trap masscan --rate 100000 -p1-65535', trap: true, scanner: 'masscan', args: [] },
  {
    name: 'trap, session to :80 first, nmap -sS -T5',
    trap: true,
    peer: true,
    scanner: 'nmap',
    args: NMAP('-sS', '-T5', '1-65535'),
  },
  { name: 'open nmap -sS -T4 -p1-65535', trap: false, scanner: 'nmap', args: NMAP('-sS', '-T4', '1-65535') },
  { name: 'open nmap -sT -T4 -p1-65535', trap: false, scanner: 'nmap', args: NMAP('-sT', '-T4', '1-65535') },
  { name: 'open masscan --rate 100000 -p1-65535', trap: false, scanner: 'masscan', args: [] },
];

function startServices(lab: Lab): ChildProcess[] {
  const tcp = TCP_SERVICES.map(
    (p) => `require('net').createServer(s=>s.end('hello\\n')).listen(${p},'::')`,
  ).join(';');
  const udp = `const u=require('dgram').createSocket('udp4');u.on('message',(m,r)=>u.send('ok',r.port,r.address));u.bind(${UDP_SERVICE})`;
  return [tcp, udp].map((code) =>
    spawn('ip', ['netns', 'exec', lab.target, process.execPath, '-e', code], { stdio: 'ignore' }),
  );
}

async function waitForListeners(lab: Lab): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const tcp = nsExec(lab.target, ['ss', '-Hltn']);
    const udp = nsExec(lab.target, ['ss', '-Hlun']);
    if (TCP_SERVICES.every((p) => tcp.includes(`:${p} `)) && udp.includes(`:${UDP_SERVICE} `)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('services did not start');
}

function linkOf(lab: Lab, ns: string): { name: string; mac: string } {
  const links = JSON.parse(nsExec(ns, ['ip', '-j', 'link', 'show', 'type', 'veth'])) as {
    ifname: string;
    address: string;
  }[];
  const link = links[0];
  if (!link) throw new Error(`no veth in ${ns} (${lab.target})`);
  return { name: link.ifname, mac: link.address };
}

function counters(lab: Lab): Record<string, number> {
  const out: Record<string, number> = {};
  const text = nsExec(lab.target, ['nft', 'list', 'table', 'inet', 'lrn']);
  for (const m of text.matchAll(/counter packets (\d+) bytes \d+ comment "(\w+)"/g))
    out[m[2]!] = Number(m[1]);
  const ban = nsExec(lab.target, ['nft', 'list', 'chain', 'inet', 'pst', 'ban']);
  out.banDropped = [...ban.matchAll(/counter packets (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  return out;
}

interface Enforcement {
  afterFirstProbe: number;
  firstGapMs: number;
}

/** P1 and what followed it, from the target-side capture of the attacker's packets. */
function enforcementFromCapture(path: string): Enforcement | undefined {
  let p1: number | undefined;
  let next: number | undefined;
  let after = 0;
  forEachPacket(path, (p) => {
    if (p1 !== undefined) {
      after++; // every IPv4 packet from the attacker (tcpdump's filter), decodable or not
      next ??= p.at;
      return;
    }
    const r = decodeFrame(p.linkType, p.data);
    if (!r.ok) return;
    const inUse =
      r.packet.protocol === 'tcp'
        ? TCP_SERVICES.includes(r.packet.dstPort)
        : r.packet.dstPort === UDP_SERVICE;
    const reply = r.packet.protocol === 'tcp' && (r.packet.tcpFlags & 0x14) !== 0; // RST, or ACK of a session
    if (!inUse && !reply) p1 = p.at;
  });
  if (p1 === undefined) return undefined;
  return { afterFirstProbe: after, firstGapMs: next === undefined ? Number.NaN : next - p1 };
}

/** A scan against the tripwire crawls (every probe after the first goes unanswered); past this it is stopped. */
const CAP_SECONDS = Number(process.env.BENCH_LEARNS_CAP_S ?? 60);

/** Runs argv; after `capMs` sends SIGINT (nmap prints what it has and exits). */
function runCapped(
  argv: string[],
  capMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; capped: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let capped = false;
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      capped = true;
      child.kill('SIGINT');
    }, capMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, capped });
    });
  });
}

interface Result {
  open: number[];
  openFiltered: number;
  seconds: number;
  replies: Record<string, number>;
  enforcement?: Enforcement;
  tcpdumpDropped?: string;
  note?: string;
}

async function runOnce(run: Run, dir: string): Promise<Result> {
  const lab = createLab('lrn');
  const children: ChildProcess[] = [];
  try {
    children.push(...startServices(lab));
    if (run.trap) {
      const ports = Array.from({ length: 65535 }, (_, i) => i + 1);
      const trap = trapRuleset({
        table: 'pst',
        nflogGroup: 7,
        allow: [parseCidr('127.0.0.0/8')!, parseCidr('::1/128')!],
        tcpPorts: ports,
        udpPorts: ports,
        provisionalBanSeconds: 600,
        evidenceRate: 10,
        banSet4: 'ban4',
        banSet6: 'ban6',
      });
      nsExec(lab.target, ['nft', '-f', '-'], BASE + trap);
    } else {
      nsExec(lab.target, ['nft', '-f', '-'], BASE);
    }
    nsExec(lab.target, ['nft', '-f', '-'], replyCounter(lab.attackerV4));
    await waitForListeners(lab);
    const target = linkOf(lab, lab.target);
    const attacker = linkOf(lab, lab.attacker);

    // Every packet from the attacker, as the target's interface receives it.
    const capture = join(dir, `${run.name.replace(/\W+/g, '_')}.pcap`);
    let tcpdumpLog = '';
    const tcpdumpArgs = [
      '-i',
      target.name,
      '-n',
      '-Z',
      'root',
      '--immediate-mode',
      '-B',
      '65536',
      '-s',
      '96',
    ];
    const tcpdump = spawn(
      'ip',
      [
        'netns',
        'exec',
        lab.target,
        'tcpdump',
        ...tcpdumpArgs,
        '-w',
        capture,
        'ip',
        'src',
        'host',
        lab.attackerV4,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(tcpdump);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${tcpdumpLog}`)), 5000);
      tcpdump.stderr!.on('data', (c: Buffer) => {
        tcpdumpLog += c.toString();
        if (/listening on/.test(tcpdumpLog)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });

    const argv =
      run.scanner === 'nmap'
        ? ['nmap', '-v', '--stats-every', '5s', ...run.args, lab.targetV4]
        : [
            'masscan',
            '-p1-65535',
            lab.targetV4,
            '--rate',
            '100000',
            '--wait',
            '2',
            '--adapter',
            attacker.name,
            '--adapter-ip',
            lab.attackerV4,
            '--adapter-mac',
            attacker.mac,
            '--router-mac',
            target.mac,
          ];
    if (run.peer) {
      const code = `require('net').connect(80,'${lab.targetV4}').on('data',()=>process.exit(0)).on('error',()=>process.exit(1))`;
      nsExec(lab.attacker, [process.execPath, '-e', code]);
    }
    const started = performance.now();
    const scan = await runCapped(['ip', 'netns', 'exec', lab.attacker, ...argv], CAP_SECONDS * 1000);
    const seconds = (performance.now() - started) / 1000;
    if (!scan.capped && scan.code !== 0) {
      throw new Error(`${argv[0]} failed (${scan.code}): ${scan.stderr.slice(0, 400)}`);
    }
    const replies = counters(lab);

    // --immediate-mode hands packets over at once; the pause lets the last ones reach the file.
    await new Promise((r) => setTimeout(r, 500));
    await new Promise<void>((resolve) => {
      tcpdump.on('exit', () => resolve());
      tcpdump.kill('SIGINT');
    });
    const dropped = /(\d+) packets dropped by kernel/.exec(tcpdumpLog)?.[1];

    const open = new Set<number>();
    let openFiltered = 0;
    if (run.scanner === 'nmap') {
      // -v prints each open port the moment nmap learns it, so a capped run still tells.
      for (const m of scan.stdout.matchAll(/Discovered open port (\d+)\//g)) open.add(Number(m[1]));
      for (const m of scan.stdout.matchAll(/^(\d+)\/(tcp|udp)\s+(open\|filtered|open)\s/gm)) {
        if (m[3] === 'open') open.add(Number(m[1]));
        else openFiltered++;
      }
      // nmap folds long runs of identical states into "Not shown: N open|filtered udp ports".
      const folded = /Not shown: (\d+) open\|filtered/.exec(scan.stdout);
      if (folded) openFiltered += Number(folded[1]);
    } else {
      for (const m of scan.stdout.matchAll(/Discovered open port (\d+)\//g)) open.add(Number(m[1]));
    }
    const result: Result = { open: [...open].sort((a, b) => a - b), openFiltered, seconds, replies };
    if (scan.capped) {
      const progress = [
        ...scan.stdout.matchAll(/About ([\d.]+)% done(?:; ETC: [\d:]+ \(([\d:]+) remaining\))?/g),
      ].pop();
      result.note = `stopped at the ${CAP_SECONDS} s cap${progress ? `, nmap ${progress[1]}% done${progress[2] ? `, ${progress[2]} to go` : ''}` : ''}`;
    }
    if (dropped !== undefined) result.tcpdumpDropped = dropped;
    if (run.trap) {
      const e = enforcementFromCapture(capture);
      if (e) result.enforcement = e;
    }
    rmSync(capture, { force: true });
    return result;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    lab.close();
  }
}

export async function benchScannerLearns(): Promise<void> {
  const missing = missingPrerequisite(['nmap', 'masscan', 'nft', 'tcpdump', 'ss']);
  if (missing) {
    console.log(`   skipped: ${missing}`);
    return;
  }
  const only = (process.env.BENCH_LEARNS_RUNS ?? '').split(',').filter(Boolean);
  const dir = mkdtempSync(join(tmpdir(), 'ps-lrn-'));
  console.log(
    `   target: tcp ${TCP_SERVICES.join(', ')} and udp ${UDP_SERVICE} listening; "trap" = kernel tripwire on every other port (provisional ban at the first probe), "open" = no firewall`,
  );
  try {
    for (const run of RUNS) {
      if (only.length > 0 && !only.some((o) => run.name.includes(o))) continue;
      let r: Result;
      try {
        r = await runOnce(run, dir);
      } catch (err) {
        console.log(`   ${run.name}: failed: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      const rep = r.replies;
      const parts = [
        `${run.name.padEnd(40)} open learned: ${r.open.length ? r.open.join(',') : 'none'}`,
        r.openFiltered ? `(${r.openFiltered} open|filtered)` : '',
        `replies ${rep.all ?? 0} (syn-ack ${rep.synack ?? 0}, rst ${rep.rst ?? 0}, icmp ${rep.icmp ?? 0}, udp ${rep.udp ?? 0})`,
        `${r.seconds.toFixed(1)} s`,
      ];
      if (run.trap) {
        const e = r.enforcement;
        parts.push(
          e
            ? `| after first trap probe: ${e.afterFirstProbe} attacker packets captured, ${rep.banDropped} dropped by the ban${e.afterFirstProbe === rep.banDropped ? ' (all)' : ''}; next packet ${e.firstGapMs.toFixed(3)} ms after it`
            : '| no trap probe seen',
        );
      }
      if (r.tcpdumpDropped && r.tcpdumpDropped !== '0') parts.push(`[tcpdump dropped ${r.tcpdumpDropped}]`);
      if (r.note) parts.push(`(${r.note})`);
      console.log(`   ${parts.filter(Boolean).join(' ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Standalone: node dist/bench/scanner-learns.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await benchScannerLearns();
