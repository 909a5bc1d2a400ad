// What the detector needs to know, derived once from Config (detect + respond) plus the never-block
// set that host/facts.ts builds. Pure: no I/O, no clock.

import type { Config, ResponseLevel } from '../config/types.js';
import type { CidrSet } from '../core/address.js';
import type { Protocol } from '../core/records.js';

export interface DetectorOptions {
  /** Probes from one source within `window` that trigger a response (1 = the first probe). */
  threshold: number;
  /** Sliding window for `threshold`, ms. */
  window: number;
  /** Per protocol: `alert` only logs (skip 'alert-only'); `block` and `command` produce block decisions. */
  response: Record<Protocol, ResponseLevel>;
  /**
   * Only a completed TCP handshake (technique `connect`) proves the source address. A UDP datagram or
   * a single packet seen by a capture sensor can carry any source address, so by default such
   * "unverified" sources are alerted on but not blocked: otherwise anyone could get the host to ban
   * its own gateway's neighbours, its users or its DNS provider with a few forged datagrams.
   * True blocks unverified sources too (PortSentry's behaviour).
   */
  blockUnverifiedUdp: boolean;
  /**
   * Unverified sources are banned at once for this long (ms) instead of only alerted on, and get
   * the full ban once corroborated. 0 = alert only until corroborated. A forged probe can thus
   * make us drop the forged address for at most this long; allow-listed addresses and session
   * peers never.
   */
  provisionalBan?: number;
  /** An unverified source that probed this many distinct ports within the burst counts as proven; 0 = never. */
  corroboratePorts?: number;
  /** Never blocked; the entry's label ("gateway", "ignore-list", ...) becomes the skip detail. */
  neverBlock: CidrSet;
  /** First ban, ms; 0 = permanent (PortSentry). */
  banDuration: number;
  /** Each further offence multiplies the duration by this factor, up to `banMax` (0 = no ceiling). */
  banGrowth: number;
  banMax: number;
  /** Earlier bans of `address` that count as offences (fed from the store by the daemon). */
  offenceCount?: (address: string) => number;
  /** New bans allowed per minute of event time (token bucket); 0 = no cap. */
  maxBansPerMinute: number;
  /** Decisions are computed exactly as usual and marked `dryRun`; the daemon enforces nothing. */
  dryRun: boolean;
  /** Tracked sources (LRU); see source-table.ts for the memory this bounds. Default 65536. */
  maxSources?: number;
  /** Distinct ports stored per source; probes to further ports are only counted. Default 64. */
  maxPortsPerSource?: number;
  /** A burst ends (and its summary is emitted) after this much silence from the source, ms. Default 5 s. */
  quietAfter?: number;
  /** A burst running longer than this is summarised and a new one started, ms. Default 5 min. */
  maxBurst?: number;
  /** Burst summaries per minute of event time; the excess is counted, not emitted. Default 120. */
  maxSummariesPerMinute?: number;
}

export const DETECTOR_DEFAULTS = {
  maxSources: 65_536,
  maxPortsPerSource: 64,
  quietAfter: 5_000,
  maxBurst: 300_000,
  maxSummariesPerMinute: 120,
} as const;

/** Builds detector options from the one Config; `neverBlock` comes from host/facts.ts buildNeverBlock. */
export function detectorOptionsFromConfig(
  config: Pick<Config, 'detect' | 'respond'>,
  neverBlock: CidrSet,
  offenceCount?: (address: string) => number,
): DetectorOptions {
  const { detect, respond } = config;
  const options: DetectorOptions = {
    threshold: detect.threshold,
    window: detect.window,
    response: { tcp: respond.tcp, udp: respond.udp },
    blockUnverifiedUdp: detect.blockUnverifiedUdp,
    provisionalBan: detect.provisionalBan,
    corroboratePorts: detect.corroboratePorts,
    neverBlock,
    banDuration: respond.banDuration,
    banGrowth: respond.banGrowth,
    banMax: respond.banMax,
    maxBansPerMinute: respond.maxBansPerMinute,
    dryRun: respond.dryRun,
    maxSources: detect.maxSources,
  };
  if (offenceCount) options.offenceCount = offenceCount;
  return options;
}

/**
 * Ban length for the n-th offence (n >= 1): banDuration × banGrowth^(n-1), capped at banMax when
 * banMax > 0. Returns null for a permanent ban (banDuration 0).
 */
export function banLength(
  offence: number,
  o: Pick<DetectorOptions, 'banDuration' | 'banGrowth' | 'banMax'>,
): number | null {
  if (o.banDuration <= 0) return null;
  const growth = Math.max(o.banGrowth, 1);
  let length = o.banDuration * growth ** Math.max(0, offence - 1);
  if (o.banMax > 0) length = Math.min(length, o.banMax);
  // A huge exponent without a ceiling: stay a finite, representable time.
  if (!Number.isFinite(length) || length > 1e15) length = 1e15;
  return Math.round(length);
}
