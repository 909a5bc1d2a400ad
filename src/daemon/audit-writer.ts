// Probes and decisions go to the store in batches: one transaction per event-loop turn instead
// of a commit per row (a commit costs ~70 µs, which capped a flooded daemon at a few thousand
// probes a second). Rows that change nothing (a banned, still-below-threshold or rate-limited
// source) are kept within a per-second budget, so a flood of spoofed sources cannot grow the
// database without bound; the excess is counted (`audit-rows-not-stored`). Bans are not written
// here: the enforcer writes each ban synchronously, before the firewall is touched.

import { perSecond } from '../core/budget.js';
import type { Decision, ProbeEvent } from '../core/records.js';
import type { Store } from '../store/store.js';

/** Routine rows stored per second at most (decisions and their probes that change nothing). */
export const ROUTINE_ROWS_PER_SECOND = 500;

export function isRoutine(decision: Decision): boolean {
  return (
    decision.kind === 'skip' &&
    (decision.why === 'already-blocked' ||
      decision.why === 'below-threshold' ||
      decision.why === 'rate-limited')
  );
}

export class AuditWriter {
  private probes: ProbeEvent[] = [];
  private decisions: Decision[] = [];
  private scheduled = false;
  private readonly routineBudget;
  private notStored = 0;

  constructor(
    private readonly store: Store,
    private readonly onError: (message: string) => void,
    routinePerSecond = ROUTINE_ROWS_PER_SECOND,
  ) {
    this.routineBudget = perSecond(routinePerSecond);
  }

  /** Queues a decision (and the probe that led to it, if any); written at the end of this turn. */
  add(probe: ProbeEvent | undefined, decision: Decision): void {
    if (isRoutine(decision) && !this.routineBudget.take()) {
      this.notStored++;
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
    this.probes = [];
    this.decisions = [];
    this.notStored = 0;
    if (probes.length === 0 && decisions.length === 0 && notStored === 0) return;
    try {
      this.store.transaction(() => {
        this.store.recordProbes(probes);
        for (const d of decisions) this.store.recordDecision(d);
        if (notStored > 0) this.store.bumpCounter('audit-rows-not-stored', notStored);
      });
    } catch (err) {
      this.onError(
        `store: recording ${probes.length} probes and ${decisions.length} decisions: ${(err as Error).message}`,
      );
    }
  }
}
