// The do-nothing backend: records what it would have done, in memory, so dry-run mode and tests
// exercise the whole decision path without touching the host.

import { canonicalIp } from '../core/address.js';
import type { ActionResult, BanTarget, ReconcileReport, Responder } from './contract.js';

export interface DryRunAction {
  verb: 'block' | 'release';
  address: string;
  until: number | null;
  at: number;
}

/** Bounded, so a long dry run cannot grow memory without limit. */
const MAX_ACTIONS = 10_000;

export class DryRunResponder implements Responder {
  readonly name = 'dry-run';
  /** What would have been done, oldest first (the last MAX_ACTIONS). */
  readonly actions: DryRunAction[] = [];
  private readonly held = new Map<string, BanTarget>();

  constructor(private readonly now: () => number = Date.now) {}

  async init(): Promise<void> {}

  async block(targets: BanTarget[]): Promise<ActionResult[]> {
    return targets.map((t) => {
      const address = canonicalIp(t.address);
      if (!address) return { address: t.address, ok: false, error: 'not an IP address' };
      this.held.set(address, { ...t, address });
      this.record('block', address, t.until);
      return { address, ok: true };
    });
  }

  async release(addresses: string[]): Promise<ActionResult[]> {
    return addresses.map((a) => {
      const address = canonicalIp(a);
      if (!address) return { address: a, ok: false, error: 'not an IP address' };
      this.held.delete(address);
      this.record('release', address, null);
      return { address, ok: true };
    });
  }

  async list(): Promise<string[]> {
    const now = this.now();
    return [...this.held.values()].filter((t) => t.until === null || t.until > now).map((t) => t.address);
  }

  async reconcile(active: BanTarget[]): Promise<ReconcileReport> {
    const report: ReconcileReport = { applied: [], removed: [], errors: [] };
    const now = this.now();
    const wanted = new Map<string, BanTarget>();
    for (const t of active) {
      const address = canonicalIp(t.address);
      if (!address) report.errors.push(`${t.address}: not an IP address`);
      else if (t.until === null || t.until > now) wanted.set(address, { ...t, address });
    }
    for (const address of [...this.held.keys()]) {
      if (!wanted.has(address)) {
        this.held.delete(address);
        this.record('release', address, null);
        report.removed.push(address);
      }
    }
    for (const [address, t] of wanted) {
      if (!this.held.has(address)) {
        this.record('block', address, t.until);
        report.applied.push(address);
      }
      this.held.set(address, t);
    }
    return report;
  }

  async close(): Promise<void> {}

  private record(verb: DryRunAction['verb'], address: string, until: number | null): void {
    this.actions.push({ verb, address, until, at: this.now() });
    if (this.actions.length > MAX_ACTIONS) this.actions.splice(0, this.actions.length - MAX_ACTIONS);
  }
}
