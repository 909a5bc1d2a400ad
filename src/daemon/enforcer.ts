// Turns a ban decision into enforcement, in the one order crash safety needs: the ban record is
// written to the store FIRST, then the backends are touched, then each backend's outcome is
// recorded (a failed backend is recorded and logged as failed, never as success). Releases go
// the other way: backends first, then the store. Used by the daemon and by the CLI when no
// daemon runs, so both paths behave the same.

import type { RespondConfig, ResponseLevel } from '../config/types.js';
import { type CidrSet, ipFamily } from '../core/address.js';
import { errorMessage, SentinelError } from '../core/errors.js';
import type { Protocol } from '../core/records.js';
import type { BanTarget, ReconcileReport, Responder } from '../responders/contract.js';
import { orderFor } from '../responders/registry.js';
import type { Store } from '../store/store.js';
import type { BanRecord, BanState, NewBan } from '../store/types.js';

export interface BackendOutcome {
  backend: string;
  ok: boolean;
  error?: string;
}

export interface EnforcerEvents {
  applied(ban: BanRecord, outcomes: BackendOutcome[]): void;
  released(address: string, reason: string, outcomes: BackendOutcome[]): void;
  reconciled(backend: string, report: ReconcileReport): void;
  problem(message: string): void;
}

export function targetOf(
  ban: Pick<BanRecord, 'address' | 'family' | 'until' | 'port' | 'protocol' | 'mode'>,
): BanTarget {
  const t: BanTarget = { address: ban.address, family: ban.family, until: ban.until };
  if (ban.port !== null) t.port = ban.port;
  if (ban.protocol !== null) t.protocol = ban.protocol;
  if (ban.mode !== null) t.mode = ban.mode as NonNullable<BanTarget['mode']>;
  return t;
}

export class Enforcer {
  constructor(
    readonly store: Store,
    private responders: Responder[],
    private respond: RespondConfig,
    private readonly events: EnforcerEvents,
  ) {}

  /** After a reload: new backends and levels; bans stay. */
  replace(responders: Responder[], respond: RespondConfig): void {
    this.responders = responders;
    this.respond = respond;
  }

  get backends(): Responder[] {
    return this.responders;
  }

  /** The response level a ban is enforced at: its protocol's level, `block` for manual bans. */
  levelOf(protocol: Protocol | null): ResponseLevel {
    return protocol ? this.respond[protocol] : 'block';
  }

  private ordered(level: ResponseLevel): Responder[] {
    return orderFor(level, this.respond.commandFirst, this.responders);
  }

  /**
   * Writes the ban record, then applies it in every backend its level asks for. `supersede`
   * (an escalation: a provisional ban confirmed, a ban renewed) ends the address's active ban
   * with that reason in the SAME transaction as the insert: with two commits, a `kill -9`
   * between them would leave the address with no ban at all. The old ban's firewall entry is
   * not lifted: the new ban takes its place there.
   */
  async ban(
    ban: NewBan,
    level: ResponseLevel = 'block',
    supersede?: string,
  ): Promise<{ record: BanRecord; outcomes: BackendOutcome[] }> {
    const record = this.store.transaction(() => {
      const old = supersede === undefined ? undefined : this.store.activeBan(ban.address);
      if (old && supersede !== undefined)
        this.store.releaseBanById(old.id, ban.createdAt, supersede, 'released');
      return this.store.insertBan(ban);
    });
    const outcomes = await this.applyRecord(record, level);
    return { record, outcomes };
  }

  async applyRecord(record: BanRecord, level: ResponseLevel): Promise<BackendOutcome[]> {
    const target = targetOf(record);
    const outcomes: BackendOutcome[] = [];
    for (const responder of this.ordered(level)) {
      let outcome: BackendOutcome;
      try {
        const [result] = await responder.block([target]);
        outcome = result?.ok
          ? { backend: responder.name, ok: true }
          : { backend: responder.name, ok: false, error: result?.error ?? 'no result' };
      } catch (err) {
        outcome = { backend: responder.name, ok: false, error: errorMessage(err) };
      }
      outcomes.push(outcome);
      try {
        this.store.recordApply(record.id, responder.name, outcome.ok ? 'ok' : `error: ${outcome.error}`);
      } catch (err) {
        this.events.problem(
          `store: recording ${responder.name} outcome for ${record.address}: ${errorMessage(err)}`,
        );
      }
    }
    this.events.applied(record, outcomes);
    return outcomes;
  }

  /**
   * Lifts a ban in every backend, then marks it released/expired in the store. The ban ended
   * in the store is the one active when the release STARTED (`banId`, or the address's active
   * ban now): while the backends are awaited, a new ban for the same address may be inserted
   * (a provisional ban expires as the scanner's next probe bans it again), and that one must
   * stay active. If such a newer ban exists afterwards, it is applied again, since lifting the
   * address in the backends may have removed its entry too.
   */
  async release(
    address: string,
    at: number,
    reason: string,
    state: Exclude<BanState, 'active'>,
    banId: number | undefined = this.store.activeBan(address)?.id,
  ): Promise<BackendOutcome[]> {
    const outcomes: BackendOutcome[] = [];
    for (const responder of this.responders) {
      try {
        const [result] = await responder.release([address]);
        outcomes.push(
          result?.ok === false
            ? { backend: responder.name, ok: false, error: result.error ?? 'failed' }
            : { backend: responder.name, ok: true },
        );
      } catch (err) {
        outcomes.push({ backend: responder.name, ok: false, error: errorMessage(err) });
      }
    }
    if (banId !== undefined) this.store.releaseBanById(banId, at, reason, state);
    this.events.released(address, reason, outcomes);
    const newer = this.store.activeBan(address);
    if (newer && newer.id !== banId) await this.applyRecord(newer, this.levelOf(newer.protocol));
    return outcomes;
  }

  /** Releases every ban whose time is up. Returns the released addresses. */
  async expire(now: number): Promise<string[]> {
    const done: string[] = [];
    for (const ban of this.store.expiredActive(now)) {
      await this.release(ban.address, now, 'expired', 'expired', ban.id);
      done.push(ban.address);
    }
    return done;
  }

  /**
   * Releases active bans of addresses that are now in the never-block set (an address added to
   * the ignore list, or a new gateway, after it was banned): the set always wins over a ban.
   * Returns the released addresses.
   */
  async releaseNeverBlocked(now: number, neverBlock: CidrSet): Promise<string[]> {
    const done: string[] = [];
    for (const ban of this.store.activeBans()) {
      const label = neverBlock.match(ban.address);
      if (label === undefined) continue;
      const why = `never-block (${label || 'never-block list'})`;
      this.events.problem(`releasing the ban of ${ban.address}: the address is now in the ${why} set`);
      await this.release(ban.address, now, why, 'released', ban.id);
      done.push(ban.address);
    }
    return done;
  }

  /**
   * Makes the backends hold exactly the store's active bans: expired ones released first, then
   * each backend re-applies what it misses and removes what nobody owns (a flushed table is
   * rebuilt the same way). Bans whose level is `command` only are not firewall entries.
   */
  async reconcile(now: number, neverBlock?: CidrSet): Promise<string[]> {
    const released = await this.expire(now);
    if (neverBlock) released.push(...(await this.releaseNeverBlocked(now, neverBlock)));
    const active = this.store.activeBans();
    const firewall = active.filter((b) => this.levelOf(b.protocol) === 'block').map(targetOf);
    const firewalls = this.responders.filter((r) => r.name !== 'command');
    for (const responder of firewalls) {
      try {
        const report = await responder.reconcile(firewall);
        this.events.reconciled(responder.name, report);
      } catch (err) {
        this.events.problem(`reconcile ${responder.name}: ${errorMessage(err)}`);
      }
    }
    // A ban inserted and applied while the backends reconciled (the hot path does not wait for
    // maintenance) was not in `firewall`, so a backend may just have removed it as an orphan:
    // apply every such ban again (blocking is idempotent in every backend).
    const known = new Set(active.map((b) => b.id));
    const added = this.store
      .activeBans()
      .filter((b) => !known.has(b.id) && this.levelOf(b.protocol) === 'block')
      .map(targetOf);
    if (added.length > 0) {
      for (const responder of firewalls) {
        try {
          const results = await responder.block(added);
          for (const r of results) {
            if (!r.ok)
              this.events.problem(`reconcile ${responder.name}: re-applying ${r.address}: ${r.error}`);
          }
        } catch (err) {
          this.events.problem(`reconcile ${responder.name}: re-applying new bans: ${errorMessage(err)}`);
        }
      }
    }
    return released;
  }
}

/** A manual ban's record (CLI `block`). */
export function manualBan(address: string, now: number, forMs: number | null, reason = 'manual'): NewBan {
  const family = ipFamily(address);
  if (!family) throw new Error(`not an IP address: ${address}`);
  return {
    address,
    family,
    createdAt: now,
    until: forMs === null || forMs === 0 ? null : now + forMs,
    origin: 'manual',
    reason,
    offence: 1,
    evidence: null,
  };
}

/**
 * Refuses a manual ban of an address in the never-block set (loopback, this host, its gateways
 * and resolvers, the ignore list): `portsentinel block 127.0.0.1` or the gateway would cut the
 * host off. `force` overrides it, on the operator's word.
 */
export function refuseNeverBlock(address: string, neverBlock: CidrSet, force: boolean): void {
  const label = neverBlock.match(address);
  if (label === undefined || force) return;
  throw new SentinelError(
    'E_ADDRESS',
    `refusing to block ${address}: it is in the never-block set (${label || 'never-block list'}); use --force to block it anyway`,
  );
}
