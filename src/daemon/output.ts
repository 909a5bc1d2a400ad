// What the daemon tells the world: structured JSON lines on stdout (one object per event) and
// syslog datagrams in PortSentry 1.2's message shapes (through src/reporters/). Nothing here is
// awaited by the probe pipeline: reverse DNS runs after the ban, for the log line only.

import type { Config } from '../config/types.js';
import { perSecond } from '../core/budget.js';
import { errorMessage } from '../core/errors.js';
import type { BurstSummary, Decision, ProbeEvent } from '../core/records.js';
import { ReverseDns } from '../reporters/dns.js';
import type { ReconcileReport } from '../responders/contract.js';
import { appendBlocked, appendHistory, blockedFileFor, removeBlocked } from '../store/legacy-files.js';
import type { BanRecord } from '../store/types.js';
import { isAlert, isRoutine } from './audit-writer.js';
import type { DaemonOptions } from './daemon.js';
import type { BackendOutcome } from './enforcer.js';
import { createSyslogSink, type SyslogSink } from './syslog-sink.js';

export interface Output {
  started(info: Record<string, unknown>): void;
  stopped(errors: string[]): void;
  /** A probe and what was decided about it; `ban` when it led to an enforced ban. */
  probe(event: ProbeEvent, decision: Decision, ban?: BanRecord): void;
  banApplied(ban: BanRecord, outcomes: BackendOutcome[]): void;
  banReleased(address: string, reason: string, outcomes: BackendOutcome[]): void;
  reconciled(backend: string, report: ReconcileReport): void;
  summary(s: BurstSummary): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  diagnostic(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  stats(): Record<string, number>;
  close(): void;
}

export function createOutput(config: Config, options: DaemonOptions): Output {
  const write = options.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
  const writeErr = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  const json = config.log.json;
  const routineBudget = perSecond(ROUTINE_PROBE_LINES_PER_SECOND);
  const alertBudget = perSecond(ALERT_PROBE_LINES_PER_SECOND);
  let suppressedProbeLines = 0;
  let suppressedAlertLines = 0;
  const emit = (event: string, fields: Record<string, unknown>) => {
    if (json) write(JSON.stringify({ at: new Date().toISOString(), event, ...fields }));
  };
  const dns = config.detect.resolveHost ? new ReverseDns({ timeoutMs: config.detect.dnsTimeout }) : undefined;
  const resolve = dns ? (ip: string) => dns.lookup(ip) : undefined;
  const legacy = legacyMirror(config, (m) => writeErr(`portsentinel: ${m}`));
  let syslog: SyslogSink | undefined;
  if (config.log.syslog) {
    try {
      syslog = createSyslogSink(config, (m) => writeErr(`portsentinel: ${m}`), undefined, resolve);
    } catch (err) {
      writeErr(`portsentinel: syslog disabled: ${errorMessage(err)}`);
    }
  }
  const diag = (level: string, message: string) => {
    emit('log', { level, message });
    if (!json || level === 'error' || level === 'warn') writeErr(`portsentinel: ${level}: ${message}`);
    syslog?.diagnostic(level, message);
  };
  return {
    started(info) {
      emit('started', info);
      syslog?.started(info);
      if (!json) writeErr(`portsentinel: started, pid ${process.pid}, modes ${String(info.modes)}`);
    },
    stopped(errors) {
      emit('stopped', { errors });
      syslog?.stopped();
    },
    probe(event, decision, ban) {
      // Probes that change nothing (a banned, still-below-threshold or rate-limited source) are
      // bounded: a flood must not turn into a line per packet. The burst summary counts them all.
      if (isRoutine(decision) && !routineBudget.take()) {
        suppressedProbeLines++;
        syslog?.probe(event, decision, ban);
        return;
      }
      // Allow-listed and alert-only probes are worth a line each, but a flood of them (spoofed
      // from a gateway's address, say) must not be a line per packet either. The syslog sink
      // and the PortSentry history file keep their own behaviour.
      if (isAlert(decision) && !alertBudget.take()) {
        suppressedAlertLines++;
        syslog?.probe(event, decision, ban);
        legacy.probe(event, decision, ban);
        return;
      }
      emit('probe', {
        source: event.source,
        port: event.port,
        protocol: event.protocol,
        technique: event.technique,
        mode: event.mode,
        decision: decision.kind,
        ...(decision.kind === 'skip' ? { why: decision.why, detail: decision.detail } : {}),
        ...(decision.kind === 'block'
          ? { until: decision.until, offence: decision.offence, dryRun: decision.dryRun === true }
          : {}),
        ...(ban ? { banId: ban.id } : {}),
      });
      syslog?.probe(event, decision, ban);
      legacy.probe(event, decision, ban);
    },
    banApplied(ban, outcomes) {
      emit('ban', {
        id: ban.id,
        address: ban.address,
        until: ban.until,
        offence: ban.offence,
        origin: ban.origin,
        reason: ban.reason,
        backends: outcomes,
      });
      syslog?.banApplied(ban, outcomes);
    },
    banReleased(address, reason, outcomes) {
      emit('release', { address, reason, backends: outcomes });
      syslog?.banReleased(address, reason, outcomes);
      legacy.released(address);
    },
    reconciled(backend, report) {
      if (report.applied.length || report.removed.length || report.errors.length)
        emit('reconcile', { backend, ...report });
      for (const e of report.errors) diag('warn', `reconcile ${backend}: ${e}`);
    },
    summary(s) {
      emit('summary', { ...s });
      syslog?.summary(s);
    },
    info: (m) => diag('info', m),
    warn: (m) => diag('warn', m),
    error: (m) => diag('error', m),
    diagnostic: (level, m) => {
      if (level !== 'debug') diag(level, m);
    },
    stats: () => ({
      ...(syslog?.stats() ?? {}),
      ...(dns ? { dnsLookups: dns.counters.lookups } : {}),
      suppressedProbeLines,
      suppressedAlertLines,
    }),
    close() {
      syslog?.close();
    },
  };
}

/**
 * PortSentry-format HISTORY_FILE / BLOCKED_FILE(.mode) for fail2ban's `portsentry` filter:
 * a history line per detection that led to a decision worth recording, "Blocked" only when a
 * ban was really enforced; blocked-file lines removed when the ban ends.
 */
function legacyMirror(config: Config, onError: (message: string) => void) {
  const { historyFile, blockedFile } = config.store;
  const guard = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      onError(`${what}: ${errorMessage(err)}`);
    }
  };
  return {
    probe(event: ProbeEvent, decision: Decision, ban?: BanRecord) {
      const recordable =
        decision.kind === 'block' ||
        (decision.kind === 'skip' && (decision.why === 'alert-only' || decision.why === 'dry-run'));
      if (!recordable) return;
      const blocked =
        decision.kind === 'block' && ban !== undefined && Object.values(ban.backends).some((v) => v === 'ok');
      const entry = {
        at: event.at,
        address: event.source,
        port: event.port,
        protocol: event.protocol,
        blocked,
      };
      if (historyFile) guard('history file', () => appendHistory(historyFile, entry));
      if (blockedFile && blocked)
        guard('blocked file', () => appendBlocked(blockedFileFor(blockedFile, event.mode), entry));
    },
    released(address: string) {
      if (!blockedFile) return;
      for (const mode of config.detect.modes)
        guard('blocked file', () => removeBlocked(blockedFileFor(blockedFile, mode), address));
    },
  };
}

/** JSON lines per second for probes that change nothing; the rest are counted. */
const ROUTINE_PROBE_LINES_PER_SECOND = 50;
/** JSON lines per second for allow-listed and alert-only probes; the rest are counted. */
const ALERT_PROBE_LINES_PER_SECOND = 200;
