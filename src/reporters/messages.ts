// Log lines in PortSentry 1.2's shapes (portsentry.c / portsentry_util.c), so Logcheck rules and
// fail2ban filters written for PortSentry keep matching, plus portsentinel's own lines (burst
// summary, ban and release, start/stop) in the same `attackalert:` / `adminalert:` style.
// Pure functions. Every interpolated value passes through `clean`, so even a caller that forgot
// to sanitise a reverse-DNS name cannot put a newline or an escape sequence into the log.

import { formatDuration } from '../core/duration.js';
import type { BurstSummary, Decision, Protocol, Technique } from '../core/records.js';

/** Control characters (C0, DEL, C1) replaced by '?', length capped: log text is one line. */
export function clean(text: string, max = 256): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

function host(name: string | undefined, ip: string): string {
  return `${clean(name || ip)}/${clean(ip, 64)}`;
}

const PROTO = (p: Protocol) => p.toUpperCase();

/** PortSentry's ReportPacketType descriptions for packet-level (stealth) detections. */
const STEALTH_DESCRIPTION: Record<Exclude<Technique, 'connect' | 'udp'>, string> = {
  syn: 'TCP SYN/Normal scan',
  fin: 'TCP FIN scan',
  null: 'TCP NULL scan',
  xmas: 'TCP XMAS scan',
  ack: 'TCP ACK scan',
  maimon: 'TCP Maimon (FIN/ACK) scan',
  odd: 'TCP odd-flags scan',
};

export interface ProbeLike {
  source: string;
  port: number;
  protocol: Protocol;
  technique: Technique;
  mode: string;
}

/**
 * The per-detection line:
 *   classic TCP:  `attackalert: Connect from host: NAME/IP to TCP port: N`
 *   classic UDP:  `attackalert: Connect from host: NAME/IP to UDP port: N` (1.2's PortSentryModeUDP)
 *   stealth UDP:  `attackalert: UDP scan from host: NAME/IP to UDP port: N`
 *   stealth TCP:  `attackalert: TCP SYN/Normal scan from host: NAME/IP to TCP port: N` (FIN, NULL, XMAS...)
 */
export function probeAlert(p: ProbeLike, name?: string): string {
  const target = `${host(name, p.source)} to ${PROTO(p.protocol)} port: ${p.port}`;
  if (p.technique === 'connect') return `attackalert: Connect from host: ${target}`;
  if (p.technique === 'udp') {
    return p.mode === 'udp'
      ? `attackalert: Connect from host: ${target}`
      : `attackalert: UDP scan from host: ${target}`;
  }
  return `attackalert: ${STEALTH_DESCRIPTION[p.technique]} from host: ${target}`;
}

export function blockedViaWrappers(ip: string, line: string): string {
  return `attackalert: Host ${clean(ip, 64)} has been blocked via wrappers with string: "${clean(line)}"`;
}

/** Used for every firewall backend (route, nftables, iptables), as PortSentry used it for KILL_ROUTE. */
export function blockedViaRoute(ip: string, command: string): string {
  return `attackalert: Host ${clean(ip, 64)} has been blocked via dropped route using command: "${clean(command)}"`;
}

export function externalCommandRun(ip: string, command: string): string {
  return `attackalert: External command run for host: ${clean(ip, 64)} using command: "${clean(command)}"`;
}

export function alreadyBlocked(ip: string, name?: string): string {
  return `attackalert: Host: ${host(name, ip)} is already blocked Ignoring`;
}

/** A block that failed (PortSentry 1.2 logged some failures as success; we never do). */
export function blockFailed(ip: string, backend: string, error: string, name?: string): string {
  return `attackalert: ERROR: Could not block host ${host(name, ip)} via ${clean(backend, 32)}: ${clean(error)}`;
}

/** BLOCK_TCP/BLOCK_UDP 0 (response level `alert`). */
export function ignoringResponse(protocol: Protocol): string {
  return `attackalert: Ignoring ${PROTO(protocol)} response per configuration file setting.`;
}

/** Skips that deserve a line (allow-listed, unverified, rate-limited); below-threshold ones do not. */
export function skipLine(d: Extract<Decision, { kind: 'skip' }>, name?: string): string {
  return `attackalert: Host: ${host(name, d.source)} not blocked (${d.why}: ${clean(d.detail)})`;
}

export function banDecided(d: Extract<Decision, { kind: 'block' }>, name?: string): string {
  const length = d.until === null ? 'permanently' : `for ${formatDuration(d.until - d.at)}`;
  const dry = d.dryRun ? ' [dry run]' : '';
  return `attackalert: Host: ${host(name, d.source)} banned ${length} (offence ${d.offence}: ${clean(d.reason)})${dry}`;
}

export function banReleased(ip: string, reason: string): string {
  return `attackalert: Host ${clean(ip, 64)} has been unblocked (${clean(reason)})`;
}

/** The one line per scanner burst. */
export function burstSummaryLine(s: BurstSummary, name?: string): string {
  const more = s.otherPortProbes > 0 ? ` (+${s.otherPortProbes} probes to other ports)` : '';
  const shown = s.ports.length > 32 ? `${s.ports.slice(0, 32).join(',')},...` : s.ports.join(',');
  return (
    `attackalert: Scan summary for host: ${host(name, s.source)} probes: ${s.probes} ` +
    `ports: ${s.ports.length} [${shown}]${more} protocols: ${s.protocols.map(PROTO).join(',')} ` +
    `techniques: ${s.techniques.join(',')} duration: ${formatDuration(Math.max(0, s.lastAt - s.firstAt))} ` +
    `outcome: ${s.outcome}`
  );
}

export function adminStarted(version: string, modes: string[]): string {
  return `adminalert: portsentinel ${clean(version, 32)} is now active and listening (modes: ${modes.map((m) => clean(m, 8)).join(',')}).`;
}

export function adminStopping(reason: string): string {
  return `adminalert: portsentinel is shutting down (${clean(reason)}).`;
}

export function adminPortsSkipped(
  protocol: Protocol,
  inUse: number[],
  failed: { port: number; error: string }[],
): string {
  const f = failed.map((x) => `${x.port} (${clean(x.error, 32)})`).join(',');
  return `adminalert: ${PROTO(protocol)} ports in use and not monitored: ${inUse.join(',') || 'none'}; failed: ${f || 'none'}`;
}
