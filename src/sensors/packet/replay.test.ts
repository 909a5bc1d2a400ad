import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CidrSet } from '../../core/address.js';
import { PcapWriter } from './capture-file.js';
import { ethernetFrame, fragmentIpv4, ipPacket } from './craft.js';
import { LinkType } from './decode.js';
import { replayCapture } from './replay.js';

const dir = mkdtempSync(join(tmpdir(), 'ps-replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeScanCapture(path: string): void {
  const w = new PcapWriter(path, LinkType.ETHERNET);
  const t0 = Date.UTC(2026, 10, 29, 8, 0, 0);
  const target = '198.51.100.2';
  // A real service on 22 answers the scanner: the replay learns 22 is in use.
  let t = t0;
  for (const port of [21, 22, 23, 25, 80, 110, 143, 443]) {
    w.write(
      t,
      ethernetFrame(
        ipPacket({ src: '198.51.100.1', dst: target, protocol: 'tcp', dstPort: port, flags: 0x02 }),
      ),
    );
    if (port === 22) {
      w.write(
        t + 0.1,
        ethernetFrame(
          ipPacket({
            src: target,
            dst: '198.51.100.1',
            protocol: 'tcp',
            srcPort: 22,
            dstPort: 40000,
            flags: 0x12,
          }),
        ),
      );
    }
    t += 1;
  }
  // An XMAS scan over IPv6, and a fragmented FIN probe.
  for (const port of [1, 2, 3]) {
    w.write(
      t++,
      ethernetFrame(
        ipPacket({
          src: '2001:db8:51::1',
          dst: '2001:db8:51::2',
          protocol: 'tcp',
          dstPort: port,
          flags: 0x29,
        }),
      ),
    );
  }
  for (const f of fragmentIpv4(
    ipPacket({ src: '203.0.113.7', dst: target, protocol: 'tcp', dstPort: 79, flags: 0x01, ipId: 77 }),
  )) {
    w.write(t++, ethernetFrame(f));
  }
  // Garbage frame and traffic to another host: ignored, counted.
  w.write(t++, new Uint8Array([1, 2, 3]));
  w.write(
    t++,
    ethernetFrame(ipPacket({ src: '198.51.100.1', dst: '198.51.100.99', protocol: 'tcp', dstPort: 80 })),
  );
  w.close();
}

test('replay: decisions from a capture, deterministic, ports in use learnt', () => {
  const path = join(dir, 'scan.pcap');
  writeScanCapture(path);
  const options = {
    detector: {
      threshold: 3,
      window: 60_000,
      response: { tcp: 'block', udp: 'block' } as const,
      blockUnverifiedUdp: true,
      neverBlock: new CidrSet().add('127.0.0.0/8', 'loopback'),
      banDuration: 3_600_000,
      banGrowth: 2,
      banMax: 0,
      maxBansPerMinute: 0,
    },
    watched: { advancedTcp: { limit: 1024, exclude: [113] } },
    localAddresses: ['198.51.100.2', '2001:db8:51::2'],
  };
  const first = replayCapture(path, options);
  const second = replayCapture(path, options);
  assert.deepEqual(JSON.stringify(first), JSON.stringify(second), 'same file, same output');
  assert.deepEqual(first.portsInUse.tcp, [22]);
  const probes = first.records
    .filter((r) => r.type === 'probe')
    .map((r) => (r.type === 'probe' ? r.event : undefined)!);
  assert.ok(!probes.some((p) => p.port === 22), 'the answering service is not a trap');
  assert.deepEqual([...new Set(probes.map((p) => `${p.source} ${p.technique}`))].sort(), [
    '198.51.100.1 syn',
    '2001:db8:51::1 xmas',
    '203.0.113.7 fin',
  ]);
  const blocks = first.records.flatMap((r) =>
    r.type === 'decision' && r.decision.kind === 'block' ? [r.decision.source] : [],
  );
  assert.deepEqual(blocks.sort(), ['198.51.100.1', '2001:db8:51::1']);
  assert.equal(first.malformed.truncated, 1);
  assert.equal(first.ignored['not-for-us'], 1);
  assert.ok(
    first.records.some((r) => r.type === 'summary'),
    'burst summaries emitted',
  );
});
