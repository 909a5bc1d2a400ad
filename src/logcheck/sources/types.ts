// What every log source hands the engine. A source run is an async iterable of line batches
// (bounded memory: one batch is at most one read chunk) followed by an outcome: the new cursor,
// the problems met, and counters. The caller stores `outcome.position` (JSON) only after the
// report was delivered; until then the old cursor stays valid and the next run reads again.

export type ProblemSeverity = 'error' | 'notice';

/** Something the report should tell the administrator about a source (never a crash). */
export interface SourceProblem {
  source: string;
  severity: ProblemSeverity;
  /** Stable code: `missing`, `unreadable`, `rotated-not-found`, `cursor-other-file`, `cursor-invalid`,
   * `rotated-unreadable`, `first-journal-run`, `journal-failed`, `truncated-lines`. */
  code: string;
  message: string;
}

export interface SourceStats {
  lines: number;
  /** Bytes of log consumed (decompressed bytes for .gz; JSON bytes for the journal). */
  bytes: number;
  /** Lines cut at `maxLineBytes`; the kept part is reported, the rest is dropped. */
  truncatedLines: number;
  /** Lines holding invalid UTF-8 (each bad byte escaped as U+DC80..U+DCFF, see utf8-escape.ts). */
  replacedLines: number;
  /** Rotated files read (for the rest after our old offset, or whole when never seen). */
  rotatedFilesRead: string[];
}

export interface SourceOutcome<C> {
  source: string;
  /** The cursor after the last line yielded; the same as the input when nothing was read. */
  cursor: C | undefined;
  /** `cursor` as the JSON text the store keeps (`LogCursor.position`); undefined = keep none. */
  position: string | undefined;
  /**
   * A position to store even when the report is NOT delivered: where a first run started (journal:
   * `{ since: '@<start>' }`), so a retry reads from the same point instead of a start relative to
   * its own time. Never past an unread line. Undefined when there is nothing such to keep.
   */
  startPosition?: string;
  problems: SourceProblem[];
  stats: SourceStats;
}

/**
 * One read of a source. Iterate it once to the end; then `outcome()` returns the result.
 * Calling `outcome()` before the iteration finished throws (a partial cursor would skip lines).
 */
export interface SourceRun<C> extends AsyncIterable<string[]> {
  readonly source: string;
  outcome(): SourceOutcome<C>;
}

export function emptyStats(): SourceStats {
  return { lines: 0, bytes: 0, truncatedLines: 0, replacedLines: 0, rotatedFilesRead: [] };
}

/**
 * Batches whose every line is pure ASCII, as the splitter found by checking each read chunk once.
 * The classifier then skips its per-line check (ASCII lines take the rules' small, fast regexes). A
 * set rather than a property on the array, so a batch stays a plain `string[]`; a batch not in it is
 * simply checked line by line.
 */
const asciiBatches = new WeakSet<readonly string[]>();

export function markAsciiBatch(lines: readonly string[]): void {
  asciiBatches.add(lines);
}

/** True only when the source proved every line of the batch ASCII (false = unknown). */
export function isAsciiBatch(lines: readonly string[]): boolean {
  return asciiBatches.has(lines);
}

/** Default bound on one line: longer lines are cut here (and counted), so memory stays bounded. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** Wraps an async generator that returns an outcome into a SourceRun. */
export function makeRun<C>(
  source: string,
  body: () => AsyncGenerator<string[], SourceOutcome<C>, undefined>,
): SourceRun<C> {
  let result: SourceOutcome<C> | undefined;
  let started = false;
  return {
    source,
    outcome(): SourceOutcome<C> {
      if (result === undefined) {
        throw new Error(`log source ${source}: outcome() called before the lines were read to the end`);
      }
      return result;
    },
    [Symbol.asyncIterator](): AsyncIterator<string[]> {
      if (started) throw new Error(`log source ${source}: a run can be iterated only once`);
      started = true;
      const gen = body();
      return {
        async next(): Promise<IteratorResult<string[]>> {
          const step = await gen.next();
          if (step.done) {
            result = step.value;
            return { done: true, value: undefined };
          }
          return step;
        },
        async return(): Promise<IteratorResult<string[]>> {
          // The consumer stopped early: no outcome, so no cursor can be committed by mistake.
          await gen.return(undefined as never);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Reads a run to the end, handing each batch to `onBatch`; returns the outcome. */
export async function drainRun<C>(
  run: SourceRun<C>,
  onBatch: (lines: string[]) => void | Promise<void>,
): Promise<SourceOutcome<C>> {
  for await (const batch of run) await onBatch(batch);
  return run.outcome();
}
