// nftables backend: our own table with one IPv4 and one IPv6 set (`flags timeout`, so the kernel
// lifts a ban at its end even when the daemon is down) and one chain that drops their members.
//
// Where the drop happens: `prerouting` at priority -300 (the "raw" slot, before conntrack at
// -200). A banned source is dropped before the kernel spends a conntrack entry on it (a flood
// from banned sources cannot fill the conntrack table), established connections are cut too, and
// forwarded traffic (containers, VMs behind this host) is covered, which an `input` hook would miss.
//
// Hot path: small batches go to one long-lived `nft -i` (see nft-session.ts), one line = one
// transaction; large batches (bulk reconcile) go through `nft -f -`, which parses 100k elements
// several times faster than the interactive reader. Both are one transaction per call.
//
// Ownership: this module owns the sets ban4/ban6 and the chain ban_prerouting in the table, and
// nothing else; other modules may add their own chains and sets to the same table (issue 3's
// trap rules), so we never flush or delete the table.

import { canonicalIp, type Family, ipFamily } from '../core/address.js';
import { formatDuration } from '../core/duration.js';
import { errorMessage, SentinelError, UnsupportedError } from '../core/errors.js';
import type { ActionResult, BanTarget, ReconcileReport, Responder, ResponderContext } from './contract.js';
import { NftSession } from './nft-session.js';

export const NFT_SET_V4 = 'ban4';
export const NFT_SET_V6 = 'ban6';
export const NFT_BAN_CHAIN = 'ban_prerouting';
/** Raw priority: before conntrack (-200), so banned sources never get a conntrack entry. */
export const NFT_BAN_PRIORITY = -300;
/** Batches with more addresses than this go through `nft -f -` instead of the session. */
const SESSION_MAX_ADDRESSES = 256;
/** How far the kernel's remaining time may drift from the store's `until` before reconcile re-applies it. */
const EXPIRY_TOLERANCE_MS = 5000;
/** Wait before restarting a session that died, and after one that failed to start. */
const SESSION_RETRY_MS = 5000;
const SESSION_START_BACKOFF_MS = 60_000;

export interface NftablesOptions {
  table: string;
  family?: 'inet';
  /** The nft program (PATH lookup by default). */
  nft?: string;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

function checkTableName(table: string): void {
  if (!IDENTIFIER.test(table)) {
    throw new SentinelError(
      'E_CONFIG',
      `respond.nftables.table: "${table}" is not a valid nftables table name`,
    );
  }
}

/**
 * The idempotent script that creates (or repairs) everything this backend owns, and nothing else.
 * `add` leaves existing objects alone; only our own chain is flushed and refilled, in the same
 * transaction, so there is no moment without the drop rules.
 */
export function nftablesBaseRuleset(table: string, family: 'inet' = 'inet'): string {
  checkTableName(table);
  const t = `${family} ${table}`;
  return [
    `add table ${t}`,
    // `dynamic`: trap mode's kernel rules add to these sets (`add @ban4 {...}`), which makes the
    // kernel mark them dynamic; re-declaring them without the flag then fails ("File exists").
    `add set ${t} ${NFT_SET_V4} { type ipv4_addr; flags dynamic,timeout; }`,
    `add set ${t} ${NFT_SET_V6} { type ipv6_addr; flags dynamic,timeout; }`,
    `add chain ${t} ${NFT_BAN_CHAIN} { type filter hook prerouting priority ${NFT_BAN_PRIORITY}; policy accept; }`,
    `flush chain ${t} ${NFT_BAN_CHAIN}`,
    `add rule ${t} ${NFT_BAN_CHAIN} ip saddr @${NFT_SET_V4} counter drop`,
    `add rule ${t} ${NFT_BAN_CHAIN} ip6 saddr @${NFT_SET_V6} counter drop`,
    '',
  ].join('\n');
}

/** nft's time syntax; a plain `Nms` is limited to 32 bits, so spell out days/hours/... (`1d2h3m4s5ms`). */
export function nftTimeout(ms: number): string {
  return formatDuration(Math.max(1, Math.round(ms)));
}

interface Entry {
  address: string;
  family: Family;
  /** Remaining ms, or null for permanent. */
  remaining: number | null;
}

/** Live element as the kernel reports it. */
interface SetElement {
  address: string;
  /** Remaining ms, or null when the element has no timeout. */
  expiresMs: number | null;
}

export class NftablesResponder implements Responder {
  readonly name = 'nftables';
  private readonly table: string;
  private readonly family: 'inet';
  private readonly nft: string;
  private session: NftSession | undefined;
  /** No new session attempt before this time (epoch ms). */
  private nextSessionAttempt = 0;

  constructor(
    private readonly ctx: ResponderContext,
    options: NftablesOptions,
  ) {
    checkTableName(options.table);
    this.table = options.table;
    this.family = options.family ?? 'inet';
    this.nft = options.nft ?? 'nft';
  }

  private get ref(): string {
    return `${this.family} ${this.table}`;
  }

  async init(): Promise<void> {
    const version = await this.ctx.run([this.nft, '--version'], { timeoutMs: 5000 });
    if (version.code !== 0) {
      throw new UnsupportedError(
        `nftables: cannot run ${this.nft}: ${firstLine(version.stderr) || 'not found'}`,
      );
    }
    const applied = await this.ctx.run([this.nft, '-f', '-'], {
      input: nftablesBaseRuleset(this.table, this.family),
      timeoutMs: 10_000,
    });
    if (applied.code !== 0) {
      throw new UnsupportedError(`nftables: cannot create table ${this.ref}: ${firstLine(applied.stderr)}`);
    }
    await this.ensureSession();
  }

  async block(targets: BanTarget[]): Promise<ActionResult[]> {
    const now = this.ctx.now();
    const results: ActionResult[] = [];
    const entries: Entry[] = [];
    const expired: string[] = [];
    for (const t of targets) {
      const address = canonicalIp(t.address);
      const family = address ? ipFamily(address) : undefined;
      if (!address || !family) {
        results.push({ address: t.address, ok: false, error: 'not an IP address' });
        continue;
      }
      if (t.until !== null && t.until <= now) {
        expired.push(address); // nothing to enforce; make sure no stale element lingers
        continue;
      }
      entries.push({ address, family, remaining: t.until === null ? null : t.until - now });
    }
    if (entries.length === 0 && expired.length === 0) return results;
    // add (so the element exists) + delete + add with the new timeout, in one transaction: this
    // both creates new bans and replaces the timeout of existing ones, without ever failing on
    // "exists" / "does not exist" and without a moment where the address is unbanned.
    const commands = [...this.releaseCommands(expired), ...this.replaceCommands(entries)];
    const outcome = await this.apply(commands, entries.length + expired.length);
    for (const e of entries) results.push(withOutcome(e.address, outcome));
    for (const a of expired) results.push(withOutcome(a, outcome));
    return results;
  }

  async release(addresses: string[]): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    const valid: string[] = [];
    for (const a of addresses) {
      const address = canonicalIp(a);
      if (address) valid.push(address);
      else results.push({ address: a, ok: false, error: 'not an IP address' });
    }
    if (valid.length === 0) return results;
    const outcome = await this.apply(this.releaseCommands(valid), valid.length);
    for (const a of valid) results.push(withOutcome(a, outcome));
    return results;
  }

  async list(): Promise<string[]> {
    const state = await this.readState();
    return [...state.elements.keys()];
  }

  async reconcile(active: BanTarget[]): Promise<ReconcileReport> {
    const report: ReconcileReport = { applied: [], removed: [], errors: [] };
    const now = this.ctx.now();
    let state: TableState;
    try {
      state = await this.readState();
    } catch (err) {
      report.errors.push(errorMessage(err));
      return report;
    }
    const commands: string[] = [];
    if (!state.baseIntact) {
      commands.push(...nftablesBaseRuleset(this.table, this.family).trim().split('\n'));
      this.ctx.log('warn', `nftables: table ${this.ref} was incomplete (flushed or deleted); rebuilt`);
    }
    const wanted = new Map<string, Entry>();
    for (const t of active) {
      const address = canonicalIp(t.address);
      const family = address ? ipFamily(address) : undefined;
      if (!address || !family) {
        report.errors.push(`${t.address}: not an IP address`);
        continue;
      }
      if (t.until !== null && t.until <= now) continue;
      wanted.set(address, { address, family, remaining: t.until === null ? null : t.until - now });
    }
    const toAdd: Entry[] = [];
    const toReplace: Entry[] = [];
    for (const e of wanted.values()) {
      const live = state.elements.get(e.address);
      if (!live) toAdd.push(e);
      else if (!sameExpiry(live.expiresMs, e.remaining)) toReplace.push(e);
    }
    const orphans = [...state.elements.keys()].filter((a) => !wanted.has(a));
    // The sets are fresh after a rebuild only if they did not exist; `add` is safe either way.
    commands.push(
      ...this.addCommands(toAdd),
      ...this.replaceCommands(toReplace),
      ...this.deleteCommands(orphans),
    );
    if (commands.length === 0) return report;
    const outcome = await this.apply(commands, toAdd.length + toReplace.length + orphans.length);
    if (!outcome.ok) {
      report.errors.push(`nftables reconcile: ${outcome.error ?? 'failed'}`);
      return report;
    }
    report.applied.push(...toAdd.map((e) => e.address), ...toReplace.map((e) => e.address));
    report.removed.push(...orphans);
    return report;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }

  // ---- commands ----------------------------------------------------------------------------

  private setFor(family: Family): string {
    return `${this.ref} ${family === 4 ? NFT_SET_V4 : NFT_SET_V6}`;
  }

  private byFamily<T extends { family: Family }>(items: T[]): [Family, T[]][] {
    const v4 = items.filter((i) => i.family === 4);
    const v6 = items.filter((i) => i.family === 6);
    return (
      [
        [4, v4],
        [6, v6],
      ] as [Family, T[]][]
    ).filter(([, list]) => list.length > 0);
  }

  private addCommands(entries: Entry[]): string[] {
    return this.byFamily(entries).map(
      ([family, list]) => `add element ${this.setFor(family)} { ${list.map(elementText).join(', ')} }`,
    );
  }

  private replaceCommands(entries: Entry[]): string[] {
    return this.byFamily(entries).flatMap(([family, list]) => {
      const set = this.setFor(family);
      const bare = list.map((e) => e.address).join(', ');
      return [
        `add element ${set} { ${bare} }`,
        `delete element ${set} { ${bare} }`,
        `add element ${set} { ${list.map(elementText).join(', ')} }`,
      ];
    });
  }

  /** Idempotent removal: add-then-delete never fails on an address we do not hold. */
  private releaseCommands(addresses: string[]): string[] {
    const entries = addresses.map((address) => ({ address, family: ipFamily(address) ?? 4 }));
    return this.byFamily(entries).flatMap(([family, list]) => {
      const bare = list.map((e) => e.address).join(', ');
      return [
        `add element ${this.setFor(family)} { ${bare} }`,
        `delete element ${this.setFor(family)} { ${bare} }`,
      ];
    });
  }

  /** Plain delete, for elements we just saw in the set. */
  private deleteCommands(addresses: string[]): string[] {
    const entries = addresses.map((address) => ({ address, family: ipFamily(address) ?? 4 }));
    return this.byFamily(entries).map(
      ([family, list]) =>
        `delete element ${this.setFor(family)} { ${list.map((e) => e.address).join(', ')} }`,
    );
  }

  // ---- execution ---------------------------------------------------------------------------

  /** Runs the commands as ONE transaction: the session for small batches, `nft -f -` for bulk. */
  private async apply(commands: string[], size: number): Promise<{ ok: boolean; error?: string }> {
    if (size <= SESSION_MAX_ADDRESSES) {
      const session = await this.ensureSession();
      if (session) {
        try {
          return await session.exec(commands.join('; '));
        } catch (err) {
          // The session died mid-batch. Every batch we send is idempotent, so re-running it
          // through a one-shot nft is safe whether or not the first attempt committed.
          this.ctx.log('warn', `nftables: ${errorMessage(err)}; falling back to nft -f`);
        }
      }
    }
    const r = await this.ctx.run([this.nft, '-f', '-'], {
      input: `${commands.join('\n')}\n`,
      timeoutMs: 60_000,
    });
    if (r.code === 0) return { ok: true };
    return { ok: false, error: r.timedOut ? 'nft timed out' : firstErrors(r.stderr) };
  }

  /** The running session, (re)started after a pause when it died; undefined = use nft -f. */
  private async ensureSession(): Promise<NftSession | undefined> {
    if (this.session?.alive) return this.session;
    const now = Date.now();
    if (now < this.nextSessionAttempt) return undefined;
    // After a crash mid-run, try again soon; after a failed start, wait longer (it will likely fail again).
    this.nextSessionAttempt = now + SESSION_RETRY_MS;
    const session = new NftSession([...(this.ctx.spawnPrefix ?? []), this.nft, '-i'], (reason) =>
      this.ctx.log('warn', `nftables: ${reason}`),
    );
    try {
      await session.start();
      this.session = session;
      return session;
    } catch (err) {
      this.nextSessionAttempt = Date.now() + SESSION_START_BACKOFF_MS;
      this.ctx.log(
        'warn',
        `nftables: persistent nft unavailable (${errorMessage(err)}); using nft -f per batch`,
      );
      await session.close();
      this.session = undefined;
      return undefined;
    }
  }

  // ---- reading -----------------------------------------------------------------------------

  private async readState(): Promise<TableState> {
    const r = await this.ctx.run([this.nft, '-j', 'list', 'table', this.family, this.table], {
      timeoutMs: 30_000,
    });
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return { baseIntact: false, elements: new Map() };
      throw new SentinelError('E_SPAWN', `nftables: cannot list ${this.ref}: ${firstErrors(r.stderr)}`);
    }
    return parseTableState(r.stdout);
  }
}

interface TableState {
  /** Both sets and our chain with its two rules are present. */
  baseIntact: boolean;
  elements: Map<string, SetElement>;
}

/** Reads `nft -j list table` output: our sets' elements and whether our chain is intact. */
export function parseTableState(json: string): TableState {
  const doc = JSON.parse(json) as { nftables?: Record<string, unknown>[] };
  const elements = new Map<string, SetElement>();
  const sets = new Set<string>();
  let chain = false;
  let rules = 0;
  for (const item of doc.nftables ?? []) {
    const set = item.set as { name?: string; elem?: unknown[] } | undefined;
    if (set && (set.name === NFT_SET_V4 || set.name === NFT_SET_V6)) {
      sets.add(set.name);
      for (const el of set.elem ?? []) {
        const parsed = parseElement(el);
        if (parsed) elements.set(parsed.address, parsed);
      }
    }
    const ch = item.chain as { name?: string; hook?: string } | undefined;
    if (ch?.name === NFT_BAN_CHAIN && ch.hook === 'prerouting') chain = true;
    const rule = item.rule as { chain?: string; expr?: unknown } | undefined;
    if (rule?.chain === NFT_BAN_CHAIN) {
      const text = JSON.stringify(rule.expr);
      if (text.includes(`"@${NFT_SET_V4}"`) || text.includes(`"@${NFT_SET_V6}"`)) rules++;
    }
  }
  return { baseIntact: sets.size === 2 && chain && rules === 2, elements };
}

function parseElement(el: unknown): SetElement | undefined {
  if (typeof el === 'string') {
    const address = canonicalIp(el);
    return address ? { address, expiresMs: null } : undefined;
  }
  const wrapped = (el as { elem?: { val?: unknown; timeout?: number; expires?: number } } | null)?.elem;
  if (!wrapped || typeof wrapped.val !== 'string') return undefined;
  const address = canonicalIp(wrapped.val);
  if (!address) return undefined;
  // JSON gives seconds; an element without timeout has neither field.
  const expiresMs = typeof wrapped.expires === 'number' ? wrapped.expires * 1000 : null;
  return { address, expiresMs };
}

function sameExpiry(liveMs: number | null, wantedMs: number | null): boolean {
  if (liveMs === null || wantedMs === null) return liveMs === wantedMs;
  return Math.abs(liveMs - wantedMs) <= EXPIRY_TOLERANCE_MS;
}

function elementText(e: Entry): string {
  return e.remaining === null ? e.address : `${e.address} timeout ${nftTimeout(e.remaining)}`;
}

function withOutcome(address: string, outcome: { ok: boolean; error?: string }): ActionResult {
  return outcome.ok ? { address, ok: true } : { address, ok: false, error: outcome.error ?? 'nft failed' };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

function firstErrors(stderr: string): string {
  const errors = stderr
    .split('\n')
    .filter((l) => l.includes('Error:'))
    .map((l) => l.slice(l.indexOf('Error:') + 6).trim());
  const text = [...new Set(errors)].join('; ') || firstLine(stderr) || 'nft failed';
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}

export function createNftablesResponder(ctx: ResponderContext, options: NftablesOptions): NftablesResponder {
  return new NftablesResponder(ctx, options);
}
