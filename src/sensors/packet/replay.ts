// `portsentinel replay FILE`: runs a pcap/pcapng capture through the daemon's own pipeline
// (decode → probe filter → detector) on the packets' own timestamps, with nothing enforced,
// and returns the decisions. The same file gives the same output every time: no wall clock,
// no host state (ports in use are learnt from the capture itself, see below).

import type { BurstSummary, Decision, ProbeEvent } from '../../core/records.js';
import { Detector } from '../../detector/detector.js';
import type { DetectorOptions } from '../../detector/options.js';
import { forEachPacket } from './capture-file.js';
import { TCP_ACK, TCP_SYN } from './classify.js';
import { type DecodeFailure, decodeFrame } from './decode.js';
import { FragmentTable } from './fragments.js';
import { packetToProbe, type WatchedPorts, watchedPortsScope } from './probe-filter.js';

export interface ReplayOptions {
  detector: Omit<DetectorOptions, 'dryRun'>;
  watched: WatchedPorts;
  /** The capturing host's addresses; empty = every destination counts as local. */
  localAddresses: string[];
}

export type ReplayRecord =
  | { type: 'probe'; event: ProbeEvent }
  | { type: 'decision'; decision: Decision }
  | { type: 'summary'; summary: BurstSummary };

export interface ReplayResult {
  records: ReplayRecord[];
  packets: number;
  probes: number;
  malformed: Partial<Record<DecodeFailure, number>>;
  ignored: Record<string, number>;
  truncatedRecords: number;
  /** Ports seen answering (SYN+ACK from a local address): treated as in use, never as traps. */
  portsInUse: { tcp: number[]; udp: number[] };
}

/** How often (in capture time) the detector's tick runs during replay, as the daemon's timer would. */
const TICK_MS = 1000;

export function replayCapture(path: string, options: ReplayOptions): ReplayResult {
  const local = new Set(options.localAddresses);
  const isLocal = (a: string) => local.size === 0 || local.has(a);

  // Pass 1: a real service answers a SYN with SYN+ACK; such ports are in use, not traps.
  const inUse = { tcp: new Set<number>(), udp: new Set<number>() };
  forEachPacket(path, (p) => {
    const r = decodeFrame(p.linkType, p.data);
    if (
      r.ok &&
      r.packet.protocol === 'tcp' &&
      (r.packet.tcpFlags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)
    ) {
      if (local.size === 0 || local.has(r.packet.src)) inUse.tcp.add(r.packet.srcPort);
    }
  });

  const detector = new Detector({ ...options.detector, dryRun: true });
  const scope = {
    isLocal,
    // With no addresses given every destination counts as ours, but no source is "ourselves".
    isSelf: (a: string) => local.has(a),
    modeFor: watchedPortsScope(options.watched, () => inUse),
  };
  const fragments = new FragmentTable();
  const result: ReplayResult = {
    records: [],
    packets: 0,
    probes: 0,
    malformed: {},
    ignored: {},
    truncatedRecords: 0,
    portsInUse: { tcp: [...inUse.tcp].sort((a, b) => a - b), udp: [] },
  };
  let nextTick = Number.NaN;
  const tick = (now: number) => {
    const { decisions, summaries } = detector.tick(now);
    for (const decision of decisions) result.records.push({ type: 'decision', decision });
    for (const summary of summaries) result.records.push({ type: 'summary', summary });
  };
  let last = 0;
  const stats = forEachPacket(path, (p) => {
    result.packets++;
    const at = Math.floor(p.at);
    last = Math.max(last, at);
    if (Number.isNaN(nextTick)) nextTick = at + TICK_MS;
    // A long gap (or a corrupt timestamp) needs one tick, not one per second of it: a tick
    // handles everything that expired up to its time.
    if (at - nextTick > 60 * TICK_MS) nextTick = at - (at % TICK_MS);
    while (at >= nextTick) {
      tick(nextTick);
      nextTick += TICK_MS;
    }
    const r = decodeFrame(p.linkType, p.data, { fragments, now: at });
    if (!r.ok) {
      if (r.reason !== 'fragment') result.malformed[r.reason] = (result.malformed[r.reason] ?? 0) + 1;
      return;
    }
    const outcome = packetToProbe(r.packet, at, 'replay', scope);
    if (outcome.kind === 'ignored') {
      result.ignored[outcome.why] = (result.ignored[outcome.why] ?? 0) + 1;
      return;
    }
    result.probes++;
    result.records.push({ type: 'probe', event: outcome.event });
    for (const decision of detector.observe(outcome.event))
      result.records.push({ type: 'decision', decision });
  });
  result.truncatedRecords = stats.truncated;
  // Let every burst end so its summary is part of the output.
  tick(last + 3_600_000);
  return result;
}

/** One human-readable line per decision / summary (probes are only in --json output). */
export function formatReplayRecord(record: ReplayRecord): string | undefined {
  const time = (ms: number) => new Date(ms).toISOString();
  if (record.type === 'decision') {
    const d = record.decision;
    if (d.kind === 'block') {
      const until = d.until === null ? 'permanent' : `until ${time(d.until)}`;
      return `${time(d.at)} block ${d.source} (${until}, offence ${d.offence}): ${d.reason}`;
    }
    if (d.kind === 'release') return `${time(d.at)} release ${d.source}: ${d.reason}`;
    if (d.why === 'below-threshold' || d.why === 'already-blocked') return undefined; // one per probe: too noisy
    return `${time(d.at)} skip ${d.source} [${d.why}]: ${d.detail}`;
  }
  if (record.type === 'summary') {
    const s = record.summary;
    const more = s.otherPortProbes > 0 ? ` (+${s.otherPortProbes} more probes)` : '';
    return `${time(s.lastAt)} scan ${s.source}: ${s.probes} probes to ${s.ports.length} ports [${s.ports.slice(0, 12).join(',')}${s.ports.length > 12 ? ',…' : ''}]${more} ${s.protocols.join('/')} ${s.techniques.join(',')} -> ${s.outcome}`;
  }
  return undefined;
}
