// Offline pipeline throughput: packets per second through decode → probe filter → detector, on
// a synthetic capture of BENCH_PACKETS packets (default 5M), against the plainest libpcap read
// of the same file as the floor, in the same run.
//
// The capture (written with PcapWriter from frames built by craft.ts, then patched in place) is
// a busy server's day, compressed: mostly ordinary traffic (clients talking to tcp/22, 80 and
// 443 and the server's replies, new connections with SYN+ACKs, DNS lookups), 10% scan probes
// from 3,000 scanners (about 16 at a time) using nmap's techniques (SYN, FIN, NULL, XMAS, ACK,
// Maimon, UDP), the server's RSTs to them, 10% of everything over IPv6, and 1% of the IPv4
// probes fragmented as `nmap -f` sends them. Data frames carry 64 payload bytes (a capture taken
// with a 128-byte snap length). 100k packets per second of capture time.
//
// Figures (all single-threaded, file in the page cache):
//   floor        bench/c/pcap-count.c: pcap_open_offline + pcap_next_ex, counting (compiled here)
//   tcpdump      `tcpdump -r FILE -w /dev/null`, for context
//   reader       forEachPacket alone (the JS file reader)
//   pipeline     one pass: forEachPacket → decodeFrame (with fragment table) → packetToProbe →
//                Detector.observe / tick, exactly the calls replayCapture makes, records counted
//   replay       replayCapture itself (its first pass learns the ports in use, and it keeps
//                every record in memory for the caller)
// Addresses are 198.18.0.0/15 (RFC 2544, benchmarking) and 2001:db8::/32; nothing is sent.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CidrSet } from '../src/core/address.js';
import { mulberry32 } from '../src/core/prng.js';
import { Detector } from '../src/detector/detector.js';
import { forEachPacket, PcapWriter } from '../src/sensors/packet/capture-file.js';
import { ethernetFrame, fragmentIpv4, ipPacket } from '../src/sensors/packet/craft.js';
import { decodeFrame, LinkType } from '../src/sensors/packet/decode.js';
import { FragmentTable } from '../src/sensors/packet/fragments.js';
import { packetToProbe, type WatchedPorts, watchedPortsScope } from '../src/sensors/packet/probe-filter.js';
import { type ReplayOptions, replayCapture } from '../src/sensors/packet/replay.js';

const PACKETS = Number(process.env.BENCH_PACKETS ?? 5_000_000);
const PACKETS_PER_SECOND = 100_000;
const SCANNERS = 3_000;
const CONCURRENT_SCANNERS = 16;
const CLIENTS = 20_000;
const HOST4 = '198.51.100.2';
const HOST6 = '2001:db8:51::2';
const SERVICES = [22, 80, 443];

const FLAGS = {
  syn: 0x02,
  synAck: 0x12,
  ack: 0x10,
  pshAck: 0x18,
  rstAck: 0x14,
  fin: 0x01,
  xmas: 0x29,
  maimon: 0x11,
};
/** nmap techniques by share of scanners (SYN dominates in the wild). */
const SCAN_KINDS: { flags: number; udp: boolean; share: number }[] = [
  { flags: FLAGS.syn, udp: false, share: 0.45 },
  { flags: FLAGS.fin, udp: false, share: 0.08 },
  { flags: 0, udp: false, share: 0.08 },
  { flags: FLAGS.xmas, udp: false, share: 0.08 },
  { flags: FLAGS.ack, udp: false, share: 0.08 },
  { flags: FLAGS.maimon, udp: false, share: 0.05 },
  { flags: 0, udp: true, share: 0.18 },
];

/** A frame template whose addresses, ports and flags are patched in place for each packet. */
class Template {
  readonly frame: Uint8Array;
  private readonly l3 = 14;
  private readonly l4: number;
  constructor(
    readonly v6: boolean,
    readonly udp: boolean,
    payloadBytes: number,
  ) {
    const spec = {
      src: v6 ? '2001:db8::1' : '198.18.0.1',
      dst: v6 ? '2001:db8::2' : '198.18.0.2',
      protocol: udp ? ('udp' as const) : ('tcp' as const),
      dstPort: 1,
    };
    const header = ipPacket(spec).subarray(v6 ? 40 : 20);
    const payload = new Uint8Array(header.length + payloadBytes);
    payload.set(header);
    if (udp) new DataView(payload.buffer).setUint16(4, payload.length);
    this.frame = ethernetFrame(ipPacket(spec, payload));
    this.l4 = this.l3 + (v6 ? 40 : 20);
  }
  set(src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number, flags: number): Uint8Array {
    const f = this.frame;
    f.set(src, this.l3 + (this.v6 ? 8 : 12));
    f.set(dst, this.l3 + (this.v6 ? 24 : 16));
    f[this.l4] = srcPort >> 8;
    f[this.l4 + 1] = srcPort & 0xff;
    f[this.l4 + 2] = dstPort >> 8;
    f[this.l4 + 3] = dstPort & 0xff;
    if (!this.udp) f[this.l4 + 13] = flags;
    return f;
  }
}

function v4(n: number, base: number): Uint8Array {
  const x = base + n; // base = 198.18.0.0 or 198.19.0.0 as an integer
  return new Uint8Array([(x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff]);
}
function v6(n: number, group: number): Uint8Array {
  const b = new Uint8Array(16);
  b.set([0x20, 0x01, 0x0d, 0xb8, 0, group]);
  b[12] = (n >>> 24) & 0xff;
  b[13] = (n >>> 16) & 0xff;
  b[14] = (n >>> 8) & 0xff;
  b[15] = n & 0xff;
  return b;
}

interface CaptureMix {
  packets: number;
  probes: number;
  fragments: number;
  v6: number;
}

/** Writes the synthetic capture; returns what went into it. */
export function writeBenchCapture(path: string, packets: number): CaptureMix {
  const random = mulberry32(0xbe7c4);
  const writer = new PcapWriter(path, LinkType.ETHERNET, 128);
  const host4 = new Uint8Array([198, 51, 100, 2]);
  const host6 = v6(2, 0x51);
  const clientBase = (198 << 24) + (18 << 16);
  const scannerBase = (198 << 24) + (19 << 16);
  const templates = {
    tcp4: new Template(false, false, 0),
    tcp6: new Template(true, false, 0),
    data4: new Template(false, false, 64),
    data6: new Template(true, false, 64),
    udp4: new Template(false, true, 32),
    udp6: new Template(true, true, 32),
  };
  const scannerKind = Array.from({ length: SCANNERS }, () => {
    let r = random();
    for (const k of SCAN_KINDS) if ((r -= k.share) < 0) return k;
    return SCAN_KINDS[0]!;
  });
  const scannerNext = new Uint16Array(SCANNERS);
  const mix: CaptureMix = { packets: 0, probes: 0, fragments: 0, v6: 0 };
  const t0 = Date.UTC(2026, 10, 29, 6, 0, 0);
  const write = (at: number, frame: Uint8Array) => {
    writer.write(at, frame);
    mix.packets++;
  };
  while (mix.packets < packets) {
    const at = t0 + (mix.packets * 1000) / PACKETS_PER_SECOND;
    const ipv6 = random() < 0.1;
    if (ipv6) mix.v6++;
    const host = ipv6 ? host6 : host4;
    const r = random();
    if (r < 0.88) {
      // Ordinary traffic with a client.
      const n = Math.floor(random() * CLIENTS);
      const client = ipv6 ? v6(n, 0x18) : v4(n, clientBase);
      const port = SERVICES[Math.floor(random() * SERVICES.length)]!;
      const ephemeral = 32768 + (n % 28000);
      const data = ipv6 ? templates.data6 : templates.data4;
      const bare = ipv6 ? templates.tcp6 : templates.tcp4;
      const udp = ipv6 ? templates.udp6 : templates.udp4;
      if (r < 0.44)
        write(at, data.set(client, host, ephemeral, port, random() < 0.5 ? FLAGS.ack : FLAGS.pshAck));
      else if (r < 0.79) write(at, data.set(host, client, port, ephemeral, FLAGS.pshAck));
      else if (r < 0.82) write(at, bare.set(client, host, ephemeral, port, FLAGS.syn));
      else if (r < 0.84) write(at, bare.set(host, client, port, ephemeral, FLAGS.synAck));
      else if (r < 0.86)
        write(at, udp.set(host, client, ephemeral, 53, 0)); // the host's DNS query
      else write(at, udp.set(client, host, 53, ephemeral, 0)); // and its answer
      continue;
    }
    // A scanner probe (about 16 scanners active at a time, each for 1/3000 of the capture).
    const window = Math.floor((mix.packets / packets) * SCANNERS);
    const s = (window + Math.floor(random() * CONCURRENT_SCANNERS)) % SCANNERS;
    const kind = scannerKind[s]!;
    const scanner = ipv6 ? v6(s, 0x19) : v4(s, scannerBase);
    const port = 1 + ((scannerNext[s]! * 7 + s) % 1024);
    scannerNext[s] = scannerNext[s]! + 1;
    const template = kind.udp
      ? ipv6
        ? templates.udp6
        : templates.udp4
      : ipv6
        ? templates.tcp6
        : templates.tcp4;
    if (r < 0.98) {
      if (!ipv6 && !kind.udp && random() < 0.01) {
        // nmap -f: the TCP header in 8-byte fragments.
        const whole = ipPacket({
          src: `198.19.${s >> 8}.${s & 0xff}`,
          dst: HOST4,
          protocol: 'tcp',
          srcPort: 40000 + s,
          dstPort: port,
          flags: kind.flags,
          ipId: mix.packets & 0xffff,
        });
        for (const fragment of fragmentIpv4(whole)) write(at, ethernetFrame(fragment));
        mix.fragments++;
      } else {
        write(at, template.set(scanner, host, 40000 + s, port, kind.flags));
      }
      mix.probes++;
    } else {
      // The host's answers to scanners: RSTs from closed ports (replies, never probes).
      const bare = ipv6 ? templates.tcp6 : templates.tcp4;
      write(at, bare.set(host, scanner, port, 40000 + s, FLAGS.rstAck));
    }
  }
  writer.close();
  return mix;
}

const WATCHED: WatchedPorts = {
  advancedTcp: { limit: 1024, exclude: [] },
  advancedUdp: { limit: 1024, exclude: [] },
};

function replayOptions(): ReplayOptions {
  return {
    detector: {
      threshold: 3,
      window: 60_000,
      response: { tcp: 'block', udp: 'block' },
      blockUnverifiedUdp: true,
      neverBlock: new CidrSet().add('127.0.0.0/8', 'loopback').add('::1/128', 'loopback'),
      banDuration: 3_600_000,
      banGrowth: 2,
      banMax: 0,
      maxBansPerMinute: 0,
    },
    watched: WATCHED,
    localAddresses: [HOST4, HOST6],
  };
}

/**
 * The single pass of replayCapture (its second loop), without keeping records: the calls and
 * their order are the same; ports in use are the services, as the first pass would learn.
 */
function pipelinePass(path: string): { packets: number; probes: number; blocks: number; decisions: number } {
  const options = replayOptions();
  const local = new Set(options.localAddresses);
  const inUse = { tcp: new Set(SERVICES), udp: new Set<number>() };
  const scope = { isLocal: (a: string) => local.has(a), modeFor: watchedPortsScope(WATCHED, () => inUse) };
  const detector = new Detector({ ...options.detector, dryRun: true });
  const fragments = new FragmentTable();
  const counts = { packets: 0, probes: 0, blocks: 0, decisions: 0 };
  let nextTick = Number.NaN;
  forEachPacket(path, (p) => {
    counts.packets++;
    const at = Math.floor(p.at);
    if (Number.isNaN(nextTick)) nextTick = at + 1000;
    while (at >= nextTick) {
      counts.decisions += detector.tick(nextTick).decisions.length;
      nextTick += 1000;
    }
    const r = decodeFrame(p.linkType, p.data, { fragments, now: at });
    if (!r.ok) return;
    const outcome = packetToProbe(r.packet, at, 'replay', scope);
    if (outcome.kind === 'ignored') return;
    counts.probes++;
    for (const d of detector.observe(outcome.event)) {
      counts.decisions++;
      if (d.kind === 'block') counts.blocks++;
    }
  });
  return counts;
}

function timed<T>(fn: () => T): { value: T; seconds: number } {
  const started = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - started) / 1000 };
}

const pps = (n: number, s: number) => `${(n / s / 1e6).toFixed(2)}M packets/s`;

export async function benchPacketPipeline(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ps-pkb-bench-'));
  try {
    const file = join(dir, 'mix.pcap');
    const gen = timed(() => writeBenchCapture(file, PACKETS));
    const mix = gen.value;
    const mb = statSync(file).size / 1e6;
    console.log(
      `   capture: ${mix.packets} packets (${mb.toFixed(0)} MB), ${mix.probes} scan probes (${mix.fragments} fragmented), ${mix.v6} IPv6; written in ${gen.seconds.toFixed(1)} s`,
    );

    // Floor: libpcap in C. The first run also brings the file into the page cache.
    const source = fileURLToPath(new URL('../../bench/c/pcap-count.c', import.meta.url));
    const binary = join(dir, 'pcap-count');
    let floorPps = Number.NaN;
    const cc = existsSync(source)
      ? spawnSync('cc', ['-O2', '-o', binary, source, '-lpcap'], { encoding: 'utf8' })
      : undefined;
    if (cc?.status !== 0) {
      console.log(`   floor: not measured (cc -lpcap failed: ${cc?.stderr.trim() ?? `${source} missing`})`);
    } else {
      spawnSync(binary, [file]);
      const out = spawnSync(binary, [file], { encoding: 'utf8' }).stdout.trim().split(' ');
      const [count, seconds] = [Number(out[0]), Number(out[1])];
      floorPps = count / seconds;
      console.log(
        `   floor   libpcap pcap_next_ex (C, -O2): ${pps(count, seconds)} (${seconds.toFixed(2)} s)`,
      );
    }
    const dump = timed(() => spawnSync('tcpdump', ['-r', file, '-w', '/dev/null'], { encoding: 'utf8' }));
    if (dump.value.status === 0) {
      console.log(
        `   context tcpdump -r FILE -w /dev/null: ${pps(mix.packets, dump.seconds)} (${dump.seconds.toFixed(2)} s)`,
      );
    } else {
      console.log(
        `   context tcpdump: not measured (${dump.value.error?.message ?? dump.value.stderr.trim()})`,
      );
    }

    const ratio = (s: number) =>
      Number.isNaN(floorPps) ? '' : `, ${((mix.packets / s / floorPps) * 100).toFixed(0)}% of the floor`;
    const reader = timed(() => forEachPacket(file, () => {}));
    console.log(`   reader  forEachPacket only: ${pps(mix.packets, reader.seconds)}${ratio(reader.seconds)}`);
    const pass = timed(() => pipelinePass(file));
    const c = pass.value;
    console.log(
      `   pipeline decode → filter → detector (1 pass): ${pps(c.packets, pass.seconds)}${ratio(pass.seconds)}; ${c.probes} probes, ${c.blocks} blocks, ${c.decisions} decisions (${pass.seconds.toFixed(2)} s)`,
    );
    const heapBefore = process.memoryUsage().heapUsed;
    const replay = timed(() => replayCapture(file, replayOptions()));
    const r = replay.value;
    const blocks = r.records.filter((x) => x.type === 'decision' && x.decision.kind === 'block').length;
    console.log(
      `   replay  replayCapture (2 passes, records kept): ${pps(r.packets, replay.seconds)}${ratio(replay.seconds)}; ${r.probes} probes, ${blocks} blocks, ${r.records.length} records, heap +${((process.memoryUsage().heapUsed - heapBefore) / 1e6).toFixed(0)} MB (${replay.seconds.toFixed(2)} s)`,
    );
    console.log('   target (issue 3): ≥ 1M packets/s on one core and ≥ 50% of the floor');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Standalone, for profiling: node --cpu-prof dist/bench/packet-pipeline.js
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await benchPacketPipeline();
