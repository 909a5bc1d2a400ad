// Makes hostile log text safe to put in a report body, and config text safe for a mail header.
// A log line may carry ANSI escapes (that would drive the reader's terminal), other control
// characters, bidi overrides (that reorder what the reader sees), invalid UTF-8 (the sources
// escaped each bad byte as a lone surrogate, printed here as U+FFFD) or a megabyte of garbage. The rules matched the original text;
// only the printed copy is changed, and a line without such characters is printed unchanged.

/** Longest line printed in a report; the rest is cut with a note saying how much. */
export const MAX_REPORT_LINE_CHARS = 16 * 1024;

// C0 controls except TAB, DEL, C1 controls, bidi embeddings/overrides/isolates, line/paragraph
// separators (they break lines in some readers), BOM and other invisible format characters.
const UNSAFE =
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;
const UNSAFE_TEST =
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One log line as it may appear in a report body. */
export function safeLine(line: string, maxChars = MAX_REPORT_LINE_CHARS): string {
  let text = line;
  let cut = 0;
  if (text.length > maxChars) {
    cut = text.length - maxChars;
    // Do not split a surrogate pair.
    let end = maxChars;
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--;
    cut = text.length - end;
    text = text.slice(0, end);
  }
  if (UNSAFE_TEST.test(text)) text = text.replace(UNSAFE, escapeChar);
  // Lone surrogates cannot be encoded in the mail: show them as U+FFFD.
  text = wellFormed(text);
  return cut > 0 ? `${text} [... ${cut} more characters cut by portsentinel]` : text;
}

// UNSAFE without the newline: the test of a whole block of lines joined by newlines.
const UNSAFE_BUT_NEWLINE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/;

/**
 * Lines as they may appear in a report body, each followed by a newline: the same text as
 * `safeLine` on each line. Nearly every block needs no change, which one scan of the joined block
 * proves far faster than a test per line.
 */
export function safeLines(lines: readonly string[], maxChars = MAX_REPORT_LINE_CHARS): string {
  if (lines.length === 0) return '';
  let clean = true;
  for (let i = 0; i < lines.length && clean; i++) clean = (lines[i] as string).length <= maxChars;
  const text = lines.join('\n');
  if (clean && !UNSAFE_BUT_NEWLINE.test(text) && (text as WellFormedString).isWellFormed()) {
    // A newline inside a line (to be escaped) would be one more than the separators.
    let newlines = 0;
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) newlines++;
    if (newlines === lines.length - 1) return `${text}\n`;
  }
  let out = '';
  for (const l of lines) out += `${safeLine(l, maxChars)}\n`;
  return out;
}

/** ES2024's String.prototype.isWellFormed (Node 20 has it; the project's lib is ES2023). */
type WellFormedString = string & { isWellFormed(): boolean };

/** A mail header value from configuration or the host name: one line, printable, bounded. */
export function safeHeader(value: string, maxChars = 200): string {
  const flat = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return wellFormed(flat).slice(0, maxChars);
}
