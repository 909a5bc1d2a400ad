// The SQLite store: probes, decisions, bans (active and history), counters, log cursors and
// report runs. The only module that knows SQL.
//
// Durability: WAL with synchronous=NORMAL. Every statement (or `transaction`) is atomic and
// survives `kill -9` of the process (the WAL is in the OS page cache); only a power loss may
// drop the last few commits, never corrupt the file. That keeps a ban insert in the tens of
// microseconds, so "record before touching the firewall" costs the hot path almost nothing.

import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalIp, ipFamily } from '../core/address.js';
import { SentinelError } from '../core/errors.js';
import type { Decision, ProbeEvent, Protocol } from '../core/records.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import {
  type BanRow,
  banFromRow,
  type CursorRow,
  cursorFromRow,
  type DecisionRow,
  decisionFromRow,
  decisionSummary,
  type ProbeRow,
  probeFromRow,
} from './rows.js';
import type { BanRecord, BanState, DecisionRecord, LogCursor, NewBan, ProbeRecord } from './types.js';

export interface StoreOptions {
  /** Open for reading only (CLI read commands); the file must exist and be up to date. */
  readonly?: boolean;
  /** Clock for defaults (status); injectable for tests. */
  now?: () => number;
  /** How long a writer waits for another process's lock before failing; default 5000 ms. */
  busyTimeoutMs?: number;
}

export interface BanFilter {
  address?: string;
  /** Bans created at or after this time (epoch ms). */
  since?: number;
  /** Newest first; default 100. */
  limit?: number;
  state?: BanState;
}

export interface HistoryFilter {
  since?: number;
  until?: number;
  address?: string;
  /** Entries in total (decisions and bans together), newest first; default 100. */
  limit?: number;
}

export type HistoryEntry =
  | { type: 'decision'; at: number; address: string; decision: DecisionRecord }
  | { type: 'ban'; at: number; address: string; ban: BanRecord };

export interface Explanation {
  address: string;
  /** Chronological (oldest first), the newest `limit` of each. */
  probes: ProbeRecord[];
  decisions: DecisionRecord[];
  bans: BanRecord[];
}

export interface ReportRun {
  id: number;
  startedAt: number;
  finishedAt: number;
  lines: number;
  delivered: boolean;
  error: string | null;
}

export interface NewReportRun {
  startedAt: number;
  finishedAt: number;
  lines: number;
  delivered: boolean;
  error?: string;
}

export interface StoreStatus {
  schemaVersion: number;
  activeBans: number;
  permanentBans: number;
  /** When the next timed ban runs out, or null if none. */
  nextExpiryAt: number | null;
  probes24h: number;
  sources24h: number;
  decisions24h: number;
  blocks24h: number;
  lastProbeAt: number | null;
  lastBanAt: number | null;
  lastReportRun: ReportRun | null;
  counters: Record<string, number>;
}

export interface PortCount {
  port: number;
  protocol: Protocol;
  probes: number;
  sources: number;
}

export interface SourceCount {
  address: string;
  probes: number;
  ports: number;
}

/** What the sentinel saw and did in [from, to): the logcheck report's sentinel section. */
export interface DetectionSummary {
  from: number;
  to: number;
  probes: number;
  /** Distinct probing source addresses. */
  sources: number;
  /** Bans created in the period, oldest first, at most `limit`. */
  bans: BanRecord[];
  bansTotal: number;
  /** Bans that ended (released or expired) in the period. */
  bansEnded: number;
  /** Most probed ports, most first. */
  byPort: PortCount[];
  /** Busiest sources, most first. */
  bySource: SourceCount[];
}

export interface PruneResult {
  probes: number;
  decisions: number;
  reportRuns: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_LIST_LIMIT = 100;
const DEFAULT_EXPLAIN_LIMIT = 10_000;
/** Rows deleted per statement when pruning, so one prune never holds the write lock for long. */
const PRUNE_CHUNK = 10_000;

function isConstraintUnique(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/** Best effort: an existing file we cannot chmod (not ours) is left as it is. */
function restrictMode(file: string): void {
  try {
    chmodSync(file, 0o600);
  } catch {
    // ENOENT (not created yet) or EPERM (someone else's file): nothing to tighten.
  }
}

export class Store {
  readonly path: string;
  readonly readonly: boolean;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly statements = new Map<string, Database.Statement>();

  // Hot-path statements, prepared once.
  private readonly insertProbeStmt: Database.Statement;
  private readonly insertDecisionStmt: Database.Statement;
  private readonly insertBanStmt: Database.Statement;
  private readonly applyStmt: Database.Statement;
  private readonly activeBanStmt: Database.Statement;
  private readonly bumpStmt: Database.Statement;

  private constructor(db: Database.Database, path: string, readonly: boolean, now: () => number) {
    this.db = db;
    this.path = path;
    this.readonly = readonly;
    this.now = now;
    this.insertProbeStmt = db.prepare(
      `INSERT INTO probes (at, source, destination, port, protocol, technique, mode, sensor)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertDecisionStmt = db.prepare(
      'INSERT INTO decisions (at, address, kind, reason, detail, body) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertBanStmt = db.prepare(
      `INSERT INTO bans (address, family, created_at, until, state, origin, reason, offence, evidence,
                         port, protocol, mode, backends)
       VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, '{}')`,
    );
    this.applyStmt = db.prepare(
      'UPDATE bans SET backends = json_patch(backends, json_object(?, ?)) WHERE id = ?',
    );
    this.activeBanStmt = db.prepare("SELECT * FROM bans WHERE address = ? AND state = 'active'");
    this.bumpStmt = db.prepare(
      `INSERT INTO counters (name, value) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`,
    );
  }

  /**
   * Opens (creating if needed) the store at `path`; `:memory:` for tests. Creates the parent
   * directory (0700) and the database with 0600 permissions, switches to WAL and applies pending
   * migrations. Refuses a database written by a newer schema.
   */
  static open(path: string, options: StoreOptions = {}): Store {
    const readonly = options.readonly ?? false;
    const inMemory = path === ':memory:';
    if (!inMemory && !readonly) {
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      } catch (err) {
        throw new SentinelError('E_STORE', `cannot create the store at ${path}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      // SQLite gives -wal and -shm the mode of the database file, so 0600 here covers all three.
      restrictMode(path);
    }
    if (!inMemory && readonly && !existsSync(path)) {
      throw new SentinelError('E_STORE', `no store at ${path} (has the daemon ever run?)`);
    }

    let db: Database.Database | undefined;
    try {
      db = new Database(path, { readonly, fileMustExist: readonly });
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      if (!readonly) {
        if (!inMemory) db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      migrate(db, path, readonly);
      if (!inMemory && !readonly) {
        restrictMode(`${path}-wal`);
        restrictMode(`${path}-shm`);
      }
      return new Store(db, path, readonly, options.now ?? Date.now);
    } catch (err) {
      db?.close();
      if (err instanceof SentinelError) throw err;
      throw new SentinelError('E_STORE', `cannot open the store at ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** The schema version of the open database (`PRAGMA user_version`). */
  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Runs `fn` in one transaction (nested calls become savepoints); rolled back if it throws. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- Probes and decisions ------------------------------------------------------------------

  recordProbe(e: ProbeEvent): void {
    this.insertProbeStmt.run(
      e.at,
      e.source,
      e.destination ?? null,
      e.port,
      e.protocol,
      e.technique,
      e.mode,
      e.sensor,
    );
  }

  /** Many probes in one transaction: one commit instead of one per probe. */
  recordProbes(events: readonly ProbeEvent[]): void {
    this.transaction(() => {
      for (const e of events) this.recordProbe(e);
    });
  }

  recordDecision(d: Decision): number {
    const { reason, detail } = decisionSummary(d);
    const info = this.insertDecisionStmt.run(d.at, d.source, d.kind, reason, detail, JSON.stringify(d));
    return Number(info.lastInsertRowid);
  }

  // ---- Bans ----------------------------------------------------------------------------------

  /**
   * Writes a new active ban. Call it BEFORE touching any firewall, so a crash in between leaves
   * an owner record that reconciliation re-applies. Throws E_STORE if the address already has an
   * active ban (check `activeBan` first, or `extendBan` it).
   */
  insertBan(b: NewBan): BanRecord {
    const address = canonicalIp(b.address);
    const family = ipFamily(b.address);
    if (address === undefined || family === undefined) {
      throw new SentinelError('E_ADDRESS', `not an IP address: ${JSON.stringify(b.address)}`);
    }
    const evidence = b.evidence === null ? null : JSON.stringify(b.evidence);
    let id: number;
    try {
      const info = this.insertBanStmt.run(
        address,
        family,
        b.createdAt,
        b.until,
        b.origin,
        b.reason,
        b.offence,
        evidence,
        b.port ?? null,
        b.protocol ?? null,
        b.mode ?? null,
      );
      id = Number(info.lastInsertRowid);
    } catch (err) {
      if (isConstraintUnique(err)) {
        throw new SentinelError('E_STORE', `${address} already has an active ban`, { cause: err });
      }
      throw err;
    }
    return {
      id,
      address,
      family,
      createdAt: b.createdAt,
      until: b.until,
      state: 'active',
      origin: b.origin,
      reason: b.reason,
      offence: b.offence,
      evidence: b.evidence,
      port: b.port ?? null,
      protocol: b.protocol ?? null,
      mode: b.mode ?? null,
      releasedAt: null,
      releaseReason: null,
      backends: {},
    };
  }

  /** Records the outcome of applying ban `id` in one backend: 'ok' or an error text. */
  recordApply(id: number, backend: string, outcome: 'ok' | string): void {
    this.applyStmt.run(backend, outcome, id);
  }

  activeBans(): BanRecord[] {
    return this.all<BanRow>("SELECT * FROM bans WHERE state = 'active' ORDER BY id").map(banFromRow);
  }

  activeBan(address: string): BanRecord | undefined {
    const canonical = canonicalIp(address);
    if (canonical === undefined) return undefined;
    const row = this.activeBanStmt.get(canonical) as BanRow | undefined;
    return row ? banFromRow(row) : undefined;
  }

  /** Active timed bans whose end is at or before `now`. */
  expiredActive(now: number): BanRecord[] {
    return this.all<BanRow>(
      "SELECT * FROM bans WHERE state = 'active' AND until IS NOT NULL AND until <= ? ORDER BY until, id",
      now,
    ).map(banFromRow);
  }

  /** Ends the active ban of `address`; returns it as updated, or undefined if there was none. */
  releaseBan(
    address: string,
    at: number,
    reason: string,
    state: 'released' | 'expired' = 'released',
  ): BanRecord | undefined {
    const canonical = canonicalIp(address);
    if (canonical === undefined) return undefined;
    const row = this.stmt(
      `UPDATE bans SET state = ?, released_at = ?, release_reason = ?
       WHERE address = ? AND state = 'active' RETURNING *`,
    ).get(state, at, reason, canonical) as BanRow | undefined;
    return row ? banFromRow(row) : undefined;
  }

  /**
   * Ends ban `id` if it is still active; returns it as updated, or undefined if it was not.
   * Releases that await the firewall first must end the ban they started with, not "whatever
   * ban the address has now": a new ban for the same address may have been inserted meanwhile.
   */
  releaseBanById(
    id: number,
    at: number,
    reason: string,
    state: 'released' | 'expired' = 'released',
  ): BanRecord | undefined {
    const row = this.stmt(
      `UPDATE bans SET state = ?, released_at = ?, release_reason = ?
       WHERE id = ? AND state = 'active' RETURNING *`,
    ).get(state, at, reason, id) as BanRow | undefined;
    return row ? banFromRow(row) : undefined;
  }

  /** Moves the end of an active ban (null = permanent); returns it as updated. */
  extendBan(id: number, until: number | null): BanRecord | undefined {
    const row = this.stmt("UPDATE bans SET until = ? WHERE id = ? AND state = 'active' RETURNING *").get(
      until,
      id,
    ) as BanRow | undefined;
    return row ? banFromRow(row) : undefined;
  }

  /** How many bans `address` got since `since` (any state, any origin, provisional ones excepted): the escalation history. */
  offences(address: string, since: number): number {
    const canonical = canonicalIp(address);
    if (canonical === undefined) return 0;
    // Provisional bans (offence 0: an unverified source, maybe forged) are not offences.
    return this.count(
      'SELECT COUNT(*) AS n FROM bans WHERE address = ? AND created_at >= ? AND offence > 0',
      canonical,
      since,
    );
  }

  ban(id: number): BanRecord | undefined {
    const row = this.stmt('SELECT * FROM bans WHERE id = ?').get(id) as BanRow | undefined;
    return row ? banFromRow(row) : undefined;
  }

  /** Bans, newest first. */
  bans(filter: BanFilter = {}): BanRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.address !== undefined) {
      where.push('address = ?');
      params.push(canonicalIp(filter.address) ?? filter.address);
    }
    if (filter.since !== undefined) {
      where.push('created_at >= ?');
      params.push(filter.since);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      params.push(filter.state);
    }
    const sql = `SELECT * FROM bans ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY created_at DESC, id DESC LIMIT ?`;
    return this.all<BanRow>(sql, ...params, filter.limit ?? DEFAULT_LIST_LIMIT).map(banFromRow);
  }

  // ---- Queries for the CLI -------------------------------------------------------------------

  /** Decisions and bans, newest first. */
  history(filter: HistoryFilter = {}): HistoryEntry[] {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    const address =
      filter.address === undefined ? undefined : (canonicalIp(filter.address) ?? filter.address);
    const build = (timeColumn: string, table: string): { sql: string; params: unknown[] } => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (address !== undefined) {
        where.push('address = ?');
        params.push(address);
      }
      if (filter.since !== undefined) {
        where.push(`${timeColumn} >= ?`);
        params.push(filter.since);
      }
      if (filter.until !== undefined) {
        where.push(`${timeColumn} <= ?`);
        params.push(filter.until);
      }
      const sql = `SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                   ORDER BY ${timeColumn} DESC, id DESC LIMIT ?`;
      params.push(limit);
      return { sql, params };
    };
    const d = build('at', 'decisions');
    const b = build('created_at', 'bans');
    const entries: HistoryEntry[] = [
      ...this.all<DecisionRow>(d.sql, ...d.params).map((row): HistoryEntry => {
        const decision = decisionFromRow(row);
        return { type: 'decision', at: decision.at, address: decision.address, decision };
      }),
      ...this.all<BanRow>(b.sql, ...b.params).map((row): HistoryEntry => {
        const ban = banFromRow(row);
        return { type: 'ban', at: ban.createdAt, address: ban.address, ban };
      }),
    ];
    // Newest first; at equal times the ban (the consequence) above its decision.
    entries.sort((x, y) => y.at - x.at || (x.type === y.type ? 0 : x.type === 'ban' ? -1 : 1));
    return entries.slice(0, limit);
  }

  /** Everything the store knows about one address: probes, every decision, every ban. */
  explain(address: string, options: { limit?: number } = {}): Explanation {
    const canonical = canonicalIp(address) ?? address;
    const limit = options.limit ?? DEFAULT_EXPLAIN_LIMIT;
    const newest = <R>(table: string, timeColumn: string, column: string): R[] =>
      this.all<R>(
        `SELECT * FROM (SELECT * FROM ${table} WHERE ${column} = ? ORDER BY ${timeColumn} DESC, id DESC LIMIT ?)
         ORDER BY ${timeColumn}, id`,
        canonical,
        limit,
      );
    return {
      address: canonical,
      probes: newest<ProbeRow>('probes', 'at', 'source').map(probeFromRow),
      decisions: newest<DecisionRow>('decisions', 'at', 'address').map(decisionFromRow),
      bans: newest<BanRow>('bans', 'created_at', 'address').map(banFromRow),
    };
  }

  status(now: number = this.now()): StoreStatus {
    const dayAgo = now - DAY_MS;
    const active = this.stmt(
      `SELECT COUNT(*) AS n, COUNT(*) - COUNT(until) AS permanent, MIN(until) AS next
       FROM bans WHERE state = 'active'`,
    ).get() as { n: number; permanent: number; next: number | null };
    const probes = this.stmt(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT source) AS s FROM probes WHERE at >= ?',
    ).get(dayAgo) as { n: number; s: number };
    const decisions = this.stmt(
      "SELECT COUNT(*) AS n, COALESCE(SUM(kind = 'block'), 0) AS blocks FROM decisions WHERE at >= ?",
    ).get(dayAgo) as { n: number; blocks: number };
    const lastProbe = this.stmt('SELECT MAX(at) AS at FROM probes').get() as { at: number | null };
    const lastBan = this.stmt('SELECT MAX(created_at) AS at FROM bans').get() as { at: number | null };
    return {
      schemaVersion: this.schemaVersion,
      activeBans: active.n,
      permanentBans: active.permanent,
      nextExpiryAt: active.next,
      probes24h: probes.n,
      sources24h: probes.s,
      decisions24h: decisions.n,
      blocks24h: decisions.blocks,
      lastProbeAt: lastProbe.at,
      lastBanAt: lastBan.at,
      lastReportRun: this.reportRuns(1)[0] ?? null,
      counters: this.counters(),
    };
  }

  // ---- Counters ------------------------------------------------------------------------------

  bumpCounter(name: string, by = 1): void {
    this.bumpStmt.run(name, by);
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.all<{ name: string; value: number }>(
      'SELECT name, value FROM counters ORDER BY name',
    )) {
      out[row.name] = row.value;
    }
    return out;
  }

  // ---- Logcheck ------------------------------------------------------------------------------

  getCursor(source: string): LogCursor | undefined {
    const row = this.stmt('SELECT * FROM log_cursors WHERE source = ?').get(source) as CursorRow | undefined;
    return row ? cursorFromRow(row) : undefined;
  }

  cursors(): LogCursor[] {
    return this.all<CursorRow>('SELECT * FROM log_cursors ORDER BY source').map(cursorFromRow);
  }

  /** Commits all cursors of a run at once: either every source advances or none does. */
  setCursors(cursors: readonly LogCursor[]): void {
    const upsert = this.stmt(
      `INSERT INTO log_cursors (source, position, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    );
    this.transaction(() => {
      for (const c of cursors) upsert.run(c.source, c.position, c.updatedAt);
    });
  }

  deleteCursor(source: string): boolean {
    return this.stmt('DELETE FROM log_cursors WHERE source = ?').run(source).changes > 0;
  }

  recordReportRun(run: NewReportRun): number {
    const info = this.stmt(
      'INSERT INTO report_runs (started_at, finished_at, lines, delivered, error) VALUES (?, ?, ?, ?, ?)',
    ).run(run.startedAt, run.finishedAt, run.lines, run.delivered ? 1 : 0, run.error ?? null);
    return Number(info.lastInsertRowid);
  }

  /** Report runs, newest first. */
  reportRuns(limit = 20, options: { delivered?: boolean } = {}): ReportRun[] {
    const where = options.delivered === undefined ? '' : 'WHERE delivered = ?';
    const params: unknown[] = options.delivered === undefined ? [] : [options.delivered ? 1 : 0];
    return this.all<{
      id: number;
      started_at: number;
      finished_at: number;
      lines: number;
      delivered: number;
      error: string | null;
    }>(`SELECT * FROM report_runs ${where} ORDER BY started_at DESC, id DESC LIMIT ?`, ...params, limit).map(
      (r) => ({
        id: r.id,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        lines: r.lines,
        delivered: r.delivered === 1,
        error: r.error,
      }),
    );
  }

  /** The sentinel's detections and bans in [from, to), for the logcheck report. */
  detectionsBetween(
    from: number,
    to: number,
    options: { limit?: number; top?: number } = {},
  ): DetectionSummary {
    const limit = options.limit ?? 1000;
    const top = options.top ?? 20;
    const probes = this.stmt(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT source) AS s FROM probes WHERE at >= ? AND at < ?',
    ).get(from, to) as { n: number; s: number };
    const bansTotal = this.count(
      'SELECT COUNT(*) AS n FROM bans WHERE created_at >= ? AND created_at < ?',
      from,
      to,
    );
    const bansEnded = this.count(
      'SELECT COUNT(*) AS n FROM bans WHERE released_at IS NOT NULL AND released_at >= ? AND released_at < ?',
      from,
      to,
    );
    const bans = this.all<BanRow>(
      'SELECT * FROM bans WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id LIMIT ?',
      from,
      to,
      limit,
    ).map(banFromRow);
    const byPort = this.all<PortCount>(
      `SELECT port, protocol, COUNT(*) AS probes, COUNT(DISTINCT source) AS sources
       FROM probes WHERE at >= ? AND at < ?
       GROUP BY port, protocol ORDER BY probes DESC, port, protocol LIMIT ?`,
      from,
      to,
      top,
    );
    const bySource = this.all<SourceCount>(
      `SELECT source AS address, COUNT(*) AS probes, COUNT(DISTINCT port) AS ports
       FROM probes WHERE at >= ? AND at < ?
       GROUP BY source ORDER BY probes DESC, source LIMIT ?`,
      from,
      to,
      top,
    );
    return { from, to, probes: probes.n, sources: probes.s, bans, bansTotal, bansEnded, byPort, bySource };
  }

  // ---- Retention -----------------------------------------------------------------------------

  /**
   * Deletes probes, decisions and report runs older than `before`. Bans are kept (they are the
   * escalation history and few); active bans are never touched.
   */
  prune(before: number): PruneResult {
    const chunked = (table: string, column: string): number => {
      const del = this.stmt(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${column} < ? LIMIT ?)`,
      );
      let total = 0;
      for (;;) {
        const n = del.run(before, PRUNE_CHUNK).changes;
        total += n;
        if (n < PRUNE_CHUNK) return total;
      }
    };
    return {
      probes: chunked('probes', 'at'),
      decisions: chunked('decisions', 'at'),
      reportRuns: chunked('report_runs', 'started_at'),
    };
  }

  /** `PRAGMA integrity_check`: 'ok' or the problems SQLite found. */
  integrityCheck(): string {
    const rows = this.db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).join('\n');
  }

  // ---- Internals -----------------------------------------------------------------------------

  /** Prepared statements cached by SQL text (queries built from filters have few shapes). */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private all<R>(sql: string, ...params: unknown[]): R[] {
    return this.stmt(sql).all(...params) as R[];
  }

  private count(sql: string, ...params: unknown[]): number {
    return (this.stmt(sql).get(...params) as { n: number }).n;
  }
}

/** Brings the schema up to date, or refuses a database this build does not understand. */
function migrate(db: Database.Database, path: string, readonly: boolean): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const found = version();
  if (found > SCHEMA_VERSION) {
    throw new SentinelError(
      'E_STORE',
      `the store at ${path} has schema version ${found}, newer than this portsentinel understands ` +
        `(${SCHEMA_VERSION}); upgrade portsentinel or point --state elsewhere`,
    );
  }
  if (found === SCHEMA_VERSION) return;
  if (readonly) {
    throw new SentinelError(
      'E_STORE',
      `the store at ${path} has schema version ${found}, older than ${SCHEMA_VERSION}; ` +
        'open it once read-write (start the daemon) to upgrade it',
    );
  }
  // IMMEDIATE takes the write lock first, so two processes starting together cannot both migrate.
  db.transaction(() => {
    for (let v = version(); v < SCHEMA_VERSION; v++) {
      const step = MIGRATIONS[v] as (typeof MIGRATIONS)[number];
      try {
        db.exec(step.sql);
      } catch (err) {
        throw new SentinelError(
          'E_STORE',
          `migration ${v + 1} (${step.description}) failed on ${path}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
