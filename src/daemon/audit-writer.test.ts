import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Decision, ProbeEvent } from '../core/records.js';
import { Store } from '../store/store.js';
import { AuditWriter } from './audit-writer.js';

const probe = (i: number): ProbeEvent => ({
  at: 1000 + i,
  source: `2001:db8::${(i + 1).toString(16)}`,
  port: 80,
  protocol: 'tcp',
  technique: 'syn',
  mode: 'trap',
  sensor: 'test',
});
const skip = (e: ProbeEvent, why: 'rate-limited' | 'alert-only'): Decision => ({
  kind: 'skip',
  at: e.at,
  source: e.source,
  why,
  detail: '',
  trigger: e,
});

test('rows are written once per turn in one transaction; routine rows within a budget, the rest counted', async () => {
  const store = Store.open(':memory:');
  const writer = new AuditWriter(store, (m) => assert.fail(m), 10);
  for (let i = 0; i < 100; i++) writer.add(probe(i), skip(probe(i), 'rate-limited'));
  for (let i = 100; i < 105; i++) writer.add(probe(i), skip(probe(i), 'alert-only'));
  assert.equal(store.explain('2001:db8::1').probes.length, 0, 'nothing written before the turn ends');
  await new Promise((r) => setImmediate(r));
  const counters = store.counters();
  // Within one wall-clock second: 10 routine rows kept, 90 counted; every alert-only row kept.
  const kept = 100 - (counters['audit-rows-not-stored'] ?? 0);
  assert.ok(kept >= 10 && kept <= 20, `kept ${kept}`);
  assert.equal(store.explain(probe(101).source).decisions.length, 1);
  assert.equal(store.explain(probe(101).source).probes.length, 1);
  store.close();
});
