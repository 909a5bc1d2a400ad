import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CidrSet } from '../core/address.js';
import type { Decision, ProbeEvent, Protocol, Technique } from '../core/records.js';
import { Detector } from './detector.js';
import { banLength, type DetectorOptions } from './options.js';

const A = '203.0.113.7';
const B = '198.51.100.9';

function options(over: Partial<DetectorOptions> = {}): DetectorOptions {
  return {
    threshold: 1,
    window: 60_000,
    response: { tcp: 'block', udp: 'block' },
    blockUnverifiedUdp: false,
    neverBlock: new CidrSet(),
    banDuration: 3_600_000,
    banGrowth: 2,
    banMax: 0,
    maxBansPerMinute: 0,
    dryRun: false,
    ...over,
  };
}

function probe(
  at: number,
  source = A,
  port = 1000,
  protocol: Protocol = 'tcp',
  technique?: Technique,
): ProbeEvent {
  const t: Technique = technique ?? (protocol === 'tcp' ? 'connect' : 'udp');
  return { at, source, port, protocol, technique: t, mode: protocol, sensor: 'test' };
}

/** A compact view of a decision for table assertions. */
function brief(d: Decision): string {
  if (d.kind === 'skip') return `skip:${d.why}`;
  if (d.kind === 'block') return `block:${d.until === null ? 'perm' : d.until - d.at}`;
  return 'release';
}

function run(det: Detector, events: ProbeEvent[]): string[] {
  return events.flatMap((e) => det.observe(e).map(brief));
}

describe('threshold and window', () => {
  const cases: { name: string; threshold: number; window: number; times: number[]; expect: string[] }[] = [
    {
      name: 'threshold 1 blocks on the first probe',
      threshold: 1,
      window: 1000,
      times: [0],
      expect: ['block:3600000'],
    },
    {
      name: 'threshold 3 blocks on the third probe',
      threshold: 3,
      window: 10_000,
      times: [0, 1, 2],
      expect: ['skip:below-threshold', 'skip:below-threshold', 'block:3600000'],
    },
    {
      name: 'probes spread wider than the window never add up',
      threshold: 2,
      window: 1000,
      times: [0, 1500, 3000],
      expect: ['skip:below-threshold', 'skip:below-threshold', 'skip:below-threshold'],
    },
    {
      name: 'the window slides: old probes drop out, new ones count',
      threshold: 3,
      window: 1000,
      times: [0, 900, 1500, 1600],
      expect: ['skip:below-threshold', 'skip:below-threshold', 'skip:below-threshold', 'block:3600000'],
    },
    {
      name: 'after a block further probes are already-blocked',
      threshold: 1,
      window: 1000,
      times: [0, 10],
      expect: ['block:3600000', 'skip:already-blocked'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const det = new Detector(options({ threshold: c.threshold, window: c.window }));
      assert.deepEqual(
        run(
          det,
          c.times.map((t, i) => probe(t, A, 1000 + i)),
        ),
        c.expect,
      );
    });
  }
});

describe('never-block labels', () => {
  const neverBlock = new CidrSet()
    .add('127.0.0.0/8', 'loopback')
    .add('192.0.2.1', 'gateway')
    .add('2001:db8::/32', 'ignore-list')
    .add('198.51.100.53', '');
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['192.0.2.1', 'gateway'],
    ['2001:db8::5', 'ignore-list'],
    ['198.51.100.53', 'never-block list'],
  ];
  for (const [address, label] of cases) {
    test(`${address} is skipped as ${label}`, () => {
      const det = new Detector(options({ neverBlock }));
      const [d] = det.observe(probe(0, address));
      assert.equal(d?.kind, 'skip');
      assert.equal(d?.kind === 'skip' && d.why, 'allow-listed');
      assert.equal(d?.kind === 'skip' && d.detail, label);
      assert.equal(det.stats().tracked, 0, 'allow-listed sources are not tracked');
    });
  }
  test('a neighbour of the gateway is not protected', () => {
    const det = new Detector(options({ neverBlock }));
    assert.deepEqual(run(det, [probe(0, '192.0.2.10')]), ['block:3600000']);
  });
});

describe('response levels and unverified sources', () => {
  const cases: {
    name: string;
    over: Partial<DetectorOptions>;
    protocol: Protocol;
    technique?: Technique;
    expect: string;
  }[] = [
    { name: 'tcp connect, block', over: {}, protocol: 'tcp', expect: 'block:3600000' },
    {
      name: 'tcp connect, command level also blocks',
      over: { response: { tcp: 'command', udp: 'block' } },
      protocol: 'tcp',
      expect: 'block:3600000',
    },
    {
      name: 'tcp alert level',
      over: { response: { tcp: 'alert', udp: 'block' } },
      protocol: 'tcp',
      expect: 'skip:alert-only',
    },
    { name: 'udp datagram is unverified by default', over: {}, protocol: 'udp', expect: 'skip:alert-only' },
    {
      name: 'udp blocked when configured',
      over: { blockUnverifiedUdp: true },
      protocol: 'udp',
      expect: 'block:3600000',
    },
    {
      name: 'udp alert level even when unverified blocking is on',
      over: { blockUnverifiedUdp: true, response: { tcp: 'block', udp: 'alert' } },
      protocol: 'udp',
      expect: 'skip:alert-only',
    },
    {
      name: 'a lone SYN packet is unverified',
      over: {},
      protocol: 'tcp',
      technique: 'syn',
      expect: 'skip:alert-only',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const det = new Detector(options(c.over));
      assert.deepEqual(run(det, [probe(0, A, 53, c.protocol, c.technique)]), [c.expect]);
    });
  }
  test('a handshake after unverified datagrams blocks, with all evidence', () => {
    const det = new Detector(options({ threshold: 2 }));
    const out = [...det.observe(probe(0, A, 53, 'udp')), ...det.observe(probe(5, A, 23, 'tcp'))];
    const block = out.find((d) => d.kind === 'block');
    assert.ok(block && block.kind === 'block');
    assert.deepEqual(block.evidence.ports, [23, 53]);
    assert.deepEqual(block.evidence.protocols, ['tcp', 'udp']);
    assert.deepEqual(block.evidence.techniques, ['connect', 'udp']);
  });
});

describe('ban rate cap', () => {
  test('excess new bans in a minute are rate-limited, the bucket refills on event time', () => {
    const det = new Detector(options({ maxBansPerMinute: 2 }));
    const out = run(det, [probe(0, '203.0.113.1'), probe(1, '203.0.113.2'), probe(2, '203.0.113.3')]);
    assert.deepEqual(out, ['block:3600000', 'block:3600000', 'skip:rate-limited']);
    assert.equal(det.stats().rateLimited, 1);
    // Half a minute later one token is back: the rate-limited source is blocked on its next probe.
    assert.deepEqual(run(det, [probe(30_002, '203.0.113.3')]), ['block:3600000']);
  });
});

describe('ban length, escalation and ceiling', () => {
  const table: { over: Partial<DetectorOptions>; offence: number; expect: number | null }[] = [
    { over: { banDuration: 60_000, banGrowth: 2, banMax: 0 }, offence: 1, expect: 60_000 },
    { over: { banDuration: 60_000, banGrowth: 2, banMax: 0 }, offence: 3, expect: 240_000 },
    { over: { banDuration: 60_000, banGrowth: 2, banMax: 200_000 }, offence: 3, expect: 200_000 },
    { over: { banDuration: 60_000, banGrowth: 2, banMax: 200_000 }, offence: 50, expect: 200_000 },
    { over: { banDuration: 60_000, banGrowth: 1, banMax: 0 }, offence: 9, expect: 60_000 },
    { over: { banDuration: 0, banGrowth: 2, banMax: 100 }, offence: 4, expect: null },
  ];
  for (const c of table) {
    test(`${JSON.stringify(c.over)} offence ${c.offence} → ${c.expect}`, () => {
      assert.equal(banLength(c.offence, { ...options(), ...c.over }), c.expect);
    });
  }
  test('offences come from the callback; repeat offenders get longer bans', () => {
    const history = new Map<string, number>([[A, 2]]);
    const det = new Detector(
      options({ banDuration: 1000, banGrowth: 3, banMax: 5000, offenceCount: (a) => history.get(a) ?? 0 }),
    );
    const [a] = det.observe(probe(0, A));
    const [b] = det.observe(probe(0, B));
    assert.ok(a?.kind === 'block' && b?.kind === 'block');
    assert.equal(a.offence, 3);
    assert.equal(a.until, 5000, '1000 × 3² = 9000, capped at 5000');
    assert.equal(b.offence, 1);
    assert.equal(b.until, 1000);
  });
  test('permanent bans never expire', () => {
    const det = new Detector(options({ banDuration: 0 }));
    assert.deepEqual(run(det, [probe(0)]), ['block:perm']);
    assert.deepEqual(det.tick(1e13).decisions, []);
    assert.ok(det.activeBan(A));
  });
});

describe('expiry and restore', () => {
  test('tick releases bans whose time is up, earliest first', () => {
    const det = new Detector(options({ banDuration: 1000 }));
    det.observe(probe(0, A));
    det.observe(probe(500, B));
    assert.deepEqual(det.tick(999).decisions, []);
    assert.deepEqual(
      det.tick(1500).decisions.map((d) => d.source),
      [A, B],
    );
    assert.equal(det.stats().bans, 0);
    assert.deepEqual(run(det, [probe(2000, A, 2000)]), ['block:1000']);
  });
  test('restored bans skip as already-blocked and expire; forgotten bans do not release', () => {
    const det = new Detector(options());
    det.restoreBan('::ffff:203.0.113.7', 5000, 2);
    assert.deepEqual(run(det, [probe(1, A)]), ['skip:already-blocked']);
    det.restoreBan(B, 4000, 1);
    assert.equal(det.forgetBan(B), true);
    const released = det.tick(6000).decisions;
    assert.deepEqual(
      released.map((d) => d.source),
      [A],
    );
  });
});

describe('burst summaries', () => {
  test('one summary per burst, after the source went quiet', () => {
    const det = new Detector(options({ threshold: 2, quietAfter: 5000 }));
    for (let i = 0; i < 20; i++) det.observe(probe(i * 10, A, 1000 + (i % 5)));
    assert.deepEqual(det.tick(1000).summaries, [], 'still active');
    const { summaries } = det.tick(6000);
    assert.equal(summaries.length, 1);
    const [s] = summaries;
    assert.equal(s?.source, A);
    assert.equal(s?.probes, 20);
    assert.deepEqual(s?.ports, [1000, 1001, 1002, 1003, 1004]);
    assert.equal(s?.outcome, 'blocked');
    assert.equal(s?.blocked, true);
    assert.deepEqual(det.tick(20_000).summaries, [], 'only once');
  });
  test('a single stray probe below the threshold gives no summary', () => {
    const det = new Detector(options({ threshold: 3 }));
    det.observe(probe(0));
    assert.deepEqual(det.tick(100_000).summaries, []);
  });
  test('a long burst is cut at maxBurst', () => {
    const det = new Detector(options({ maxBurst: 10_000, quietAfter: 5000 }));
    for (let t = 0; t <= 25_000; t += 1000) det.observe(probe(t, A, 1000 + t / 1000));
    const summaries = det.tick(40_000).summaries;
    assert.equal(summaries.length, 3);
    assert.deepEqual(
      summaries.map((s) => s.outcome),
      ['blocked', 'already-blocked', 'already-blocked'],
    );
  });
  test('ports are capped per source; the rest are counted', () => {
    const det = new Detector(options({ maxPortsPerSource: 4, threshold: 1 }));
    for (let p = 1; p <= 10; p++) det.observe(probe(p, A, p));
    const [s] = det.tick(100_000).summaries;
    assert.deepEqual(s?.ports, [1, 2, 3, 4]);
    assert.equal(s?.otherPortProbes, 6);
  });
  test('the summary flood limiter counts what it suppresses', () => {
    const det = new Detector(options({ maxSummariesPerMinute: 3 }));
    for (let i = 0; i < 10; i++) det.observe(probe(i, `203.0.113.${i + 1}`));
    assert.equal(det.tick(10_000).summaries.length, 3);
    assert.equal(det.stats().summariesSuppressed, 7);
  });
});

describe('fixed capacity', () => {
  test('the table never exceeds maxSources; evictions are counted', () => {
    const det = new Detector(options({ maxSources: 100, threshold: 2 }));
    for (let i = 0; i < 5000; i++)
      det.observe(probe(i, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    const s = det.stats();
    assert.equal(s.tracked, 100);
    assert.equal(s.evicted, 4900);
  });
  test('an active scanner survives a spoofed flood (LRU keeps the recently seen)', () => {
    const det = new Detector(options({ maxSources: 50, threshold: 3 }));
    const out: string[] = [];
    for (let i = 0; i < 300; i++) {
      det.observe(probe(i, `10.0.${i >> 8}.${i & 255}`));
      if (i % 20 === 0) out.push(...det.observe(probe(i, A, 1000 + i)).map(brief));
    }
    assert.equal(out[2], 'block:3600000');
  });
  test('invalid source text is ignored and counted', () => {
    const det = new Detector(options());
    assert.deepEqual(det.observe(probe(0, 'not-an-ip')), []);
    assert.equal(det.stats().invalid, 1);
  });
});

describe('dry run and determinism', () => {
  test('dry-run decisions are the same decisions, marked', () => {
    const det = new Detector(options({ dryRun: true }));
    const [d] = det.observe(probe(0));
    assert.ok(d?.kind === 'block');
    assert.equal(d.dryRun, true);
  });
  test('same events → same decisions and summaries', () => {
    const events: ProbeEvent[] = [];
    for (let i = 0; i < 2000; i++) {
      const source = `198.51.100.${(i * 7) % 50}`;
      events.push(probe(i * 37, source, 1 + ((i * 13) % 1024), i % 3 === 0 ? 'udp' : 'tcp'));
    }
    const replay = () => {
      const det = new Detector(
        options({ threshold: 3, window: 5000, maxBansPerMinute: 5, banDuration: 20_000, maxSources: 30 }),
      );
      const out: unknown[] = [];
      for (const e of events) {
        out.push(det.observe(e));
        if (e.at % 1000 < 37) out.push(det.tick(e.at));
      }
      out.push(det.tick(1e9), det.stats());
      return JSON.stringify(out);
    };
    assert.equal(replay(), replay());
  });
});

describe('provisional bans of unverified sources', () => {
  const syn = (at: number, port: number, extra: Partial<ProbeEvent> = {}): ProbeEvent => ({
    ...probe(at, A, port, 'tcp', 'syn'),
    mode: 'trap',
    ...extra,
  });
  const opts = options({ provisionalBan: 30_000, corroboratePorts: 3, offenceCount: () => 0 });

  test('a single forged-looking probe gets a short provisional ban, not an offence', () => {
    const det = new Detector(opts);
    const [d] = det.observe(syn(1000, 22));
    assert.ok(d?.kind === 'block' && d.provisional === true);
    assert.equal(d.until, 31_000);
    assert.equal(d.offence, 0);
    assert.match(d.reason, /provisional/);
    // it expires on its own
    assert.deepEqual(
      det.tick(31_000).decisions.map((x) => x.kind),
      ['release'],
    );
  });

  test('corroboration (distinct ports) upgrades it to the full ban, once', () => {
    const det = new Detector(opts);
    const out = run(det, [syn(0, 1), syn(1, 2), syn(2, 3), syn(3, 4)]);
    assert.deepEqual(out, ['block:30000', 'skip:already-blocked', 'block:3600000', 'skip:already-blocked']);
    const ban = det.activeBan(A);
    assert.ok(ban && !ban.provisional && ban.offence === 1);
  });

  test('a session peer is never banned on stray packets until corroborated', () => {
    const det = new Detector(opts);
    assert.deepEqual(run(det, [syn(0, 1, { peer: true }), syn(1, 2, { peer: true })]), [
      'skip:alert-only',
      'skip:alert-only',
    ]);
    assert.deepEqual(run(det, [syn(2, 3, { peer: true })]), ['block:3600000']);
  });

  test('a completed handshake proves the source at once; block_unverified_udp keeps PortSentry behaviour', () => {
    assert.deepEqual(run(new Detector(opts), [probe(0, A, 22, 'tcp', 'connect')]), ['block:3600000']);
    assert.deepEqual(run(new Detector(options({ ...opts, blockUnverifiedUdp: true })), [syn(0, 9)]), [
      'block:3600000',
    ]);
  });

  test('forged probes using up the provisional cap do not stop a real scanner being banned', () => {
    const det = new Detector({ ...opts, maxBansPerMinute: 2 });
    // Three forged sources, one probe each: two provisional bans, then the provisional cap is spent.
    const forged = ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((source, i) => syn(i, 80, { source }));
    assert.deepEqual(run(det, forged), ['block:30000', 'block:30000', 'skip:rate-limited']);
    // A completed handshake (and a corroborated source) still gets the full ban: its own bucket.
    assert.deepEqual(run(det, [probe(10, B, 22, 'tcp', 'connect')]), ['block:3600000']);
    assert.deepEqual(run(det, [syn(11, 1, { source: '192.0.2.1' }), syn(12, 2, { source: '192.0.2.1' })]), [
      'skip:already-blocked',
      'block:3600000',
    ]);
  });

  test('a restored provisional ban (stored offence 0) stays provisional and can still be upgraded', () => {
    const det = new Detector(opts);
    det.restoreBan(A, 30_000, 0);
    assert.deepEqual(det.activeBan(A), { until: 30_000, offence: 0, provisional: true });
    assert.deepEqual(run(det, [syn(0, 1), syn(1, 2), syn(2, 3)]), [
      'skip:already-blocked',
      'skip:already-blocked',
      'block:3600000',
    ]);
    det.restoreBan(B, null, 2);
    assert.deepEqual(det.activeBan(B), { until: null, offence: 2 });
  });

  test('provisional 0 keeps unverified sources alert-only until corroborated', () => {
    const det = new Detector(options({ provisionalBan: 0, corroboratePorts: 2 }));
    assert.deepEqual(run(det, [syn(0, 1), syn(1, 2)]), ['skip:alert-only', 'block:3600000']);
  });
});
