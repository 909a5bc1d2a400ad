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
const skip = (e: ProbeEvent, why: 'rate-limited' | 'alert-only' | 'allow-listed'): Decision => ({
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

test('allow-listed and alert-only rows have their own budget; the excess is counted apart', async () => {
  const store = Store.open(':memory:');
  const writer = new AuditWriter(store, (m) => assert.fail(m), 10, 5);
  for (let i = 0; i < 50; i++)
    writer.add(probe(i), skip(probe(i), i % 2 === 0 ? 'alert-only' : 'allow-listed'));
  // A routine row still goes through its own (unspent) budget.
  writer.add(probe(60), skip(probe(60), 'rate-limited'));
  await new Promise((r) => setImmediate(r));
  const counters = store.counters();
  const kept = 50 - (counters['audit-alert-rows-not-stored'] ?? 0);
  // One wall-clock second boundary may fall inside the loop: at most two budgets' worth.
  assert.ok(kept >= 5 && kept <= 10, `kept ${kept}`);
  assert.equal(counters['audit-rows-not-stored'] ?? 0, 0);
  assert.equal(store.explain(probe(60).source).decisions.length, 1);
  store.close();
});
