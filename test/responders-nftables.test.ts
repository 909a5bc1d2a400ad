import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runResponderContract } from '../src/responders/contract.cases.js';
import type { ResponderContext } from '../src/responders/contract.js';
import { NftablesResponder, nftablesBaseRuleset, nftTimeout } from '../src/responders/nftables.js';
import { makeRunner } from '../src/responders/spawn.js';
import { createLab, type Lab, missingPrerequisite, nsExec, requireLab } from './lab.js';
import { canConnect, startService, stopService } from './responders-traffic.js';

const TABLE = 'portsentinel';

function context(lab: Lab, logs: string[] = []): ResponderContext {
  return {
    run: makeRunner(lab.inTarget),
    spawnPrefix: lab.inTarget,
    log: (level, message) => logs.push(`${level}: ${message}`),
    now: () => Date.now(),
  };
}

function inTarget(lab: Lab, argv: string[]): string {
  return nsExec(lab.target, argv);
}

test('nftTimeout spells long durations so nft accepts them', () => {
  assert.equal(nftTimeout(1500), '1s500ms');
  assert.equal(nftTimeout(90_061_001), '1d1h1m1s1ms');
  assert.equal(nftTimeout(0), '1ms');
  assert.equal(nftTimeout(3_600_000 * 24 * 400), '400d');
});

test('the base ruleset only touches what the backend owns', () => {
  const script = nftablesBaseRuleset('portsentinel');
  assert.match(script, /add set inet portsentinel ban4 \{ type ipv4_addr; flags dynamic,timeout; \}/);
  assert.doesNotMatch(script, /flush table|delete table|flush ruleset/);
  assert.throws(() => nftablesBaseRuleset('bad name; flush ruleset'), /not a valid nftables table name/);
});

runResponderContract('nftables', async () => {
  if (missingPrerequisite(['nft'])) return undefined;
  const lab = createLab('rsp');
  return {
    create: () => new NftablesResponder(context(lab), { table: TABLE }),
    sabotage: () => {
      inTarget(lab, ['nft', 'delete', 'table', 'inet', TABLE]);
    },
    structureIntact: () => {
      const r = spawnSync(
        'ip',
        ['netns', 'exec', lab.target, 'nft', 'list', 'chain', 'inet', TABLE, 'ban_prerouting'],
        {
          encoding: 'utf8',
        },
      );
      return r.status === 0 && r.stdout.includes('@ban4') && r.stdout.includes('@ban6');
    },
    kernelExpiry: true,
    persistent: true,
    cleanup: () => lab.close(),
  };
});

test('nftables: a flushed table (rules gone, sets kept) is repaired; foreign chains survive', async (t) => {
  if (!requireLab(t, ['nft'])) return;
  const lab = createLab('rsp');
  const r = new NftablesResponder(context(lab), { table: TABLE });
  try {
    await r.init();
    // Another module's chain in the same table (issue 3's traps) must survive init and reconcile.
    inTarget(lab, ['nft', 'add', 'chain', 'inet', TABLE, 'trap_other']);
    inTarget(lab, ['nft', 'add', 'rule', 'inet', TABLE, 'trap_other', 'counter']);
    await r.block([{ address: '192.0.2.77', family: 4, until: null }]);
    inTarget(lab, ['nft', 'flush', 'chain', 'inet', TABLE, 'ban_prerouting']);
    const report = await r.reconcile([{ address: '192.0.2.77', family: 4, until: null }]);
    assert.deepEqual(report.errors, []);
    const chain = inTarget(lab, ['nft', 'list', 'chain', 'inet', TABLE, 'ban_prerouting']);
    assert.match(chain, /ip saddr @ban4 counter packets \d+ bytes \d+ drop/);
    assert.match(inTarget(lab, ['nft', 'list', 'chain', 'inet', TABLE, 'trap_other']), /counter/);
    await r.init();
    assert.match(inTarget(lab, ['nft', 'list', 'chain', 'inet', TABLE, 'trap_other']), /counter/);
    assert.deepEqual(await r.list(), ['192.0.2.77']);
  } finally {
    await r.close();
    lab.close();
  }
});

test('nftables: falls back to nft -f when the persistent nft dies', async (t) => {
  if (!requireLab(t, ['nft'])) return;
  const lab = createLab('rsp');
  const logs: string[] = [];
  const r = new NftablesResponder(context(lab, logs), { table: TABLE });
  try {
    await r.init();
    // Kill our own nft -i child (found by its parent: this process).
    const ps = spawnSync('pgrep', ['-P', String(process.pid), '-x', 'nft'], { encoding: 'utf8' });
    const pids = ps.stdout.trim().split('\n').filter(Boolean).map(Number);
    assert.ok(pids.length >= 1, 'a persistent nft child runs');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const results = await r.block([{ address: '192.0.2.88', family: 4, until: null }]);
    assert.ok(results[0]?.ok, JSON.stringify(results));
    assert.deepEqual(await r.list(), ['192.0.2.88']);
    assert.ok(
      logs.some((l) => l.includes('nft session exited')),
      logs.join('\n'),
    );
  } finally {
    await r.close();
    lab.close();
  }
});

test('nftables: a banned attacker cannot connect, a benign client still can (IPv4 and IPv6)', async (t) => {
  if (!requireLab(t, ['nft', 'nc'])) return;
  const lab = createLab('rsp', { benign: true });
  const r = new NftablesResponder(context(lab), { table: TABLE });
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    service = await startService(lab);
    await r.init();
    const benign = lab.benign as string;
    assert.ok(canConnect(lab.attacker, lab.targetV4), 'attacker connects before the ban (v4)');
    assert.ok(canConnect(lab.attacker, lab.targetV6), 'attacker connects before the ban (v6)');
    const results = await r.block([
      { address: lab.attackerV4, family: 4, until: Date.now() + 60_000 },
      { address: lab.attackerV6, family: 6, until: null },
    ]);
    assert.ok(results.every((x) => x.ok));
    assert.ok(!canConnect(lab.attacker, lab.targetV4), 'attacker blocked (v4)');
    assert.ok(!canConnect(lab.attacker, lab.targetV6), 'attacker blocked (v6)');
    assert.ok(canConnect(benign, '203.0.113.2'), 'benign still connects (v4)');
    assert.ok(canConnect(benign, '2001:db8:113::2'), 'benign still connects (v6)');
    await r.release([lab.attackerV4, lab.attackerV6]);
    assert.ok(canConnect(lab.attacker, lab.targetV4), 'attacker connects after release');
  } finally {
    stopService(service);
    await r.close();
    lab.close();
  }
});
