// One entry point for the engine: read the source a logfiles entry names, from its stored
// position (`LogCursor.position`), and get batches of lines plus an outcome whose `position`
// is what to store after the report was delivered.

import { type FileCursor, type FileSourceOptions, parseFileCursor, readFileSource } from './file.js';
import {
  type JournalCursor,
  type JournalSourceOptions,
  parseJournalCursor,
  readJournalSource,
} from './journal.js';
import { entrySource, type LogfileEntry } from './logfiles.js';
import type { SourceOutcome, SourceRun } from './types.js';

export type { FileCursor, FileSourceOptions } from './file.js';
export { parseFileCursor, readFileSource } from './file.js';
export type { JournalCursor, JournalSourceOptions } from './journal.js';
export { journalctlArgs, parseJournalCursor, readJournalSource } from './journal.js';
export type { LogfileEntry, LogfilesList } from './logfiles.js';
export {
  DEFAULT_LOGFILES_DIR,
  DEFAULT_LOGFILES_LIST,
  entrySource,
  loadLogfiles,
  parseLogfilesList,
} from './logfiles.js';
export type { SourceOutcome, SourceProblem, SourceRun, SourceStats } from './types.js';
export { drainRun } from './types.js';

export interface LogSourceOptions {
  file?: FileSourceOptions;
  journal?: JournalSourceOptions;
}

export type AnyCursor = FileCursor | JournalCursor;

/** Reads one source from its stored position; an unusable position is a notice, then a fresh start. */
export function readLogSource(
  entry: LogfileEntry,
  position: string | undefined,
  options: LogSourceOptions = {},
): SourceRun<AnyCursor> {
  const source = entrySource(entry);
  const fileCursor = entry.kind === 'file' ? parseFileCursor(position) : undefined;
  const journalCursor = entry.kind === 'journal' ? parseJournalCursor(position) : undefined;
  const invalid = position !== undefined && fileCursor === undefined && journalCursor === undefined;
  const run: SourceRun<AnyCursor> =
    entry.kind === 'file'
      ? readFileSource(entry.path, fileCursor, options.file)
      : readJournalSource(journalCursor, options.journal);
  if (!invalid) return run;
  return {
    source,
    [Symbol.asyncIterator]: () => run[Symbol.asyncIterator](),
    outcome(): SourceOutcome<AnyCursor> {
      const o = run.outcome();
      return {
        ...o,
        problems: [
          {
            source,
            severity: 'notice',
            code: 'cursor-invalid',
            message: 'the stored read position could not be used; reading as on a first run',
          },
          ...o.problems,
        ],
      };
    },
  };
}
