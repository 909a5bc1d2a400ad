// A log file read incrementally, losing no line and repeating none across rotations.
//
// The cursor names the file by identity (device + inode) AND by content (a SHA-256 of its first
// `fpLength` bytes, up to FINGERPRINT_BYTES, taken from bytes already read, so it never changes
// while the file only grows). On each run, the file at `path` is compared with the cursor:
//
// - same dev+ino, size >= offset, fingerprint equal  -> the same file grew: read from offset.
// - different dev+ino (or no file at path)            -> rotated by rename (to .1, .0, -DATE, or
//   straight to .1.gz): the old content is looked up among the rotated generations by its
//   fingerprint (an inode match alone is not trusted: inodes are reused). Its rest is read from
//   the old offset (for .gz: the decompressed stream, skipping `offset` bytes), then any newer
//   generations we never saw, whole, then the new file from 0.
// - same dev+ino but size < offset                    -> copytruncate, new content shorter.
// - same dev+ino, size >= offset, fingerprint differs -> copytruncate (or a rewrite), new content
//   already LONGER than our offset: a size check alone (logtail2) would skip or garble lines;
//   the first bytes no longer being the ones we read gives it away.
//   In both copytruncate cases the copy (`.1`, same fingerprint, other inode) holds the lines
//   written between our last read and the copy: its rest is read from the old offset, then the
//   truncated file from 0. (Lines written between logrotate's copy and its truncate are lost by
//   copytruncate itself, before any reader can see them.)
//
// A last line without its newline is held back: the cursor stays before it until it is complete.
// In a rotated generation the file will not grow any more, so its unterminated last line is
// emitted as it is. A missing file is a problem in the outcome (for the report), never a throw.
//
// Limits, said plainly: when the cursor's offset is 0 (nothing was read yet) there is no
// fingerprint, so the old file can be found only by inode (plain rotated names, not .gz).
// Compressions other than gzip are not read (the rest of such a file is reported as not found).
// A writer still appending to a rotated file after we read it: those lines are missed, as the
// cursor moves on to the new file (logrotate's postrotate/HUP normally closes that window).

import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { errorMessage } from '../../core/errors.js';
import { LineSplitter } from './line-splitter.js';
import { gunzipStream, headOf, headOfHandle, listRotated, type RotatedCandidate } from './rotated.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  emptyStats,
  makeRun,
  type ProblemSeverity,
  type SourceOutcome,
  type SourceProblem,
  type SourceRun,
} from './types.js';

/** Bytes hashed for the fingerprint (fewer while the file is shorter than this). */
export const FINGERPRINT_BYTES = 1024;
const DEFAULT_CHUNK_BYTES = 256 * 1024;

export interface FileCursor {
  kind: 'file';
  /** The path this cursor was made for; a cursor of another path is not applied. */
  path: string;
  /** Device and inode as decimal strings (inodes may exceed 2^53). */
  dev: string;
  ino: string;
  /** Bytes consumed: the position just after the last complete line read. */
  offset: number;
  /** How many leading bytes the fingerprint covers: min(FINGERPRINT_BYTES, offset). */
  fpLength: number;
  /** SHA-256 (hex) of the first `fpLength` bytes. */
  fingerprint: string;
}

export interface FileSourceOptions {
  /** Lines longer than this many UTF-8 bytes are cut and counted (default 64 KiB). */
  maxLineBytes?: number;
  /** Read chunk size, and so the largest batch (default 256 KiB). */
  chunkBytes?: number;
}

/** Parses a stored cursor (`LogCursor.position`); undefined when it is not a file cursor. */
export function parseFileCursor(position: string | undefined): FileCursor | undefined {
  if (position === undefined) return undefined;
  try {
    const v = JSON.parse(position) as Partial<FileCursor>;
    if (
      v.kind === 'file' &&
      typeof v.path === 'string' &&
      typeof v.dev === 'string' &&
      typeof v.ino === 'string' &&
      Number.isSafeInteger(v.offset) &&
      (v.offset ?? -1) >= 0 &&
      Number.isSafeInteger(v.fpLength) &&
      typeof v.fingerprint === 'string'
    ) {
      return v as FileCursor;
    }
  } catch {
    // fall through
  }
  return undefined;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sameIdentity(st: BigIntStats, c: FileCursor): boolean {
  return st.dev.toString() === c.dev && st.ino.toString() === c.ino;
}

/**
 * Reads the lines of `path` after `cursor` (all of it when there is no cursor, as logtail2 does
 * on its first run). Iterate the run for batches of lines, then take `outcome()`.
 */
export function readFileSource(
  path: string,
  cursor: FileCursor | undefined,
  options: FileSourceOptions = {},
): SourceRun<FileCursor> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;

  return makeRun(path, async function* () {
    const problems: SourceProblem[] = [];
    const stats = emptyStats();
    const problem = (severity: ProblemSeverity, code: string, message: string): void => {
      problems.push({ source: path, severity, code, message });
    };
    const done = (c: FileCursor | undefined): SourceOutcome<FileCursor> => {
      if (stats.truncatedLines > 0) {
        problem(
          'notice',
          'truncated-lines',
          `${stats.truncatedLines} line(s) longer than ${maxLineBytes} bytes were cut`,
        );
      }
      return {
        source: path,
        cursor: c,
        position: c === undefined ? undefined : JSON.stringify(c),
        problems,
        stats,
      };
    };

    let start = cursor;
    if (start !== undefined && start.path !== path) {
      problem(
        'notice',
        'cursor-other-file',
        `stored position belongs to ${start.path}; reading ${path} from the start`,
      );
      start = undefined;
    }

    // What is at `path` now.
    let current: FileHandle | undefined;
    let currentStat: BigIntStats | undefined;
    let openError: string | undefined;
    try {
      current = await open(path, 'r');
      currentStat = await current.stat({ bigint: true });
      if (!currentStat.isFile()) {
        openError = 'not a regular file';
        await current.close();
        current = undefined;
      }
    } catch (err) {
      openError = (err as NodeJS.ErrnoException).code ?? errorMessage(err);
      await current?.close();
      current = undefined;
    }

    try {
      let fromOffset = 0;
      // The cursor to return if the file at `path` cannot be read after a rotated rest was.
      let afterRotated: FileCursor | undefined;

      if (start !== undefined) {
        const unchanged =
          current !== undefined &&
          currentStat !== undefined &&
          sameIdentity(currentStat, start) &&
          currentStat.size >= BigInt(start.offset) &&
          sha256(await headOfHandle(current, start.fpLength)) === start.fingerprint;
        if (unchanged) {
          fromOffset = start.offset;
        } else {
          // Rotated (rename or compress) or truncated (copytruncate): find the old content.
          const generations = await listRotated(path);
          const match = await findOldContent(generations, start);
          if (match === undefined) {
            // (A missing file with no trace is reported once, below, as `missing`.)
            if (current !== undefined) {
              problem(
                'error',
                'rotated-not-found',
                'the file was rotated or truncated and its old content was not found among its rotated ' +
                  `files: lines written after byte ${start.offset} before the rotation may be missing`,
              );
            }
          } else {
            // The rest of the old file, then each newer generation whole, oldest first.
            for (let i = match; i >= 0; i--) {
              const g = generations[i]!;
              const from = i === match ? start.offset : 0;
              const gen = readRotated(g, from, maxLineBytes, chunkBytes, stats);
              let step = await gen.next();
              while (!step.done) {
                yield step.value;
                step = await gen.next();
              }
              if (step.value.error !== undefined) {
                // Lines already handed out are kept; the old cursor stays, so the next run reads
                // this rest again (a duplicate is preferred to a loss).
                problem('error', 'rotated-unreadable', `${g.path}: ${step.value.error}`);
                return done(cursor);
              }
              stats.rotatedFilesRead.push(g.path);
              const head = await headOf(g, Math.min(FINGERPRINT_BYTES, step.value.end));
              afterRotated = {
                kind: 'file',
                path,
                dev: step.value.dev,
                ino: step.value.ino,
                offset: step.value.end,
                fpLength: head?.length ?? 0,
                fingerprint: sha256(head ?? Buffer.alloc(0)),
              };
            }
          }
        }
      }

      if (current === undefined || currentStat === undefined) {
        if (afterRotated === undefined) {
          problem(
            'error',
            openError === 'ENOENT' ? 'missing' : 'unreadable',
            `File could not be read: ${path} (${openError})`,
          );
        }
        return done(afterRotated ?? cursor);
      }

      // The file at `path`, from `fromOffset` to the size it has now (later appends: next run).
      const end = Number(currentStat.size);
      const splitter = new LineSplitter(maxLineBytes, stats);
      const buf = Buffer.alloc(chunkBytes);
      let pos = fromOffset;
      while (pos < end) {
        const { bytesRead } = await current.read(buf, 0, Math.min(chunkBytes, end - pos), pos);
        if (bytesRead === 0) break; // truncated while we read: the next run sees it
        pos += bytesRead;
        stats.bytes += bytesRead;
        const lines = splitter.push(buf.subarray(0, bytesRead));
        if (lines.length > 0) yield lines;
      }
      // A half-written last line stays unread: the cursor points to its start.
      const offset = fromOffset + splitter.consumed;
      const fpLength = Math.min(FINGERPRINT_BYTES, offset);
      return done({
        kind: 'file',
        path,
        dev: currentStat.dev.toString(),
        ino: currentStat.ino.toString(),
        offset,
        fpLength,
        fingerprint: sha256(await headOfHandle(current, fpLength)),
      });
    } finally {
      await current?.close();
    }
  });
}

/** Index (in `generations`, newest first) of the generation holding the cursor's content. */
async function findOldContent(generations: RotatedCandidate[], c: FileCursor): Promise<number | undefined> {
  for (let i = 0; i < generations.length; i++) {
    const g = generations[i]!;
    if (c.fpLength === 0) {
      // Nothing was read yet, so there is no content to recognise: only the inode can tell.
      if (g.gzip) continue;
      let fh: FileHandle | undefined;
      try {
        fh = await open(g.path, 'r');
        if (sameIdentity(await fh.stat({ bigint: true }), c)) return i;
      } catch {
        // unreadable candidate: not ours
      } finally {
        await fh?.close();
      }
      continue;
    }
    const head = await headOf(g, c.fpLength);
    if (head !== undefined && head.length === c.fpLength && sha256(head) === c.fingerprint) return i;
  }
  return undefined;
}

interface RotatedEnd {
  /** Offset (decompressed) after the last byte read. */
  end: number;
  dev: string;
  ino: string;
  error?: string;
}

/** Lines of a rotated generation from `from` to its end, including an unterminated last line. */
async function* readRotated(
  g: RotatedCandidate,
  from: number,
  maxLineBytes: number,
  chunkBytes: number,
  stats: ReturnType<typeof emptyStats>,
): AsyncGenerator<string[], RotatedEnd> {
  const splitter = new LineSplitter(maxLineBytes, stats);
  let fh: FileHandle | undefined;
  try {
    fh = await open(g.path, 'r');
    const st = await fh.stat({ bigint: true });
    const id = { dev: st.dev.toString(), ino: st.ino.toString() };
    if (!g.gzip) {
      const buf = Buffer.alloc(chunkBytes);
      let pos = from;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, chunkBytes, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        stats.bytes += bytesRead;
        const lines = splitter.push(buf.subarray(0, bytesRead));
        if (lines.length > 0) yield lines;
      }
      const last = splitter.flushPartial();
      if (last !== undefined) yield [last];
      return { end: Math.max(pos, from), ...id };
    }
    // gzip: decompress as a stream and skip the `from` bytes already read before the rotation.
    let skip = from;
    let pos = 0;
    try {
      for await (const raw of gunzipStream(g.path)) {
        let chunk = raw as Buffer;
        pos += chunk.length;
        if (skip > 0) {
          if (chunk.length <= skip) {
            skip -= chunk.length;
            continue;
          }
          chunk = chunk.subarray(skip);
          skip = 0;
        }
        stats.bytes += chunk.length;
        const lines = splitter.push(chunk);
        if (lines.length > 0) yield lines;
      }
    } catch (err) {
      return { end: from, ...id, error: errorMessage(err) };
    }
    const last = splitter.flushPartial();
    if (last !== undefined) yield [last];
    return { end: Math.max(pos, from), ...id };
  } catch (err) {
    return { end: from, dev: '', ino: '', error: errorMessage(err) };
  } finally {
    await fh?.close();
  }
}
