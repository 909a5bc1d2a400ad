// Human-readable output of the read commands. Everything printed here may contain text an
// attacker influenced (a reverse-DNS name, a reason): control characters are stripped so a
// crafted value cannot drive the operator's terminal.

import { formatDuration } from '../core/duration.js';
import type { Explanation, HistoryEntry, StoreStatus } from '../store/store.js';
import type { BanRecord, DecisionRecord } from '../store/types.js';

export function clean(text: unknown): string {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

function until(ban: Pick<BanRecord, 'until'>, now = Date.now()): string {
  if (ban.until === null) return 'permanent';
  const left = ban.until - now;
  return left > 0 ? `until ${time(ban.until)} (${formatDuration(left)} left)` : `until ${time(ban.until)}`;
}

function backends(ban: BanRecord): string {
  const entries = Object.entries(ban.backends ?? {});
  if (entries.length === 0) return 'no backend';
  return entries
    .map(([name, outcome]) => (outcome === 'ok' ? name : `${name} FAILED (${clean(outcome)})`))
    .join(', ');
}

export function formatBan(ban: BanRecord): string {
  const trigger = ban.port !== null ? ` ${ban.protocol ?? ''}/${ban.port}` : '';
  return `${ban.address} ${ban.state} ${until(ban)} offence ${ban.offence}, ${ban.origin}: ${clean(ban.reason)}${trigger} [${backends(ban)}]`;
}

export function formatStatus(s: Record<string, unknown>): string {
  const lines: string[] = [];
  const d = s.daemon as Record<string, unknown> | null | undefined;
  if (d) {
    lines.push(
      `daemon: running, pid ${d.pid}, up ${formatDuration(Number(d.uptimeMs))}, modes ${(d.modes as string[]).join(',')}` +
        `${d.dryRun ? ' (dry run)' : ''}`,
    );
    lines.push(`backends: ${(d.backends as string[]).join(', ') || 'none'}`);
    lines.push(`config: ${(d.config as { path: string }).path}`);
  } else {
    lines.push('daemon: not running (figures from the state database)');
  }
  const st = s as unknown as StoreStatus & { active?: BanRecord[] };
  lines.push(
    `bans: ${st.activeBans} active (${st.permanentBans} permanent), next expiry ${time(st.nextExpiryAt)}, last ban ${time(st.lastBanAt)}`,
  );
  lines.push(
    `last 24h: ${st.probes24h} probes from ${st.sources24h} sources, ${st.decisions24h} decisions, ${st.blocks24h} blocks`,
  );
  for (const ban of st.active ?? []) lines.push(`  ${formatBan(ban)}`);
  return lines.join('\n');
}

function formatDecision(d: DecisionRecord): string {
  return `${d.kind.padEnd(7)} ${clean(d.reason)}${d.detail ? `: ${clean(d.detail)}` : ''}`;
}

export function formatHistory(entries: HistoryEntry[]): string {
  if (entries.length === 0) return 'no history';
  return entries
    .map((e) =>
      e.type === 'ban'
        ? `${time(e.at)}  ban      ${formatBan(e.ban)}`
        : `${time(e.at)}  decision ${e.address} ${formatDecision(e.decision)}`,
    )
    .join('\n');
}

export function formatExplain(address: string, x: Explanation): string {
  const lines = [
    `${address}: ${x.probes.length} probes, ${x.decisions.length} decisions, ${x.bans.length} bans`,
  ];
  type Row = { at: number; text: string };
  const rows: Row[] = [
    ...x.probes.map((p) => ({
      at: p.at,
      text: `probe    ${p.protocol}/${p.port} ${p.technique} (${p.mode}, ${p.sensor})`,
    })),
    ...x.decisions.map((d) => ({ at: d.at, text: `decision ${formatDecision(d)}` })),
    ...x.bans.map((b) => ({ at: b.createdAt, text: `ban      ${formatBan(b)}` })),
    ...x.bans
      .filter((b) => b.releasedAt !== null)
      .map((b) => ({
        at: b.releasedAt as number,
        text: `${b.state.padEnd(8)} ${clean(b.releaseReason ?? '')}`,
      })),
  ];
  rows.sort((a, b) => a.at - b.at);
  for (const r of rows) lines.push(`  ${time(r.at)}  ${r.text}`);
  return lines.join('\n');
}
