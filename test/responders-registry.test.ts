import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../src/config/defaults.js';
import type { RespondConfig } from '../src/config/types.js';
import { runResponderContract } from '../src/responders/contract.cases.js';
import type { Responder, ResponderContext, Runner } from '../src/responders/contract.js';
import { DryRunResponder } from '../src/responders/dry-run.js';
import { createResponders, orderFor } from '../src/responders/registry.js';
import { makeRunner } from '../src/responders/spawn.js';
import { createLab, requireLab } from './lab.js';

runResponderContract('dry-run', async () => ({
  create: () => new DryRunResponder(),
  sabotage: () => {},
  // It models a kernel with timeouts: what it "holds" ends at its time, as nftables would.
  kernelExpiry: true,
  persistent: false,
  cleanup: () => {},
}));

function respond(over: Partial<RespondConfig> = {}): RespondConfig {
  return { ...defaultConfig().respond, ...over };
}

const fake = (name: string): Responder => ({
  name,
  init: async () => {},
  block: async () => [],
  release: async () => [],
  list: async () => [],
  reconcile: async () => ({ applied: [], removed: [], errors: [] }),
  close: async () => {},
});

test('orderFor follows BLOCK_* levels and KILL_RUN_CMD_FIRST', () => {
  const list = [fake('nftables'), fake('hosts-deny'), fake('command')];
  const names = (rs: Responder[]) => rs.map((r) => r.name);
  assert.deepEqual(names(orderFor('alert', false, list)), []);
  assert.deepEqual(names(orderFor('command', false, list)), ['command']);
  assert.deepEqual(names(orderFor('command', true, list)), ['command']);
  assert.deepEqual(names(orderFor('block', false, list)), ['nftables', 'hosts-deny', 'command']);
  assert.deepEqual(names(orderFor('block', true, list)), ['command', 'nftables', 'hosts-deny']);
});

test('dry run replaces every backend', async () => {
  const ctx: ResponderContext = { run: makeRunner([]), log: () => {}, now: () => Date.now() };
  const { responders, notes } = await createResponders(
    respond({ dryRun: true, command: ['/bin/true'] }),
    ctx,
  );
  assert.deepEqual(
    responders.map((r) => r.name),
    ['dry-run'],
  );
  assert.match(notes.join('\n'), /dry run/);
});

test('auto falls back from nftables to iptables to route on UnsupportedError, noting why', async (t) => {
  if (!requireLab(t, ['iptables'])) return;
  const lab = createLab('rsp');
  const real = makeRunner(lab.inTarget);
  const without =
    (missing: string[]): Runner =>
    (argv, options) =>
      missing.includes(argv[0] as string)
        ? Promise.resolve({ code: null, stdout: '', stderr: `spawn ${argv[0]} ENOENT`, timedOut: false })
        : real(argv, options);
  const opened: Responder[] = [];
  try {
    const base = { log: () => {}, now: () => Date.now(), spawnPrefix: lab.inTarget };
    const first = await createResponders(respond({ command: ['/bin/true', '$TARGET$'] }), {
      ...base,
      run: real,
    });
    opened.push(...first.responders);
    assert.deepEqual(
      first.responders.map((r) => r.name),
      ['nftables', 'command'],
    );
    const second = await createResponders(respond(), { ...base, run: without(['nft']) });
    opened.push(...second.responders);
    assert.deepEqual(
      second.responders.map((r) => r.name),
      ['iptables'],
    );
    assert.match(second.notes.join('\n'), /auto: using iptables \(nftables: cannot run nft/);
    const third = await createResponders(
      respond({
        backends: ['auto', 'hosts-deny'],
        hostsDeny: { path: '/nonexistent-rsp/hosts.deny', service: 'ALL' },
      }),
      {
        ...base,
        run: without(['nft', 'iptables']),
      },
    );
    opened.push(...third.responders);
    assert.deepEqual(
      third.responders.map((r) => r.name),
      ['route'],
    );
    assert.match(third.notes.join('\n'), /backend "hosts-deny" unavailable/);
  } finally {
    for (const r of opened) await r.close();
    lab.close();
  }
});
