// GNU `grep -E` (POSIX ERE plus GNU extensions) → JavaScript RegExp, as grep 3.8 / glibc 2.36 behave in
// the C.UTF-8 locale. logcheck 1.4.2 sets no locale: its greps run in the caller's (cron's) locale; we
// mirror a UTF-8 locale (what Debian's cron gets from /etc/default/locale on a configured host and what CI
// uses). Lines that are pure ASCII behave the same in the C locale.
//
// Why a parser and not string rewriting: grep is two engines. Its syntax errors are the union of glibc
// regex's and gnulib dfa's; its matching is dfa's, except that patterns dfa cannot do in a multibyte locale
// (back-references, `\w`, `[[:alpha:]]`, `[^...]`, ranges, word anchors) are decided by glibc regex. The two
// read a few odd constructs differently (a repetition operator right after an anchor, a `{` where an
// expression starts); those are translated when the choice is certain and reported otherwise.
//
// Two JS sources come out of one parse: `source` (flags `su`, exact for every line) and `ascii` (flag `s`,
// small classes, exact only for lines whose characters are all below U+0080, which is most log lines).
//
// Invalid UTF-8: the sources decode each invalid byte b to the lone surrogate U+DC00+b (see
// sources/utf8-escape.ts). grep never matches such an encoding error with `.`, a bracket (negated or
// not), a POSIX class, `\w`/`\W` or `\s`/`\S` (checked with grep 3.8 in C.UTF-8), so the `unicode`
// form leaves U+DC80..U+DCFF out of all of them. Only a word ASSERTION sees the byte otherwise:
// glibc regex takes an invalid byte's context from the byte read as a Latin-1 character, so
// `a\xe9` has no `\>` after `a` (é is alphanumeric) while `a\x80` has one (see WORD_CONTEXT_BYTES).
import { UNICODE_CLASSES } from './unicode-classes.js';

export type EreTranslation =
  | { ok: true; source: string; flags: string; ascii: { source: string; flags: string } }
  | { ok: false; reason: string; column?: number; kind: 'invalid' | 'unsupported' };

export type EreNode =
  | { t: 'empty' }
  | { t: 'char'; cp: number }
  | { t: 'any' }
  | { t: 'set'; neg: boolean; ranges: number[]; classes: string[] }
  | { t: 'assert'; k: 'bol' | 'eol' | 'wordb' | 'notwordb' | 'wbeg' | 'wend' }
  | { t: 'group'; index: number; body: EreNode }
  | { t: 'cat'; items: EreNode[] }
  | { t: 'alt'; items: EreNode[] }
  | { t: 'rep'; min: number; max: number; body: EreNode }
  | { t: 'backref'; n: number };

export interface ParsedEre {
  ast: EreNode;
  groups: number;
}

const RE_DUP_MAX = 32767;

/** Escaped invalid bytes (sources/utf8-escape.ts): no `.` or class ever matches them. */
const ESCAPE_MIN = 0xdc80;
const ESCAPE_MAX = 0xdcff;
/** `.` of the unicode form: any character but an escaped invalid byte. */
const ANY_BUT_ESCAPE = '[^\\u{dc80}-\\u{dcff}]';
const CLASS_NAMES = new Set(Object.keys(UNICODE_CLASSES));

class EreError extends Error {
  constructor(
    message: string,
    readonly column: number,
    readonly kind: 'invalid' | 'unsupported',
  ) {
    super(message);
  }
}

const CH = (s: string): number => s.codePointAt(0) ?? 0;
const C_LPAREN = CH('(');
const C_RPAREN = CH(')');
const C_PIPE = CH('|');
const C_STAR = CH('*');
const C_PLUS = CH('+');
const C_QMARK = CH('?');
const C_LBRACE = CH('{');
const C_RBRACE = CH('}');
const C_LBRACK = CH('[');
const C_RBRACK = CH(']');
const C_BSLASH = CH('\\');
const C_DOT = CH('.');
const C_CARET = CH('^');
const C_DOLLAR = CH('$');
const C_COMMA = CH(',');
const C_COLON = CH(':');
const C_EQUALS = CH('=');
const C_MINUS = CH('-');

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const utf8Len = (c: number): number => (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4);

/** A POSIX ERE parser that follows grep's two engines; see the file comment. */
class Parser {
  private i = 0;
  private groups = 0;
  private readonly completed = new Set<number>();
  /** Something only glibc regex can match (so grep decides with regex, dfa only prefilters). */
  needsRegex = false;
  /** dfa and regex read the pattern differently; fatal if regex decides (needsRegex). */
  private divergence: { message: string; column: number } | undefined;
  /** A repetition right after an anchor: dfa repeats the anchor, regex ignores the operator. */
  private readonly anchorDups: Array<{ rep: EreNode & { t: 'rep' }; anchor: EreNode }> = [];
  private readonly backrefs: Array<{ n: number; path: EreNode[]; pos: number }> = [];
  private readonly groupPaths = new Map<number, { path: EreNode[]; pos: number }>();
  /** Text spans of repeated atoms that may match zero times (their groups may not take part). */
  private readonly optionalSpans: Array<{ from: number; to: number }> = [];
  private readonly stack: EreNode[] = [];

  constructor(private readonly cps: number[]) {}

  parse(): ParsedEre {
    const ast = this.parseAlt(0);
    if (this.i < this.cps.length) throw new EreError('Unmatched ) or \\)', this.i, 'invalid');
    if (this.needsRegex && this.divergence) {
      throw new EreError(this.divergence.message, this.divergence.column, 'unsupported');
    }
    // regex semantics for anchor repetition when regex decides: `^*` is `^`, `\<+` is `\<`.
    if (this.needsRegex) {
      for (const { rep, anchor } of this.anchorDups) Object.assign(rep, { min: 1, max: 1, body: anchor });
    }
    this.checkBackrefs();
    return { ast, groups: this.groups };
  }

  private peek(offset = 0): number | undefined {
    return this.cps[this.i + offset];
  }

  private parseAlt(depth: number): EreNode {
    const alt: EreNode & { t: 'alt' } = { t: 'alt', items: [] };
    this.stack.push(alt);
    alt.items.push(this.parseBranch(depth));
    while (this.peek() === C_PIPE) {
      this.i++;
      alt.items.push(this.parseBranch(depth));
    }
    this.stack.pop();
    return alt.items.length === 1 ? (alt.items[0] as EreNode) : alt;
  }

  private parseBranch(depth: number): EreNode {
    const cat: EreNode & { t: 'cat' } = { t: 'cat', items: [] };
    this.stack.push(cat);
    // Where glibc regex starts an expression (branch start, after an anchor), it skips `*+?{`.
    this.skipLeadingDups(depth, false);
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === C_PIPE || (c === C_RPAREN && depth > 0)) break;
      const atomStart = this.i;
      const atom = this.parseAtom(depth);
      const node = this.parseClosure(atom);
      if (node !== atom && minRepeat(node) === 0) this.optionalSpans.push({ from: atomStart, to: this.i });
      cat.items.push(node);
      if (atom.t === 'assert' && node === atom) this.skipLeadingDups(depth, true);
    }
    this.stack.pop();
    if (cat.items.length === 0) return { t: 'empty' };
    return cat.items.length === 1 ? (cat.items[0] as EreNode) : cat;
  }

  /**
   * Repetition operators where an expression starts. dfa repeats an empty expression (so they vanish),
   * glibc regex skips them: the same language, unless a `{` is involved (regex drops just the brace) or a
   * `)` follows (regex makes it a literal and pairs parentheses differently).
   */
  private skipLeadingDups(depth: number, afterAnchor: boolean): void {
    const start = this.i;
    let sawDup = false;
    for (;;) {
      const c = this.peek();
      if (c === C_STAR || c === C_PLUS || c === C_QMARK) {
        if (afterAnchor) return; // handled as a repetition of the anchor by parseClosure
        this.i++;
        sawDup = true;
        continue;
      }
      if (c === C_LBRACE) {
        this.divergence ??= {
          message: '"{" where an expression starts: grep\'s two engines disagree',
          column: start,
        };
        if (afterAnchor) return;
        let iv: ReturnType<Parser['parseInterval']>;
        try {
          iv = this.parseInterval(this.i);
        } catch {
          throw new EreError(
            '"{" where an expression starts: grep\'s two engines disagree',
            start,
            'unsupported',
          );
        }
        if (iv.kind === 'interval') {
          this.i = iv.end;
          sawDup = true;
          continue;
        }
        return; // a literal brace for dfa
      }
      break;
    }
    if (sawDup && this.peek() === C_RPAREN && depth > 0) {
      throw new EreError(
        '")" right after a leading repetition operator: grep\'s engines disagree',
        this.i,
        'unsupported',
      );
    }
  }

  private parseAtom(depth: number): EreNode {
    const start = this.i;
    const c = this.cps[this.i++] as number;
    if (c === C_LPAREN) {
      const index = ++this.groups;
      const group: EreNode & { t: 'group' } = { t: 'group', index, body: { t: 'empty' } };
      this.groupPaths.set(index, { path: [...this.stack, group], pos: start });
      this.stack.push(group);
      group.body = this.parseAlt(depth + 1);
      this.stack.pop();
      if (this.peek() !== C_RPAREN) throw new EreError('Unmatched ( or \\(', start, 'invalid');
      this.i++;
      this.completed.add(index);
      return group;
    }
    if (c === C_LBRACK) return this.parseBracket(start);
    if (c === C_DOT) return { t: 'any' };
    if (c === C_CARET) return { t: 'assert', k: 'bol' };
    if (c === C_DOLLAR) return { t: 'assert', k: 'eol' };
    if (c === C_BSLASH) return this.parseEscape(start);
    return { t: 'char', cp: c };
  }

  private parseEscape(start: number): EreNode {
    const d = this.cps[this.i++];
    if (d === undefined) throw new EreError('Trailing backslash', start, 'invalid');
    const ch = String.fromCodePoint(d);
    if (d >= 0x31 && d <= 0x39) {
      const n = d - 0x30;
      if (!this.completed.has(n)) throw new EreError('Invalid back reference', start, 'invalid');
      this.needsRegex = true;
      const node: EreNode = { t: 'backref', n };
      this.backrefs.push({ n, path: [...this.stack, node], pos: start });
      return node;
    }
    switch (ch) {
      case 'w':
      case 'W':
        this.needsRegex = true;
        return { t: 'set', neg: ch === 'W', ranges: [0x5f, 0x5f], classes: ['alnum'] };
      case 's':
      case 'S':
        this.needsRegex = true;
        return { t: 'set', neg: ch === 'S', ranges: [], classes: ['space'] };
      case 'b':
        this.needsRegex = true;
        return { t: 'assert', k: 'wordb' };
      case 'B':
        this.needsRegex = true;
        return { t: 'assert', k: 'notwordb' };
      case '<':
        this.needsRegex = true;
        return { t: 'assert', k: 'wbeg' };
      case '>':
        this.needsRegex = true;
        return { t: 'assert', k: 'wend' };
      case '`':
        return { t: 'assert', k: 'bol' };
      case "'":
        return { t: 'assert', k: 'eol' };
      default:
        return { t: 'char', cp: d }; // GNU: any other escaped character is itself (grep 3.8 warns)
    }
  }

  private parseClosure(atom: EreNode): EreNode {
    let node = atom;
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === C_STAR || c === C_PLUS || c === C_QMARK) {
        this.i++;
        min = c === C_PLUS ? 1 : 0;
        max = c === C_QMARK ? 1 : -1;
      } else if (c === C_LBRACE) {
        if (atom.t === 'assert') {
          this.divergence ??= {
            message: "an interval after an anchor: grep's two engines disagree",
            column: this.i,
          };
        }
        const iv = this.parseInterval(this.i);
        if (iv.kind !== 'interval') break;
        this.i = iv.end;
        min = iv.min;
        max = iv.max;
      } else break;
      const rep: EreNode & { t: 'rep' } = { t: 'rep', min, max, body: node };
      if (atom.t === 'assert') {
        this.anchorDups.push({ rep, anchor: atom });
        if (this.afterSkippingDupsIsCloseParen()) {
          throw new EreError('")" after a repeated anchor: grep\'s engines disagree', this.i, 'unsupported');
        }
      }
      node = rep;
    }
    return node;
  }

  private afterSkippingDupsIsCloseParen(): boolean {
    let j = this.i;
    while (this.cps[j] === C_STAR || this.cps[j] === C_PLUS || this.cps[j] === C_QMARK) j++;
    return this.cps[j] === C_RPAREN && this.stack.some((n) => n.t === 'group');
  }

  /**
   * `{` at index `at`. dfa reads digits from the raw text; glibc regex reads tokens (so `\,` is a comma to it).
   * An interval only when both agree; a regex error is an error; a disagreement is reported.
   */
  private parseInterval(
    at: number,
  ): { kind: 'interval'; min: number; max: number; end: number } | { kind: 'literal' } {
    const cps = this.cps;
    // dfa
    let p = at + 1;
    let dMin = -1;
    let dMax = -1;
    while (isDigit(cps[p])) {
      dMin =
        dMin < 0
          ? (cps[p] as number) - 0x30
          : Math.min(RE_DUP_MAX + 1, dMin * 10 + (cps[p] as number) - 0x30);
      p++;
    }
    if (p < cps.length) {
      if (cps[p] !== C_COMMA) dMax = dMin;
      else {
        if (dMin < 0) dMin = 0;
        while (++p < cps.length && isDigit(cps[p])) {
          dMax =
            dMax < 0
              ? (cps[p] as number) - 0x30
              : Math.min(RE_DUP_MAX + 1, dMax * 10 + (cps[p] as number) - 0x30);
        }
      }
    }
    const dfaValid = p < cps.length && cps[p] === C_RBRACE && dMin >= 0 && (dMax < 0 || dMin <= dMax);
    const dfaEnd = p + 1;
    if (dfaValid && dMax > RE_DUP_MAX) throw new EreError('Regular expression too big', at, 'invalid');

    // glibc regex (parse_dup_op / fetch_number), on tokens
    let q = at + 1;
    const fetchNumber = (): { num: number; tok: 'end' | 'close' | 'comma' } => {
      let num = -1;
      for (;;) {
        const c = cps[q];
        if (c === undefined) return { num: -2, tok: 'end' };
        let tokenChar = c;
        let plainChar = true;
        if (c === C_BSLASH) {
          const e = cps[q + 1];
          if (e === undefined) return { num: -2, tok: 'end' }; // trailing backslash: an error anyway
          tokenChar = e;
          plainChar = !(isDigit(e) && e !== 0x30) && !"wWsSbB<>`'".includes(String.fromCodePoint(e));
          q += 2;
        } else q++;
        if (c === C_RBRACE) return { num, tok: 'close' };
        if (tokenChar === C_COMMA) return { num, tok: 'comma' };
        num =
          !plainChar || c === C_BSLASH || !isDigit(tokenChar) || num === -2
            ? -2
            : num === -1
              ? tokenChar - 0x30
              : Math.min(RE_DUP_MAX + 1, num * 10 + tokenChar - 0x30);
      }
    };
    const first = fetchNumber();
    let start = first.num;
    let regexResult: { kind: 'interval'; min: number; max: number; end: number } | { kind: 'literal' };
    if (start === -1 && first.tok !== 'comma') {
      throw new EreError('Invalid content of \\{\\}', at, 'invalid');
    }
    if (start === -1) start = 0;
    let end = -2;
    let last = first;
    if (start !== -2) {
      if (first.tok === 'close') end = start;
      else if (first.tok === 'comma') {
        last = fetchNumber();
        end = last.num;
      }
    }
    if (start === -2 || end === -2) regexResult = { kind: 'literal' };
    else {
      if ((end !== -1 && start > end) || last.tok !== 'close')
        throw new EreError('Invalid content of \\{\\}', at, 'invalid');
      if (RE_DUP_MAX < (end === -1 ? start : end))
        throw new EreError('Regular expression too big', at, 'invalid');
      regexResult = { kind: 'interval', min: start, max: end, end: q };
    }

    if (!dfaValid && regexResult.kind === 'literal') return { kind: 'literal' };
    if (
      dfaValid &&
      regexResult.kind === 'interval' &&
      regexResult.min === dMin &&
      regexResult.max === dMax &&
      regexResult.end === dfaEnd
    ) {
      return regexResult;
    }
    throw new EreError("an interval that grep's two engines read differently", at, 'unsupported');
  }

  private parseBracket(start: number): EreNode {
    const cps = this.cps;
    const set: EreNode & { t: 'set' } = { t: 'set', neg: false, ranges: [], classes: [] };
    const unbalanced = (): EreError => new EreError('Unmatched [, [^, [:, [., or [=', start, 'invalid');
    if (cps[this.i] === C_CARET) {
      set.neg = true;
      this.needsRegex = true;
      this.i++;
    }
    // dfa's "[:space:]" check: first member ':' and last member ':' with something else and nothing special.
    let colonState = cps[this.i] === C_COLON ? 1 : 0;
    type Elem =
      | { kind: 'char'; cp: number }
      | { kind: 'class'; name: string }
      | { kind: 'equiv'; cp: number }
      | { kind: 'coll'; cp: number };
    const readSymbol = (delim: number): string => {
      // parse_bracket_symbol: bytes up to "<delim>]", at most 32 bytes
      const from = this.i;
      let bytes = 0;
      for (;;) {
        if (bytes >= 32) throw unbalanced();
        const ch = cps[this.i++];
        if (ch === undefined || this.i >= cps.length) throw unbalanced();
        if (ch === delim && cps[this.i] === C_RBRACK) {
          this.i++;
          return String.fromCodePoint(...cps.slice(from, this.i - 2));
        }
        bytes += utf8Len(ch);
      }
    };
    const singleByte = (name: string): number => {
      const cp = name.codePointAt(0);
      if (name.length !== 1 || cp === undefined || cp > 0x7f) {
        throw new EreError('Invalid collation character', start, 'invalid');
      }
      return cp;
    };
    const parseElement = (acceptHyphen: boolean): Elem => {
      const c = cps[this.i];
      if (c === undefined) throw unbalanced();
      const next = cps[this.i + 1];
      if (c === C_LBRACK && next !== undefined && (next === C_DOT || next === C_EQUALS || next === C_COLON)) {
        this.i += 2;
        const name = readSymbol(next);
        colonState |= 8;
        if (next === C_COLON) {
          if (!CLASS_NAMES.has(name)) throw new EreError('Invalid character class name', start, 'invalid');
          if (name !== 'digit') this.needsRegex = true;
          return { kind: 'class', name };
        }
        this.needsRegex = true;
        const cp = singleByte(name);
        return next === C_EQUALS ? { kind: 'equiv', cp } : { kind: 'coll', cp };
      }
      if (c === C_MINUS && !acceptHyphen && next !== C_RBRACK) {
        throw new EreError('Invalid range end', start, 'invalid');
      }
      this.i++;
      return { kind: 'char', cp: c };
    };
    let first = true;
    for (;;) {
      // A "]" first is an ordinary member: parseElement takes it like any character.
      const startElem = parseElement(first);
      first = false;
      let isRange = false;
      if (startElem.kind !== 'class' && startElem.kind !== 'equiv') {
        if (this.i >= cps.length) throw unbalanced();
        if (cps[this.i] === C_MINUS) {
          if (this.i + 1 >= cps.length) throw unbalanced();
          if (cps[this.i + 1] !== C_RBRACK) {
            this.i++;
            isRange = true;
          }
        }
      }
      if (isRange) {
        const endElem = parseElement(true);
        colonState |= 8;
        if (startElem.kind === 'equiv' || endElem.kind === 'class' || endElem.kind === 'equiv') {
          throw new EreError('Invalid range end', start, 'invalid');
        }
        const lo = (startElem as { cp: number }).cp;
        const hi = endElem.cp;
        if (lo > 0x7f || hi > 0x7f) throw new EreError('Invalid collation character', start, 'invalid');
        if (lo > hi) throw new EreError('Invalid range end', start, 'invalid');
        if (!(isDigit(lo) && isDigit(hi))) this.needsRegex = true;
        set.ranges.push(lo, hi);
      } else {
        if (startElem.kind === 'class') set.classes.push(startElem.name);
        else {
          set.ranges.push(startElem.cp, startElem.cp);
          if (startElem.kind === 'char') {
            colonState &= ~2;
            colonState |= startElem.cp === C_COLON ? 2 : 4;
          }
        }
      }
      if (this.i >= cps.length) throw unbalanced();
      if (cps[this.i] === C_RBRACK) {
        this.i++;
        break;
      }
    }
    if (colonState === 7) {
      throw new EreError('character class syntax is [[:space:]], not [:space:]', start, 'invalid');
    }
    return set;
  }

  /**
   * JS and glibc differ on a back-reference to a group that did not take part in the match (JS: matches
   * empty; glibc: fails). Accept only references to groups that take part whenever the reference does.
   */
  private checkBackrefs(): void {
    const unsupported = (n: number, why: string): EreError =>
      new EreError(`\\${n} refers to a group that ${why}: JS and glibc disagree there`, 0, 'unsupported');
    const isAlt = (n: EreNode | undefined): boolean => n?.t === 'alt' && n.items.length > 1;
    for (const ref of this.backrefs) {
      const group = this.groupPaths.get(ref.n);
      if (!group) continue;
      const gpath = group.path;
      let k = 0;
      while (k < gpath.length && k < ref.path.length && gpath[k] === ref.path[k]) k++;
      if (isAlt(gpath[k - 1])) throw unsupported(ref.n, 'is in another alternative');
      for (let j = k; j < gpath.length - 1; j++) {
        if (isAlt(gpath[j])) throw unsupported(ref.n, 'sits in an alternation');
      }
      for (const span of this.optionalSpans) {
        const holdsGroup = span.from <= group.pos && group.pos < span.to;
        const holdsRef = span.from <= ref.pos && ref.pos < span.to;
        if (holdsGroup && !holdsRef) throw unsupported(ref.n, 'may match zero times');
      }
    }
  }
}

function minRepeat(node: EreNode): number {
  let min = 1;
  for (let n = node; n.t === 'rep'; n = n.body) min = Math.min(min, n.min);
  return min;
}

export function parseEre(pattern: string): ParsedEre {
  const cps = Array.from(pattern, (ch) => ch.codePointAt(0) as number);
  if (cps.some((c) => c === 0 || (c >= 0xd800 && c <= 0xdfff))) {
    throw new EreError('NUL or invalid UTF-8 in the pattern', 0, 'unsupported');
  }
  return new Parser(cps).parse();
}

// ---- emission --------------------------------------------------------------------------------------

type Mode = 'unicode' | 'ascii';

function mergeRanges(flat: number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k + 1 < flat.length; k += 2) pairs.push([flat[k] as number, flat[k + 1] as number]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= (out[n - 1] as number) + 1) out[n - 1] = Math.max(out[n - 1] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

function classRanges(name: string, mode: Mode): number[] {
  const table = UNICODE_CLASSES[name] ?? [];
  if (mode === 'unicode') return [...table];
  const out: number[] = [];
  for (let k = 0; k + 1 < table.length; k += 2) {
    const lo = table[k] as number;
    const hi = Math.min(table[k + 1] as number, 0x7f);
    if (lo <= 0x7f) out.push(lo, hi);
  }
  return out;
}

function esc(cp: number, mode: Mode): string {
  if (
    (cp >= 0x30 && cp <= 0x39) ||
    (cp >= 0x41 && cp <= 0x5a) ||
    (cp >= 0x61 && cp <= 0x7a) ||
    cp === 0x20 ||
    cp === 0x5f
  ) {
    return String.fromCharCode(cp);
  }
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (mode === 'unicode') return `\\u{${cp.toString(16)}}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return ''; // never used: ASCII mode drops non-ASCII members
}

function setRanges(node: EreNode & { t: 'set' }, mode: Mode): number[] {
  let flat = [...node.ranges];
  for (const c of node.classes) flat.push(...classRanges(c, mode));
  // A negated set lists the escapes so that its complement leaves them out (grep: `[^x]` and `\W`
  // never match an invalid byte). Positive sets never reach them (members are valid characters).
  if (node.neg && mode === 'unicode') flat.push(ESCAPE_MIN, ESCAPE_MAX);
  if (mode === 'ascii') {
    const clipped: number[] = [];
    for (let k = 0; k + 1 < flat.length; k += 2) {
      if ((flat[k] as number) <= 0x7f) clipped.push(flat[k] as number, Math.min(flat[k + 1] as number, 0x7f));
    }
    flat = clipped;
  }
  return mergeRanges(flat);
}

function emitClass(ranges: number[], neg: boolean, mode: Mode): string {
  if (ranges.length === 0) return neg ? '[^]' : '[]';
  let body = '';
  for (let k = 0; k + 1 < ranges.length; k += 2) {
    const lo = ranges[k] as number;
    const hi = ranges[k + 1] as number;
    body +=
      lo === hi
        ? esc(lo, mode)
        : hi === lo + 1
          ? esc(lo, mode) + esc(hi, mode)
          : `${esc(lo, mode)}-${esc(hi, mode)}`;
  }
  return `[${neg ? '^' : ''}${body}]`;
}

const CLASS_CACHE = new Map<string, string>();

const ESCAPE_BASE = 0xdc00;
/**
 * Invalid bytes that count as word characters for word assertions: glibc regex reads an invalid
 * byte b as the wide character b (Latin-1), so `\<`, `\>`, `\b`, `\B` see it as a word character
 * when U+00b is alphanumeric (never as `\w` though: that is a bracket, which refuses the byte).
 */
const WORD_CONTEXT_BYTES: readonly number[] = (() => {
  const alnum = UNICODE_CLASSES.alnum ?? [];
  const out: number[] = [];
  for (let b = 0x80; b <= 0xff; b++) {
    for (let k = 0; k + 1 < alnum.length; k += 2) {
      if ((alnum[k] as number) <= b && b <= (alnum[k + 1] as number)) {
        out.push(b);
        break;
      }
    }
  }
  return out;
})();

class Emitter {
  private wordClass: string | undefined;
  constructor(private readonly mode: Mode) {}

  /** Word context for `\b \B \< \>` (unicode form): `\w`, plus the escapes of "alphanumeric" bytes. */
  private word(): string {
    this.wordClass ??= this.emit({
      t: 'set',
      neg: false,
      ranges: [0x5f, 0x5f, ...WORD_CONTEXT_BYTES.flatMap((b) => [ESCAPE_BASE + b, ESCAPE_BASE + b])],
      classes: ['alnum'],
    });
    return this.wordClass;
  }

  emit(n: EreNode): string {
    switch (n.t) {
      case 'empty':
        return '';
      case 'char':
        if (this.mode === 'ascii' && n.cp > 0x7f) return '[]';
        return esc(n.cp, this.mode);
      case 'any':
        // ASCII lines hold no escapes: the plain dot stays on the fast path.
        return this.mode === 'unicode' ? ANY_BUT_ESCAPE : '.';
      case 'set': {
        // Rules share a handful of classes; the Unicode ones are long, so build each once.
        const key = `${this.mode}|${n.neg}|${n.classes.join(',')}|${n.ranges.join(',')}`;
        let cls = CLASS_CACHE.get(key);
        if (cls === undefined) {
          cls = emitClass(setRanges(n, this.mode), n.neg, this.mode);
          if (CLASS_CACHE.size < 10_000) CLASS_CACHE.set(key, cls);
        }
        return cls;
      }
      case 'assert':
        return this.emitAssert(n.k);
      case 'group':
        return `(${this.emit(n.body)})`;
      case 'cat':
        return n.items.map((x) => this.emitInCat(x)).join('');
      case 'alt':
        return n.items.map((x) => this.emit(x)).join('|');
      case 'rep': {
        const body = n.body;
        const simple = body.t === 'char' || body.t === 'any' || body.t === 'set' || body.t === 'group';
        const inner =
          simple && !(body.t === 'char' && this.mode === 'ascii' && body.cp > 0x7f)
            ? this.emit(body)
            : `(?:${this.emit(body)})`;
        const q =
          n.min === 0 && n.max === -1
            ? '*'
            : n.min === 1 && n.max === -1
              ? '+'
              : n.min === 0 && n.max === 1
                ? '?'
                : n.max === -1
                  ? `{${n.min},}`
                  : n.min === n.max
                    ? `{${n.min}}`
                    : `{${n.min},${n.max}}`;
        return inner + q;
      }
      case 'backref':
        return `(?:\\${n.n})`;
    }
  }

  private emitInCat(n: EreNode): string {
    return n.t === 'alt' ? `(?:${this.emit(n)})` : this.emit(n);
  }

  private emitAssert(k: 'bol' | 'eol' | 'wordb' | 'notwordb' | 'wbeg' | 'wend'): string {
    if (k === 'bol') return '^';
    if (k === 'eol') return '$';
    if (this.mode === 'ascii') {
      // JS \b uses [A-Za-z0-9_], which is exactly grep's word characters among ASCII.
      if (k === 'wordb') return '\\b';
      if (k === 'notwordb') return '\\B';
      if (k === 'wbeg') return '\\b(?=\\w)';
      return '\\b(?<=\\w)';
    }
    const w = this.word();
    if (k === 'wbeg') return `(?<!${w})(?=${w})`;
    if (k === 'wend') return `(?<=${w})(?!${w})`;
    if (k === 'wordb') return `(?:(?<!${w})(?=${w})|(?<=${w})(?!${w}))`;
    return `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))`;
  }
}

/** JS source for a parsed pattern: `unicode` is exact for any line, `ascii` for lines below U+0080. */
export function emitEre(ast: EreNode, mode: Mode): { source: string; flags: string } {
  const source = new Emitter(mode).emit(ast);
  return { source: source === '' ? '(?:)' : source, flags: mode === 'unicode' ? 'su' : 's' };
}

/** Translate one GNU `grep -E` pattern; never throws. */
export function translateEre(pattern: string): EreTranslation {
  try {
    const { ast } = parseEre(pattern);
    const uni = emitEre(ast, 'unicode');
    const ascii = emitEre(ast, 'ascii');
    new RegExp(uni.source, uni.flags);
    new RegExp(ascii.source, ascii.flags);
    return { ok: true, source: uni.source, flags: uni.flags, ascii };
  } catch (err) {
    if (err instanceof EreError)
      return { ok: false, reason: err.message, column: err.column + 1, kind: err.kind };
    return {
      ok: false,
      reason: `JavaScript cannot compile it: ${(err as Error).message}`,
      kind: 'unsupported',
    };
  }
}

export { EreError };
