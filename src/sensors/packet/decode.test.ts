import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tcpTechnique } from './classify.js';
import { ethernetFrame, fragmentIpv4, ipPacket, nflogFrame, type ProbeSpec } from './craft.js';
import { decodeFrame, LinkType } from './decode.js';
import { FragmentTable } from './fragments.js';

const syn: ProbeSpec = {
  src: '198.51.100.1',
  dst: '198.51.100.2',
  protocol: 'tcp',
  dstPort: 22,
  flags: 0x02,
};
const syn6: ProbeSpec = {
  src: '2001:db8:51::1',
  dst: '2001:db8:51::2',
  protocol: 'tcp',
  dstPort: 443,
  flags: 0x02,
};
const udp: ProbeSpec = { src: '203.0.113.9', dst: '198.51.100.2', protocol: 'udp', dstPort: 53 };

describe('decodeFrame', () => {
  const cases: { name: string; link: number; frame: Uint8Array; want: Partial<Record<string, unknown>> }[] = [
    {
      name: 'ethernet v4 tcp',
      link: LinkType.ETHERNET,
      frame: ethernetFrame(ipPacket(syn)),
      want: { src: '198.51.100.1', dstPort: 22, tcpFlags: 2 },
    },
    {
      name: 'ethernet 2 vlan tags',
      link: LinkType.ETHERNET,
      frame: ethernetFrame(ipPacket(syn), [10, 20]),
      want: { dst: '198.51.100.2' },
    },
    {
      name: 'ethernet v6 tcp',
      link: LinkType.ETHERNET,
      frame: ethernetFrame(ipPacket(syn6)),
      want: { family: 6, src: '2001:db8:51::1', dstPort: 443 },
    },
    { name: 'raw v4 udp', link: LinkType.RAW, frame: ipPacket(udp), want: { protocol: 'udp', dstPort: 53 } },
    {
      name: 'nflog v4',
      link: LinkType.NFLOG,
      frame: nflogFrame(ipPacket(syn), 5, 'portsentinel-peer'),
      want: { src: '198.51.100.1', dstPort: 22, logPrefix: 'portsentinel-peer' },
    },
    {
      name: 'nflog v6',
      link: LinkType.NFLOG,
      frame: nflogFrame(ipPacket(syn6)),
      want: { family: 6, dstPort: 443 },
    },
    {
      name: 'ipv4 options flagged',
      link: LinkType.RAW,
      frame: ipPacket({ ...syn, ipOptions: new Uint8Array([1, 1, 1, 0]) }),
      want: { ipOptions: true, dstPort: 22 },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = decodeFrame(c.link, c.frame);
      assert.ok(r.ok, r.ok ? '' : r.reason);
      for (const [k, v] of Object.entries(c.want))
        assert.equal((r.packet as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  test('linux cooked SLL and SLL2', () => {
    const ip = ipPacket(syn);
    const sll = new Uint8Array(16 + ip.length);
    sll[14] = 0x08;
    sll.set(ip, 16);
    const sll2 = new Uint8Array(20 + ip.length);
    sll2[0] = 0x08;
    sll2.set(ip, 20);
    for (const [link, frame] of [
      [LinkType.LINUX_SLL, sll],
      [LinkType.LINUX_SLL2, sll2],
    ] as const) {
      const r = decodeFrame(link, frame);
      assert.ok(r.ok && r.packet.dstPort === 22);
    }
  });

  test('truncated and malformed frames give reasons, not exceptions', () => {
    const frame = ethernetFrame(ipPacket(syn));
    // Ethernet (14) + IPv4 (20) + the 14 bytes of TCP header we read: any shorter prefix fails.
    for (let n = 0; n < 48; n++) {
      const r = decodeFrame(LinkType.ETHERNET, frame.subarray(0, n));
      assert.equal(r.ok, false, `prefix of ${n} bytes`);
    }
    assert.deepEqual(decodeFrame(999, frame), { ok: false, reason: 'unsupported-link' });
  });

  test('IPv6 extension headers are walked, with a bound', () => {
    const tcp = ipPacket(syn6).subarray(40);
    // hop-by-hop (8 bytes) then destination options (8 bytes) then TCP
    const ext = new Uint8Array([60, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    const p = ipPacket(syn6, new Uint8Array([...ext, ...tcp]));
    p[6] = 0; // first next-header: hop-by-hop
    const r = decodeFrame(LinkType.RAW, p);
    assert.ok(r.ok && r.packet.dstPort === 443);
    // a chain of 20 destination-options headers is refused
    const chain = new Uint8Array(20 * 8);
    for (let i = 0; i < 20; i++) chain[i * 8] = 60;
    const q = ipPacket(syn6, new Uint8Array([...chain, ...tcp]));
    q[6] = 60;
    assert.deepEqual(decodeFrame(LinkType.RAW, q), { ok: false, reason: 'too-many-extension-headers' });
  });

  test('fragmented probes (nmap -f) are reassembled far enough to read the flags', () => {
    const frags = fragmentIpv4(ipPacket({ ...syn, flags: 0x29 }), 8);
    assert.ok(frags.length >= 3);
    const table = new FragmentTable();
    const results = frags.map((f) => decodeFrame(LinkType.RAW, f, { fragments: table, now: 1 }));
    const done = results.filter((r) => r.ok);
    assert.equal(done.length, 1);
    assert.ok(done[0]!.ok && done[0]!.packet.tcpFlags === 0x29 && done[0]!.packet.reassembled);
    assert.equal(table.size, 0);
    // without a table, fragments are reported
    assert.deepEqual(decodeFrame(LinkType.RAW, frags[0]!), { ok: false, reason: 'fragment' });
  });

  test('fragment table is bounded', () => {
    const table = new FragmentTable(16);
    for (let i = 0; i < 1000; i++) {
      const frags = fragmentIpv4(ipPacket({ ...syn, ipId: i }), 8);
      decodeFrame(LinkType.RAW, frags[0]!, { fragments: table, now: i });
    }
    assert.equal(table.size, 16);
    assert.equal(table.evicted, 1000 - 16);
  });
});

test('techniques', () => {
  const table: [number, string | null][] = [
    [0x02, 'syn'],
    [0xc2, 'syn'],
    [0x12, null],
    [0x04, null],
    [0x14, null],
    [0x01, 'fin'],
    [0x00, 'null'],
    [0x29, 'xmas'],
    [0x10, 'ack'],
    [0x11, 'maimon'],
    [0x03, 'odd'],
    [0x18, 'odd'],
  ];
  for (const [flags, want] of table) assert.equal(tcpTechnique(flags), want, `flags 0x${flags.toString(16)}`);
});

test('decoders survive random and mutated frames without an exception escaping', () => {
  // Deterministic PRNG (xorshift32) so a failure is reproducible.
  let seed = 0x9e3779b9;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const seeds = [
    ethernetFrame(ipPacket(syn)),
    ethernetFrame(ipPacket(syn6), [5]),
    nflogFrame(ipPacket(udp)),
    ...fragmentIpv4(ipPacket(syn), 8),
  ];
  const links = Object.values(LinkType);
  const table = new FragmentTable(64);
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? 2_000_000);
  let ok = 0;
  for (let i = 0; i < iterations; i++) {
    const base = seeds[i % seeds.length]!;
    let frame: Uint8Array;
    if (i % 4 === 0) {
      frame = new Uint8Array(Math.floor(rand() * 120));
      for (let j = 0; j < frame.length; j++) frame[j] = Math.floor(rand() * 256);
    } else {
      frame = base.slice(0, Math.max(0, base.length - Math.floor(rand() * 8)));
      const flips = 1 + Math.floor(rand() * 6);
      for (let j = 0; j < flips && frame.length > 0; j++)
        frame[Math.floor(rand() * frame.length)] = Math.floor(rand() * 256);
    }
    const link = links[Math.floor(rand() * links.length)]!;
    const r = decodeFrame(link, frame, { fragments: table, now: i });
    if (r.ok) ok++;
  }
  assert.ok(ok > 0, 'some mutated frames still decode');
});
