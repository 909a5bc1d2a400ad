// Records the store keeps. The store (store/store.ts) is the only module that knows SQL.

import type { Decision, Evidence, ProbeEvent } from '../core/records.js';

export type BanState = 'active' | 'released' | 'expired';
export type BanOrigin = 'detector' | 'manual';

export interface BanRecord {
  id: number;
  address: string;
  family: 4 | 6;
  createdAt: number;
  /** Epoch ms, null = permanent. */
  until: number | null;
  state: BanState;
  origin: BanOrigin;
  reason: string;
  offence: number;
  evidence: Evidence | null;
  /** Trigger probe details, for command placeholders on re-apply. */
  port: number | null;
  protocol: 'tcp' | 'udp' | null;
  mode: string | null;
  releasedAt: number | null;
  releaseReason: string | null;
  /** Per-backend outcome of the last apply: { nftables: 'ok' | 'error: ...' }. */
  backends: Record<string, string>;
}

export interface NewBan {
  address: string;
  family: 4 | 6;
  createdAt: number;
  until: number | null;
  origin: BanOrigin;
  reason: string;
  offence: number;
  evidence: Evidence | null;
  port?: number;
  protocol?: 'tcp' | 'udp';
  mode?: string;
}

export interface DecisionRecord {
  id: number;
  at: number;
  address: string;
  kind: Decision['kind'];
  /** `why` for skips, `reason` for blocks/releases. */
  reason: string;
  detail: string;
  decision: Decision;
}

export interface ProbeRecord extends ProbeEvent {
  id: number;
}

/** A read position of a log source (logcheck), committed only after a report was delivered. */
export interface LogCursor {
  source: string;
  /** Opaque JSON chosen by the source kind (file: inode/offset/fingerprint; journal: cursor). */
  position: string;
  updatedAt: number;
}
