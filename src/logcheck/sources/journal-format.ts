// Turns one entry of `journalctl -o json --all` into the lines `journalctl -o short` prints for it,
// because that is what logcheck 1.4.2 feeds its rules (it runs plain `journalctl --since=...`):
//
//   Mmm dd HH:MM:SS host ident[pid]: message
//
// Rules followed, as systemd 252's output_short() does (the test diffs against journalctl):
// - time: _SOURCE_REALTIME_TIMESTAMP when valid, else __REALTIME_TIMESTAMP; local time (or UTC),
//   English month, zero-padded day (rsyslog pads with a space; the rules accept both).
// - host: _HOSTNAME, left out when unprintable or >= 300 bytes.
// - ident: SYSLOG_IDENTIFIER, else _COMM, else `unknown`; pid: _PID, else SYSLOG_PID.
// - entries without MESSAGE print nothing (the cursor still moves past them).
// - MESSAGE: ANSI colour (ESC[...m) and OSC (ESC]...BEL) sequences removed, TAB -> 8 spaces;
//   then, if still not printable UTF-8 (C0/C1 controls, invalid UTF-8), journalctl prints
//   `[11B blob data]`. Default here: the same (identical report); `binary: 'decode'` instead keeps
//   the text, each invalid UTF-8 byte escaped as a lone surrogate (utf8-escape.ts: rules then
//   treat it as grep treats an encoding error), for the report's own sanitiser to make safe.
// - multi-line messages: one line each, the following ones indented by the prefix width (bytes).
//
// In `-o json`, systemd writes a value as a JSON string exactly when it is printable UTF-8, else
// as an array of byte values; a field present several times becomes an array of such values.

import { decodeUtf8Escaped } from './utf8-escape.js';

/** A value as journalctl's JSON gives it. */
export type JournalValue = string | number[] | null | (string | number[] | null)[];
export type JournalEntry = Record<string, JournalValue | undefined>;

export interface JournalFormatOptions {
  /** `blob` (default, as journalctl) or `decode` for messages that are not printable UTF-8. */
  binary?: 'blob' | 'decode';
  /** Format times in UTC instead of the local zone (journalctl --utc). */
  utc?: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** systemd's PRINT_CHAR_THRESHOLD: longer host/ident/pid values are not printed. */
const PRINT_CHAR_THRESHOLD = 300;

/** A single value of a field: the last one when the field occurs several times (as output_short). */
function single(v: JournalValue | undefined): string | number[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (v.length > 0 && v.every((x) => typeof x === 'number')) return v as number[];
  if (v.length === 0) return [];
  for (let i = v.length - 1; i >= 0; i--) {
    const x = (v as (string | number[] | null)[])[i];
    if (x !== null && x !== undefined) return x;
  }
  return undefined;
}

/** The printable form of a short field (host, ident, pid), or undefined when journalctl hides it. */
function printable(v: JournalValue | undefined): string | undefined {
  const s = single(v);
  if (typeof s !== 'string') return undefined; // byte arrays are exactly the unprintable values
  return Buffer.byteLength(s) < PRINT_CHAR_THRESHOLD ? s : undefined;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const VALID_REALTIME = /^[1-9][0-9]{0,17}$/;

/** Epoch microseconds of the entry (source time preferred), or undefined. */
export function entryMicros(e: JournalEntry): number | undefined {
  for (const key of ['_SOURCE_REALTIME_TIMESTAMP', '__REALTIME_TIMESTAMP']) {
    const v = single(e[key]);
    if (typeof v === 'string' && VALID_REALTIME.test(v)) return Number(v);
  }
  return undefined;
}

export function syslogTime(micros: number, utc: boolean): string {
  const d = new Date(Math.floor(micros / 1_000_000) * 1000);
  const [mo, day, h, m, s] = utc
    ? [d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${MONTHS[mo]} ${pad2(day)} ${pad2(h)}:${pad2(m)}:${pad2(s)}`;
}

/**
 * The lines journalctl's short output shows for this entry; undefined when it shows none (no
 * MESSAGE or no valid time).
 */
export function formatJournalEntry(
  e: JournalEntry,
  options: JournalFormatOptions = {},
): string[] | undefined {
  const rawMessage = single(e.MESSAGE);
  if (rawMessage === undefined) return undefined;
  const micros = entryMicros(e);
  if (micros === undefined) return undefined;

  let prefix = syslogTime(micros, options.utc === true);
  let width = Buffer.byteLength(prefix);
  const host = printable(e._HOSTNAME);
  if (host !== undefined) {
    prefix += ` ${host}`;
    width += Buffer.byteLength(host) + 1;
  }
  const ident = printable(e.SYSLOG_IDENTIFIER) ?? printable(e._COMM);
  if (ident !== undefined) {
    prefix += ` ${ident}`;
    width += Buffer.byteLength(ident) + 1;
  } else {
    prefix += ' unknown'; // journalctl does not count this one in the indent width
  }
  const pid = printable(e._PID) ?? printable(e.SYSLOG_PID);
  if (pid !== undefined) {
    prefix += `[${pid}]`;
    width += Buffer.byteLength(pid) + 2;
  }
  prefix += ': ';
  width += 2;

  let message: string;
  if (typeof rawMessage === 'string') {
    message = rawMessage.includes('\t') ? rawMessage.replaceAll('\t', '        ') : rawMessage;
  } else {
    const stripped = stripTabAnsi(Buffer.from(rawMessage));
    if (isPrintableUtf8(stripped) || options.binary === 'decode') message = decodeUtf8Escaped(stripped);
    else return [`${prefix}[${formatBytes(stripped.length)} blob data]`];
  }
  if (!message.includes('\n')) return [prefix + message];
  const parts = message.split('\n');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // a final newline adds no line
  const indent = ' '.repeat(width);
  return parts.map((p, i) => (i === 0 ? prefix + p : indent + p));
}

/** systemd's strip_tab_ansi(): TAB -> 8 spaces, ESC [ digits/; m and ESC ] ... BEL removed. */
export function stripTabAnsi(input: Buffer): Buffer {
  if (!input.includes(0x1b) && !input.includes(0x09)) return input;
  const out: number[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === 0x09) {
      out.push(32, 32, 32, 32, 32, 32, 32, 32);
      i++;
      continue;
    }
    if (c !== 0x1b) {
      out.push(c);
      i++;
      continue;
    }
    const kind = input[i + 1];
    if (kind === 0x5b /* [ */) {
      // CSI: digits and ';' up to 'm'; anything else (or the end) leaves "ESC[" as it was.
      let j = i + 2;
      while (j < input.length && isCsiChar(input[j]!) && input[j] !== 0x6d) j++;
      if (j < input.length && input[j] === 0x6d) {
        i = j + 1;
        continue;
      }
      out.push(0x1b, 0x5b);
      i += 2;
      continue;
    }
    if (kind === 0x5d /* ] */) {
      // OSC: printable ASCII up to BEL; anything else leaves "ESC]" as it was.
      let j = i + 2;
      while (j < input.length && input[j] !== 0x07 && input[j]! >= 32 && input[j]! <= 126) j++;
      if (j < input.length && input[j] === 0x07) {
        i = j + 1;
        continue;
      }
      out.push(0x1b, 0x5d);
      i += 2;
      continue;
    }
    if (kind === undefined) {
      out.push(0x1b);
      i++;
      continue;
    }
    out.push(0x1b, kind);
    i += 2;
  }
  return Buffer.from(out);
}

function isCsiChar(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || b === 0x3b || b === 0x6d;
}

/** systemd's utf8_is_printable(): valid UTF-8, no C0 controls but TAB/LF, no DEL/C1, no non-characters. */
export function isPrintableUtf8(b: Buffer): boolean {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f) return false;
      i++;
      continue;
    }
    let n: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) [n, cp] = [1, c & 0x1f];
    else if (c >= 0xe0 && c <= 0xef) [n, cp] = [2, c & 0x0f];
    else if (c >= 0xf0 && c <= 0xf4) [n, cp] = [3, c & 0x07];
    else return false;
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    const min = n === 1 ? 0x80 : n === 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff) return false; // overlong or out of range
    if (cp >= 0xd800 && cp <= 0xdfff) return false; // surrogate
    if (cp >= 0xfdd0 && cp <= 0xfdef) return false; // non-character
    if ((cp & 0xfffe) === 0xfffe) return false; // non-character
    if (cp >= 0x80 && cp <= 0x9f) return false; // C1 control
    i += n + 1;
  }
  return true;
}

/** systemd's FORMAT_BYTES(): IEC units with one decimal, trailing B below 1 KiB. */
export function formatBytes(n: number): string {
  const units: [string, number][] = [
    ['E', 1024 ** 6],
    ['P', 1024 ** 5],
    ['T', 1024 ** 4],
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ];
  for (let i = 0; i < units.length; i++) {
    const [suffix, factor] = units[i]!;
    if (n >= factor) {
      const tenth =
        i !== units.length - 1
          ? Math.floor((Math.floor(n / units[i + 1]![1]) * 10) / 1024) % 10
          : Math.floor((n * 10) / factor) % 10;
      return `${Math.floor(n / factor)}.${tenth}${suffix}`;
    }
  }
  return `${n}B`;
}
