// The one contract every blocking backend implements (init, block, release, list, reconcile,
// close). A backend that cannot work on this host throws UnsupportedError from init(), so
// `auto` can move on to the next one.

import type { Family } from '../core/address.js';
import type { Mode, Protocol } from '../core/records.js';

export interface BanTarget {
  /** Canonical address (see core/address.ts). */
  address: string;
  family: Family;
  /** Epoch ms when the ban ends, or null for permanent. Backends with kernel timeouts use it. */
  until: number | null;
  /** The probe that caused it, for command placeholders ($PORT$, $MODE$, $PROTOCOL$). */
  port?: number;
  protocol?: Protocol;
  mode?: Mode;
}

export interface ActionResult {
  address: string;
  ok: boolean;
  /** What went wrong, for the log and the store; absent when ok. */
  error?: string;
}

export interface ReconcileReport {
  /** Bans that were missing in the backend and were (re)applied. */
  applied: string[];
  /** Entries found in the backend that no active ban owns, removed. */
  removed: string[];
  errors: string[];
}

/** How backends run programs: an argument vector, a timeout, never a shell. Tests prefix `ip netns exec NS`. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the program was killed after the timeout. */
  timedOut: boolean;
}
export type Runner = (argv: string[], options?: { input?: string; timeoutMs?: number }) => Promise<RunResult>;

export interface ResponderContext {
  run: Runner;
  /** Diagnostics (not the audit trail: the daemon records outcomes itself). */
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
  /** Current time (epoch ms), injectable for tests. */
  now: () => number;
  /**
   * Argv prefix for long-lived children a backend spawns itself (the nftables backend keeps one
   * `nft -i` running); must match the prefix `run` uses, e.g. ['ip','netns','exec',NS] in tests.
   */
  spawnPrefix?: string[];
}

export interface Responder {
  readonly name: string;
  /** Prepares the backend (creates its table/chain/set); throws UnsupportedError if it cannot work here. */
  init(): Promise<void>;
  /** Applies bans, batched into as few operations as the backend allows. One result per target. */
  block(targets: BanTarget[]): Promise<ActionResult[]>;
  /** Lifts bans. Releasing an address the backend does not hold is ok. */
  release(addresses: string[]): Promise<ActionResult[]>;
  /** Addresses this backend currently enforces (only entries it owns). */
  list(): Promise<string[]>;
  /** Makes the backend hold exactly `active`: re-applies missing ones, removes orphans, rebuilds a flushed table. */
  reconcile(active: BanTarget[]): Promise<ReconcileReport>;
  /** Releases resources (child processes, handles); does not remove bans. */
  close(): Promise<void>;
}
