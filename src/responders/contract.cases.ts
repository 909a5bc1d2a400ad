// The one contract suite every blocking backend passes. Each backend's test file calls
// runResponderContract with a factory that builds the backend inside its own network namespace
// (or on a temp file), so the cases run against the real kernel objects.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BanTarget, Responder } from './contract.js';

export interface ContractSubject {
  /** A fresh backend instance over the same namespace/file; called once per suite, again for the restart case. */
  create(): Responder;
  /** Removes the backend's state behind its back (flushes the table, chain, routes, lines...). */
  sabotage(): Promise<void> | void;
  /** Independent check (not via list()) that the backend's structure is in place, where it has one. */
  structureIntact?(): boolean;
  /** The kernel lifts timed bans by itself (nftables sets, ipset timeouts). */
  kernelExpiry: boolean;
  /** Bans survive close() and a new instance sees them (kernel/file state, not memory). */
  persistent: boolean;
  /** Removes namespaces, temp files. Always called. */
  cleanup(): Promise<void> | void;
}

const V4 = ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13'] as const;
const V6 = ['2001:db8:66::10', '2001:db8:66::11'] as const;

function target(address: string, until: number | null = null): BanTarget {
  return {
    address,
    family: address.includes(':') ? 6 : 4,
    until,
    port: 143,
    protocol: 'tcp',
    mode: 'tcp',
  };
}

function sorted(list: string[]): string[] {
  return [...list].sort();
}

function allOk(results: { ok: boolean; error?: string }[]): void {
  for (const r of results) assert.ok(r.ok, `expected ok, got: ${JSON.stringify(r)}`);
}

/**
 * Registers the contract cases under `describe(name)`. `factory` returns undefined when the
 * backend cannot run here (the caller has already skipped or failed via requireLab).
 */
export function runResponderContract(
  name: string,
  factory: () => Promise<ContractSubject | undefined>,
): void {
  describe(`responder contract: ${name}`, { concurrency: false }, () => {
    let subject: ContractSubject | undefined;
    let r: Responder;

    before(async () => {
      subject = await factory();
      if (subject) r = subject.create();
    });
    after(async () => {
      if (!subject) return;
      try {
        await r?.close();
      } finally {
        await subject.cleanup();
      }
    });

    const ready = (t: { skip: (why: string) => void }): boolean => {
      if (subject) return true;
      t.skip('backend not available here');
      return false;
    };

    test('init is idempotent and starts empty', async (t) => {
      if (!ready(t)) return;
      await r.init();
      await r.init();
      assert.deepEqual(await r.list(), []);
      if (subject?.structureIntact) assert.ok(subject.structureIntact(), 'structure in place after init');
    });

    test('blocks IPv4 and IPv6; list shows exactly ours', async (t) => {
      if (!ready(t)) return;
      const results = await r.block([target(V4[0]), target(V6[0], Date.now() + 3_600_000)]);
      assert.equal(results.length, 2);
      allOk(results);
      assert.deepEqual(sorted(await r.list()), sorted([V4[0], V6[0]]));
    });

    test('blocking twice keeps one entry', async (t) => {
      if (!ready(t)) return;
      allOk(await r.block([target(V4[0])]));
      allOk(await r.block([target(V4[0], Date.now() + 3_600_000), target(V6[0])]));
      const listed = await r.list();
      assert.equal(listed.filter((a) => a === V4[0]).length, 1, `one ${V4[0]} in ${listed.join(',')}`);
      assert.equal(listed.filter((a) => a === V6[0]).length, 1);
    });

    test('rejects a non-address without touching the rest', async (t) => {
      if (!ready(t)) return;
      const results = await r.block([target('not-an-ip; rm -rf /'), target(V4[1])]);
      const bad = results.find((x) => x.address === 'not-an-ip; rm -rf /');
      assert.equal(bad?.ok, false);
      assert.equal(results.find((x) => x.address === V4[1])?.ok, true);
      assert.ok((await r.list()).includes(V4[1]));
    });

    test('release lifts a ban; releasing an unknown address is ok', async (t) => {
      if (!ready(t)) return;
      allOk(await r.release([V4[1]]));
      assert.ok(!(await r.list()).includes(V4[1]));
      allOk(await r.release([V4[3], '2001:db8:66::99']));
      assert.deepEqual(sorted(await r.list()), sorted([V4[0], V6[0]]));
    });

    test('timed bans: the kernel lifts them (kernel timeouts), or they stay until the daemon releases them', async (t) => {
      if (!ready(t)) return;
      allOk(await r.block([target(V4[2], Date.now() + 1200), target(V6[1], Date.now() + 1200)]));
      const listed = await r.list();
      assert.ok(listed.includes(V4[2]) && listed.includes(V6[1]), 'listed before expiry');
      await new Promise((resolve) => setTimeout(resolve, 2300));
      const later = await r.list();
      if (subject?.kernelExpiry) {
        assert.ok(!later.includes(V4[2]) && !later.includes(V6[1]), `expired: ${later.join(',')}`);
      } else {
        // No kernel timeout here: the ban must not vanish on its own; the daemon's expiry lifts it.
        assert.ok(later.includes(V4[2]) && later.includes(V6[1]), `still held: ${later.join(',')}`);
        allOk(await r.release([V4[2], V6[1]]));
      }
    });

    test('reconcile rebuilds after an external flush and removes orphans', async (t) => {
      if (!ready(t)) return;
      const current = subject as ContractSubject;
      allOk(await r.block([target(V4[3])]));
      await current.sabotage();
      if (current.persistent) assert.ok(!(await r.list()).includes(V4[0]), 'sabotage removed our entries');
      const active = [target(V4[0]), target(V6[0], Date.now() + 3_600_000), target(V4[1])];
      const report = await r.reconcile(active);
      assert.deepEqual(report.errors, []);
      assert.deepEqual(sorted(await r.list()), sorted([V4[0], V6[0], V4[1]]));
      if (current.structureIntact) assert.ok(current.structureIntact(), 'structure rebuilt');
      // An entry nobody owns any more is removed; active ones stay; a second run changes nothing.
      const second = await r.reconcile([target(V4[0])]);
      assert.deepEqual(sorted(second.removed), sorted([V6[0], V4[1]]));
      assert.deepEqual(await r.list(), [V4[0]]);
      const third = await r.reconcile([target(V4[0])]);
      assert.deepEqual([third.applied, third.removed, third.errors], [[], [], []]);
    });

    test('close keeps bans; a new instance sees them', async (t) => {
      if (!ready(t)) return;
      const current = subject as ContractSubject;
      await r.close();
      await r.close(); // twice is harmless
      r = current.create();
      await r.init();
      if (current.persistent) assert.deepEqual(await r.list(), [V4[0]]);
      allOk(await r.release([V4[0]]));
      assert.deepEqual(await r.list(), []);
    });
  });
}
