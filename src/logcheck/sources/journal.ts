// The systemd journal, read by cursor: `journalctl -o json --all --after-cursor=C`, spawned with
// an argument vector (no shell). Each entry becomes the syslog-style line(s) journalctl's short
// output shows (journal-format.ts), and the `__CURSOR` of the last entry seen (also of entries
// without MESSAGE, which print nothing) is the new cursor: the next run starts right after it,
// so nothing is read twice and nothing is skipped at second boundaries, unlike logcheck's
// `--since=@<mtime of its offset file>`.
//
// First run (no cursor): like logcheck, only recent entries, `--since=-5h` by default, with a
// notice for the report. A relative start is made absolute (`@<run start - 5h>`) and offered as
// the outcome's `startPosition`, which the run stores even when the mail fails: a retry hours
// later then starts at the same point, not 5 h before ITS start (entries in between were lost).
// If that run finds no entry, the cursor records `--since=@<run start>` so the following run
// does not fall back to "-5h" and miss a quiet day.
// `--all` matters: without it journalctl's JSON replaces fields of 4096 bytes or more with null.
// Reading needs the rights journalctl needs (root, or the `adm`/`systemd-journal` group);
// otherwise journalctl shows only the caller's own journal, silently.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { errorMessage } from '../../core/errors.js';
import { formatJournalEntry, type JournalEntry, type JournalFormatOptions } from './journal-format.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  emptyStats,
  makeRun,
  type ProblemSeverity,
  type SourceProblem,
  type SourceRun,
} from './types.js';
import { decodeUtf8Escaped, encodeUtf8Escaped, hasEscapedByte } from './utf8-escape.js';

export const JOURNAL_SOURCE = 'journal';

export interface JournalCursor {
  kind: 'journal';
  /** journald's cursor of the last entry read. */
  cursor?: string;
  /** When no entry was ever read: where the next run starts (`@epoch-seconds`). */
  since?: string;
}

export interface JournalSourceOptions extends JournalFormatOptions {
  /** Program to run (default `journalctl`, found on PATH). */
  journalctl?: string;
  /** Extra arguments, e.g. `['--file', F]`, `['--directory', D]`, `['--unit', U]`. */
  extraArgs?: string[];
  /** Where a first run starts (journalctl `--since` syntax); null = the whole journal. Default `-5h`. */
  firstRunSince?: string | null;
  /** Lines per batch (default 2000). */
  batchLines?: number;
  maxLineBytes?: number;
  /** Kill journalctl after this long (default 10 minutes); a problem is reported. */
  timeoutMs?: number;
  /** Epoch ms of this run's start, injectable for tests (default Date.now()). */
  now?: number;
}

export function parseJournalCursor(position: string | undefined): JournalCursor | undefined {
  if (position === undefined) return undefined;
  try {
    const v = JSON.parse(position) as Partial<JournalCursor>;
    if (v.kind !== 'journal') return undefined;
    const out: JournalCursor = { kind: 'journal' };
    if (typeof v.cursor === 'string' && v.cursor !== '') out.cursor = v.cursor;
    else if (typeof v.since === 'string' && /^@\d+$/.test(v.since)) out.since = v.since;
    else return undefined;
    return out;
  } catch {
    return undefined;
  }
}

/** Only the fields the short format uses (journalctl adds __CURSOR and the timestamps itself):
 * real entries carry 20-30 fields, and JSON-encoding them is most of journalctl's time. */
const OUTPUT_FIELDS = 'MESSAGE,_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,_PID,SYSLOG_PID,_SOURCE_REALTIME_TIMESTAMP';

const SPAN_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  m: 60,
  min: 60,
  h: 3600,
  hr: 3600,
  d: 86400,
  w: 604800,
};

/**
 * Where a first run starts, in journalctl `--since` syntax: a relative `-<n><unit>` (the default
 * `-5h`) becomes absolute, `@<epoch seconds of startedAt - span>`; other forms (dates) are kept;
 * null: the whole journal.
 */
export function firstRunSince(options: JournalSourceOptions, startedAt: number): string | null {
  const since = options.firstRunSince === undefined ? '-5h' : options.firstRunSince;
  if (since === null) return null;
  const rel = /^-(\d+)\s*(s|sec|m|min|h|hr|d|w)$/.exec(since.trim());
  if (!rel) return since;
  const seconds = Number(rel[1]) * (SPAN_SECONDS[rel[2] as string] as number);
  return `@${Math.max(0, Math.floor(startedAt / 1000) - seconds)}`;
}

/** The argument vector for one read (exported so tests and `--debug` output can show it). */
export function journalctlArgs(
  cursor: JournalCursor | undefined,
  options: JournalSourceOptions = {},
): string[] {
  const args = ['--output=json', '--all', '--no-pager', '--quiet', `--output-fields=${OUTPUT_FIELDS}`];
  if (cursor?.cursor !== undefined) args.push(`--after-cursor=${cursor.cursor}`);
  else if (cursor?.since !== undefined) args.push(`--since=${cursor.since}`);
  else {
    const since = firstRunSince(options, options.now ?? Date.now());
    if (since !== null) args.push(`--since=${since}`);
  }
  args.push(...(options.extraArgs ?? []));
  return args;
}

const STDERR_CAP = 4096;

export function readJournalSource(
  cursor: JournalCursor | undefined,
  options: JournalSourceOptions = {},
): SourceRun<JournalCursor> {
  const source = JOURNAL_SOURCE;
  const batchLines = options.batchLines ?? 2000;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const timeoutMs = options.timeoutMs ?? 10 * 60 * 1000;

  return makeRun(source, async function* () {
    const problems: SourceProblem[] = [];
    const stats = emptyStats();
    const problem = (severity: ProblemSeverity, code: string, message: string): void => {
      problems.push({ source, severity, code, message });
    };
    const startedAt = options.now ?? Date.now();
    const args = journalctlArgs(cursor, { ...options, now: startedAt });
    // A first run's absolute start, stored by the run even if the report is not delivered.
    const start = cursor === undefined ? firstRunSince(options, startedAt) : null;
    const startPosition =
      start !== null && /^@\d+$/.test(start) ? JSON.stringify({ kind: 'journal', since: start }) : undefined;
    if (cursor === undefined) {
      const since = options.firstRunSince === undefined ? '-5h' : options.firstRunSince;
      problem(
        'notice',
        'first-journal-run',
        since === null
          ? 'This is the first time the systemd journal is checked; all of it was read.'
          : `This is the first time the systemd journal is checked; only entries since ${since} were read.`,
      );
    }

    let lastCursor: string | undefined;
    let badJson = 0;
    let stderr = '';
    let timedOut = false;
    const child = spawn(options.journalctl ?? 'journalctl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('close', (code, signal) => resolve({ code, signal }));
      },
    );
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < STDERR_CAP) stderr += d.slice(0, STDERR_CAP - stderr.length);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);

    try {
      const rl = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
      let batch: string[] = [];
      for await (const jsonLine of rl) {
        if (jsonLine === '') continue;
        stats.bytes += jsonLine.length + 1;
        let entry: JournalEntry;
        try {
          entry = JSON.parse(jsonLine) as JournalEntry;
        } catch {
          badJson++;
          continue;
        }
        const entryCursor = entry.__CURSOR;
        const lines = formatJournalEntry(entry, options);
        if (lines !== undefined) {
          for (const l of lines) {
            stats.lines++;
            if (hasEscapedByte(l)) stats.replacedLines++;
            batch.push(bound(l, maxLineBytes, stats));
          }
        }
        // The cursor moves only after the entry's lines are in the batch handed out next.
        if (typeof entryCursor === 'string') lastCursor = entryCursor;
        if (batch.length >= batchLines) {
          const out = batch;
          batch = [];
          yield out;
        }
      }
      if (batch.length > 0) yield batch;
      const end = await exited;
      if (end.error !== undefined) {
        problem('error', 'journal-failed', `could not run journalctl: ${errorMessage(end.error)}`);
      } else if (timedOut) {
        problem('error', 'journal-failed', `journalctl took longer than ${timeoutMs} ms and was stopped`);
      } else if (end.code !== 0) {
        problem(
          'error',
          'journal-failed',
          `journalctl ${args.join(' ')} exited with ${end.code ?? end.signal}: ${stderr.trim()}`,
        );
      }
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    if (badJson > 0)
      problem('error', 'journal-failed', `${badJson} line(s) of journalctl output were not JSON`);
    if (stats.truncatedLines > 0) {
      problem(
        'notice',
        'truncated-lines',
        `${stats.truncatedLines} line(s) longer than ${maxLineBytes} bytes were cut`,
      );
    }

    // Entries read -> resume after the last one. None read -> keep the old cursor; on a first run,
    // remember the start time so a later run does not fall back to `firstRunSince`.
    let next: JournalCursor | undefined = cursor;
    if (lastCursor !== undefined) next = { kind: 'journal', cursor: lastCursor };
    else if (cursor === undefined && !problems.some((p) => p.severity === 'error')) {
      next = { kind: 'journal', since: `@${Math.floor(startedAt / 1000)}` };
    }
    return {
      source,
      cursor: next,
      position: next === undefined ? undefined : JSON.stringify(next),
      ...(startPosition !== undefined && { startPosition }),
      problems,
      stats,
    };
  });
}

function bound(line: string, maxLineBytes: number, stats: { truncatedLines: number }): string {
  if (line.length * 3 <= maxLineBytes || Buffer.byteLength(line) <= maxLineBytes) return line;
  stats.truncatedLines++;
  // Cut the original bytes (escaped invalid bytes included) and decode them the same way again.
  const bytes = encodeUtf8Escaped(line);
  let cut = maxLineBytes;
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return decodeUtf8Escaped(bytes, 0, cut);
}
