import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SentinelError } from '../core/errors.js';
import type { Decision, Evidence, ProbeEvent } from '../core/records.js';
import { SCHEMA_VERSION } from './migrations.js';
import { Store } from './store.js';
import type { NewBan } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'portsentinel-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(root, `case-${++counter}`, 'state.db');

const T0 = Date.UTC(2024, 0, 1);
const evidence: Evidence = {
  ports: [22, 23],
  protocols: ['tcp'],
  techniques: ['connect'],
  probes: 2,
  firstAt: T0,
  lastAt: T0,
};

function newBan(address: string, over: Partial<NewBan> = {}): NewBan {
  return {
    address,
    family: address.includes(':') ? 6 : 4,
    createdAt: T0,
    until: T0 + 60_000,
    origin: 'detector',
    reason: 'scan',
    offence: 1,
    evidence,
    port: 22,
    protocol: 'tcp',
    mode: 'tcp',
    ...over,
  };
}

function probe(source: string, at: number, port = 22, protocol: 'tcp' | 'udp' = 'tcp'): ProbeEvent {
  return {
    at,
    source,
    port,
    protocol,
    technique: protocol === 'tcp' ? 'connect' : 'udp',
    mode: protocol,
    sensor: `${protocol}-trap`,
  };
}

function isStoreError(err: unknown, text: RegExp): boolean {
  return err instanceof SentinelError && err.code === 'E_STORE' && text.test(err.message);
}

describe('Store.open', () => {
  test('creates the directory 0700 and the database, -wal and -shm 0600, in WAL mode', () => {
    const path = freshPath();
    const store = Store.open(path);
    try {
      store.bumpCounter('x'); // a write, so the -wal file exists
      assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
      for (const f of [path, `${path}-wal`, `${path}-shm`]) {
        assert.equal(statSync(f).mode & 0o777, 0o600, f);
      }
      assert.equal(store.schemaVersion, SCHEMA_VERSION);
    } finally {
      store.close();
    }
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();
  });

  test('tightens an existing, too open database file to 0600', () => {
    const path = freshPath();
    Store.open(path).close();
    chmodSync(path, 0o644);
    Store.open(path).close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('keeps data across reopen and does not re-run migrations', () => {
    const path = freshPath();
    const a = Store.open(path);
    a.insertBan(newBan('192.0.2.1'));
    a.close();
    const b = Store.open(path);
    assert.equal(b.activeBans().length, 1);
    assert.equal(b.schemaVersion, SCHEMA_VERSION);
    b.close();
  });

  test('refuses a database from a newer schema with a clear E_STORE', () => {
    const path = freshPath();
    Store.open(path).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(
      () => Store.open(path),
      (err) => isStoreError(err, /newer than this portsentinel/),
    );
    assert.throws(
      () => Store.open(path, { readonly: true }),
      (err) => isStoreError(err, /newer/),
    );
  });

  test('a file that is not SQLite is an E_STORE, not a crash', () => {
    const path = freshPath();
    Store.open(path).close();
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    writeFileSync(path, 'this is not a database, just text that is long enough to be a header......');
    assert.throws(
      () => Store.open(path),
      (err) => isStoreError(err, /cannot open the store/),
    );
  });

  test('read-only: missing file is an E_STORE; an existing store reads', () => {
    const path = freshPath();
    assert.throws(
      () => Store.open(path, { readonly: true }),
      (err) => isStoreError(err, /no store at/),
    );
    const w = Store.open(path);
    w.insertBan(newBan('192.0.2.7'));
    const r = Store.open(path, { readonly: true });
    assert.equal(r.activeBan('192.0.2.7')?.address, '192.0.2.7');
    assert.throws(() => r.bumpCounter('x'));
    r.close();
    w.close();
  });

  test('read-only refuses an older schema instead of failing later', () => {
    const path = freshPath();
    mkdirSync(join(path, '..'));
    const raw = new Database(path);
    raw.pragma('user_version = 0');
    raw.close();
    assert.throws(
      () => Store.open(path, { readonly: true }),
      (err) => isStoreError(err, /older than/),
    );
  });
});

describe('bans', () => {
  test('insert, apply outcomes, lookup, duplicate refused', () => {
    const s = Store.open(':memory:');
    const ban = s.insertBan(newBan('2001:DB8:0::1'));
    assert.equal(ban.address, '2001:db8::1', 'stored in canonical form');
    assert.equal(ban.family, 6);
    assert.equal(ban.state, 'active');
    s.recordApply(ban.id, 'nftables', 'ok');
    s.recordApply(ban.id, 'command', 'error: exit 1');
    s.recordApply(ban.id, 'nftables', 'ok');
    const got = s.activeBan('2001:db8::1');
    assert.deepEqual(got?.backends, { nftables: 'ok', command: 'error: exit 1' });
    assert.deepEqual(got?.evidence, evidence);
    assert.equal(got?.port, 22);
    assert.equal(got?.protocol, 'tcp');
    assert.throws(
      () => s.insertBan(newBan('2001:db8::1')),
      (err) => isStoreError(err, /already has an active ban/),
    );
    assert.throws(
      () => s.insertBan(newBan('not-an-ip')),
      (err) => err instanceof SentinelError && err.code === 'E_ADDRESS',
    );
    assert.equal(s.activeBan('192.0.2.1'), undefined);
    assert.equal(s.activeBan('garbage'), undefined);
    s.close();
  });

  test('a provisional ban (offence 0: an unverified source) is no offence', () => {
    const s = Store.open(':memory:');
    s.insertBan(newBan('192.0.2.1', { createdAt: T0, offence: 0 }));
    assert.equal(s.offences('192.0.2.1', T0), 0);
    s.releaseBan('192.0.2.1', T0 + 1, 'superseded');
    s.insertBan(newBan('192.0.2.1', { createdAt: T0 + 2, offence: 1 }));
    assert.equal(s.offences('192.0.2.1', T0), 1);
    s.close();
  });

  test('expiry, release, extend, offences and filters', () => {
    const s = Store.open(':memory:');
    const a = s.insertBan(newBan('192.0.2.1', { until: T0 + 1000 }));
    const b = s.insertBan(newBan('192.0.2.2', { until: T0 + 5000 }));
    s.insertBan(newBan('192.0.2.3', { until: null, origin: 'manual' }));
    assert.deepEqual(
      s.expiredActive(T0 + 1000).map((x) => x.id),
      [a.id],
    );
    assert.deepEqual(s.expiredActive(T0 + 999), []);
    assert.equal(s.expiredActive(T0 + 10 ** 12).length, 2, 'permanent bans never expire');

    const ext = s.extendBan(b.id, T0 + 9000);
    assert.equal(ext?.until, T0 + 9000);

    const released = s.releaseBan('192.0.2.1', T0 + 1000, 'expired', 'expired');
    assert.equal(released?.state, 'expired');
    assert.equal(released?.releasedAt, T0 + 1000);
    assert.equal(released?.releaseReason, 'expired');
    assert.equal(s.releaseBan('192.0.2.1', T0 + 2000, 'again'), undefined, 'no active ban left');
    assert.equal(s.extendBan(a.id, null), undefined, 'an ended ban cannot be extended');

    // A second offence after release is a new row; offences counts both.
    s.insertBan(newBan('192.0.2.1', { createdAt: T0 + 3000, offence: 2 }));
    assert.equal(s.offences('192.0.2.1', T0), 2);
    assert.equal(s.offences('192.0.2.1', T0 + 1), 1);
    assert.equal(s.offences('192.0.2.9', T0), 0);

    assert.deepEqual(
      s.activeBans().map((x) => x.address),
      ['192.0.2.2', '192.0.2.3', '192.0.2.1'],
    );
    assert.equal(s.bans({ address: '192.0.2.1' }).length, 2);
    assert.equal(s.bans({ address: '192.0.2.1' })[0]?.offence, 2, 'newest first');
    assert.equal(s.bans({ state: 'expired' }).length, 1);
    assert.equal(s.bans({ since: T0 + 1 }).length, 1);
    assert.equal(s.bans({ limit: 2 }).length, 2);
    s.close();
  });

  test('releaseBanById ends that ban only, never a newer one for the same address', () => {
    const s = Store.open(':memory:');
    const a = s.insertBan(newBan('192.0.2.1', { offence: 0 }));
    // While A's release waits for the firewall, A is superseded by B (same address).
    s.releaseBan('192.0.2.1', T0 + 1, 'superseded');
    const b = s.insertBan(newBan('192.0.2.1', { createdAt: T0 + 1 }));
    assert.equal(s.releaseBanById(a.id, T0 + 2, 'expired', 'expired'), undefined, 'A already ended');
    assert.equal(s.activeBan('192.0.2.1')?.id, b.id, 'B stays active');
    const ended = s.releaseBanById(b.id, T0 + 3, 'manual');
    assert.equal(ended?.state, 'released');
    assert.equal(ended?.releaseReason, 'manual');
    assert.equal(s.activeBan('192.0.2.1'), undefined);
    s.close();
  });

  test('a transaction that throws leaves no ban behind', () => {
    const s = Store.open(':memory:');
    assert.throws(() =>
      s.transaction(() => {
        s.insertBan(newBan('198.51.100.1'));
        throw new Error('firewall exploded');
      }),
    );
    assert.equal(s.activeBans().length, 0);
    s.close();
  });
});

describe('probes, decisions and CLI queries', () => {
  function seeded(): Store {
    const s = Store.open(':memory:', { now: () => T0 + 10_000 });
    s.recordProbes([
      probe('192.0.2.5', T0),
      probe('192.0.2.5', T0 + 1, 23),
      probe('203.0.113.9', T0 + 2, 53, 'udp'),
    ]);
    const skip: Decision = {
      kind: 'skip',
      at: T0 + 1,
      source: '192.0.2.5',
      why: 'below-threshold',
      detail: '1 of 3',
    };
    const block: Decision = {
      kind: 'block',
      at: T0 + 2,
      source: '192.0.2.5',
      reason: 'tcp scan',
      until: T0 + 60_000,
      offence: 1,
      evidence,
      trigger: probe('192.0.2.5', T0 + 1, 23),
    };
    s.recordDecision(skip);
    s.recordDecision(block);
    s.insertBan(newBan('192.0.2.5', { createdAt: T0 + 2 }));
    s.recordDecision({
      kind: 'skip',
      at: T0 + 3,
      source: '203.0.113.9',
      why: 'allow-listed',
      detail: 'ignore list',
    });
    return s;
  }

  test('explain returns every probe, decision and ban of one address, oldest first', () => {
    const s = seeded();
    const e = s.explain('192.0.2.5');
    assert.equal(e.probes.length, 2);
    assert.deepEqual(
      e.probes.map((p) => p.port),
      [22, 23],
    );
    assert.deepEqual(
      e.decisions.map((d) => [d.kind, d.reason]),
      [
        ['skip', 'below-threshold'],
        ['block', 'tcp scan'],
      ],
    );
    const blockRecord = e.decisions[1];
    assert.equal(blockRecord?.decision.kind, 'block');
    assert.match(blockRecord?.detail ?? '', /offence 1.*ports 22,23/);
    assert.equal(e.bans.length, 1);
    assert.equal(s.explain('192.0.2.99').decisions.length, 0);
    s.close();
  });

  test('history mixes decisions and bans, newest first, with filters', () => {
    const s = seeded();
    const h = s.history();
    assert.deepEqual(
      h.map((x) => [x.type, x.at]),
      [
        ['decision', T0 + 3],
        ['ban', T0 + 2],
        ['decision', T0 + 2],
        ['decision', T0 + 1],
      ],
    );
    assert.equal(s.history({ address: '203.0.113.9' }).length, 1);
    assert.equal(s.history({ since: T0 + 2, until: T0 + 2 }).length, 2);
    assert.equal(s.history({ limit: 1 }).length, 1);
    s.close();
  });

  test('status counts the last 24 hours', () => {
    const s = seeded();
    s.recordProbe(probe('192.0.2.77', T0 - 2 * 86_400_000));
    s.bumpCounter('evictions', 3);
    s.bumpCounter('evictions');
    s.bumpCounter('malformed');
    const st = s.status();
    assert.equal(st.activeBans, 1);
    assert.equal(st.permanentBans, 0);
    assert.equal(st.nextExpiryAt, T0 + 60_000);
    assert.equal(st.probes24h, 3);
    assert.equal(st.sources24h, 2);
    assert.equal(st.decisions24h, 3);
    assert.equal(st.blocks24h, 1);
    assert.equal(st.lastProbeAt, T0 + 2);
    assert.equal(st.lastBanAt, T0 + 2);
    assert.deepEqual(st.counters, { evictions: 4, malformed: 1 });
    assert.equal(st.lastReportRun, null);
    s.close();
  });

  test('detectionsBetween summarises one period only', () => {
    const s = seeded();
    s.recordProbe(probe('198.51.100.1', T0 + 20_000, 80));
    const d = s.detectionsBetween(T0, T0 + 10_000);
    assert.equal(d.probes, 3);
    assert.equal(d.sources, 2);
    assert.equal(d.bansTotal, 1);
    assert.equal(d.bans[0]?.address, '192.0.2.5');
    assert.equal(d.bansEnded, 0);
    assert.equal(d.bySource[0]?.address, '192.0.2.5');
    assert.equal(d.bySource[0]?.ports, 2);
    assert.deepEqual(d.byPort.map((p) => `${p.port}/${p.protocol}`).sort(), ['22/tcp', '23/tcp', '53/udp']);
    s.releaseBan('192.0.2.5', T0 + 30_000, 'manual');
    assert.equal(s.detectionsBetween(T0 + 20_000, T0 + 40_000).bansEnded, 1);
    assert.equal(s.detectionsBetween(T0 + 20_000, T0 + 40_000).probes, 1);
    s.close();
  });

  test('prune removes old probes and decisions, never bans', () => {
    const s = seeded();
    s.insertBan(newBan('192.0.2.200', { createdAt: T0 - 10 ** 9, until: null }));
    const r = s.prune(T0 + 2);
    assert.deepEqual(r, { probes: 2, decisions: 1, reportRuns: 0 });
    assert.equal(s.activeBans().length, 2);
    assert.equal(s.explain('192.0.2.5').decisions.length, 1);
    s.close();
  });
});

describe('logcheck cursors and report runs', () => {
  test('setCursors commits all or nothing', () => {
    const s = Store.open(':memory:');
    s.setCursors([
      { source: '/var/log/syslog', position: '{"ino":1,"offset":10}', updatedAt: 1 },
      { source: 'journal', position: '{"cursor":"s=abc"}', updatedAt: 1 },
    ]);
    assert.equal(s.getCursor('journal')?.position, '{"cursor":"s=abc"}');
    assert.throws(() =>
      s.setCursors([
        { source: '/var/log/syslog', position: '{"ino":1,"offset":99}', updatedAt: 2 },
        { source: 'broken', position: null as unknown as string, updatedAt: 2 },
      ]),
    );
    assert.equal(
      s.getCursor('/var/log/syslog')?.position,
      '{"ino":1,"offset":10}',
      'first cursor rolled back',
    );
    assert.equal(s.getCursor('broken'), undefined);
    assert.equal(s.cursors().length, 2);
    assert.equal(s.deleteCursor('journal'), true);
    assert.equal(s.getCursor('journal'), undefined);
    s.close();
  });

  test('report runs are recorded and the last one shows in status', () => {
    const s = Store.open(':memory:');
    s.recordReportRun({ startedAt: 1, finishedAt: 2, lines: 5, delivered: false, error: 'smtp 451' });
    s.recordReportRun({ startedAt: 3, finishedAt: 4, lines: 7, delivered: true });
    assert.deepEqual(
      s.reportRuns().map((r) => [r.lines, r.delivered, r.error]),
      [
        [7, true, null],
        [5, false, 'smtp 451'],
      ],
    );
    assert.equal(s.reportRuns(10, { delivered: false }).length, 1);
    assert.equal(s.status(10).lastReportRun?.startedAt, 3);
    s.close();
  });
});

describe('hot path latency (figure only, no assertion on time)', () => {
  test('insertBan + recordApply on a file store', () => {
    const s = Store.open(freshPath());
    const n = 2000;
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const t = process.hrtime.bigint();
      const ban = s.insertBan(newBan(address, { createdAt: T0 + i }));
      s.recordApply(ban.id, 'nftables', 'ok');
      times.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    times.sort((x, y) => x - y);
    const q = (p: number) => (times[Math.min(n - 1, Math.floor(p * n))] ?? 0).toFixed(1);
    console.log(
      `insertBan+recordApply over ${n} bans (WAL, synchronous=NORMAL): p50 ${q(0.5)} µs, p99 ${q(0.99)} µs`,
    );
    assert.equal(s.activeBans().length, n);
    s.close();
  });
});
