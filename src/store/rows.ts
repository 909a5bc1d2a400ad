// Row <-> record mapping. SQLite rows use snake_case columns and JSON text for nested values;
// the rest of the program only ever sees the records of types.ts.

import type { Decision, Evidence, Mode, Protocol, Technique } from '../core/records.js';
import type { BanOrigin, BanRecord, BanState, DecisionRecord, LogCursor, ProbeRecord } from './types.js';

export interface BanRow {
  id: number;
  address: string;
  family: number;
  created_at: number;
  until: number | null;
  state: string;
  origin: string;
  reason: string;
  offence: number;
  evidence: string | null;
  port: number | null;
  protocol: string | null;
  mode: string | null;
  released_at: number | null;
  release_reason: string | null;
  backends: string;
}

export interface ProbeRow {
  id: number;
  at: number;
  source: string;
  destination: string | null;
  port: number;
  protocol: string;
  technique: string;
  mode: string;
  sensor: string;
}

export interface DecisionRow {
  id: number;
  at: number;
  address: string;
  kind: string;
  reason: string;
  detail: string;
  body: string;
}

export interface CursorRow {
  source: string;
  position: string;
  updated_at: number;
}

/** Parses stored JSON; a damaged value becomes `fallback` instead of failing a whole query. */
function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function asStringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function banFromRow(row: BanRow): BanRecord {
  return {
    id: row.id,
    address: row.address,
    family: row.family === 6 ? 6 : 4,
    createdAt: row.created_at,
    until: row.until,
    state: row.state as BanState,
    origin: row.origin as BanOrigin,
    reason: row.reason,
    offence: row.offence,
    evidence: parseJson<Evidence | null>(row.evidence, null),
    port: row.port,
    protocol: row.protocol === 'tcp' || row.protocol === 'udp' ? row.protocol : null,
    mode: row.mode,
    releasedAt: row.released_at,
    releaseReason: row.release_reason,
    backends: asStringMap(parseJson<unknown>(row.backends, {})),
  };
}

export function probeFromRow(row: ProbeRow): ProbeRecord {
  const probe: ProbeRecord = {
    id: row.id,
    at: row.at,
    source: row.source,
    port: row.port,
    protocol: row.protocol as Protocol,
    technique: row.technique as Technique,
    mode: row.mode as Mode,
    sensor: row.sensor,
  };
  if (row.destination !== null) probe.destination = row.destination;
  return probe;
}

export function decisionFromRow(row: DecisionRow): DecisionRecord {
  const fallback: Decision = { kind: 'release', at: row.at, source: row.address, reason: row.reason };
  return {
    id: row.id,
    at: row.at,
    address: row.address,
    kind: row.kind as Decision['kind'],
    reason: row.reason,
    detail: row.detail,
    decision: parseJson<Decision>(row.body, fallback),
  };
}

export function cursorFromRow(row: CursorRow): LogCursor {
  return { source: row.source, position: row.position, updatedAt: row.updated_at };
}

/** The one-line summary stored beside a decision, so lists need not parse the JSON body. */
export function decisionSummary(d: Decision): { reason: string; detail: string } {
  switch (d.kind) {
    case 'block': {
      const until = d.until === null ? 'permanent' : `until ${new Date(d.until).toISOString()}`;
      const ports = d.evidence.ports.join(',');
      const dry = d.dryRun ? ', dry-run' : '';
      return {
        reason: d.reason,
        detail: `offence ${d.offence}, ${until}, ${d.evidence.probes} probes, ports ${ports}${dry}`,
      };
    }
    case 'release':
      return { reason: d.reason, detail: '' };
    case 'skip':
      return { reason: d.why, detail: d.detail };
  }
}
