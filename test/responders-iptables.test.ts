import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runResponderContract } from '../src/responders/contract.cases.js';
import type { ResponderContext } from '../src/responders/contract.js';
import { IptablesResponder, parseIpsetSave, parseRules } from '../src/responders/iptables.js';
import { makeRunner } from '../src/responders/spawn.js';
import { createLab, type Lab, missingPrerequisite, requireLab } from './lab.js';
import { canConnect, startService, stopService } from './responders-traffic.js';

const CHAIN = 'PORTSENTINEL';
const SET = 'portsentinel';

function context(lab: Lab): ResponderContext {
  return { run: makeRunner(lab.inTarget), spawnPrefix: lab.inTarget, log: () => {}, now: () => Date.now() };
}

function inTarget(lab: Lab, argv: string[]): { status: number | null; stdout: string } {
  const r = spawnSync('ip', ['netns', 'exec', lab.target, ...argv], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout };
}

function intact(lab: Lab, ipset: boolean): boolean {
  for (const cmd of ['iptables', 'ip6tables']) {
    for (const hook of ['INPUT', 'FORWARD'])
      if (inTarget(lab, [cmd, '-C', hook, '-j', CHAIN]).status !== 0) return false;
    if (ipset && !inTarget(lab, [cmd, '-S', CHAIN]).stdout.includes('--match-set')) return false;
  }
  return true;
}

test('parses ipset save and iptables -S output, ignoring foreign lines', () => {
  const save =
    'create portsentinel4 hash:ip family inet timeout 0\nadd portsentinel4 192.0.2.1 timeout 0\nadd portsentinel4 192.0.2.2 timeout 55\nadd other 192.0.2.3\n';
  assert.deepEqual(parseIpsetSave(save, 'portsentinel4'), [
    { address: '192.0.2.1', remainingS: null },
    { address: '192.0.2.2', remainingS: 55 },
  ]);
  const rules = `-N ${CHAIN}\n-A ${CHAIN} -s 192.0.2.1/32 -j DROP\n-A ${CHAIN} -s 192.0.2.9/32 -p tcp -j DROP\n-A ${CHAIN} -s 2001:db8::1/128 -j DROP\n`;
  assert.deepEqual(
    parseRules(rules, CHAIN).map((l) => l.address),
    ['192.0.2.1', '2001:db8::1'],
  );
});

for (const useIpset of [true, false]) {
  runResponderContract(`iptables (${useIpset ? 'ipset' : 'one rule per address'})`, async () => {
    if (missingPrerequisite(['iptables', 'ip6tables', 'ipset'])) return undefined;
    const lab = createLab('rsp');
    return {
      create: () => new IptablesResponder(context(lab), { chain: CHAIN, useIpset, ipsetName: SET }),
      sabotage: () => {
        for (const cmd of ['iptables', 'ip6tables']) {
          inTarget(lab, [cmd, '-F', CHAIN]);
          inTarget(lab, [cmd, '-D', 'INPUT', '-j', CHAIN]);
        }
        if (useIpset) for (const s of [`${SET}4`, `${SET}6`]) inTarget(lab, ['ipset', 'flush', s]);
      },
      structureIntact: () => intact(lab, useIpset),
      kernelExpiry: useIpset,
      persistent: true,
      cleanup: () => lab.close(),
    };
  });
}

test('iptables: a banned attacker cannot connect, a benign client still can', async (t) => {
  if (!requireLab(t, ['iptables', 'ip6tables', 'ipset', 'nc'])) return;
  const lab = createLab('rsp', { benign: true });
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    service = await startService(lab);
    const r = new IptablesResponder(context(lab), { chain: CHAIN, useIpset: true, ipsetName: SET });
    await r.init();
    assert.ok(r.usesIpset);
    assert.ok(canConnect(lab.attacker, lab.targetV4), 'attacker connects before the ban');
    const results = await r.block([
      { address: lab.attackerV4, family: 4, until: Date.now() + 60_000 },
      { address: lab.attackerV6, family: 6, until: Date.now() + 40 * 86_400_000 },
    ]);
    assert.ok(
      results.every((x) => x.ok),
      JSON.stringify(results),
    );
    assert.ok(!canConnect(lab.attacker, lab.targetV4), 'attacker blocked (v4)');
    assert.ok(
      !canConnect(lab.attacker, lab.targetV6),
      'attacker blocked (v6, beyond the ipset timeout limit)',
    );
    assert.ok(canConnect(lab.benign as string, '203.0.113.2'), 'benign still connects (v4)');
    assert.ok(canConnect(lab.benign as string, '2001:db8:113::2'), 'benign still connects (v6)');
  } finally {
    stopService(service);
    lab.close();
  }
});
