// What the daemon tells the world: structured JSON lines on stdout (one object per event) and
// syslog datagrams in PortSentry 1.2's message shapes (through src/reporters/). Nothing here is
// awaited by the probe pipeline: reverse DNS runs after the ban, for the log line only.

import { errorMessage } from '../core/errors.js';
import type { BurstSummary, Decision, ProbeEvent } from '../core/records.js';
import type { Config } from '../config/types.js';
import type { ReconcileReport } from '../responders/contract.js';
import type { BanRecord } from '../store/types.js';
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
  const emit = (event: string, fields: Record<string, unknown>) => {
    if (json) write(JSON.stringify({ at: new Date().toISOString(), event, ...fields }));
  };
  let syslog: SyslogSink | undefined;
  if (config.log.syslog) {
    try {
      syslog = createSyslogSink(config, (m) => writeErr(`portsentinel: syslog: ${m}`));
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
    },
    reconciled(backend, report) {
      if (report.applied.length || report.removed.length || report.errors.length) emit('reconcile', { backend, ...report });
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
    stats: () => syslog?.stats() ?? {},
    close() {
      syslog?.close();
    },
  };
}
