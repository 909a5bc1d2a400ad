import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RespondConfig } from '../config/types.js';
import { CidrSet } from '../core/address.js';
import { SentinelError } from '../core/errors.js';
import type { BanTarget, ReconcileReport, Responder } from '../responders/contract.js';
import { Store } from '../store/store.js';
import type { NewBan } from '../store/types.js';
import { Enforcer, refuseNeverBlock } from './enforcer.js';

const T0 = Date.UTC(2024, 0, 1);
const A = '198.51.100.7';

/** A firewall in memory; `pause` makes the next release/reconcile wait until `resume()`. */
class FakeFirewall implements Responder {
  readonly name = 'fake';
  readonly held = new Set<string>();
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  /** Called once a paused operation has read its input and is waiting. */
  onPaused: (() => void) | undefined;

  pause(): Promise<void> {
    return new Promise((paused) => {
      this.gate = new Promise((r) => {
        this.open = r;
      });
      this.onPaused = paused;
    });
  }
  resume(): void {
    this.open?.();
    this.gate = undefined;
  }
  private async wait(): Promise<void> {
    const gate = this.gate;
    if (!gate) return;
    this.onPaused?.();
    await gate;
  }
  async init(): Promise<void> {}
  async block(targets: BanTarget[]) {
    for (const t of targets) this.held.add(t.address);
    return targets.map((t) => ({ address: t.address, ok: true }));
  }
  async release(addresses: string[]) {
    await this.wait();
    for (const a of addresses) this.held.delete(a);
    return addresses.map((address) => ({ address, ok: true }));
  }
  async list(): Promise<string[]> {
    return [...this.held];
  }
  async reconcile(active: BanTarget[]): Promise<ReconcileReport> {
    const want = new Set(active.map((t) => t.address));
    await this.wait(); // the state was read; the store may change now
    const removed = [...this.held].filter((a) => !want.has(a));
    for (const a of removed) this.held.delete(a);
    for (const a of want) this.held.add(a);
    return { applied: [], removed, errors: [] };
  }
  async close(): Promise<void> {}
}

function setup() {
  const store = Store.open(':memory:');
  const firewall = new FakeFirewall();
  const problems: string[] = [];
  const respond = { tcp: 'block', udp: 'block', commandFirst: false } as RespondConfig;
  const enforcer = new Enforcer(store, [firewall], respond, {
    applied: () => undefined,
    released: () => undefined,
    reconciled: () => undefined,
    problem: (m) => problems.push(m),
  });
  return { store, firewall, enforcer, problems };
}

function ban(address: string, over: Partial<NewBan> = {}): NewBan {
  return {
    address,
    family: address.includes(':') ? 6 : 4,
    createdAt: T0,
    until: T0 + 30_000,
    origin: 'detector',
    reason: 'scan',
    offence: 1,
    evidence: null,
    port: 22,
    protocol: 'tcp',
    mode: 'trap',
    ...over,
  };
}

describe('Enforcer', () => {
  test('a release ends the ban it started with, not a newer ban made while it waited', async () => {
    const { store, firewall, enforcer } = setup();
    const a = (await enforcer.ban(ban(A, { offence: 0 }))).record;
    const paused = firewall.pause();
    const releasing = enforcer.release(A, T0 + 30_000, 'expired', 'expired');
    await paused;
    // Meanwhile the scanner's next probe bans it again (supersede + insert, one transaction).
    const b = (await enforcer.ban(ban(A, { createdAt: T0 + 30_000 }), 'block', 'superseded')).record;
    firewall.resume();
    await releasing;
    assert.equal(store.activeBan(A)?.id, b.id, 'B is still the active ban');
    assert.equal(store.ban(a.id)?.state, 'released', 'A was superseded');
    assert.ok(firewall.held.has(A), 'and the firewall holds B again after lifting A');
    store.close();
  });

  test('supersede and insert commit together: a failed insert keeps the old ban', async () => {
    const { store, enforcer } = setup();
    const a = (await enforcer.ban(ban(A, { offence: 0 }))).record;
    const insertBan = store.insertBan;
    store.insertBan = () => {
      throw new Error('disk full'); // after the old ban was ended inside the transaction
    };
    await assert.rejects(enforcer.ban(ban(A), 'block', 'superseded'), /disk full/);
    store.insertBan = insertBan;
    assert.equal(store.activeBan(A)?.id, a.id, 'the old ban was not ended');
    const b = (await enforcer.ban(ban(A), 'block', 'superseded')).record;
    assert.equal(store.activeBan(A)?.id, b.id);
    assert.equal(store.ban(a.id)?.releaseReason, 'superseded');
    store.close();
  });

  test('reconcile re-applies a ban created while a backend reconciled', async () => {
    const { store, firewall, enforcer } = setup();
    await enforcer.ban(ban('198.51.100.1'));
    const paused = firewall.pause();
    const reconciling = enforcer.reconcile(T0);
    await paused;
    firewall.resume(); // the fake removes orphans after the gate; insert before it runs on
    await enforcer.ban(ban(A));
    await reconciling;
    assert.ok(firewall.held.has(A), 'the new ban is in force');
    assert.ok(firewall.held.has('198.51.100.1'));
    assert.equal(store.activeBans().length, 2);
    store.close();
  });

  test('reconcile releases bans of addresses now in the never-block set, and says so', async () => {
    const { store, firewall, enforcer, problems } = setup();
    await enforcer.ban(ban(A));
    await enforcer.ban(ban('198.51.100.8'));
    const neverBlock = new CidrSet().add('198.51.100.0/29', 'ignore-list');
    const released = await enforcer.reconcile(T0, neverBlock);
    assert.deepEqual(released, [A]);
    assert.equal(store.activeBan(A), undefined);
    assert.match(store.bans({ address: A })[0]?.releaseReason ?? '', /never-block \(ignore-list\)/);
    assert.ok(!firewall.held.has(A));
    assert.ok(firewall.held.has('198.51.100.8'));
    assert.ok(problems.some((m) => m.includes(A) && m.includes('ignore-list')));
    store.close();
  });

  test('a manual block of a never-block address is refused with the reason, unless forced', () => {
    const set = new CidrSet().add('127.0.0.0/8', 'loopback');
    assert.throws(
      () => refuseNeverBlock('127.0.0.1', set, false),
      (err: unknown) =>
        err instanceof SentinelError && err.code === 'E_ADDRESS' && /loopback.*--force/.test(err.message),
    );
    assert.doesNotThrow(() => refuseNeverBlock('127.0.0.1', set, true));
    assert.doesNotThrow(() => refuseNeverBlock(A, set, false));
  });
});
