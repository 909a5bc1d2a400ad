// Which logs to read, in logcheck 1.4.2's own format:
//   /etc/logcheck/logcheck.logfiles           (-L overrides it)
//   /etc/logcheck/logcheck.logfiles.d/*.logfiles   (-D overrides the directory; logcheck 1.4.2
//                                                   reads it with `shopt -s nullglob`, so a
//                                                   missing or empty directory is fine)
// One entry per line: an absolute path, or the word `journal` for the systemd journal. Lines
// starting with `#` and blank lines are ignored (logcheck: `grep -E -v "(^#|^[[:space:]]*$)"`).
//
// Deliberate differences, each harmless for a working logcheck setup: surrounding whitespace
// and a CR (from a CRLF file) are trimmed, so `  # note` is a comment here while logcheck would
// try to open a file of that name and report it unreadable; a log listed twice is read once
// (logcheck reads it twice, and the second read finds nothing new).

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { SourceProblem } from './types.js';

export const DEFAULT_LOGFILES_LIST = '/etc/logcheck/logcheck.logfiles';
export const DEFAULT_LOGFILES_DIR = '/etc/logcheck/logcheck.logfiles.d';

export type LogfileEntry =
  | { kind: 'file'; path: string; origin: string }
  | { kind: 'journal'; origin: string };

export interface LogfilesList {
  entries: LogfileEntry[];
  problems: SourceProblem[];
}

/** The source name an entry's cursor is stored under (a file's path, or `journal`). */
export function entrySource(e: LogfileEntry): string {
  return e.kind === 'journal' ? 'journal' : e.path;
}

/** Parses the text of one list file; `origin` names it in problems (`file:line`). */
export function parseLogfilesList(text: string, origin: string): LogfilesList {
  const entries: LogfileEntry[] = [];
  const problems: SourceProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const item = lines[i]!.trim();
    if (item === '' || item.startsWith('#')) continue;
    const at = `${origin}:${i + 1}`;
    if (item === 'journal') {
      entries.push({ kind: 'journal', origin: at });
      continue;
    }
    if (item.includes('\0')) {
      problems.push({ source: item, severity: 'error', code: 'list-invalid', message: `${at}: not a path` });
      continue;
    }
    if (!item.startsWith('/')) {
      problems.push({
        source: item,
        severity: 'notice',
        code: 'list-relative',
        message: `${at}: ${item} is not an absolute path (it is read relative to the working directory)`,
      });
    }
    entries.push({ kind: 'file', path: item, origin: at });
  }
  return { entries, problems };
}

/**
 * Reads the list file and the `*.logfiles` of the directory, in logcheck's order (the list first,
 * then the directory's files sorted by name), without duplicates. `null` skips one of them.
 */
export async function loadLogfiles(
  options: { list?: string | null; dir?: string | null } = {},
): Promise<LogfilesList> {
  const list = options.list === undefined ? DEFAULT_LOGFILES_LIST : options.list;
  const dir = options.dir === undefined ? DEFAULT_LOGFILES_DIR : options.dir;
  const files: string[] = [];
  const problems: SourceProblem[] = [];
  if (list !== null) files.push(list);
  if (dir !== null) {
    try {
      const names = (await readdir(dir)).filter((n) => n.endsWith('.logfiles') && !n.startsWith('.'));
      names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      files.push(...names.map((n) => join(dir, n)));
    } catch {
      // nullglob: a missing directory contributes nothing, as in logcheck
    }
  }
  const entries: LogfileEntry[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a regular file');
      text = await readFile(file, 'utf8');
    } catch (err) {
      problems.push({
        source: file,
        severity: 'error',
        code: 'list-unreadable',
        message: `${file} does not exist or could not be read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`,
      });
      continue;
    }
    const parsed = parseLogfilesList(text, file);
    problems.push(...parsed.problems);
    for (const e of parsed.entries) {
      const key = entrySource(e);
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push(e);
    }
  }
  return { entries, problems };
}
