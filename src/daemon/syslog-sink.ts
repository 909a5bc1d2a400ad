// The syslog side of the daemon's output: PortSentry 1.2-shaped lines (src/reporters/messages.ts)
// sent through the syslog reporter, with the reverse-DNS name (RESOLVE_HOST) looked up after the
// ban, for the log line only. Which probes get a line: the ones that changed something or were
// refused for a reason worth knowing (block, alert-only, allow-listed); repeats
// from an already banned or still-below-threshold source are left to the one burst summary.

import type { Config } from '../config/types.js';
import { perSecond } from '../core/budget.js';
import type { BurstSummary, Decision, ProbeEvent } from '../core/records.js';
import * as messages from '../reporters/messages.js';
import { createSyslogReporter } from '../reporters/syslog.js';
import type { BanRecord } from '../store/types.js';
import { isRoutine } from './audit-writer.js';
import type { BackendOutcome } from './enforcer.js';

export interface SyslogSink {
  started(info: Record<string, unknown>): void;
  stopped(): void;
  probe(event: ProbeEvent, decision: Decision, ban?: BanRecord): void;
  banApplied(ban: BanRecord, outcomes: BackendOutcome[]): void;
  banReleased(address: string, reason: string, outcomes: BackendOutcome[]): void;
  summary(s: BurstSummary): void;
  diagnostic(level: string, message: string): void;
  stats(): Record<string, number>;
  close(): void;
}

type Severity = 'info' | 'notice' | 'warning' | 'err';

/** Syslog lines per second for probes that were alerted on or allow-listed, at most. */
const SKIP_LINES_PER_SECOND = 20;

/** Where the lines go: src/reporters/syslog.ts in the daemon, a recorder in tests. */
export interface LineTransport {
  send(severity: Severity, line: string): void;
  stats(): Record<string, number>;
  close(): void;
}

export type Resolver = (address: string) => Promise<string | undefined>;

export function createSyslogSink(
  config: Config,
  onError: (message: string) => void,
  transport: LineTransport = syslogTransport(config, onError),
  resolve?: Resolver,
): SyslogSink {
  const withName = (address: string, line: (name?: string) => string, severity: Severity = 'notice') => {
    if (!resolve) {
      transport.send(severity, line());
      return;
    }
    resolve(address).then(
      (name) => transport.send(severity, line(name)),
      () => transport.send(severity, line()),
    );
  };
  const describeBackend = (o: BackendOutcome, address: string): string => {
    switch (o.backend) {
      case 'hosts-deny':
        return messages.blockedViaWrappers(address, `${config.respond.hostsDeny.service}: ${address}`);
      case 'command':
        return messages.externalCommandRun(address, config.respond.command.join(' '));
      default:
        return messages.blockedViaRoute(address, o.backend);
    }
  };
  const skipLines = perSecond(SKIP_LINES_PER_SECOND);
  let suppressed = 0;
  return {
    started: (info) =>
      transport.send('notice', messages.adminStarted('0.1.0', (info.modes as string[]) ?? [])),
    stopped: () => transport.send('notice', messages.adminStopping('shutdown')),
    probe(event, decision) {
      if (decision.kind === 'block') {
        withName(event.source, (name) => messages.probeAlert(event, name));
        withName(event.source, (name) => messages.banDecided(decision, name));
        return;
      }
      if (decision.kind !== 'skip') return;
      if (isRoutine(decision)) return; // the burst summary reports these, once per scanner
      // Alert-only and allow-listed probes can repeat at packet rate (unverified UDP, a busy
      // gateway touching a trap): bounded, the excess counted.
      if (!skipLines.take()) {
        suppressed++;
        return;
      }
      withName(event.source, (name) => messages.probeAlert(event, name));
      if (decision.why === 'alert-only' && decision.detail.includes('level')) {
        transport.send('notice', messages.ignoringResponse(event.protocol));
      } else {
        withName(event.source, (name) => messages.skipLine(decision, name));
      }
    },
    banApplied(ban, outcomes) {
      for (const o of outcomes) {
        if (o.ok) transport.send('notice', describeBackend(o, ban.address));
        else transport.send('err', messages.blockFailed(ban.address, o.backend, o.error ?? 'failed'));
      }
    },
    banReleased: (address, reason) => transport.send('notice', messages.banReleased(address, reason)),
    summary: (s) => withName(s.source, (name) => messages.burstSummaryLine(s, name), 'info'),
    diagnostic(level, message) {
      const severity: Severity = level === 'error' ? 'err' : level === 'warn' ? 'warning' : 'info';
      transport.send(severity, `adminalert: ${messages.clean(message)}`);
    },
    stats: () => ({ ...transport.stats(), suppressedSkipLines: suppressed }),
    close: () => transport.close(),
  };
}

/** The real transport: one long-lived `logger` child per daemon (see src/reporters/syslog.ts). */
function syslogTransport(config: Config, onError: (m: string) => void): LineTransport {
  const reporter = createSyslogReporter({
    target: config.log.syslogSocket,
    format: config.log.syslogFormat,
    facility: config.log.facility,
    ident: config.log.ident,
    onError,
  });
  return {
    send: (severity, line) => reporter.send(severity, line),
    stats: () => ({ ...reporter.stats() }),
    close: () => {
      void reporter.close();
    },
  };
}
