// Replay end to end, on captures recorded here: tcpdump on the target's interface (microsecond
// and nanosecond pcap) while nmap runs -sS, -sF, -sU, -6 -sS and -f against a target with a real
// service on tcp/22. `replayCapture` must name every scan with its technique, never count the
// real service as a probe, decide the blocks, and give byte-identical output on a second run.
// The same capture converted to pcapng (tshark is not needed: the converter is below), cut
// mid-record, mutated, or replaced by garbage gives the same result, a count, or a SentinelError:
// never another exception.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CidrSet } from '../src/core/address.js';
import { SentinelError } from '../src/core/errors.js';
import { mulberry32 } from '../src/core/prng.js';
import { PcapWriter } from '../src/sensors/packet/capture-file.js';
import { ethernetFrame, ipPacket } from '../src/sensors/packet/craft.js';
import { LinkType } from '../src/sensors/packet/decode.js';
import { type ReplayOptions, type ReplayResult, replayCapture } from '../src/sensors/packet/replay.js';
import { createLab, type Lab, nsExec, requireLab } from './lab.js';

const NMAP = ['nmap', '-n', '-Pn', '-T5', '--max-retries', '0'];
const SERVICE_PORT = 22;

/** Each scan probes its own ports (plus the real service), so a probe's port tells which scan sent it. */
const SCANS: { args: string[]; v6?: boolean; ports: number[]; protocol: 'tcp' | 'udp'; technique: string }[] =
  [
    { args: ['-sS'], ports: [21, 23], protocol: 'tcp', technique: 'syn' },
    { args: ['-sF'], ports: [30, 31, 32, 33], protocol: 'tcp', technique: 'fin' },
    { args: ['-sU'], ports: [50, 51, 52, 53], protocol: 'udp', technique: 'udp' },
    { args: ['-6', '-sS'], v6: true, ports: [60, 61, 62, 63], protocol: 'tcp', technique: 'syn' },
    // nmap -f splits the TCP header over 8-byte IPv4 fragments: only reassembly sees these SYNs.
    { args: ['-sS', '-f'], ports: [70, 71, 72, 73], protocol: 'tcp', technique: 'syn' },
  ];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything each child wrote on the stream we waited on, for failure messages. */
const outputs = new Map<ChildProcess, string>();

function waitForOutput(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, what: string) {
  return new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${seen}`)), 5000);
    child[stream]!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      outputs.set(child, seen);
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}): ${seen}`)));
  });
}

/**
 * tcpdump inside the target namespace; `-Z root` so it can write into our private temp dir.
 * --immediate-mode: with TPACKET_V3's one-second blocks, a short capture stopped by SIGINT can
 * otherwise lose everything still in the unretired block (seen here: an empty file).
 */
async function startTcpdump(lab: Lab, device: string, file: string, extra: string[]): Promise<ChildProcess> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab.target,
      'tcpdump',
      '-i',
      device,
      '-n',
      '-Z',
      'root',
      '--immediate-mode',
      '-U',
    ].concat(['-w', file, ...extra]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await waitForOutput(child, 'stderr', /listening on/, 'tcpdump');
  return child;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGINT'); // tcpdump flushes its file on SIGINT
  });
}

/**
 * Rewrites a classic pcap file (either timestamp precision) as pcapng: one SHB, one IDB whose
 * if_tsresol says micro or nano, one EPB per record. Byte-level, so nothing of ours is trusted.
 */
function pcapToPcapng(pcap: Buffer): Buffer {
  const magic = pcap.readUInt32LE(0);
  const nanos = magic === 0xa1b23c4d;
  const linkType = pcap.readUInt32LE(20) & 0xffff;
  const blocks: Buffer[] = [];
  const block = (type: number, body: Buffer) => {
    const padded = Buffer.alloc((body.length + 3) & ~3);
    body.copy(padded);
    const b = Buffer.alloc(12 + padded.length);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(b.length, 4);
    padded.copy(b, 8);
    b.writeUInt32LE(b.length, b.length - 4);
    blocks.push(b);
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8); // section length unknown
  block(0x0a0d0d0a, shb);
  const idb = Buffer.alloc(8 + 8 + 4);
  idb.writeUInt16LE(linkType, 0);
  idb.writeUInt32LE(262144, 4);
  idb.writeUInt16LE(9, 8); // if_tsresol
  idb.writeUInt16LE(1, 10);
  idb[12] = nanos ? 9 : 6;
  // bytes 16..19: opt_endofopt (zero)
  block(1, idb);
  for (let o = 24; o + 16 <= pcap.length; ) {
    const sec = pcap.readUInt32LE(o);
    const frac = pcap.readUInt32LE(o + 4);
    const caplen = pcap.readUInt32LE(o + 8);
    const wire = pcap.readUInt32LE(o + 12);
    if (o + 16 + caplen > pcap.length) break;
    const ts = BigInt(sec) * (nanos ? 1_000_000_000n : 1_000_000n) + BigInt(frac);
    const epb = Buffer.alloc(20 + caplen);
    epb.writeUInt32LE(0, 0);
    epb.writeUInt32LE(Number(ts >> 32n), 4);
    epb.writeUInt32LE(Number(ts & 0xffffffffn), 8);
    epb.writeUInt32LE(caplen, 12);
    epb.writeUInt32LE(wire, 16);
    pcap.copy(epb, 20, o + 16, o + 16 + caplen);
    block(6, epb);
    o += 16 + caplen;
  }
  return Buffer.concat(blocks);
}

/** Replays `path`; a failure must be a SentinelError with a code, never a TypeError/RangeError. */
function replayOrCodedError(path: string, options: ReplayOptions): ReplayResult | SentinelError {
  try {
    return replayCapture(path, options);
  } catch (err) {
    if (err instanceof SentinelError) return err;
    throw new Error(`replay of ${path} threw a non-SentinelError: ${String(err)}`, { cause: err });
  }
}

const probeKeys = (r: ReplayResult) =>
  r.records.flatMap((x) =>
    x.type === 'probe' ? [`${x.event.source} ${x.event.protocol}/${x.event.port} ${x.event.technique}`] : [],
  );
const blockSources = (r: ReplayResult) =>
  r.records.flatMap((x) => (x.type === 'decision' && x.decision.kind === 'block' ? [x.decision.source] : []));

test('replay of real nmap captures: techniques, real service, blocks, determinism, bad files', async (t) => {
  if (!requireLab(t, ['nmap', 'tcpdump'])) return;
  const lab = createLab('pkb');
  const dir = mkdtempSync(join(tmpdir(), 'ps-pkb-'));
  const children: ChildProcess[] = [];
  try {
    const veth = lab.targetIface;
    const code = `require('net').createServer(s=>s.end('hello\\n')).listen(${SERVICE_PORT},'::',()=>console.log('ready'))`;
    const service = spawn('ip', ['netns', 'exec', lab.target, process.execPath, '-e', code], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(service);
    await waitForOutput(service, 'stdout', /ready/, 'service');

    const micro = join(dir, 'scan-us.pcap');
    const nano = join(dir, 'scan-ns.pcap');
    children.push(await startTcpdump(lab, veth, micro, []));
    children.push(await startTcpdump(lab, veth, nano, ['--time-stamp-precision=nano']));
    for (const scan of SCANS) {
      // TCP scans include the real service too (it answers the SYNs); it must never become a probe.
      const ports = (scan.protocol === 'tcp' ? [SERVICE_PORT, ...scan.ports] : scan.ports).join(',');
      nsExec(lab.attacker, [...NMAP, ...scan.args, '-p', ports, scan.v6 ? lab.targetV6 : lab.targetV4]);
    }
    await sleep(300);
    for (const c of children.slice(1)) await stop(c);

    const options: ReplayOptions = {
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
      watched: { advancedTcp: { limit: 1024, exclude: [] }, advancedUdp: { limit: 1024, exclude: [] } },
      localAddresses: [lab.targetV4, lab.targetV6],
    };

    // Same file, same output, byte for byte.
    const first = replayCapture(micro, options);
    const tcpdumpSaid = children.map((c) => outputs.get(c) ?? '').join(' | ');
    assert.ok(first.packets > 20, `tcpdump recorded ${first.packets} packets: ${tcpdumpSaid}`);
    const second = replayCapture(micro, options);
    assert.equal(JSON.stringify(first), JSON.stringify(second), 'replaying twice gives identical JSON');
    const diag = `probes=${JSON.stringify(probeKeys(first))} malformed=${JSON.stringify(first.malformed)} ignored=${JSON.stringify(first.ignored)}`;

    // The real service answered nmap's SYNs, so the capture itself says tcp/22 is in use.
    assert.deepEqual(first.portsInUse.tcp, [SERVICE_PORT], diag);
    const expected = new Set<string>();
    for (const scan of SCANS) {
      for (const port of scan.ports) {
        const source = scan.v6 ? lab.attackerV6 : lab.attackerV4;
        expected.add(`${source} ${scan.protocol}/${port} ${scan.technique}`);
      }
    }
    assert.deepEqual([...new Set(probeKeys(first))].sort(), [...expected].sort(), diag);
    assert.ok(
      !first.records.some(
        (x) => x.type === 'probe' && x.event.protocol === 'tcp' && x.event.port === SERVICE_PORT,
      ),
      'the real service is never a probe',
    );
    assert.equal(first.truncatedRecords, 0);

    // One block per scanner (IPv4 and IPv6), each at its third probe; later probes are already-blocked.
    assert.deepEqual(blockSources(first).sort(), [lab.attackerV4, lab.attackerV6].sort());
    for (const x of first.records) {
      if (x.type !== 'decision' || x.decision.kind !== 'block') continue;
      assert.equal(x.decision.evidence.probes, 3, JSON.stringify(x.decision));
      assert.equal(x.decision.dryRun, true, 'replay enforces nothing');
    }
    const techniques = (source: string) =>
      new Set(
        first.records.flatMap((x) =>
          x.type === 'summary' && x.summary.source === source ? x.summary.techniques : [],
        ),
      );
    assert.deepEqual([...techniques(lab.attackerV4)].sort(), ['fin', 'syn', 'udp']);
    assert.deepEqual([...techniques(lab.attackerV6)], ['syn']);

    // The nanosecond capture of the same traffic says the same; so does its pcapng rewrite.
    const fromNano = replayCapture(nano, options);
    assert.deepEqual(probeKeys(fromNano), probeKeys(first), 'nanosecond pcap: same probes');
    assert.deepEqual(blockSources(fromNano), blockSources(first));
    const ngPath = join(dir, 'scan-ns.pcapng');
    writeFileSync(ngPath, pcapToPcapng(readFileSync(nano)));
    const fromNg = replayCapture(ngPath, options);
    assert.equal(fromNg.packets, fromNano.packets);
    assert.deepEqual(probeKeys(fromNg), probeKeys(first), 'pcapng: same probes');
    assert.deepEqual(blockSources(fromNg), blockSources(first));
    const fromNgEvents = fromNg.records.flatMap((x) => (x.type === 'probe' ? [x.event.at] : []));
    const fromNanoEvents = fromNano.records.flatMap((x) => (x.type === 'probe' ? [x.event.at] : []));
    for (const [i, at] of fromNgEvents.entries()) {
      assert.ok(Math.abs(at - fromNanoEvents[i]!) <= 1, `same timestamps: ${at} vs ${fromNanoEvents[i]}`);
    }

    // Cut mid-record: every whole record is replayed, the torn one is counted.
    const bytes = readFileSync(micro);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
    const fromCut = replayCapture(cut, options);
    assert.equal(fromCut.truncatedRecords, 1);
    assert.equal(fromCut.packets, first.packets - 1);
    assert.deepEqual(blockSources(fromCut).sort(), blockSources(first).sort());

    // Cut inside the file header, garbage, empty: a coded error naming the problem.
    const bad: [string, Uint8Array, RegExp][] = [
      ['header.pcap', bytes.subarray(0, 10), /truncated pcap header/],
      [
        'garbage.pcap',
        Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'.repeat(20)),
        /not a pcap or pcapng/,
      ],
      ['empty.pcap', new Uint8Array(0), /empty file/],
    ];
    for (const [name, content, message] of bad) {
      const path = join(dir, name);
      writeFileSync(path, content);
      assert.throws(
        () => replayCapture(path, options),
        (err: unknown) => err instanceof SentinelError && err.code === 'E_IO' && message.test(err.message),
        name,
      );
    }

    // A valid header followed by random bytes, 300 random mutations of the real frames (the
    // file stays readable: every packet is replayed, the broken ones counted), and 300 of any
    // byte, record headers included (a result or a SentinelError, never anything else).
    const random = mulberry32(0x5eed);
    const noise = Buffer.alloc(64 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(random() * 256);
    const headerThenNoise = join(dir, 'noise.pcap');
    writeFileSync(headerThenNoise, Buffer.concat([bytes.subarray(0, 24), noise]));
    replayOrCodedError(headerThenNoise, options);
    const frameBytes: number[] = [];
    for (let o = 24; o + 16 <= bytes.length; o += 16 + bytes.readUInt32LE(o + 8)) {
      for (let i = o + 16; i < Math.min(bytes.length, o + 16 + bytes.readUInt32LE(o + 8)); i++)
        frameBytes.push(i);
    }
    const mutated = join(dir, 'mutated.pcap');
    let malformed = 0;
    for (let round = 0; round < 300; round++) {
      const copy = Buffer.from(bytes);
      const flips = 1 + Math.floor(random() * 8);
      for (let f = 0; f < flips; f++) {
        copy[frameBytes[Math.floor(random() * frameBytes.length)]!] = Math.floor(random() * 256);
      }
      writeFileSync(mutated, copy);
      const r = replayOrCodedError(mutated, options);
      assert.ok(!(r instanceof SentinelError), `a frame mutation must not fail the file: ${String(r)}`);
      assert.equal(r.packets, first.packets);
      malformed += Object.values(r.malformed).reduce((a, b) => a + b, 0);
    }
    t.diagnostic(`300 mutated captures replayed, ${malformed} malformed frames counted`);
    const outcomes = { replayed: 0, codedErrors: 0 };
    for (let round = 0; round < 300; round++) {
      const copy = Buffer.from(bytes);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++)
        copy[24 + Math.floor(random() * (copy.length - 24))] = Math.floor(random() * 256);
      writeFileSync(mutated, copy);
      if (replayOrCodedError(mutated, options) instanceof SentinelError) outcomes.codedErrors++;
      else outcomes.replayed++;
    }
    t.diagnostic(`300 captures mutated anywhere: ${JSON.stringify(outcomes)}`);
    const ngBytes = readFileSync(ngPath);
    const ngOutcomes = { replayed: 0, codedErrors: 0 };
    for (let round = 0; round < 200; round++) {
      const copy = Buffer.from(ngBytes);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      writeFileSync(mutated, copy);
      if (replayOrCodedError(mutated, options) instanceof SentinelError) ngOutcomes.codedErrors++;
      else ngOutcomes.replayed++;
    }
    t.diagnostic(`200 pcapng captures mutated anywhere: ${JSON.stringify(ngOutcomes)}`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Regressions for defects this file's fuzzing found (fixed in d210abe). No namespaces needed.

const OFFLINE_OPTIONS: ReplayOptions = {
  detector: {
    threshold: 3,
    window: 60_000,
    response: { tcp: 'block', udp: 'block' },
    blockUnverifiedUdp: true,
    neverBlock: new CidrSet(),
    banDuration: 3_600_000,
    banGrowth: 2,
    banMax: 0,
    maxBansPerMinute: 0,
  },
  watched: { advancedTcp: { limit: 1024, exclude: [] } },
  localAddresses: [],
};

function twoSynCapture(path: string, gapSeconds: number): void {
  const w = new PcapWriter(path, LinkType.ETHERNET);
  for (const [i, port] of [5, 6, 7].entries()) {
    const at = 1_000 + (i === 2 ? gapSeconds * 1000 : i);
    w.write(
      at,
      ethernetFrame(ipPacket({ src: '192.0.2.9', dst: '198.51.100.2', protocol: 'tcp', dstPort: port })),
    );
  }
  w.close();
}

test('pcapng: an enhanced packet block too short for its header is a coded error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-pkb-'));
  try {
    const block = (type: number, body: Buffer) => {
      const b = Buffer.alloc(12 + body.length);
      b.writeUInt32LE(type, 0);
      b.writeUInt32LE(b.length, 4);
      body.copy(b, 8);
      b.writeUInt32LE(b.length, b.length - 4);
      return b;
    };
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(0x1a2b3c4d, 0);
    shb.writeUInt16LE(1, 4);
    const idb = Buffer.alloc(8);
    idb.writeUInt16LE(LinkType.ETHERNET, 0);
    const path = join(dir, 'short-epb.pcapng');
    writeFileSync(path, Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), block(6, Buffer.alloc(8))]));
    assert.throws(
      () => replayCapture(path, OFFLINE_OPTIONS),
      (err: unknown) => err instanceof SentinelError && err.code === 'E_IO',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay: a corrupt timestamp jump does not tick through every second of it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-pkb-'));
  try {
    const path = join(dir, 'jump.pcap');
    twoSynCapture(path, 30_000_000); // ~a year: 30M one-second ticks (seconds of CPU) without the catch-up bound
    const started = performance.now();
    replayCapture(path, OFFLINE_OPTIONS);
    assert.ok(performance.now() - started < 1000, `took ${(performance.now() - started).toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay: with no local addresses every destination is local, and sources are not "from-self"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-pkb-'));
  try {
    const path = join(dir, 'nolocal.pcap');
    twoSynCapture(path, 1);
    const r = replayCapture(path, OFFLINE_OPTIONS);
    assert.equal(r.probes, 3, JSON.stringify(r.ignored));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
