// Structural analysis of a parsed rule, for the matcher's index: which lines can this rule possibly
// match? Every answer here is a NECESSARY condition for a match (proved from the rule's syntax tree),
// never a guess: a line the prefilter turns away is a line the rule cannot match.
//
// Three facts are extracted:
//  - the header: `^<timestamp> <host> ` with a timestamp of fixed shape (15-character `Mmm dd hh:mm:ss`
//    or 32-character RFC 3339 without spaces) and a host without spaces, so the program part of any
//    matching line starts at a position the line alone determines (`lineTagAt` in matcher.ts);
//  - the program tags: the literal text the program part starts with, up to `[`, `:` or a space
//    (exact tag), or a literal start of the tag (prefix tag);
//  - the message literals: when the program part is `P: L...` with a P that cannot contain ": ", the
//    line's first ": " after the program position is the rule's, so the message after it must start
//    with one of the literals L (`sshd[123]: Accepted publickey for ...`).
// Rules without a header get a gate instead: literal characters at fixed positions (`^[-0-9]{10} ` for
// exim's own log) and literals every match must contain (one per alternative).
import type { EreNode } from './ere.js';
import { UNICODE_CLASSES } from './unicode-classes.js';

/** `exact`: the line's program tag equals `tag`; otherwise it starts with `tag`. */
export interface ProgramTag {
  tag: string;
  exact: boolean;
}

/** What a rule without a provable header requires of a line. */
export interface Gate {
  /** [code point index, code point] pairs the line must have (fixed-width anchored prefix). */
  positions: number[];
  /** The line must contain one of these (undefined: no literal is known to be required). */
  literals: string[] | undefined;
}

export interface RuleShape {
  /** Index among the top-level items where the program part starts; undefined: no provable header. */
  split: number | undefined;
  /** Program tags (only with a header); undefined: the tag is not literal. */
  tags: ProgramTag[] | undefined;
  /**
   * With a header: the literals the line's message starts with. Undefined: nothing is known.
   */
  messages: MessageKey | undefined;
  /** For rules without a header. */
  gate: Gate;
}

const MAX_ALTERNATIVES = 16;
const MAX_LITERAL = 48;
const MAX_GATE_POSITIONS = 64;
const C_SPACE = 0x20;
const C_COLON = 0x3a;

// ---- character sets -----------------------------------------------------------------------------

function inRanges(flat: readonly number[], cp: number): boolean {
  for (let k = 0; k + 1 < flat.length; k += 2) {
    if (cp >= (flat[k] as number) && cp <= (flat[k + 1] as number)) return true;
  }
  return false;
}

/** Does the bracket expression accept code point `cp`? (Exact: glibc's class tables.) */
export function setHas(n: EreNode & { t: 'set' }, cp: number): boolean {
  const listed = inRanges(n.ranges, cp) || n.classes.some((c) => inRanges(UNICODE_CLASSES[c] ?? [], cp));
  return n.neg ? !listed : listed;
}

/** The members of a small positive set without classes (at most `max`), else undefined. */
function smallSet(n: EreNode & { t: 'set' }, max: number): number[] | undefined {
  if (n.neg || n.classes.length > 0) return undefined;
  const out: number[] = [];
  for (let k = 0; k + 1 < n.ranges.length; k += 2) {
    for (let cp = n.ranges[k] as number; cp <= (n.ranges[k + 1] as number); cp++) {
      if (!out.includes(cp)) out.push(cp);
      if (out.length > max) return undefined;
    }
  }
  return out;
}

/** Can any string of `n`'s language contain code point `cp`? (Conservative: true when unsure.) */
function mayContain(n: EreNode, cp: number): boolean {
  switch (n.t) {
    case 'empty':
    case 'assert':
      return false;
    case 'char':
      return n.cp === cp;
    case 'any':
      return true;
    case 'set':
      return setHas(n, cp);
    case 'group':
    case 'rep':
      return mayContain(n.body, cp);
    case 'cat':
    case 'alt':
      return n.items.some((i) => mayContain(i, cp));
    case 'backref':
      return true;
  }
}

// ---- literal expansion ----------------------------------------------------------------------------

/** A literal start of a match; `open`: something that is not literal follows it. */
interface Lit {
  s: string;
  open: boolean;
}

function commonPrefix(xs: Lit[]): Lit[] {
  let p = xs[0]?.s ?? '';
  for (const x of xs) {
    let k = 0;
    while (k < p.length && k < x.s.length && p.charCodeAt(k) === x.s.charCodeAt(k)) k++;
    p = p.slice(0, k);
  }
  // Cut on a code point boundary (a pair split in two would still be a valid prefix, but keep it clean).
  const last = p.charCodeAt(p.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) p = p.slice(0, -1);
  return [{ s: p, open: true }];
}

function capped(xs: Lit[]): Lit[] {
  const out: Lit[] = [];
  for (const x of xs) {
    const s = x.s.length > MAX_LITERAL ? { s: x.s.slice(0, MAX_LITERAL), open: true } : x;
    if (!out.some((o) => o.s === s.s && o.open === s.open)) out.push(s);
  }
  return out.length > MAX_ALTERNATIVES ? commonPrefix(out) : out;
}

/** Every literal a match of `n` can start with (the whole match when `open` is false). */
function expandNode(n: EreNode): Lit[] {
  switch (n.t) {
    case 'empty':
    case 'assert':
      // Consumes nothing; as a necessary condition it can be dropped.
      return [{ s: '', open: false }];
    case 'char':
      return [{ s: String.fromCodePoint(n.cp), open: false }];
    case 'set': {
      const members = smallSet(n, 4);
      if (!members) return [{ s: '', open: true }];
      return members.map((cp) => ({ s: String.fromCodePoint(cp), open: false }));
    }
    case 'group':
      return expandNode(n.body);
    case 'cat':
      return expandSeq(n.items);
    case 'alt':
      return capped(n.items.flatMap(expandNode));
    case 'rep': {
      if (n.min === 0 && n.max === 1) return capped([{ s: '', open: false }, ...expandNode(n.body)]);
      if (n.min === 1 && n.max === 1) return expandNode(n.body);
      if (n.min >= 1) return capped(expandNode(n.body).map((l) => ({ s: l.s, open: true })));
      return [{ s: '', open: true }];
    }
    default:
      return [{ s: '', open: true }];
  }
}

/** Literal starts of a sequence of nodes matched one after the other. */
function expandSeq(items: readonly EreNode[]): Lit[] {
  let acc: Lit[] = [{ s: '', open: false }];
  for (const item of items) {
    if (acc.every((a) => a.open)) break;
    const e = expandNode(item);
    const next: Lit[] = [];
    for (const a of acc) {
      if (a.open) next.push(a);
      else for (const b of e) next.push({ s: a.s + b.s, open: b.open });
    }
    acc = capped(next);
  }
  return acc;
}

// ---- header ----------------------------------------------------------------------------------------

/** A fixed-length node as one node per character position (chars/sets/any only), or undefined. */
function flatten(n: EreNode): EreNode[] | undefined {
  switch (n.t) {
    case 'char':
    case 'set':
    case 'any':
      return [n];
    case 'group':
      return flatten(n.body);
    case 'cat': {
      const out: EreNode[] = [];
      for (const i of n.items) {
        const f = flatten(i);
        if (!f) return undefined;
        out.push(...f);
      }
      return out;
    }
    case 'rep': {
      if (n.min !== n.max || n.min > 64) return undefined;
      const f = flatten(n.body);
      if (!f) return undefined;
      const out: EreNode[] = [];
      for (let k = 0; k < n.min; k++) out.push(...f);
      return out;
    }
    default:
      return undefined;
  }
}

const mayBeSpace = (n: EreNode): boolean => mayContain(n, C_SPACE);
const isSpaceChar = (n: EreNode | undefined): boolean => n?.t === 'char' && n.cp === C_SPACE;

/** Legacy: 3 non-space, a space, 11 anything (15 long). RFC 3339: 32 non-space. */
function timestampKind(n: EreNode): 'legacy' | 'rfc' | undefined {
  const flat = flatten(n);
  if (!flat) return undefined;
  if (flat.length === 15 && !flat.slice(0, 3).some(mayBeSpace) && isSpaceChar(flat[3])) return 'legacy';
  if (flat.length === 32 && !flat.some(mayBeSpace)) return 'rfc';
  return undefined;
}

/** Top-level index where the program part starts, if the rule provably has a syslog header. */
function headerSplit(ast: EreNode): number | undefined {
  if (ast.t !== 'cat') return undefined;
  const items = ast.items;
  if (items[0]?.t !== 'assert' || items[0].k !== 'bol') return undefined;
  let k = 1;
  const ts = items[k];
  let tsOk = false;
  if (ts?.t === 'group') {
    const body = ts.body;
    const alts = body.t === 'alt' ? body.items : [body];
    tsOk = alts.every((a) => timestampKind(a) !== undefined);
    k++;
  } else {
    // inline: the shortest run of items forming a timestamp
    for (let end = k + 1; end <= Math.min(items.length, k + 8); end++) {
      if (timestampKind({ t: 'cat', items: items.slice(k, end) }) !== undefined) {
        tsOk = true;
        k = end;
        break;
      }
    }
  }
  if (!tsOk || !isSpaceChar(items[k])) return undefined;
  const host = items[k + 1];
  if (!(host?.t === 'rep' && host.min >= 1 && host.body.t === 'set' && !setHas(host.body, C_SPACE)))
    return undefined;
  if (!isSpaceChar(items[k + 2])) return undefined;
  return k + 3;
}

/**
 * The header of a rule whose program part starts at `split` (see headerSplit): each timestamp
 * alternative as one node per character (15 or 32 long), and the host's character set.
 */
export function headerParts(
  ast: EreNode,
  split: number,
): { stamps: EreNode[][]; host: EreNode & { t: 'set' } } | undefined {
  if (ast.t !== 'cat') return undefined;
  const items = ast.items;
  const host = items[split - 2];
  if (host?.t !== 'rep' || host.body.t !== 'set') return undefined;
  const ts = items[1];
  let stamps: EreNode[][] = [];
  if (ts?.t === 'group' && split === 5) {
    const alts = ts.body.t === 'alt' ? ts.body.items : [ts.body];
    for (const a of alts) {
      const flat = flatten(a);
      if (!flat) return undefined;
      stamps.push(flat);
    }
  } else {
    const flat = flatten({ t: 'cat', items: items.slice(1, split - 3) });
    if (!flat) return undefined;
    stamps = [flat];
  }
  if (!stamps.every((f) => timestampKind({ t: 'cat', items: f }) !== undefined)) return undefined;
  return { stamps, host: host.body };
}

const TERMINATORS = new Set(['[', ':', ' ']);

/** Program tags from the literal starts of the program part. */
function tagsOf(program: readonly EreNode[]): ProgramTag[] | undefined {
  const tags: ProgramTag[] = [];
  for (const lit of expandSeq(program)) {
    const chars = [...lit.s];
    let cut = 0;
    while (cut < chars.length && !TERMINATORS.has(chars[cut] as string)) cut++;
    const exact = cut < chars.length;
    const tag = chars.slice(0, cut).join('');
    // Not terminated by a literal: the line's tag only starts with this text.
    if (!exact && tag === '') return undefined;
    if (!tags.some((t) => t.tag === tag && t.exact === exact)) tags.push({ tag, exact });
  }
  return tags.length > 0 ? tags : undefined;
}

/** Where a rule's message key is anchored in a line (see `MessageKey`). */
export type MessageAnchor = 'msg' | 'core' | 'msg2' | 'core2';

/**
 * Line positions, all found from the program position `start`:
 *  - `msg`: after the line's first ": " from `start`;
 *  - `core`: `msg`, or when the text there starts with "[", after the first "]" from there, which must
 *    be followed by a space (a kernel time stamp `[ 1234.5678] `);
 *  - `msg2`, `core2`: after the first ": " from `msg`, from `core` (`postfix/smtpd[1]: 4F2A: reject: ...`).
 * A rule with a MessageKey matches only lines that have that position, with text there that starts
 * with one of `literals`, or whose first character there is one of `first` (char and set nodes).
 */
export interface MessageKey {
  at: MessageAnchor;
  literals: string[] | undefined;
  first: EreNode[] | undefined;
}

const isChar = (n: EreNode | undefined, cp: number): boolean => n?.t === 'char' && n.cp === cp;
const C_LBRACKET = 0x5b;
const C_RBRACKET = 0x5d;

/** Non-empty literal starts of a sequence, or undefined when one may be empty. */
function literalStarts(items: readonly EreNode[]): string[] | undefined {
  const lits = expandSeq(items);
  if (lits.some((l) => l.s === '')) return undefined;
  return lits.map((l) => l.s);
}

/** The char/set nodes one of which takes the first character of a match; `empty`: may match "". */
function firstOf(n: EreNode): { leaves: EreNode[]; empty: boolean } | undefined {
  switch (n.t) {
    case 'char':
    case 'set':
      return { leaves: [n], empty: false };
    case 'empty':
    case 'assert':
      return { leaves: [], empty: true };
    case 'group':
      return firstOf(n.body);
    case 'cat': {
      const leaves: EreNode[] = [];
      for (const item of n.items) {
        const f = firstOf(item);
        if (!f) return undefined;
        leaves.push(...f.leaves);
        if (!f.empty) return { leaves, empty: false };
      }
      return { leaves, empty: true };
    }
    case 'alt': {
      const leaves: EreNode[] = [];
      let empty = false;
      for (const item of n.items) {
        const f = firstOf(item);
        if (!f) return undefined;
        leaves.push(...f.leaves);
        empty ||= f.empty;
      }
      return { leaves, empty };
    }
    case 'rep': {
      const f = firstOf(n.body);
      return f && { leaves: f.leaves, empty: f.empty || n.min === 0 };
    }
    default:
      return undefined;
  }
}

/** Leaves for the first character of a non-empty sequence; undefined when unknown or it may be empty. */
function firstLeaves(items: readonly EreNode[]): EreNode[] | undefined {
  const f = firstOf({ t: 'cat', items: [...items] });
  return f && !f.empty ? f.leaves : undefined;
}

const leafHas = (n: EreNode, cp: number): boolean =>
  n.t === 'char' ? n.cp === cp : n.t === 'set' ? setHas(n, cp) : true;

/** ` \[X\]` with no "]" possible in X, optional or not (a kernel time stamp, `( \[ *[0-9]+\.[0-9]+\])?`). */
function isBracketStamp(n: EreNode): boolean {
  let body = n;
  if (body.t === 'rep' && body.min === 0 && body.max === 1) body = body.body;
  while (body.t === 'group') body = body.body;
  if (body.t !== 'cat') return false;
  const items = body.items;
  const last = items.length - 1;
  return (
    last >= 2 &&
    isSpaceChar(items[0]) &&
    isChar(items[1], C_LBRACKET) &&
    isChar(items[last], C_RBRACKET) &&
    !items.slice(2, last).some((x) => mayContain(x, C_RBRACKET))
  );
}

/** No string of the sequence contains ": " (its alphabet lacks the space or the colon). */
function noColonSpace(items: readonly EreNode[]): boolean {
  return !items.some((n) => mayContain(n, C_SPACE)) || !items.some((n) => mayContain(n, C_COLON));
}

/**
 * The key for the text `after` known to start at `base`: its literal starts; or, when it is
 * `Q: L...` with no ": " in Q, the literal starts of L after the next ": "; or its first character.
 */
function keyAt(after: readonly EreNode[], base: 'msg' | 'core'): MessageKey | undefined {
  const literals = literalStarts(after);
  if (literals) return { at: base, literals, first: undefined };
  const j = after.findIndex((n) => isChar(n, C_COLON));
  if (j >= 0 && isSpaceChar(after[j + 1]) && noColonSpace(after.slice(0, j))) {
    const next = literalStarts(after.slice(j + 2));
    if (next) return { at: base === 'msg' ? 'msg2' : 'core2', literals: next, first: undefined };
  }
  const first = firstLeaves(after);
  return first ? { at: base, literals: undefined, first } : undefined;
}

/**
 * The message key. The program part is P, ':', REST, where no string of P contains ": " and REST
 * starts with a space: a match puts P at the program position, so the line's first ": " from there is
 * the rule's (an earlier one would lie inside P's text, or start at P's last character and need a
 * space where the ':' is), and `msg` is right after it. Then, for REST =
 *  - ` A...`: A starts at `msg`;
 *  - ` \[X\] A...` (X without "]"): the first "]" from `msg` is the rule's, so A starts at `core`;
 *  - `( \[X\])? A...` where A cannot start with "[": with the stamp as above; without it the text at
 *    `msg` does not start with "[", so `core` = `msg`.
 */
function messagesOf(program: readonly EreNode[]): MessageKey | undefined {
  const j = program.findIndex((n) => isChar(n, C_COLON));
  if (j < 0 || !noColonSpace(program.slice(0, j))) return undefined;
  const rest = program.slice(j + 1);
  const first = rest[0];
  if (first === undefined) return undefined;
  if (isBracketStamp(first) && isSpaceChar(rest[1])) {
    const after = rest.slice(2);
    const leaves = firstLeaves(after);
    if (!leaves || leaves.some((l) => leafHas(l, C_LBRACKET))) return undefined;
    return keyAt(after, 'core');
  }
  if (!isSpaceChar(first)) return undefined;
  if (isChar(rest[1], C_LBRACKET)) {
    const close = rest.findIndex((n, k) => k > 1 && isChar(n, C_RBRACKET));
    if (
      close > 1 &&
      isSpaceChar(rest[close + 1]) &&
      !rest.slice(2, close).some((x) => mayContain(x, C_RBRACKET))
    ) {
      const key = keyAt(rest.slice(close + 2), 'core');
      if (key) return key;
    }
  }
  return keyAt(rest.slice(1), 'msg');
}

// ---- gate for rules without a header --------------------------------------------------------------

function gateOf(ast: EreNode): Gate {
  const positions: number[] = [];
  if (ast.t === 'cat' && ast.items[0]?.t === 'assert' && ast.items[0].k === 'bol') {
    let pos = 0;
    for (const item of ast.items.slice(1)) {
      const flat = flatten(item);
      if (!flat) break;
      for (const n of flat) {
        if (n.t === 'char' && positions.length < 2 * MAX_GATE_POSITIONS) positions.push(pos, n.cp);
        pos++;
      }
    }
  }
  const branches = ast.t === 'alt' ? ast.items : [ast];
  const literals: string[] = [];
  for (const b of branches) {
    const items = b.t === 'cat' ? b.items : [b];
    let best = '';
    let run = '';
    for (const n of items) {
      if (n.t === 'char') {
        run += String.fromCodePoint(n.cp);
        if (run.length > best.length) best = run;
      } else if (n.t !== 'assert') run = '';
    }
    if (best === '') return { positions, literals: undefined };
    if (!literals.includes(best)) literals.push(best);
  }
  return { positions, literals };
}

/** Everything the matcher's index needs to know about one rule. */
export function analyseRule(ast: EreNode): RuleShape {
  const split = headerSplit(ast);
  if (split === undefined) return { split, tags: undefined, messages: undefined, gate: gateOf(ast) };
  const program = (ast as EreNode & { t: 'cat' }).items.slice(split);
  return { split, tags: tagsOf(program), messages: messagesOf(program), gate: gateOf(ast) };
}
