// Turns a ban decision into enforcement, in the one order crash safety needs: the ban record is
// written to the store FIRST, then the backends are touched, then each backend's outcome is
// recorded (a failed backend is recorded and logged as failed, never as success). Releases go
// the other way: backends first, then the store. Used by the daemon and by the CLI when no
// daemon runs, so both paths behave the same.

import type { RespondConfig, ResponseLevel } from '../config/types.js';
import { ipFamily } from '../core/address.js';
import { errorMessage } from '../core/errors.js';
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

  /** Writes the ban record, then applies it in every backend its level asks for. */
  async ban(
    ban: NewBan,
    level: ResponseLevel = 'block',
  ): Promise<{ record: BanRecord; outcomes: BackendOutcome[] }> {
    const record = this.store.insertBan(ban);
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

  /** Lifts a ban in every backend, then marks it released/expired in the store. */
  async release(
    address: string,
    at: number,
    reason: string,
    state: Exclude<BanState, 'active'>,
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
    this.store.releaseBan(address, at, reason, state);
    this.events.released(address, reason, outcomes);
    return outcomes;
  }

  /** Releases every ban whose time is up. Returns the released addresses. */
  async expire(now: number): Promise<string[]> {
    const done: string[] = [];
    for (const ban of this.store.expiredActive(now)) {
      await this.release(ban.address, now, 'expired', 'expired');
      done.push(ban.address);
    }
    return done;
  }

  /**
   * Makes the backends hold exactly the store's active bans: expired ones released first, then
   * each backend re-applies what it misses and removes what nobody owns (a flushed table is
   * rebuilt the same way). Bans whose level is `command` only are not firewall entries.
   */
  async reconcile(now: number): Promise<void> {
    await this.expire(now);
    const active = this.store.activeBans();
    const firewall = active.filter((b) => this.levelOf(b.protocol) === 'block').map(targetOf);
    for (const responder of this.responders) {
      if (responder.name === 'command') continue;
      try {
        const report = await responder.reconcile(firewall);
        this.events.reconciled(responder.name, report);
      } catch (err) {
        this.events.problem(`reconcile ${responder.name}: ${errorMessage(err)}`);
      }
    }
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
