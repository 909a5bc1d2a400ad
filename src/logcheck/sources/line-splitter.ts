// Splits a byte stream into lines with bounded memory, and knows how many bytes the complete
// lines covered (the offset a cursor may safely point to).
//
// Decoding: logcheck's grep matches bytes in a UTF-8 locale. We decode each line as UTF-8 and
// turn each invalid byte b into the lone surrogate U+DC00+b (see utf8-escape.ts: U+FFFD would let
// `.` match where grep's does not); such lines are KEPT (never dropped) and counted in
// `replacedLines`. A newline byte never occurs inside a UTF-8 sequence, so splitting bytes on
// 0x0A first and decoding whole lines afterwards never cuts a character in two.
//
// Bounds: a line longer than `maxLineBytes` (UTF-8 bytes) is cut there, on a character
// boundary, the rest up to its newline is skipped, and `truncatedLines` counts it. The held-back
// fragment (bytes after the last newline) is bounded the same way.

import { isAscii } from 'node:buffer';
import { markAsciiBatch, type SourceStats } from './types.js';
import { decodeUtf8Escaped, encodeUtf8Escaped, hasEscapedByte } from './utf8-escape.js';

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The held fragment already exceeded maxLineBytes: the rest of that line is being skipped. */
  private overflow = false;
  /** Bytes pushed so far. */
  private seen = 0;
  /** Bytes covered by complete lines (through their newline), counted from the first push. */
  consumed = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly stats: SourceStats,
  ) {}

  /** True when bytes after the last newline are held back (a half-written line). */
  get hasPartial(): boolean {
    return this.pendingBytes > 0 || this.overflow;
  }

  /**
   * Feeds one chunk (which may be reused by the caller afterwards); returns its complete lines. A
   * batch whose every line is ASCII is marked so (see markAsciiBatch): the chunk is checked once.
   */
  push(chunk: Buffer): string[] {
    const lastNl = chunk.lastIndexOf(10);
    if (lastNl === -1) {
      this.hold(chunk, 0, chunk.length);
      this.seen += chunk.length;
      return [];
    }
    let start = 0;
    let first: string | undefined;
    let ascii = true;
    if (this.hasPartial) {
      const firstNl = chunk.indexOf(10);
      this.hold(chunk, 0, firstNl);
      ascii = this.pendingAscii();
      first = this.takePending();
      start = firstNl + 1;
    }
    let out: string[];
    if (start <= lastNl) {
      // Decode all complete lines of the chunk at once: far cheaper than one decode per line. Pure
      // ASCII (nearly every log) is decoded as latin1, a plain copy giving the same string.
      if (isAscii(chunk.subarray(start, lastNl))) {
        const text = chunk.toString('latin1', start, lastNl);
        out = text.split('\n');
        this.stats.lines += out.length;
        // One UTF-8 byte per character: only lines longer than the bound need a look.
        if (text.length > this.maxLineBytes) {
          for (let i = 0; i < out.length; i++) {
            const line = out[i]!;
            if (line.length > this.maxLineBytes) {
              this.stats.truncatedLines++;
              out[i] = line.slice(0, this.maxLineBytes);
            }
          }
        }
      } else {
        ascii = false;
        let text = chunk.toString('utf8', start, lastNl);
        // U+FFFD: invalid bytes (or a genuine U+FFFD): decode again, escaping each invalid byte.
        const replaced = text.includes('\uFFFD');
        if (replaced) text = decodeUtf8Escaped(chunk, start, lastNl);
        out = text.split('\n');
        for (let i = 0; i < out.length; i++) out[i] = this.finishLine(out[i]!, replaced);
      }
      if (first !== undefined) out.unshift(first);
    } else out = first === undefined ? [] : [first];
    if (ascii && out.length > 0) markAsciiBatch(out);
    this.hold(chunk, lastNl + 1, chunk.length);
    this.consumed = this.seen + lastNl + 1;
    this.seen += chunk.length;
    return out;
  }

  /**
   * The held-back fragment as a final line, for a file that will not grow any more (a rotated
   * file): its last line is complete even without a newline. Undefined when nothing is held.
   */
  flushPartial(): string | undefined {
    if (!this.hasPartial) return undefined;
    const line = this.takePending();
    this.consumed = this.seen;
    return line;
  }

  private hold(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    const room = this.maxLineBytes - this.pendingBytes;
    const take = Math.min(room, end - start);
    if (take > 0) {
      this.pending.push(Buffer.from(chunk.subarray(start, start + take)));
      this.pendingBytes += take;
    }
    if (end - start > take) this.overflow = true;
  }

  /** The held fragment is pure ASCII. */
  private pendingAscii(): boolean {
    for (const b of this.pending) if (!isAscii(b)) return false;
    return true;
  }

  private takePending(): string {
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const cut = this.overflow ? charBoundary(bytes, bytes.length) : bytes.length;
    const text = decodeUtf8Escaped(bytes, 0, cut);
    if (this.overflow) this.stats.truncatedLines++;
    this.pending = [];
    this.pendingBytes = 0;
    this.overflow = false;
    return this.finishLine(text, true, true);
  }

  private finishLine(line: string, maybeReplaced: boolean, alreadyBounded = false): string {
    this.stats.lines++;
    if (maybeReplaced && hasEscapedByte(line)) this.stats.replacedLines++;
    // A UTF-16 unit is at most 3 UTF-8 bytes, so only long strings need the exact byte count.
    if (
      !alreadyBounded &&
      line.length * 3 > this.maxLineBytes &&
      Buffer.byteLength(line) > this.maxLineBytes
    ) {
      this.stats.truncatedLines++;
      // Back to the original bytes (escapes included), cut, and decoded the same way again.
      const bytes = encodeUtf8Escaped(line);
      return decodeUtf8Escaped(bytes, 0, charBoundary(bytes, this.maxLineBytes));
    }
    return line;
  }
}

/** The largest cut ≤ `at` that does not split a UTF-8 sequence (skips back over continuation bytes). */
function charBoundary(bytes: Buffer, at: number): number {
  if (at >= bytes.length) {
    // Cutting at the end: back off only if the last sequence is incomplete.
    let i = bytes.length;
    let back = 0;
    while (i > 0 && back < 4 && ((bytes[i - 1] ?? 0) & 0xc0) === 0x80) {
      i--;
      back++;
    }
    if (i === 0) return bytes.length;
    const lead = bytes[i - 1] ?? 0;
    const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
    return need > back ? i - 1 : bytes.length;
  }
  let i = at;
  while (i > 0 && ((bytes[i] ?? 0) & 0xc0) === 0x80) i--;
  return i;
}
