// PortSentry-format history and blocked files (HISTORY_FILE, BLOCKED_FILE), kept so tools that
// read them, above all fail2ban's `portsentry` filter
//   failregex = \/<HOST> Port\: [0-9]+ (TCP|UDP) Blocked$      datepattern = {^LN-BEG}Epoch
// keep working. The line shape is PortSentry 1.2's (WriteBlocked in portsentry_io.c):
//   "%ld - %02d/%02d/%04d %02d:%02d:%02d Host: %s/%s Port: %d %s Blocked\n"
//   epoch - MM/DD/YYYY HH:MM:SS (local time) Host: name/address Port: N TCP Blocked
// Two PortSentry bugs are not copied: it wrote "Blocked" even when blocking was off (we write
// "Detected" instead, which the fail2ban filter does not match), and it looked addresses up in
// the blocked file by substring (we compare whole, canonical addresses).
// The SQLite store stays the truth; these files are a mirror for other tools.

import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalIp } from '../core/address.js';
import { SentinelError } from '../core/errors.js';
import type { Protocol } from '../core/records.js';

export interface LegacyEntry {
  /** Epoch ms of the event. */
  at: number;
  /** Resolved host name, if any; anything but a plain DNS name is replaced by the address. */
  host?: string;
  address: string;
  port: number;
  protocol: Protocol;
  /** True only when a block was really enforced. */
  blocked: boolean;
}

/** PortSentry appends the detection mode to BLOCKED_FILE: `portsentry.blocked.tcp`, `.udp`, `.atcp`... */
export function blockedFileFor(base: string, mode: string): string {
  return `${base}.${mode}`;
}

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/;

/**
 * The host part before the slash. A reverse-DNS name is attacker-controlled: only a plain name
 * passes, otherwise the address is used (as PortSentry did without RESOLVE_HOST), so nothing can
 * forge a second "/ADDR Port: ..." or a new line.
 */
function safeHost(host: string | undefined, address: string): string {
  if (host === undefined || !HOST_NAME.test(host)) return address;
  return host;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** One line (without the newline) in PortSentry 1.2's shape. */
export function formatLegacyLine(entry: LegacyEntry): string {
  const address = canonicalIp(entry.address);
  if (address === undefined) {
    throw new SentinelError('E_ADDRESS', `not an IP address: ${JSON.stringify(entry.address)}`);
  }
  if (!Number.isInteger(entry.port) || entry.port < 0 || entry.port > 65535) {
    throw new SentinelError('E_USAGE', `not a port number: ${entry.port}`);
  }
  const d = new Date(entry.at);
  const date = `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear(), 4)}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const epoch = Math.floor(entry.at / 1000);
  const verdict = entry.blocked ? 'Blocked' : 'Detected';
  return (
    `${epoch} - ${date} ${time} Host: ${safeHost(entry.host, address)}/${address} ` +
    `Port: ${entry.port} ${entry.protocol.toUpperCase()} ${verdict}`
  );
}

function append(file: string, line: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    appendFileSync(file, `${line}\n`, { mode: 0o600 });
  } catch (err) {
    throw new SentinelError('E_IO', `cannot append to ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Appends to HISTORY_FILE: every detection, "Blocked" only if really blocked. */
export function appendHistory(file: string, entry: LegacyEntry): void {
  append(file, formatLegacyLine(entry));
}

/** Appends to BLOCKED_FILE(.mode), only for an enforced block; returns whether it wrote. */
export function appendBlocked(file: string, entry: LegacyEntry): boolean {
  if (!entry.blocked) return false;
  append(file, formatLegacyLine(entry));
  return true;
}

/** The address of a legacy line ("... Host: name/ADDR Port: ..."), canonical, or undefined. */
export function legacyLineAddress(line: string): string | undefined {
  const m = / Host: [^ ]*?\/([0-9A-Fa-f.:]+) Port: \d+ (?:TCP|UDP) /.exec(line);
  return m?.[1] === undefined ? undefined : canonicalIp(m[1]);
}

function readLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SentinelError('E_IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return text.split('\n').filter((l) => l.length > 0);
}

/** True if the blocked file lists exactly `address` as blocked (whole-address comparison). */
export function isListedBlocked(file: string, address: string): boolean {
  const wanted = canonicalIp(address);
  if (wanted === undefined) return false;
  return readLines(file).some((line) => line.endsWith(' Blocked') && legacyLineAddress(line) === wanted);
}

/** Removes `address`'s lines from the blocked file (on release), rewriting it atomically. */
export function removeBlocked(file: string, address: string): number {
  const wanted = canonicalIp(address);
  if (wanted === undefined) return 0;
  const lines = readLines(file);
  const kept = lines.filter((line) => legacyLineAddress(line) !== wanted);
  const removed = lines.length - kept.length;
  if (removed === 0) return 0;
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    throw new SentinelError('E_IO', `cannot rewrite ${file}: ${(err as Error).message}`, { cause: err });
  }
  return removed;
}
