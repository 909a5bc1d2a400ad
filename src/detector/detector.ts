// The detection policy: a pure state machine on event time. Probe events go in, decisions come
// out; tick(now) releases expired bans and emits one summary per finished scanner burst. No
// timers, no I/O, no clock and no randomness: the same events (and ticks) give the same decisions,
// so a replayed capture explains itself exactly as the live run did.
//
// Rules, in the order they are checked for each probe:
//   1. never-block set (loopback, own addresses, gateways, resolvers, ignore list) → skip
//      'allow-listed' with the entry's label; the probe is not tracked at all;
//   2. the probe is added to the source's burst evidence (also for already-blocked sources);
//   3. an active ban → skip 'already-blocked';
//   4. fewer than `threshold` probes within `window` → skip 'below-threshold';
//   5. response level `alert` for the protocol → skip 'alert-only';
//   6. an unverified source (anything but a completed TCP handshake: its address may be forged)
//      that is not corroborated (`corroboratePorts` distinct ports in the burst) and without
//      `blockUnverifiedUdp` → a provisional ban of `provisionalBan` ms (not an offence), or skip
//      'alert-only' when that is 0 or the source is a session peer;
//   7. the new-ban rate cap is exhausted → skip 'rate-limited' (a later probe may still block);
//   8. otherwise block, for banLength(offence) where offence = earlier bans + 1.
// A source under a provisional ban that gets corroborated goes through 7–8 again (full ban).

import { canonicalIp, parseIp } from '../core/address.js';
import { formatDuration } from '../core/duration.js';
import type { BurstOutcome, BurstSummary, Decision, ProbeEvent } from '../core/records.js';
import { type Ban, BanTable } from './ban-table.js';
import { banLength, DETECTOR_DEFAULTS, type DetectorOptions } from './options.js';
import { fromBits, MODES, OUTCOMES, PROTOCOLS, SourceTable, TECHNIQUES } from './source-table.js';
import { TokenBucket } from './token-bucket.js';

/** Summaries waiting for the next tick; a bound so a detector nobody ticks cannot grow. */
const MAX_PENDING_SUMMARIES = 10_000;
/** The sliding window keeps `threshold` times per source (8 bytes each, see source-table.ts). */
const MAX_THRESHOLD = 1000;

export interface DetectorStats {
  /** Sources currently in the table. */
  tracked: number;
  /** Sources dropped from the table to stay within maxSources. */
  evicted: number;
  maxSources: number;
  /** Block decisions turned into 'rate-limited' skips by the ban rate cap. */
  rateLimited: number;
  /** Bans the detector holds (decided here or restored). */
  bans: number;
  observed: number;
  /** Events whose source is not an IP address (ignored). */
  invalid: number;
  /** Burst summaries not emitted because of the summary flood limiter or the pending bound. */
  summariesSuppressed: number;
}

export class Detector {
  private readonly options: DetectorOptions;
  private readonly sources: SourceTable;
  private readonly bans = new BanTable();
  private readonly banBucket: TokenBucket;
  /**
   * Provisional bans have their own bucket (same rate): they come from unverified, possibly
   * forged probes, and sharing one bucket would let a forged flood use up the cap so that real
   * (corroborated) scanners were never banned.
   */
  private readonly provisionalBucket: TokenBucket;
  private readonly summaryBucket: TokenBucket;
  private readonly quietAfter: number;
  private readonly maxBurst: number;
  private readonly threshold: number;
  private pending: BurstSummary[] = [];
  private counters = { rateLimited: 0, observed: 0, invalid: 0, summariesSuppressed: 0 };

  constructor(options: DetectorOptions) {
    this.options = options;
    this.threshold = Math.min(MAX_THRESHOLD, Math.max(1, Math.floor(options.threshold)));
    this.sources = new SourceTable(
      Math.max(1, options.maxSources ?? DETECTOR_DEFAULTS.maxSources),
      this.threshold,
      Math.max(1, options.maxPortsPerSource ?? DETECTOR_DEFAULTS.maxPortsPerSource),
    );
    this.banBucket = new TokenBucket(options.maxBansPerMinute);
    this.provisionalBucket = new TokenBucket(options.maxBansPerMinute);
    this.summaryBucket = new TokenBucket(
      options.maxSummariesPerMinute ?? DETECTOR_DEFAULTS.maxSummariesPerMinute,
    );
    this.quietAfter = options.quietAfter ?? DETECTOR_DEFAULTS.quietAfter;
    this.maxBurst = options.maxBurst ?? DETECTOR_DEFAULTS.maxBurst;
  }

  observe(e: ProbeEvent): Decision[] {
    this.counters.observed++;
    const { source, at } = e;
    const ip = parseIp(source);
    if (!ip) {
      this.counters.invalid++;
      return [];
    }
    const label = this.options.neverBlock.matchIp(ip);
    if (label !== undefined) {
      return [skip(e, 'allow-listed', label === '' ? 'never-block list' : label)];
    }

    const table = this.sources;
    const slot = table.touch(source);
    if (at > (table.lastSeen[slot] as number)) table.lastSeen[slot] = at;
    if (table.probes[slot] !== 0 && at - (table.firstAt[slot] as number) >= this.maxBurst) {
      this.closeBurst(source, slot, at);
    }
    table.addToBurst(slot, at, e.port, e.protocol, e.technique, e.mode);
    const inWindow = table.recordTime(slot, at, this.options.window);

    const corroborated =
      e.technique === 'connect' ||
      this.options.blockUnverifiedUdp ||
      ((this.options.corroboratePorts ?? 0) > 0 &&
        table.distinctPorts(slot) >= (this.options.corroboratePorts ?? 0));
    const ban = this.bans.get(source);
    if (ban && !(ban.provisional && corroborated)) {
      table.raiseOutcome(slot, 3);
      const until = ban.until === null ? 'permanently' : `until ${new Date(ban.until).toISOString()}`;
      return [skip(e, 'already-blocked', `banned ${until} (offence ${ban.offence})`)];
    }
    if (inWindow < this.threshold) {
      return [
        skip(
          e,
          'below-threshold',
          `${inWindow} of ${this.threshold} probes within ${formatDuration(this.options.window)}`,
        ),
      ];
    }
    if (this.options.response[e.protocol] === 'alert') {
      table.raiseOutcome(slot, 1);
      return [skip(e, 'alert-only', `response for ${e.protocol} is alert`)];
    }
    if (!corroborated) {
      const provisional = this.options.provisionalBan ?? 0;
      if (provisional > 0 && !e.peer) {
        if (!this.provisionalBucket.take(at)) {
          this.counters.rateLimited++;
          table.raiseOutcome(slot, 2);
          return [skip(e, 'rate-limited', `more than ${this.options.maxBansPerMinute} new bans per minute`)];
        }
        return [this.blockDecision(e, slot, inWindow, at + provisional, 0, true)];
      }
      table.raiseOutcome(slot, 1);
      const why = e.peer ? 'holds a session with this host' : 'address may be forged';
      return [
        skip(e, 'alert-only', `unverified source (${e.technique} probe, ${why}); not corroborated yet`),
      ];
    }
    if (!ban?.provisional && !this.banBucket.take(at)) {
      this.counters.rateLimited++;
      table.raiseOutcome(slot, 2);
      return [skip(e, 'rate-limited', `more than ${this.options.maxBansPerMinute} new bans per minute`)];
    }

    const offence = (this.options.offenceCount?.(source) ?? 0) + 1;
    const length = banLength(offence, this.options);
    return [this.blockDecision(e, slot, inWindow, length === null ? null : at + length, offence, false)];
  }

  private blockDecision(
    e: ProbeEvent,
    slot: number,
    inWindow: number,
    until: number | null,
    offence: number,
    provisional: boolean,
  ): Decision {
    const { at, source } = e;
    const table = this.sources;
    this.bans.set(source, provisional ? { until, offence, provisional } : { until, offence });
    table.raiseOutcome(slot, 4);
    const what = provisional
      ? 'provisional: unverified source, not corroborated yet; '
      : table.distinctPorts(slot) > 1 && e.technique !== 'connect'
        ? `corroborated by ${table.distinctPorts(slot)} ports; `
        : '';
    const decision: Decision = {
      kind: 'block',
      at,
      source,
      reason: `${what}${inWindow} probe${inWindow === 1 ? '' : 's'} within ${formatDuration(this.options.window)}, last ${e.technique} to ${e.protocol}/${e.port}`,
      until,
      offence,
      evidence: {
        ports: table.ports(slot),
        protocols: fromBits(table.protocolBits[slot] as number, PROTOCOLS),
        techniques: fromBits(table.techniqueBits[slot] as number, TECHNIQUES),
        probes: table.probes[slot] as number,
        firstAt: table.firstAt[slot] as number,
        lastAt: table.lastAt[slot] as number,
      },
      trigger: e,
    };
    if (this.options.dryRun) decision.dryRun = true;
    if (provisional) decision.provisional = true;
    return decision;
  }

  /** Releases bans that ended by `now` and emits summaries of bursts that went quiet (or ran too long). */
  tick(now: number): { decisions: Decision[]; summaries: BurstSummary[] } {
    const decisions: Decision[] = this.bans
      .takeExpired(now)
      .map(([source, ban]) => ({ kind: 'release', at: now, source, reason: releaseReason(ban) }));

    const table = this.sources;
    for (const [source, slot] of table.oldestFirst()) {
      const lastSeen = table.lastSeen[slot] as number;
      // The table is ordered by last activity, so the first active source ends the scan.
      if (now - lastSeen < this.quietAfter) break;
      if (table.probes[slot] !== 0) this.closeBurst(source, slot, now);
      // Burst summarised and no probe left in the window: nothing worth remembering.
      if (now - lastSeen > this.options.window) table.delete(source);
    }

    const summaries = this.pending;
    this.pending = [];
    return { decisions, summaries };
  }

  /**
   * Re-installs a ban known to the store (daemon start, reload, manual block). A stored offence
   * of 0 is a provisional ban (see blockDecision): it stays provisional, so that corroboration
   * still upgrades it to the full ban after a restart.
   */
  restoreBan(address: string, until: number | null, offence: number): void {
    const ban: Ban = offence <= 0 ? { until, offence: 0, provisional: true } : { until, offence };
    this.bans.set(canonicalIp(address) ?? address, ban);
  }

  /** Drops a ban the detector believed in (manual unblock, or the block failed everywhere). */
  forgetBan(address: string): boolean {
    return this.bans.delete(canonicalIp(address) ?? address);
  }

  activeBan(address: string): Ban | undefined {
    return this.bans.get(canonicalIp(address) ?? address);
  }

  stats(): DetectorStats {
    return {
      tracked: this.sources.size,
      evicted: this.sources.evicted,
      maxSources: this.sources.capacity,
      rateLimited: this.counters.rateLimited,
      bans: this.bans.size,
      observed: this.counters.observed,
      invalid: this.counters.invalid,
      summariesSuppressed: this.counters.summariesSuppressed,
    };
  }

  private closeBurst(source: string, slot: number, at: number): void {
    // Only bursts that crossed the threshold are "scanner bursts"; a stray probe is not worth a line.
    if (this.sources.outcome[slot] !== 0) {
      if (this.pending.length < MAX_PENDING_SUMMARIES && this.summaryBucket.take(at)) {
        this.pending.push(summarise(source, this.sources, slot));
      } else {
        this.counters.summariesSuppressed++;
      }
    }
    this.sources.resetBurst(slot);
  }
}

function skip(e: ProbeEvent, why: Extract<Decision, { kind: 'skip' }>['why'], detail: string): Decision {
  return { kind: 'skip', at: e.at, source: e.source, why, detail, trigger: e };
}

function releaseReason(ban: Ban): string {
  return `ban expired (offence ${ban.offence})`;
}

function summarise(source: string, t: SourceTable, slot: number): BurstSummary {
  const outcome = OUTCOMES[t.outcome[slot] as number] as BurstOutcome;
  return {
    source,
    firstAt: t.firstAt[slot] as number,
    lastAt: t.lastAt[slot] as number,
    probes: t.probes[slot] as number,
    ports: t.ports(slot),
    otherPortProbes: t.otherPortProbes[slot] as number,
    protocols: fromBits(t.protocolBits[slot] as number, PROTOCOLS),
    techniques: fromBits(t.techniqueBits[slot] as number, TECHNIQUES),
    modes: fromBits(t.modeBits[slot] as number, MODES),
    outcome,
    blocked: outcome === 'blocked' || outcome === 'already-blocked',
  };
}
