// Decoding log bytes as UTF-8 without losing what the bytes were ("surrogate-escape").
//
// GNU grep in a UTF-8 locale sees an invalid byte as an "encoding error": `.`, `[^x]`, POSIX
// classes and `\w`/`\W` never match it, while a rule's literal text around it still does. If the
// sources replaced such bytes by U+FFFD (a valid character that `.` matches), rules could match
// lines that grep does not, and an ignore rule would then HIDE a line logcheck reports. So each
// invalid byte b becomes its own lone surrogate U+DC00+b (0x80..0xFF → U+DC80..U+DCFF), which no
// valid UTF-8 decodes to: the ERE translator excludes that range from `.` and every class, the
// report's sort compares those lines by their original bytes, and safeLine prints U+FFFD.
//
// Which bytes are invalid follows glibc's mbrtowc (and WHATWG, which Node's decoder implements):
// no overlongs, no surrogates, nothing above U+10FFFF; at a bad position, ONE byte is an error
// and decoding resumes at the next byte (as glibc regex and gnulib dfa do).

/** First unit of the escape range: invalid byte b decodes to ESCAPE_BASE + b. */
export const ESCAPE_BASE = 0xdc00;
/** Lowest and highest escape (only bytes 0x80..0xFF can be invalid). */
export const ESCAPE_MIN = 0xdc80;
export const ESCAPE_MAX = 0xdcff;

/** Length of the valid UTF-8 sequence starting at `p` (0 when the byte there starts none). */
function validSequenceLength(buf: Uint8Array, p: number, end: number): number {
  const b = buf[p] as number;
  if (b < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lo = 0xa0; // overlong
    if (b === 0xed) hi = 0x9f; // UTF-16 surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lo = 0x90; // overlong
    if (b === 0xf4) hi = 0x8f; // above U+10FFFF
  } else return 0;
  if (p + need >= end) return 0; // cut short by the end of the range
  const second = buf[p + 1] as number;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k <= need; k++) {
    const c = buf[p + k] as number;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return need + 1;
}

/**
 * `buf[start, end)` as a string: valid UTF-8 decoded, each invalid byte b as U+DC00+b. Returns
 * the same string as `buf.toString('utf8', start, end)` whenever the bytes are valid UTF-8.
 */
export function decodeUtf8Escaped(buf: Buffer, start = 0, end = buf.length): string {
  let out = '';
  let runStart = start;
  let p = start;
  while (p < end) {
    const b = buf[p] as number;
    if (b < 0x80) {
      p++;
      continue;
    }
    const len = validSequenceLength(buf, p, end);
    if (len > 0) {
      p += len;
      continue;
    }
    if (p > runStart) out += buf.toString('utf8', runStart, p);
    out += String.fromCharCode(ESCAPE_BASE + b);
    p++;
    runStart = p;
  }
  if (runStart === start) return buf.toString('utf8', start, end);
  if (end > runStart) out += buf.toString('utf8', runStart, end);
  return out;
}

/** The string holds an escaped invalid byte (a lone U+DC80..U+DCFF). */
export function hasEscapedByte(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= ESCAPE_MIN && c <= ESCAPE_MAX && !(i > 0 && isHigh(s.charCodeAt(i - 1)))) return true;
  }
  return false;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * `s` encoded back to the bytes it was decoded from: UTF-8, each escape U+DC00+b as byte b (what
 * `sort` compares). A lone surrogate outside the escape range (not produced by the decoder)
 * encodes as U+FFFD.
 */
export function encodeUtf8Escaped(s: string): Buffer {
  const parts: Buffer[] = [];
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc80 || c > 0xdcff) continue;
    if (i > 0 && isHigh(s.charCodeAt(i - 1))) continue; // the low half of a pair
    if (i > runStart) parts.push(Buffer.from(s.slice(runStart, i), 'utf8'));
    parts.push(Buffer.of(c - ESCAPE_BASE));
    runStart = i + 1;
  }
  if (runStart === 0) return Buffer.from(s, 'utf8');
  if (runStart < s.length) parts.push(Buffer.from(s.slice(runStart), 'utf8'));
  return Buffer.concat(parts);
}
