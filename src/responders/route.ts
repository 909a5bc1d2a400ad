// Blackhole-route backend: `ip route add blackhole ADDR proto 252` (and the IPv6 twin). The
// private protocol number marks OUR routes: list, release and reconcile filter on it, so a
// route anyone else put in the table is never touched. All changes of a call go through one
// `ip -force -batch -` run; `-force` keeps going past a failing line and `Command failed -:N`
// tells us which line (= which address) failed.

import { canonicalIp, type Family, ipFamily } from '../core/address.js';
import { SentinelError, UnsupportedError } from '../core/errors.js';
import type { ActionResult, BanTarget, ReconcileReport, Responder, ResponderContext } from './contract.js';

/** rtnetlink protocol number of our routes (RTPROT values 0..4 and 8..19, 42, 99, 186, 187, 188... are taken; 252 is free). */
export const ROUTE_PROTO = 252;

export interface RouteOptions {
  ip?: string;
  proto?: number;
}

interface BatchLine {
  address: string;
  line: string;
  /** Errors that mean "already as wanted": EEXIST on add, ESRCH on delete. */
  benign: RegExp;
}

export class RouteResponder implements Responder {
  readonly name = 'route';
  private readonly ip: string;
  private readonly proto: number;

  constructor(
    private readonly ctx: ResponderContext,
    options: RouteOptions = {},
  ) {
    this.ip = options.ip ?? 'ip';
    this.proto = options.proto ?? ROUTE_PROTO;
  }

  async init(): Promise<void> {
    const r = await this.ctx.run([this.ip, '-j', 'route', 'show', 'proto', String(this.proto)], {
      timeoutMs: 5000,
    });
    if (r.code !== 0) {
      throw new UnsupportedError(
        `route: cannot run ${this.ip}: ${r.stderr.trim().split('\n')[0] || 'not found'}`,
      );
    }
  }

  async block(targets: BanTarget[]): Promise<ActionResult[]> {
    return this.batch(
      targets.map((t) => t.address),
      (a) => ({
        address: a,
        line: `route add blackhole ${a} proto ${this.proto}`,
        benign: /File exists/,
      }),
    );
  }

  async release(addresses: string[]): Promise<ActionResult[]> {
    return this.batch(addresses, (a) => this.deleteLine(a));
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const family of [4, 6] as Family[]) {
      const r = await this.ctx.run(
        [this.ip, '-j', `-${family}`, 'route', 'show', 'type', 'blackhole', 'proto', String(this.proto)],
        { timeoutMs: 30_000 },
      );
      if (r.code !== 0) throw new SentinelError('E_SPAWN', `route: cannot list routes: ${r.stderr.trim()}`);
      const routes = (r.stdout.trim() === '' ? [] : JSON.parse(r.stdout)) as { dst?: string }[];
      for (const route of routes) {
        const a = route.dst ? canonicalIp(route.dst.replace(/\/(32|128)$/, '')) : undefined;
        if (a) out.push(a);
      }
    }
    return out;
  }

  async reconcile(active: BanTarget[]): Promise<ReconcileReport> {
    const report: ReconcileReport = { applied: [], removed: [], errors: [] };
    const now = this.ctx.now();
    const wanted = new Set<string>();
    for (const t of active) {
      const a = canonicalIp(t.address);
      if (!a) report.errors.push(`${t.address}: not an IP address`);
      else if (t.until === null || t.until > now) wanted.add(a);
    }
    const held = new Set(await this.list());
    const missing = [...wanted].filter((a) => !held.has(a));
    const orphans = [...held].filter((a) => !wanted.has(a));
    const lines = [
      ...missing.map((a) => ({
        address: a,
        line: `route add blackhole ${a} proto ${this.proto}`,
        benign: /File exists/,
      })),
      ...orphans.map((a) => this.deleteLine(a)),
    ];
    const results = await this.runBatch(lines);
    results.forEach((r, i) => {
      if (!r.ok) report.errors.push(`${r.address}: ${r.error}`);
      else if (i < missing.length) report.applied.push(r.address);
      else report.removed.push(r.address);
    });
    return report;
  }

  async close(): Promise<void> {}

  private deleteLine(address: string): BatchLine {
    return { address, line: `route del blackhole ${address} proto ${this.proto}`, benign: /No such process/ };
  }

  private async batch(addresses: string[], toLine: (address: string) => BatchLine): Promise<ActionResult[]> {
    const invalid: ActionResult[] = [];
    const lines: BatchLine[] = [];
    for (const a of addresses) {
      const c = canonicalIp(a);
      if (c && ipFamily(c)) lines.push(toLine(c));
      else invalid.push({ address: a, ok: false, error: 'not an IP address' });
    }
    return [...invalid, ...(await this.runBatch(lines))];
  }

  /** One `ip -force -batch -` run; per-line outcome from `Command failed -:N` markers. */
  private async runBatch(lines: BatchLine[]): Promise<ActionResult[]> {
    if (lines.length === 0) return [];
    const r = await this.ctx.run([this.ip, '-force', '-batch', '-'], {
      input: `${lines.map((l) => l.line).join('\n')}\n`,
      timeoutMs: 60_000,
    });
    if (r.timedOut) return lines.map((l) => ({ address: l.address, ok: false, error: 'ip timed out' }));
    if (r.code === null)
      return lines.map((l) => ({ address: l.address, ok: false, error: r.stderr.trim() || 'cannot run ip' }));
    const failed = new Map<number, string>();
    let pending: string[] = [];
    for (const text of r.stderr.split('\n')) {
      const m = /^Command failed -:(\d+)/.exec(text);
      if (m) {
        failed.set(Number(m[1]) - 1, pending.join('; ') || 'failed');
        pending = [];
      } else if (text.trim() !== '') pending.push(text.trim());
    }
    if (r.code !== 0 && failed.size === 0) {
      const error = r.stderr.trim().split('\n')[0] || `ip exited with ${r.code}`;
      return lines.map((l) => ({ address: l.address, ok: false, error }));
    }
    return lines.map((l, i) => {
      const error = failed.get(i);
      if (error === undefined || l.benign.test(error)) return { address: l.address, ok: true };
      return { address: l.address, ok: false, error };
    });
  }
}
