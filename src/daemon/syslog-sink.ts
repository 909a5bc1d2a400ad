// Syslog side of the daemon's output (placeholder until src/reporters/ lands).

import type { BurstSummary, Decision, ProbeEvent } from '../core/records.js';
import type { Config } from '../config/types.js';
import type { BanRecord } from '../store/types.js';
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

export function createSyslogSink(_config: Config, _onError: (message: string) => void): SyslogSink {
  const noop = () => undefined;
  return {
    started: noop,
    stopped: noop,
    probe: noop,
    banApplied: noop,
    banReleased: noop,
    summary: noop,
    diagnostic: noop,
    stats: () => ({}),
    close: noop,
  };
}
