// The real daemon under a flood of distinct spoofed sources, end to end in network namespaces
// (issue 2: "daemon RSS under a flood of 1M distinct sources, target ≤ 100 MB"; issue 3: "live
// capture at masscan 100k packets/s: kernel drops and daemon RSS, target no drops, ≤ 100 MB").
//
// For each sensor, (a) classic `udp` (a listening socket) and (b) `trap` (nftables tripwire read
// back through NFLOG), bin/portsentinel runs in the target namespace with the production
// defaults (65,536 tracked sources, 60 new bans a minute) and a capture of N IPv6 packets, each
// from its own address in 2001:db8:f10d::/48, is sent at it from the attacker's veth by
// bench/c/flood-send.c (libpcap pcap_inject, paced). The frames are built here with craft.ts's
// ipPacket plus real checksums (the kernel drops a UDP/IPv6 datagram whose checksum is zero).
//
// Measured: the daemon's VmRSS (sampled every 100 ms) and VmHWM; how long it stays busy after
// the last packet; what it counted (detector, store, JSON lines); kernel drops on the way in
// (veth, UDP socket buffer, NFLOG netlink socket); control-socket ping latency while flooded (an
// event-loop stall shows up there); the store's growth per probe. Figures only, no assertions.
//
// BENCH_FLOOD_PACKETS (default 1,000,000) shrinks the flood; BENCH_FLOOD_PPS (default 100,000;
// 0 = as fast as the veth takes them) sets the rate; BENCH_FLOOD_MODES (default "udp,trap").

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab, linkMac } from '../src/daemon/lab.js';
import { type DaemonEvent, LabDaemon } from '../src/daemon/lab-daemon.js';
import { PcapWriter } from '../src/sensors/packet/capture-file.js';
import { ipPacket } from '../src/sensors/packet/craft.js';

const PACKETS = Number(process.env.BENCH_FLOOD_PACKETS ?? 1_000_000);
const PPS = Number(process.env.BENCH_FLOOD_PPS ?? 100_000);
const MODES = (process.env.BENCH_FLOOD_MODES ?? 'udp,trap').split(',').filter(Boolean) as FloodMode[];
const UDP_PORT = 31337;
const TRAP_LIMIT = 1024;
const NFLOG_GROUP = 41;
/** The daemon is idle when it used less than this much CPU over IDLE_WINDOW_MS. */
const IDLE_TICKS = 3;
const IDLE_WINDOW_MS = 500;
/** Give up waiting for the daemon to finish the backlog after this long. */
const DRAIN_LIMIT_MS = 180_000;
const LINKTYPE_ETHERNET = 1;

type FloodMode = 'udp' | 'trap';

/** The i-th flood source: 2001:db8:f10d::HI:LO, outside the lab's own 2001:db8:51::/64. */
export function floodSource(i: number): string {
  return `2001:db8:f10d::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
}

/** Fills in the TCP or UDP checksum of an IPv6 packet (no extension headers) in place. */
function setTransportChecksum(p: Uint8Array): void {
  const next = p[6] as number;
  const length = p.length - 40;
  const at = 40 + (next === 6 ? 16 : 6);
  p[at] = 0;
  p[at + 1] = 0;
  let sum = length + next; // pseudo-header: upper-layer length and next header
  for (let i = 8; i < 40; i += 2) sum += ((p[i] as number) << 8) | (p[i + 1] as number);
  for (let i = 40; i < p.length; i += 2) sum += ((p[i] as number) << 8) | (p[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  let c = ~sum & 0xffff;
  if (c === 0 && next === 17) c = 0xffff;
  p[at] = c >> 8;
  p[at + 1] = c & 0xff;
}

function macBytes(mac: string): number[] {
  return mac.split(':').map((h) => Number.parseInt(h, 16));
}

/** Writes the flood capture: one packet per distinct source, Ethernet to the target's MAC. */
function writeFloodCapture(
  path: string,
  mode: FloodMode,
  count: number,
  target: string,
  dstMac: string,
  srcMac: string,
): void {
  const writer = new PcapWriter(path, LINKTYPE_ETHERNET);
  const header = [...macBytes(dstMac), ...macBytes(srcMac), 0x86, 0xdd];
  try {
    for (let i = 0; i < count; i++) {
      const ip = ipPacket(
        mode === 'udp'
          ? {
              src: floodSource(i),
              dst: target,
              protocol: 'udp',
              srcPort: 40000 + (i % 20000),
              dstPort: UDP_PORT,
            }
          : {
              src: floodSource(i),
              dst: target,
              protocol: 'tcp',
              srcPort: 40000 + (i % 20000),
              dstPort: 1 + (i % TRAP_LIMIT),
            },
      );
      setTransportChecksum(ip);
      const frame = new Uint8Array(14 + ip.length);
      frame.set(header, 0);
      frame.set(ip, 14);
      writer.write(i / 1000, frame);
    }
  } finally {
    writer.close();
  }
}

function run(argv: string[], timeoutMs = 60_000) {
  // maxBuffer: listing a ban set of a million addresses is ~100 MB of JSON.
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 1024 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function inNs(ns: string, argv: string[], timeoutMs?: number) {
  return run(['ip', 'netns', 'exec', ns, ...argv], timeoutMs);
}

function writeFloodConfig(dir: string, mode: FloodMode): string {
  const path = join(dir, `${mode}.toml`);
  // Production defaults for everything that bounds memory (max_sources, ban rate cap,
  // provisional ban, JSON line budget); only where things live and which sensor runs are set.
  writeFileSync(
    path,
    `[detect]
modes = ["${mode}"]
tcp_ports = [${UDP_PORT}]
udp_ports = [${UDP_PORT}]
advanced_tcp_limit = ${TRAP_LIMIT}
advanced_tcp_exclude = []
advanced_udp_limit = ${TRAP_LIMIT}
resolve_host = false
nflog_group = ${NFLOG_GROUP}

[respond]
backends = ["nftables"]

[store]
path = "${join(dir, `${mode}.db`)}"

[log]
json = true
syslog = false
`,
  );
  return path;
}

interface KernelCounters {
  /** Receive-buffer overruns of netlink sockets (NFLOG) in the target, summed. */
  netlinkDrops: number;
  /** Drops column of the target's UDP/IPv6 sockets. */
  udp6SocketDrops: number;
  udp6RcvbufErrors: number;
  vethRxDropped: number;
  /** softnet_stat "dropped" (backlog full), all CPUs; host-wide, so only indicative. */
  backlogDropped: number;
}

function kernelCounters(ns: string, vethName: string): KernelCounters {
  const netlink = inNs(ns, ['cat', '/proc/net/netlink']).stdout.split('\n').slice(1);
  const netlinkDrops = netlink
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === '12')
    .reduce((sum, f) => sum + Number(f[8] ?? 0), 0);
  const udp6SocketDrops = inNs(ns, ['cat', '/proc/net/udp6'])
    .stdout.split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 12)
    .reduce((sum, f) => sum + Number(f.at(-1) ?? 0), 0);
  const snmp6 = inNs(ns, ['cat', '/proc/net/snmp6']).stdout;
  const udp6RcvbufErrors = Number(/^Udp6RcvbufErrors\s+(\d+)/m.exec(snmp6)?.[1] ?? 0);
  const link = JSON.parse(inNs(ns, ['ip', '-s', '-j', 'link', 'show', vethName]).stdout) as {
    stats64?: { rx?: { dropped?: number } };
  }[];
  const vethRxDropped = link[0]?.stats64?.rx?.dropped ?? 0;
  const backlogDropped = readFileSync('/proc/net/softnet_stat', 'utf8')
    .trim()
    .split('\n')
    .reduce((sum, l) => sum + Number.parseInt(l.split(' ')[1] ?? '0', 16), 0);
  return { netlinkDrops, udp6SocketDrops, udp6RcvbufErrors, vethRxDropped, backlogDropped };
}

function diff(after: KernelCounters, before: KernelCounters): KernelCounters {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof KernelCounters)[]) out[k] = after[k] - before[k];
  return out;
}

/** VmRSS and VmHWM (bytes) and CPU ticks (utime + stime) of `pid`; undefined once it exited. */
function processSample(pid: number): { rss: number; hwm: number; ticks: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

function fileBytes(...paths: string[]): number {
  return paths.reduce((sum, p) => sum + (existsSync(p) ? statSync(p).size : 0), 0);
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
const n = (x: number) => x.toLocaleString('en-US');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Counts the daemon's JSON lines as they come and drops them, so a flood of lines costs no memory here. */
function tallyEvents(daemon: LabDaemon, tally: Map<string, number>): void {
  for (const e of daemon.events.splice(0) as DaemonEvent[]) {
    const key =
      e.event === 'probe'
        ? `probe:${String(e.decision)}${e.why ? `/${String(e.why)}` : ''}`
        : e.event === 'log'
          ? `log:${String(e.level)}`
          : e.event;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
}

function waitExit(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
}

/** Number of elements in the target's nftables ban set for IPv6 (the kernel's provisional bans). */
function kernelBanCount(ns: string): number | undefined {
  const r = inNs(ns, ['nft', '-j', 'list', 'set', 'inet', 'portsentinel', 'ban6'], 120_000);
  if (r.code !== 0) return undefined;
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  return doc.nftables.reduce((sum, item) => sum + (item.set?.elem?.length ?? 0), 0);
}

async function floodOnce(mode: FloodMode, sender: string, dir: string): Promise<void> {
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  let send: ChildProcess | undefined;
  const timers: NodeJS.Timeout[] = [];
  const capture = join(dir, `${mode}.pcap`);
  try {
    lab = createLab('fld');
    const target = { name: lab.targetIface, mac: linkMac(lab.target, lab.targetIface) };
    const attacker = { name: lab.attackerIface, mac: linkMac(lab.attacker, lab.attackerIface) };
    const genStart = performance.now();
    writeFloodCapture(capture, mode, PACKETS, lab.targetV6, target.mac, attacker.mac);
    const genSeconds = (performance.now() - genStart) / 1000;

    const socket = join(dir, `${mode}.sock`);
    daemon = await LabDaemon.start(lab.target, ['--config', writeFloodConfig(dir, mode)], socket);
    const pid = daemon.child.pid as number;
    await sleep(1000);
    const idle = processSample(pid);
    if (!idle) throw new Error(`daemon (pid ${pid}) exited: ${daemon.stderr.trim()}`);
    const dbPath = join(dir, `${mode}.db`);
    const dbBefore = fileBytes(dbPath, `${dbPath}-wal`);
    const before = kernelCounters(lab.target, target.name);

    // Sampling: RSS every 100 ms, control-socket ping round trip (one in flight at a time).
    const tally = new Map<string, number>();
    let peakRss = idle.rss;
    const rssAt: { t: number; rss: number }[] = [];
    const t0 = performance.now();
    timers.push(
      setInterval(() => {
        const s = processSample(pid);
        if (s) {
          peakRss = Math.max(peakRss, s.rss);
          rssAt.push({ t: performance.now() - t0, rss: s.rss });
        }
        if (daemon) tallyEvents(daemon, tally);
      }, 100),
    );
    let pingMax = 0;
    let pingsLate = 0;
    let pingInFlight = false;
    timers.push(
      setInterval(() => {
        if (pingInFlight || !daemon) return;
        pingInFlight = true;
        const started = performance.now();
        daemon
          .request({ op: 'ping' })
          .catch(() => undefined)
          .finally(() => {
            const ms = performance.now() - started;
            pingMax = Math.max(pingMax, ms);
            if (ms > 100) pingsLate++;
            pingInFlight = false;
          });
      }, 200),
    );

    // The flood.
    send = spawn('ip', ['netns', 'exec', lab.attacker, sender, attacker.name, capture, String(PPS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let sendOut = '';
    let sendErr = '';
    send.stdout?.setEncoding('utf8').on('data', (c: string) => {
      sendOut += c;
    });
    send.stderr?.setEncoding('utf8').on('data', (c: string) => {
      sendErr += c;
    });
    const sendCode = await waitExit(send);
    const sentAt = performance.now();
    const [sent, failed, sendSeconds] = sendOut.trim().split(' ').map(Number);
    if (sendCode !== 0) throw new Error(`flood-send exited ${sendCode}: ${sendErr.trim()}`);
    const peakDuringSend = peakRss;

    // Wait for the daemon to work off its backlog: idle = less than IDLE_TICKS of CPU in a window.
    let last = processSample(pid)?.ticks ?? 0;
    let drainedAt = Number.NaN;
    while (performance.now() - sentAt < DRAIN_LIMIT_MS) {
      await sleep(IDLE_WINDOW_MS);
      const now = processSample(pid)?.ticks ?? last;
      if (now - last < IDLE_TICKS) {
        drainedAt = performance.now() - IDLE_WINDOW_MS;
        break;
      }
      last = now;
    }
    for (const t of timers.splice(0)) clearInterval(t);
    await sleep(200);
    tallyEvents(daemon, tally);
    const after = processSample(pid);
    const drops = diff(kernelCounters(lab.target, target.name), before);
    const statusStart = performance.now();
    const status = (await daemon.request({ op: 'status' })) as {
      daemon: { detector: Record<string, number>; output: Record<string, number> };
      probes24h: number;
      sources24h: number;
      decisions24h: number;
      activeBans: number;
    };
    const statusMs = performance.now() - statusStart;
    const dbAfter = fileBytes(dbPath, `${dbPath}-wal`);
    const kernelBans = mode === 'trap' ? kernelBanCount(lab.target) : undefined;

    const det = status.daemon.detector;
    const title =
      mode === 'udp'
        ? `classic udp mode (socket on ${UDP_PORT}), IPv6 UDP datagrams`
        : `trap mode (nftables + NFLOG, ports 1-${TRAP_LIMIT}), IPv6 TCP SYNs`;
    console.log(`   -- ${title}`);
    console.log(
      `   sent ${n(sent ?? 0)} packets from ${n(PACKETS)} distinct sources (${n(failed ?? 0)} failed) in ${sendSeconds?.toFixed(1)} s ` +
        `(${n(Math.round((sent ?? 0) / (sendSeconds || 1)))}/s, asked ${PPS === 0 ? 'top speed' : `${n(PPS)}/s`}); capture written in ${genSeconds.toFixed(1)} s`,
    );
    console.log(
      `   daemon back to idle ${Number.isNaN(drainedAt) ? `> ${DRAIN_LIMIT_MS / 1000} s (gave up)` : `≤ ${(Math.max(drainedAt - sentAt, IDLE_WINDOW_MS) / 1000).toFixed(1)} s`} after the last packet`,
    );
    console.log(
      `   daemon RSS: idle ${mb(idle.rss)}, peak sampled ${mb(peakRss)} (during send ${mb(peakDuringSend)}), ` +
        `VmHWM ${mb(after?.hwm ?? 0)}, after ${mb(after?.rss ?? 0)}  (target ≤ 100 MB)`,
    );
    console.log(
      `   detector: observed ${n(det.observed ?? 0)}, tracked ${n(det.tracked ?? 0)}/${n(det.maxSources ?? 0)}, ` +
        `evicted ${n(det.evicted ?? 0)}, rate-limited ${n(det.rateLimited ?? 0)}, bans ${n(det.bans ?? 0)}`,
    );
    const probesStored = status.probes24h;
    console.log(
      `   store: ${n(probesStored)} probes (${n(status.sources24h)} sources), ${n(status.decisions24h)} decisions, ` +
        `${n(status.activeBans)} active bans; file +${mb(dbAfter - dbBefore)} ` +
        `(${probesStored > 0 ? ((dbAfter - dbBefore) / probesStored).toFixed(0) : '?'} bytes/probe)`,
    );
    const lines = [...tally.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`);
    console.log(
      `   JSON lines: ${lines.join(', ') || 'none'}; suppressed probe lines ${n(status.daemon.output.suppressedProbeLines ?? 0)}`,
    );
    console.log(
      `   kernel drops: veth rx ${n(drops.vethRxDropped)}, backlog ${n(drops.backlogDropped)} (host-wide), ` +
        (mode === 'udp'
          ? `UDP socket ${n(drops.udp6SocketDrops)} (Udp6RcvbufErrors ${n(drops.udp6RcvbufErrors)})`
          : `NFLOG netlink socket ${n(drops.netlinkDrops)}; kernel ban set holds ${kernelBans === undefined ? '?' : n(kernelBans)} IPv6 addresses`),
    );
    console.log(
      `   control socket while flooded: ping max ${pingMax.toFixed(0)} ms (${pingsLate} over 100 ms); status took ${statusMs.toFixed(0)} ms`,
    );
    const curve = rssAt
      .filter((_, i) => i % 20 === 0)
      .map((s) => `${(s.t / 1000).toFixed(0)}s:${(s.rss / 1048576).toFixed(0)}`);
    console.log(`   RSS curve (s:MB, every 2 s): ${curve.join(' ')}`);
  } finally {
    for (const t of timers) clearInterval(t);
    if (send && send.exitCode === null && send.signalCode === null) send.kill('SIGKILL');
    if (daemon) await daemon.stop('SIGTERM', 15_000).catch(() => undefined);
    lab?.close();
    rmSync(capture, { force: true });
  }
}

export async function benchDaemonFlood(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('   skipped: needs root (network namespaces)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ps-fld-bench-'));
  try {
    const source = fileURLToPath(new URL('../../bench/c/flood-send.c', import.meta.url));
    const sender = join(dir, 'flood-send');
    const cc = existsSync(source)
      ? spawnSync('cc', ['-O2', '-o', sender, source, '-lpcap'], { encoding: 'utf8' })
      : undefined;
    if (cc?.status !== 0) {
      console.log(`   skipped: cannot build the sender (${cc?.stderr.trim() ?? `${source} missing`})`);
      return;
    }
    for (const mode of MODES) await floodOnce(mode, sender, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
