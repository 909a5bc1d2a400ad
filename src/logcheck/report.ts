// The report text and subject, exactly as logcheck 1.4.2 writes them (pure; no I/O, no clock).
//
// logcheck's report file is built in this order: header.txt (when INTRO), the errors block
// ("\n" + errors + "\n\n"), one block per non-empty section (title, `=-=-` underline as long as
// the title, the lines, a blank line), footer.txt (when INTRO). It is sent only when some section
// has a line, with the subject "[logcheck] Reboot: HOST DATE <most severe subject>" (the tag only
// with ADDTAG=yes, "Reboot:" only with -R). portsentinel adds one section, the sentinel's
// detections and bans in the period, only when there were any; it counts as a security event.

import type { DetectionSummary } from '../store/store.js';
import type { ClassifyResult, ReportSection } from './engine.js';
import { safeHeader, safeLine, safeLines } from './safe-text.js';

export type Severity = 'attack' | 'security' | 'system';

export interface ReportSubjects {
  attack: string;
  security: string;
  system: string;
}

export const DEFAULT_SUBJECTS: ReportSubjects = {
  attack: 'Security Alerts',
  security: 'Security Events',
  system: 'System Events',
};

export const SENTINEL_SECTION_TITLE = 'Sentinel Detections and Bans';

export interface ReportInput {
  result: ClassifyResult;
  /** Lines of logcheck's errors block, e.g. "E: File could not be read: /var/log/x". */
  errors?: string[];
  /** INTRO: include header.txt and footer.txt (their contents; undefined = the file is absent). */
  intro?: boolean;
  header?: string | undefined;
  footer?: string | undefined;
  subjects?: ReportSubjects;
  host: string;
  /** The run's start; formatted as logcheck's `date +'%Y-%m-%d %H:%M %z'` (local time). */
  date: Date;
  reboot?: boolean;
  addTag?: boolean;
  /** The sentinel's detections and bans in the period; a section only when there is something. */
  sentinel?: DetectionSummary | undefined;
  /** Send even with no section (portsentinel: an errors block alone is worth a mail). */
  forceSeverity?: Severity;
}

export interface RenderedReport {
  subject: string;
  body: string;
  severity: Severity;
  /** Lines printed in sections (the sentinel section not counted). */
  lines: number;
}

/** `date +'%Y-%m-%d %H:%M %z'` in the process's time zone. */
export function formatLogcheckDate(d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())} ` +
    `${sign}${p2(Math.floor(abs / 60))}${p2(abs % 60)}`
  );
}

/** logcheck's printheader: the title, then `=-=-...` as long as the title (in characters). */
export function sectionHeading(title: string): string {
  const n = [...title].length;
  let line = '';
  for (let i = 0; i < n; i++) line += i % 2 === 0 ? '=' : '-';
  return `${title}\n${line}\n`;
}

export function sectionTitle(section: ReportSection, subjects: ReportSubjects): string {
  const base = subjects[section.category];
  return section.file === undefined ? base : `${base} for ${section.file}`;
}

function hasDetections(s: DetectionSummary | undefined): s is DetectionSummary {
  return s !== undefined && (s.probes > 0 || s.bansTotal > 0 || s.bansEnded > 0);
}

function isoMinute(ms: number): string {
  return formatLogcheckDate(new Date(ms));
}

/** The sentinel section's lines (no heading). */
export function sentinelLines(s: DetectionSummary): string[] {
  const out: string[] = [];
  out.push(`Period: ${isoMinute(s.from)} to ${isoMinute(s.to)}`);
  out.push(`Probes: ${s.probes} from ${s.sources} source address${s.sources === 1 ? '' : 'es'}`);
  out.push(`Bans: ${s.bansTotal} new, ${s.bansEnded} ended`);
  for (const b of s.bans) {
    const until = b.until === null ? 'permanent' : `until ${isoMinute(b.until)}`;
    out.push(
      `  ${isoMinute(b.createdAt)} banned ${b.address} (${until}, offence ${b.offence}, ${b.origin}): ${b.reason}`,
    );
  }
  if (s.bans.length < s.bansTotal) out.push(`  ... and ${s.bansTotal - s.bans.length} more bans`);
  if (s.byPort.length > 0) {
    out.push('Most probed ports:');
    for (const p of s.byPort) {
      out.push(`  ${p.port}/${p.protocol}: ${p.probes} probes from ${p.sources} sources`);
    }
  }
  if (s.bySource.length > 0) {
    out.push('Busiest sources:');
    for (const x of s.bySource) out.push(`  ${x.address}: ${x.probes} probes to ${x.ports} ports`);
  }
  return out.map((l) => safeLine(l));
}

/** Builds the report, or undefined when logcheck would send nothing. */
export function renderReport(input: ReportInput): RenderedReport | undefined {
  const subjects = input.subjects ?? DEFAULT_SUBJECTS;
  const intro = input.intro ?? true;
  const parts: string[] = [];
  if (intro && input.header !== undefined) parts.push(input.header);
  const errors = input.errors ?? [];
  if (errors.length > 0) parts.push(`\n${errors.map((e) => safeLine(e)).join('\n')}\n\n`);
  let severity: Severity | undefined;
  let lines = 0;
  const rank: Record<Severity, number> = { attack: 3, security: 2, system: 1 };
  const raise = (s: Severity): void => {
    if (severity === undefined || rank[s] > rank[severity]) severity = s;
  };
  for (const section of input.result.sections) {
    if (section.lines.length === 0) continue;
    raise(section.category);
    lines += section.lines.length;
    parts.push(`${sectionHeading(sectionTitle(section, subjects))}${safeLines(section.lines)}\n`);
  }
  if (hasDetections(input.sentinel)) {
    raise('security');
    parts.push(`${sectionHeading(SENTINEL_SECTION_TITLE)}${sentinelLines(input.sentinel).join('\n')}\n\n`);
  }
  severity ??= input.forceSeverity;
  if (severity === undefined) return undefined;
  if (intro && input.footer !== undefined) parts.push(input.footer);
  let subject = `${input.host} ${formatLogcheckDate(input.date)} ${subjects[severity]}`;
  if (input.reboot) subject = `Reboot: ${subject}`;
  if (input.addTag) subject = `[logcheck] ${subject}`;
  return { subject: safeHeader(subject), body: parts.join(''), severity, lines };
}
