import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runResponderContract } from '../src/responders/contract.cases.js';
import type { ResponderContext } from '../src/responders/contract.js';
import { ROUTE_PROTO, RouteResponder } from '../src/responders/route.js';
import { makeRunner } from '../src/responders/spawn.js';
import { createLab, type Lab, missingPrerequisite, nsExec, requireLab } from './lab.js';
import { canConnect, startService, stopService } from './responders-traffic.js';

function context(lab: Lab): ResponderContext {
  return { run: makeRunner(lab.inTarget), spawnPrefix: lab.inTarget, log: () => {}, now: () => Date.now() };
}

runResponderContract('route', async () => {
  if (missingPrerequisite()) return undefined;
  const lab = createLab('rsp');
  return {
    create: () => new RouteResponder(context(lab)),
    sabotage: () => {
      nsExec(lab.target, ['ip', 'route', 'flush', 'proto', String(ROUTE_PROTO)]);
      nsExec(lab.target, ['ip', '-6', 'route', 'flush', 'proto', String(ROUTE_PROTO)]);
    },
    kernelExpiry: false,
    persistent: true,
    cleanup: () => lab.close(),
  };
});

test('route: foreign blackhole routes are never listed or removed', async (t) => {
  if (!requireLab(t)) return;
  const lab = createLab('rsp');
  try {
    nsExec(lab.target, ['ip', 'route', 'add', 'blackhole', '192.0.2.200']);
    nsExec(lab.target, ['ip', '-6', 'route', 'add', 'blackhole', '2001:db8:66::200']);
    const r = new RouteResponder(context(lab));
    await r.init();
    assert.deepEqual(await r.list(), []);
    assert.ok((await r.release(['192.0.2.200', '2001:db8:66::200'])).every((x) => x.ok));
    await r.reconcile([]);
    assert.match(nsExec(lab.target, ['ip', 'route', 'show', 'type', 'blackhole']), /192\.0\.2\.200/);
    assert.match(nsExec(lab.target, ['ip', '-6', 'route', 'show', 'type', 'blackhole']), /2001:db8:66::200/);
  } finally {
    lab.close();
  }
});

test('route: a banned attacker cannot connect, a benign client still can', async (t) => {
  if (!requireLab(t, ['nc'])) return;
  const lab = createLab('rsp', { benign: true });
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    service = await startService(lab);
    const r = new RouteResponder(context(lab));
    await r.init();
    assert.ok(canConnect(lab.attacker, lab.targetV4), 'attacker connects before the ban');
    assert.ok(
      (
        await r.block([
          { address: lab.attackerV4, family: 4, until: null },
          { address: lab.attackerV6, family: 6, until: null },
        ])
      ).every((x) => x.ok),
    );
    // The reply route is a blackhole: the handshake never completes.
    assert.ok(!canConnect(lab.attacker, lab.targetV4), 'attacker blocked (v4)');
    assert.ok(!canConnect(lab.attacker, lab.targetV6), 'attacker blocked (v6)');
    assert.ok(canConnect(lab.benign as string, '203.0.113.2'), 'benign still connects (v4)');
    assert.ok(canConnect(lab.benign as string, '2001:db8:113::2'), 'benign still connects (v6)');
    await r.release([lab.attackerV4]);
    assert.ok(canConnect(lab.attacker, lab.targetV4), 'attacker connects after release');
  } finally {
    stopService(service);
    lab.close();
  }
});
