// Probes and decisions go to the store in batches: one transaction per event-loop turn instead
// of a commit per row (a commit costs ~70 µs, which capped a flooded daemon at a few thousand
// probes a second). Rows that change nothing (a banned, still-below-threshold or rate-limited
// source) are kept within a per-second budget, so a flood of spoofed sources cannot grow the
// database without bound; the excess is counted (`audit-rows-not-stored`). Rows of allow-listed
// and alert-only probes are worth more (nothing else records them) but can be flooded just as
// well (spoofed probes from the gateway's address, or to an alert-only protocol), so they have a
// second, larger budget (`audit-alert-rows-not-stored`). Bans are not written
// here: the enforcer writes each ban synchronously, before the firewall is touched.

import { perSecond } from '../core/budget.js';
import type { Decision, ProbeEvent } from '../core/records.js';
import type { Store } from '../store/store.js';

/** Routine rows stored per second at most (decisions and their probes that change nothing). */
export const ROUTINE_ROWS_PER_SECOND = 500;
/** Allow-listed and alert-only rows stored per second at most. */
export const ALERT_ROWS_PER_SECOND = 200;

export function isRoutine(decision: Decision): boolean {
  return (
    decision.kind === 'skip' &&
    (decision.why === 'already-blocked' ||
      decision.why === 'below-threshold' ||
      decision.why === 'rate-limited')
  );
}

/** A probe that is only noted, never acted on: from the never-block set, or alert-only. */
export function isAlert(decision: Decision): boolean {
  return decision.kind === 'skip' && (decision.why === 'allow-listed' || decision.why === 'alert-only');
}

export class AuditWriter {
  private probes: ProbeEvent[] = [];
  private decisions: Decision[] = [];
  private scheduled = false;
  private readonly routineBudget;
  private readonly alertBudget;
  private notStored = 0;
  private alertsNotStored = 0;

  constructor(
    private readonly store: Store,
    private readonly onError: (message: string) => void,
    routinePerSecond = ROUTINE_ROWS_PER_SECOND,
    alertPerSecond = ALERT_ROWS_PER_SECOND,
  ) {
    this.routineBudget = perSecond(routinePerSecond);
    this.alertBudget = perSecond(alertPerSecond);
  }

  /** Queues a decision (and the probe that led to it, if any); written at the end of this turn. */
  add(probe: ProbeEvent | undefined, decision: Decision): void {
    if (isRoutine(decision) && !this.routineBudget.take()) {
      this.notStored++;
    } else if (isAlert(decision) && !this.alertBudget.take()) {
      this.alertsNotStored++;
    } else {
      if (probe) this.probes.push(probe);
      this.decisions.push(decision);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is queued, in one transaction. Also called at shutdown. */
  flush(): void {
    this.scheduled = false;
    const probes = this.probes;
    const decisions = this.decisions;
    const notStored = this.notStored;
    const alertsNotStored = this.alertsNotStored;
    this.probes = [];
    this.decisions = [];
    this.notStored = 0;
    this.alertsNotStored = 0;
    if (probes.length === 0 && decisions.length === 0 && notStored === 0 && alertsNotStored === 0) return;
    try {
      this.store.transaction(() => {
        this.store.recordProbes(probes);
        for (const d of decisions) this.store.recordDecision(d);
        if (notStored > 0) this.store.bumpCounter('audit-rows-not-stored', notStored);
        if (alertsNotStored > 0) this.store.bumpCounter('audit-alert-rows-not-stored', alertsNotStored);
      });
    } catch (err) {
      this.onError(
        `store: recording ${probes.length} probes and ${decisions.length} decisions: ${(err as Error).message}`,
      );
    }
  }
}
