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
//   6. an unverified source (anything but a completed TCP handshake) without
//      `blockUnverifiedUdp` → skip 'alert-only';
//   7. the new-ban rate cap is exhausted → skip 'rate-limited' (a later probe may still block);
//   8. otherwise block, for banLength(offence) where offence = earlier bans + 1.

import { canonicalIp, isIp } from '../core/address.js';
import type { BurstOutcome, BurstSummary, Decision, ProbeEvent } from '../core/records.js';
import { formatDuration } from '../core/duration.js';
import { type Ban, BanTable } from './ban-table.js';
import { banLength, DETECTOR_DEFAULTS, type DetectorOptions } from './options.js';
import {
  fromBits,
  MODES,
  type OutcomeCode,
  OUTCOMES,
  PROTOCOLS,
  resetBurst,
  type SourceEntry,
  SourceTable,
  TECHNIQUES,
} from './source-table.js';
import { TokenBucket } from './token-bucket.js';

/** Summaries waiting for the next tick; a bound so a detector nobody ticks cannot grow. */
const MAX_PENDING_SUMMARIES = 10_000;

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
  private readonly summaryBucket: TokenBucket;
  private readonly quietAfter: number;
  private readonly maxBurst: number;
  private readonly threshold: number;
  private pending: BurstSummary[] = [];
  private counters = { rateLimited: 0, observed: 0, invalid: 0, summariesSuppressed: 0 };

  constructor(options: DetectorOptions) {
    this.options = options;
    this.threshold = Math.max(1, Math.floor(options.threshold));
    this.sources = new SourceTable(
      Math.max(1, options.maxSources ?? DETECTOR_DEFAULTS.maxSources),
      this.threshold,
      Math.max(1, options.maxPortsPerSource ?? DETECTOR_DEFAULTS.maxPortsPerSource),
    );
    this.banBucket = new TokenBucket(options.maxBansPerMinute);
    this.summaryBucket = new TokenBucket(options.maxSummariesPerMinute ?? DETECTOR_DEFAULTS.maxSummariesPerMinute);
    this.quietAfter = options.quietAfter ?? DETECTOR_DEFAULTS.quietAfter;
    this.maxBurst = options.maxBurst ?? DETECTOR_DEFAULTS.maxBurst;
  }

  observe(e: ProbeEvent): Decision[] {
    this.counters.observed++;
    const { source, at } = e;
    const label = this.options.neverBlock.match(source);
    if (label !== undefined) {
      return [skip(e, 'allow-listed', label === '' ? 'never-block list' : label)];
    }
    if (!isIp(source)) {
      this.counters.invalid++;
      return [];
    }

    const entry = this.sources.touch(source);
    entry.lastSeen = Math.max(entry.lastSeen, at);
    if (entry.probes > 0 && at - entry.firstAt >= this.maxBurst) this.closeBurst(source, entry, at);
    this.sources.addToBurst(entry, at, e.port, e.protocol, e.technique, e.mode);
    const inWindow = this.sources.recordTime(entry, at, this.options.window);

    const ban = this.bans.get(source);
    if (ban) {
      raise(entry, 3);
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
      raise(entry, 1);
      return [skip(e, 'alert-only', `response for ${e.protocol} is alert`)];
    }
    if (e.technique !== 'connect' && !this.options.blockUnverifiedUdp) {
      raise(entry, 1);
      return [
        skip(
          e,
          'alert-only',
          `unverified source (${e.technique} probe, address may be forged); block_unverified_udp is off`,
        ),
      ];
    }
    if (!this.banBucket.take(at)) {
      this.counters.rateLimited++;
      raise(entry, 2);
      return [skip(e, 'rate-limited', `more than ${this.options.maxBansPerMinute} new bans per minute`)];
    }

    const offence = (this.options.offenceCount?.(source) ?? 0) + 1;
    const length = banLength(offence, this.options);
    const until = length === null ? null : at + length;
    this.bans.set(source, { until, offence });
    raise(entry, 4);
    const decision: Decision = {
      kind: 'block',
      at,
      source,
      reason: `${inWindow} probe${inWindow === 1 ? '' : 's'} within ${formatDuration(this.options.window)}, last ${e.technique} to ${e.protocol}/${e.port}`,
      until,
      offence,
      evidence: {
        ports: entry.ports.slice(),
        protocols: fromBits(entry.protocolBits, PROTOCOLS),
        techniques: fromBits(entry.techniqueBits, TECHNIQUES),
        probes: entry.probes,
        firstAt: entry.firstAt,
        lastAt: entry.lastAt,
      },
      trigger: e,
    };
    if (this.options.dryRun) decision.dryRun = true;
    return [decision];
  }

  /** Releases bans that ended by `now` and emits summaries of bursts that went quiet (or ran too long). */
  tick(now: number): { decisions: Decision[]; summaries: BurstSummary[] } {
    const decisions: Decision[] = this.bans
      .takeExpired(now)
      .map(([source, ban]) => ({ kind: 'release', at: now, source, reason: releaseReason(ban) }));

    for (const [source, entry] of this.sources.entries()) {
      // The table is ordered by last activity, so the first active source ends the scan.
      if (now - entry.lastSeen < this.quietAfter) break;
      if (entry.probes > 0) this.closeBurst(source, entry, now);
      // Burst summarised and no probe left in the window: nothing worth remembering.
      if (now - entry.lastSeen > this.options.window) this.sources.delete(source);
    }

    const summaries = this.pending;
    this.pending = [];
    return { decisions, summaries };
  }

  /** Re-installs a ban known to the store (daemon start, manual block). */
  restoreBan(address: string, until: number | null, offence: number): void {
    this.bans.set(canonicalIp(address) ?? address, { until, offence: Math.max(1, offence) });
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

  private closeBurst(source: string, entry: SourceEntry, at: number): void {
    // Only bursts that crossed the threshold are "scanner bursts"; a stray probe is not worth a line.
    if (entry.outcome > 0) {
      if (this.pending.length < MAX_PENDING_SUMMARIES && this.summaryBucket.take(at)) {
        this.pending.push(summarise(source, entry));
      } else {
        this.counters.summariesSuppressed++;
      }
    }
    resetBurst(entry);
  }
}

function skip(e: ProbeEvent, why: Extract<Decision, { kind: 'skip' }>['why'], detail: string): Decision {
  return { kind: 'skip', at: e.at, source: e.source, why, detail, trigger: e };
}

function raise(entry: SourceEntry, outcome: OutcomeCode): void {
  if (outcome > entry.outcome) entry.outcome = outcome;
}

function releaseReason(ban: Ban): string {
  return `ban expired (offence ${ban.offence})`;
}

function summarise(source: string, entry: SourceEntry): BurstSummary {
  const outcome = OUTCOMES[entry.outcome] as BurstOutcome;
  return {
    source,
    firstAt: entry.firstAt,
    lastAt: entry.lastAt,
    probes: entry.probes,
    ports: entry.ports.slice(),
    otherPortProbes: entry.otherPortProbes,
    protocols: fromBits(entry.protocolBits, PROTOCOLS),
    techniques: fromBits(entry.techniqueBits, TECHNIQUES),
    modes: fromBits(entry.modeBits, MODES),
    outcome,
    blocked: outcome === 'blocked' || outcome === 'already-blocked',
  };
}
