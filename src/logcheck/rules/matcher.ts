// Compiles a rule list once into a matcher that answers exactly as testing every rule in order would,
// without a giant alternation (GNU grep itself collapses on that) and without testing every rule.
//
// The index rests on what prefilter.ts proves from each rule's syntax tree:
//  - a rule anchored to a syslog header and a literal program tag (`^<ts> <host> sshd\[...`) is kept
//    under that tag; a line meets only the rules of the tag at its program position;
//  - within a tag, a rule whose message is known to start with a literal (`sshd[pid]: Accepted ...`)
//    sits in a trie of message literals; a line meets only the rules whose literal its message (the
//    text after its first ": " from the program position) starts with, plus the tag's other rules;
//  - header rules without a literal tag but with message literals (`[[:alnum:]-]+(\[[0-9]+\])?: pam_...`)
//    sit in one tag-independent trie the same way;
//  - everything else is tried on every line, behind a gate of fixed-position characters and
//    required literals.
// Every line is analysed once (header, tag, message position, ASCII or not) for all matchers, since
// the engine asks several rule sets about the same line in a row.
//
// Each regex has two compiled forms: a small one valid for pure-ASCII lines (nearly all log lines) and the
// exact Unicode one, compiled lazily the first time a non-ASCII line reaches that rule. For ASCII lines a
// header rule is tested as its header regex (shared between rules and matchers, tested once per line)
// plus its program part as a sticky regex at the program position.
import { type EreNode, emitEre, parseEre } from './ere.js';
import type { Rule } from './load.js';
import {
  analyseRule,
  type Gate,
  headerParts,
  type MessageAnchor,
  type MessageKey,
  type ProgramTag,
  type RuleShape,
  setHas,
} from './prefilter.js';

export type { ProgramTag } from './prefilter.js';

export interface Matcher {
  /** Does any rule match the line? */
  matchAny(line: string): boolean;
  /** The first rule (in the order given) that matches, for test-rules and reports. */
  firstMatch(line: string): Rule | undefined;
  /** Rules that could not be compiled (they never match); normally caught by loadRuleDir already. */
  readonly problems: Array<{ rule: Rule; reason: string }>;
  /**
   * How the rules were indexed: by program tag (`indexed`, under `tags` tags), of those with a
   * message literal (`byMessage`), header rules without a literal tag (`headerOnly`), and the rules
   * tried on every line behind a gate (`unindexed`).
   */
  readonly stats: {
    rules: number;
    indexed: number;
    unindexed: number;
    tags: number;
    byMessage: number;
    headerOnly: number;
  };
}

interface CompiledRule {
  rule: Rule;
  order: number;
  ast: EreNode;
  ascii: RegExp;
  unicode: RegExp | undefined;
  /** Header rules without back-references in the program part: header regex id and sticky program part. */
  split: { prefix: number; suffix: RegExp } | undefined;
  /** The rule set it belongs to, as a bit (always 1 in a single matcher; see combineMatchers). */
  bit: number;
}

const NON_ASCII = /[^\x00-\x7f]/;
/** Distinct program tags remembered; past it (a log full of made-up tags) buckets are rebuilt per line. */
const MAX_CACHED_TAGS = 8192;
const UNICODE_CACHE = new Map<string, RegExp>();

function hasBackref(n: EreNode): boolean {
  switch (n.t) {
    case 'backref':
      return true;
    case 'group':
    case 'rep':
      return hasBackref(n.body);
    case 'cat':
    case 'alt':
      return n.items.some(hasBackref);
    default:
      return false;
  }
}

function unicodeOf(compiled: CompiledRule): RegExp {
  if (!compiled.unicode) {
    const u = emitEre(compiled.ast, 'unicode');
    // Unicode forms are large (glibc's classes are hundreds of ranges): share them between matchers.
    let re = UNICODE_CACHE.get(u.source);
    if (!re) {
      re = new RegExp(u.source, u.flags);
      if (UNICODE_CACHE.size < 20_000) UNICODE_CACHE.set(u.source, re);
    }
    compiled.unicode = re;
  }
  return compiled.unicode;
}

/** The whole-line test, exact for any line. */
function rx(compiled: CompiledRule, line: string): boolean {
  if (!NON_ASCII.test(line)) return compiled.ascii.test(line);
  return unicodeOf(compiled).test(line);
}

/** The whole-line test for the current line (analysed: its ASCII-ness is known). */
function rxCurrent(compiled: CompiledRule, line: string): boolean {
  return current.ascii ? compiled.ascii.test(line) : unicodeOf(compiled).test(line);
}

// ---- the line, analysed once for every matcher ------------------------------------------------------

/**
 * Program position of a line: the index after `<timestamp> <host> `. `null`: the line has no such
 * header (no header rule can match it). `undefined`: not sure (surrogates: positions would differ).
 */
function lineTagAt(line: string, ascii = false): number | null | undefined {
  // Rules count characters (code points); positions below are UTF-16 units: equal only without surrogates.
  if (!ascii) {
    for (let k = 0; k < 33 && k < line.length; k++) {
      const c = line.charCodeAt(k);
      if (c >= 0xd800 && c <= 0xdfff) return undefined;
    }
  }
  let hostStart: number;
  if (line.charCodeAt(3) === 0x20 && line.charCodeAt(15) === 0x20) hostStart = 16;
  else if (line.charCodeAt(32) === 0x20) {
    if (line.lastIndexOf(' ', 31) !== -1) return null;
    hostStart = 33;
  } else return null;
  const sp = line.indexOf(' ', hostStart);
  if (sp <= hostStart) return null;
  return sp + 1;
}

function tagEnd(line: string, start: number): number {
  let end = start;
  while (end < line.length) {
    const c = line.charCodeAt(end);
    if (c === 0x5b || c === 0x3a || c === 0x20) break;
    end++;
  }
  return end;
}

/**
 * The program tag of a line, as the index keys rules: the text after the host, up to `[`, `:` or a space.
 * `null`: the line cannot match any header rule. `undefined`: not sure (test all).
 */
export function lineTag(line: string): string | null | undefined {
  const at = lineTagAt(line);
  return at === null || at === undefined ? at : line.slice(at, tagEnd(line, at));
}

/**
 * Program tags seen in lines, numbered once for every matcher (each keeps its buckets in an array by
 * this number). Bounded, since tags come from logs: past it, buckets are built per line, uncached.
 * An open-addressing table keyed by a hash computed while the tag's end is searched, so a known tag
 * is found without cutting it out of the line (no string per line).
 */
const TAG_SLOTS = MAX_CACHED_TAGS * 2;
const tagSlotText: Array<string | undefined> = new Array(TAG_SLOTS).fill(undefined);
const tagSlotHash = new Int32Array(TAG_SLOTS);
const tagSlotId = new Int32Array(TAG_SLOTS);
let tagCount = 0;

/** Number of the tag `line[start, end)` whose hash is `hash`; -1 when the table is full. */
function tagIdAt(line: string, start: number, end: number, hash: number): number {
  const mask = TAG_SLOTS - 1;
  const len = end - start;
  let slot = hash & mask;
  for (;;) {
    const text = tagSlotText[slot];
    if (text === undefined) break;
    if (tagSlotHash[slot] === hash && text.length === len && line.startsWith(text, start))
      return tagSlotId[slot] as number;
    slot = (slot + 1) & mask;
  }
  if (tagCount >= MAX_CACHED_TAGS) return -1;
  const id = tagCount++;
  // A copy, not a view: a tag cut from a line would keep the line's whole source chunk alive.
  tagSlotText[slot] = `${line.slice(start, end)} `.slice(0, -1);
  tagSlotHash[slot] = hash;
  tagSlotId[slot] = id;
  return id;
}

/** The current line's analysis; recomputed when a different line comes. */
const current = {
  line: undefined as string | undefined,
  /** Program position (see lineTagAt). */
  start: null as number | null | undefined,
  /** End of the program tag (see tagEnd) when `start` is a number. */
  tagEnd: 0,
  /** The tag's number (see tagIdAt), -1 when too many tags were seen to remember this one. */
  tagId: -1,
  /** Message positions (see MessageKey in prefilter.ts); -1 when the line has none. */
  msg: -1,
  core: -1,
  /** After the next ": " from msg / core; -2 until asked for (see anchorPos). */
  msg2: -2,
  core2: -2,
  ascii: true,
  /** Generation: header regex results are valid for the line when stamped with it. */
  gen: 0,
};

/** `knownAscii`: the caller knows the line is pure ASCII (its source checked the whole chunk). */
function analyseLine(line: string, knownAscii = false): void {
  current.line = line;
  current.gen = (current.gen + 1) >>> 0;
  // As many UTF-8 bytes as UTF-16 units only when every character is ASCII (cheaper than a regex).
  const ascii = knownAscii || Buffer.byteLength(line, 'utf8') === line.length;
  current.ascii = ascii;
  const start = lineTagAt(line, ascii);
  current.start = start;
  current.msg = -1;
  current.core = -1;
  current.msg2 = -2;
  current.core2 = -2;
  if (typeof start === 'number') {
    // tagEnd and the tag's hash in one pass.
    const n = line.length;
    let end = start;
    let hash = 0;
    while (end < n) {
      const c = line.charCodeAt(end);
      if (c === 0x5b || c === 0x3a || c === 0x20) break;
      hash = (Math.imul(hash, 31) + c) | 0;
      end++;
    }
    current.tagEnd = end;
    current.tagId = tagIdAt(line, start, end, hash);
    const colon = line.indexOf(': ', end);
    if (colon >= 0) {
      const msg = colon + 2;
      current.msg = msg;
      if (line.charCodeAt(msg) !== 0x5b) current.core = msg;
      else {
        const close = line.indexOf(']', msg);
        if (close >= 0 && line.charCodeAt(close + 1) === 0x20) current.core = close + 2;
      }
    }
  } else {
    current.tagEnd = 0;
    current.tagId = -1;
  }
}

function nextMessage(line: string, from: number): number {
  if (from < 0) return -1;
  const colon = line.indexOf(': ', from);
  return colon < 0 ? -1 : colon + 2;
}

/** The current line's position for an anchor (see MessageKey), -1 when it has none. */
function anchorPos(line: string, at: MessageAnchor): number {
  switch (at) {
    case 'msg':
      return current.msg;
    case 'core':
      return current.core;
    case 'msg2':
      if (current.msg2 === -2) current.msg2 = nextMessage(line, current.msg);
      return current.msg2;
    case 'core2':
      if (current.core2 === -2) current.core2 = nextMessage(line, current.core);
      return current.core2;
  }
}

// Header regexes: rules share a handful (`^(\w{3} [ :0-9]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ `); each
// is tested at most once per line, whichever matcher asks. For ASCII lines a header is checked by
// character codes against per-position tables built from its syntax tree (the regex would find the same:
// the line's program position already fixes where the timestamp and the host must end).
const headerIds = new Map<string, number>();
const headers: RegExp[] = [];
const headerTables: Array<HeaderTable | undefined> = [];
let headerStamp = new Uint32Array(64);
let headerOk = new Uint8Array(64);

/** A header as bit tables over ASCII: 4 words (128 bits) per character position. */
interface HeaderTable {
  /** Per timestamp alternative, its positions' bits (15 or 32 positions). */
  stamps: Uint32Array[];
  host: Uint32Array;
  hostMin: number;
  /** -1: unbounded. */
  hostMax: number;
}

function asciiBits(n: EreNode): Uint32Array {
  const bits = new Uint32Array(4);
  for (let cp = 0; cp < 128; cp++) {
    const ok = n.t === 'char' ? n.cp === cp : n.t === 'set' ? setHas(n, cp) : n.t === 'any';
    if (ok) bits[cp >> 5] = (bits[cp >> 5] as number) | (1 << (cp & 31));
  }
  return bits;
}

function headerTable(ast: EreNode, split: number): HeaderTable | undefined {
  const parts = headerParts(ast, split);
  const rep = (ast as EreNode & { t: 'cat' }).items[split - 2];
  if (parts === undefined || rep?.t !== 'rep') return undefined;
  const stamps = parts.stamps.map((flat) => {
    const t = new Uint32Array(flat.length * 4);
    for (let k = 0; k < flat.length; k++) t.set(asciiBits(flat[k] as EreNode), k * 4);
    return t;
  });
  return { stamps, host: asciiBits(parts.host), hostMin: rep.min, hostMax: rep.max };
}

/** The header table against the current (ASCII, program position known) line. */
function tableMatches(t: HeaderTable, line: string): boolean {
  const start = current.start as number;
  // lineTagAt: a 15-character timestamp when spaces are at 3 and 15, else a 32-character one.
  const hostStart = line.charCodeAt(3) === 0x20 && line.charCodeAt(15) === 0x20 ? 16 : 33;
  const len = hostStart - 1;
  let stampOk = false;
  for (let a = 0; a < t.stamps.length && !stampOk; a++) {
    const bits = t.stamps[a] as Uint32Array;
    if (bits.length !== len * 4) continue;
    let k = 0;
    for (; k < len; k++) {
      const c = line.charCodeAt(k);
      if ((((bits[(k << 2) | (c >> 5)] as number) >>> (c & 31)) & 1) === 0) break;
    }
    stampOk = k === len;
  }
  if (!stampOk) return false;
  const hostEnd = start - 1;
  const hostLen = hostEnd - hostStart;
  if (hostLen < t.hostMin || (t.hostMax !== -1 && hostLen > t.hostMax)) return false;
  const host = t.host;
  for (let k = hostStart; k < hostEnd; k++) {
    const c = line.charCodeAt(k);
    if ((((host[c >> 5] as number) >>> (c & 31)) & 1) === 0) return false;
  }
  return true;
}

/** `table`: builds the header's table, asked only for a header not seen before. */
function headerId(source: string, flags: string, table: () => HeaderTable | undefined): number {
  let id = headerIds.get(source);
  if (id === undefined) {
    id = headers.length;
    headerIds.set(source, id);
    headers.push(new RegExp(source, flags));
    headerTables.push(table());
    if (id >= headerStamp.length) {
      const stamp = new Uint32Array(headerStamp.length * 2);
      stamp.set(headerStamp);
      headerStamp = stamp;
      const ok = new Uint8Array(headerOk.length * 2);
      ok.set(headerOk);
      headerOk = ok;
    }
  }
  return id;
}

/** Header `id` against the current line, ASCII with a program position (see testHeaderRule). */
function headerMatches(id: number, line: string): boolean {
  if (headerStamp[id] === current.gen) return headerOk[id] === 1;
  const table = headerTables[id];
  const ok = table !== undefined ? tableMatches(table, line) : (headers[id] as RegExp).test(line);
  headerStamp[id] = current.gen;
  headerOk[id] = ok ? 1 : 0;
  return ok;
}

/** A header rule against the current line (whose program position is a number). */
function testHeaderRule(c: CompiledRule, line: string): boolean {
  if (!current.ascii) return unicodeOf(c).test(line);
  const split = c.split;
  if (split === undefined) return c.ascii.test(line);
  if (!headerMatches(split.prefix, line)) return false;
  split.suffix.lastIndex = current.start as number;
  return split.suffix.test(line);
}

// ---- message-literal tries -------------------------------------------------------------------------

interface TrieNode {
  /** Text from the parent to this node (path-compressed); its first character keys it in the parent. */
  label: string;
  next: Map<number, TrieNode> | undefined;
  /** Rules to try when the text reaches this node (and no deeper node with a list). */
  list: CompiledRule[] | undefined;
}

/** Candidate lists are grouped by set, each group in rule order (one set: rule order). */
const byOrder = (a: CompiledRule, b: CompiledRule): number => a.bit - b.bit || a.order - b.order;

/** The index after the group of `list[k]`'s set (lists are grouped by set, see byOrder). */
function afterGroup(list: CompiledRule[], k: number): number {
  const bit = (list[k] as CompiledRule).bit;
  let i = k + 1;
  while (i < list.length && (list[i] as CompiledRule).bit === bit) i++;
  return i;
}

/** Literals keyed at one line position: the rules whose literal the line's text there starts with. */
class LiteralTrie {
  private readonly root: TrieNode = { label: '', next: undefined, list: undefined };
  readonly empty: boolean;

  /** `base`: rules returned for any text (listed with every node, in rule order). */
  constructor(entries: Array<{ rule: CompiledRule; literals: string[] }>, base: CompiledRule[]) {
    this.empty = entries.length === 0;
    const ends = new Map<TrieNode, CompiledRule[]>();
    for (const { rule, literals } of entries) {
      for (const lit of literals) {
        let node = this.root;
        for (let k = 0; k < lit.length; k++) {
          const c = lit.charCodeAt(k);
          node.next ??= new Map();
          let child = node.next.get(c);
          if (!child)
            node.next.set(c, (child = { label: lit[k] as string, next: undefined, list: undefined }));
          node = child;
        }
        let at = ends.get(node);
        if (!at) ends.set(node, (at = []));
        if (!at.includes(rule)) at.push(rule);
      }
    }
    // Each node ending a literal lists its rules, those of the literals it extends, and `base`:
    // everything a text reaching it can match, in rule order.
    const fill = (node: TrieNode, inherited: CompiledRule[]): void => {
      const own = ends.get(node);
      let here = inherited;
      if (own) {
        here = [...new Set([...inherited, ...own])].sort(byOrder);
        node.list = here;
      }
      if (node.next) for (const child of node.next.values()) fill(child, here);
    };
    this.root.list = [...base].sort(byOrder);
    fill(this.root, this.root.list);
    compress(this.root);
  }

  /** Candidates for a line whose keyed text starts at `at` (-1: the line has no such position). */
  lookup(line: string, at: number): CompiledRule[] {
    let node = this.root;
    let best = node.list as CompiledRule[];
    if (at < 0) return best;
    let i = at;
    for (;;) {
      const next = node.next;
      if (next === undefined || i >= line.length) break;
      const child = next.get(line.charCodeAt(i));
      if (child === undefined) break;
      const label = child.label;
      if (label.length > 1 && !line.startsWith(label, i)) break;
      i += label.length;
      node = child;
      if (node.list !== undefined) best = node.list;
    }
    return best;
  }
}

/** Merges chains of single-child nodes without a list into one node with a longer label. */
function compress(node: TrieNode): void {
  if (!node.next) return;
  for (const [key, first] of node.next) {
    let child = first;
    while (child.list === undefined && child.next?.size === 1) {
      const only = child.next.values().next().value as TrieNode;
      child = { label: child.label + only.label, next: only.next, list: only.list };
    }
    node.next.set(key, child);
    compress(child);
  }
}

type Entry = { rule: CompiledRule; messages: MessageKey | undefined };

/** The characters a rule's text at an anchor may start with (from MessageKey.first). */
interface FirstFilter {
  at: MessageAnchor;
  /** 128 bits: ASCII characters accepted. */
  ascii: Uint32Array;
  /** Leaves (char/set nodes), for characters beyond ASCII. */
  leaves: EreNode[];
}

function firstFilter(at: MessageAnchor, leaves: EreNode[]): FirstFilter {
  const ascii = new Uint32Array(4);
  for (let cp = 0; cp < 128; cp++) {
    if (leaves.some((l) => leafAccepts(l, cp)))
      ascii[cp >> 5] = (ascii[cp >> 5] as number) | (1 << (cp & 31));
  }
  return { at, ascii, leaves };
}

const leafAccepts = (l: EreNode, cp: number): boolean =>
  l.t === 'char' ? l.cp === cp : l.t === 'set' ? setHas(l, cp) : true;

function filterAdmits(f: FirstFilter, line: string): boolean {
  const pos = anchorPos(line, f.at);
  if (pos < 0 || pos >= line.length) return false;
  const c = line.charCodeAt(pos);
  if (c < 128) return ((f.ascii[c >> 5] as number) & (1 << (c & 31))) !== 0;
  const cp = line.codePointAt(pos) as number;
  return f.leaves.some((l) => leafAccepts(l, cp));
}

/** Rules of one program tag (or the tag-independent header rules), by message key. */
class Bucket {
  /** Rules with a literal key, one trie per anchor. */
  private readonly tries: Array<{ at: MessageAnchor; trie: LiteralTrie }> = [];
  /** The other rules, in order, each with its first-character filter when known. */
  private readonly loose: CompiledRule[];
  private readonly filters: Array<FirstFilter | undefined>;
  /** Every set with a rule in the bucket. */
  private readonly bits: number;

  constructor(entries: Entry[]) {
    const unique = [...new Set(entries)];
    this.bits = unique.reduce((b, e) => b | e.rule.bit, 0);
    const loose = unique
      .filter((e) => e.messages?.literals === undefined)
      .sort((a, b) => byOrder(a.rule, b.rule));
    this.loose = loose.map((e) => e.rule);
    this.filters = loose.map((e) =>
      e.messages?.first ? firstFilter(e.messages.at, e.messages.first) : undefined,
    );
    for (const at of ['msg', 'core', 'msg2', 'core2'] as const) {
      const keyed = unique.flatMap((e) =>
        e.messages?.at === at && e.messages.literals ? [{ rule: e.rule, literals: e.messages.literals }] : [],
      );
      if (keyed.length > 0) this.tries.push({ at, trie: new LiteralTrie(keyed, []) });
    }
  }

  /**
   * The sets (bits of `want`) of which a candidate rule matches the current line. A set is done at
   * its first matching rule; the scan stops when every wanted set is.
   */
  scan(line: string, want: number): number {
    if ((this.bits & want) === 0) return 0;
    let need = want;
    const loose = this.loose;
    for (let k = 0; k < loose.length; ) {
      const c = loose[k] as CompiledRule;
      if ((c.bit & need) === 0) {
        k = afterGroup(loose, k);
        continue;
      }
      const f = this.filters[k];
      if ((f === undefined || filterAdmits(f, line)) && testHeaderRule(c, line)) {
        need &= ~c.bit;
        if (need === 0) return want;
        k = afterGroup(loose, k);
      } else k++;
    }
    const tries = this.tries;
    for (let t = 0; t < tries.length; t++) {
      const { at, trie } = tries[t] as { at: MessageAnchor; trie: LiteralTrie };
      const pos = anchorPos(line, at);
      if (pos < 0) continue;
      const list = trie.lookup(line, pos);
      for (let k = 0; k < list.length; ) {
        const c = list[k] as CompiledRule;
        if ((c.bit & need) === 0) k = afterGroup(list, k);
        else if (testHeaderRule(c, line)) {
          need &= ~c.bit;
          if (need === 0) return want;
          k = afterGroup(list, k);
        } else k++;
      }
    }
    return want & ~need;
  }

  /** The candidate lists for the current line, each in rule order (for firstMatch). */
  lists(line: string): CompiledRule[][] {
    const out = [
      this.loose.filter((_, k) => this.filters[k] === undefined || filterAdmits(this.filters[k], line)),
    ];
    for (const { at, trie } of this.tries) {
      const pos = anchorPos(line, at);
      if (pos >= 0) out.push(trie.lookup(line, pos));
    }
    return out;
  }
}

const EMPTY_BUCKET = new Bucket([]);

// ---- gates for the rules tried on every line ----------------------------------------------------

interface GatedRule {
  rule: CompiledRule;
  positions: number[];
  /** Highest position checked (positions hold only when no surrogate comes before it). */
  maxPos: number;
  literals: string[] | undefined;
}

function noSurrogateUpTo(line: string, end: number): boolean {
  for (let k = 0; k <= end && k < line.length; k++) {
    const c = line.charCodeAt(k);
    if (c >= 0xd800 && c <= 0xdfff) return false;
  }
  return true;
}

function gateAdmits(g: GatedRule, line: string): boolean {
  const pos = g.positions;
  if (pos.length > 0 && (current.ascii || noSurrogateUpTo(line, g.maxPos))) {
    for (let k = 0; k < pos.length; k += 2) {
      if (line.charCodeAt(pos[k] as number) !== pos[k + 1]) return false;
    }
  }
  const lits = g.literals;
  if (lits === undefined) return true;
  for (let k = 0; k < lits.length; k++) if (line.includes(lits[k] as string)) return true;
  return false;
}

function gated(rule: CompiledRule, gate: Gate): GatedRule {
  let maxPos = 0;
  for (let k = 0; k < gate.positions.length; k += 2) maxPos = Math.max(maxPos, gate.positions[k] as number);
  return { rule, positions: gate.positions, maxPos, literals: gate.literals };
}

const escapeLiteral = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/**
 * Rules tried on every line (of a given kind), each behind its gate. When every rule of the group
 * requires a literal, one regex over all the literals turns most lines away in one test.
 */
class GatedGroup {
  readonly rules: GatedRule[];
  private readonly anyLiteral: RegExp | undefined;
  /** [position, code] pairs every rule of the group requires (fixed-position characters). */
  private readonly commonPositions: number[];
  private readonly commonMaxPos: number;
  /** Every set with a rule in the group. */
  readonly bits: number;

  constructor(rules: GatedRule[]) {
    this.rules = rules;
    this.bits = rules.reduce((b, g) => b | g.rule.bit, 0);
    const lits = rules.map((g) => g.literals);
    const all = lits.every((l) => l !== undefined) ? [...new Set(lits.flat())] : undefined;
    // (Anchoring literals that contain ": " at the line's ": " positions was measured slower than this.)
    this.anyLiteral =
      rules.length > 1 && all !== undefined ? new RegExp(all.map(escapeLiteral).join('|')) : undefined;
    const first = rules[0]?.positions ?? [];
    const common: number[] = [];
    for (let k = 0; k < first.length; k += 2) {
      const at = first[k] as number;
      const code = first[k + 1] as number;
      if (
        rules.every((g) => g.positions.some((p, j) => j % 2 === 0 && p === at && g.positions[j + 1] === code))
      )
        common.push(at, code);
    }
    this.commonPositions = common;
    this.commonMaxPos = common.reduce((m, p, j) => (j % 2 === 0 ? Math.max(m, p) : m), 0);
  }

  /** The sets (bits of `want`) of which a rule of the group matches the line. `test`: the rule's own test. */
  scan(line: string, want: number, test: (c: CompiledRule, line: string) => boolean): number {
    const rules = this.rules;
    if ((this.bits & want) === 0) return 0;
    const pos = this.commonPositions;
    if (pos.length > 0 && (current.ascii || noSurrogateUpTo(line, this.commonMaxPos))) {
      for (let k = 0; k < pos.length; k += 2) {
        if (line.charCodeAt(pos[k] as number) !== pos[k + 1]) return 0;
      }
    }
    if (this.anyLiteral !== undefined && !this.anyLiteral.test(line)) return 0;
    let need = want;
    for (let k = 0; k < rules.length; k++) {
      const g = rules[k] as GatedRule;
      const bit = g.rule.bit;
      if ((bit & need) !== 0 && gateAdmits(g, line) && test(g.rule, line)) {
        need &= ~bit;
        if (need === 0) break;
      }
    }
    return want & ~need;
  }
}

/** Gated rules split by set (see GatedGroup.scan). */
class GatedGroups {
  readonly rules: GatedRule[];
  private readonly groups: GatedGroup[];

  constructor(rules: GatedRule[]) {
    this.rules = rules;
    const bits = [...new Set(rules.map((g) => g.rule.bit))].sort((a, b) => a - b);
    // Per set, rules with fixed-position characters (exim's own log format) apart: their group turns a
    // line away by a few character codes before any literal scan.
    this.groups = bits.flatMap((bit) => {
      const own = rules.filter((g) => g.rule.bit === bit);
      const fixed = own.filter((g) => g.positions.length > 0);
      const loose = own.filter((g) => g.positions.length === 0);
      return [fixed, loose].filter((x) => x.length > 0).map((x) => new GatedGroup(x));
    });
  }

  scan(line: string, want: number, test: (c: CompiledRule, line: string) => boolean): number {
    let found = 0;
    const groups = this.groups;
    for (let k = 0; k < groups.length; k++) found |= (groups[k] as GatedGroup).scan(line, want, test);
    return found;
  }
}

// ---- the matcher ---------------------------------------------------------------------------------

function compileOne(rule: Rule, order: number): CompiledRule {
  const { ast } = parseEre(rule.pattern);
  const a = emitEre(ast, 'ascii');
  return {
    rule,
    order,
    ast,
    ascii: new RegExp(a.source, a.flags),
    unicode: undefined,
    split: undefined,
    bit: 1,
  };
}

/** A compiled rule and what the prefilter proved about it. */
interface Placed {
  compiled: CompiledRule;
  shape: RuleShape;
}

/** The index over placed rules (of one or several sets), and the scan that uses it. */
interface RuleIndex {
  /** The sets (bits of `want`) of which some rule matches the line (`ascii`: known pure ASCII). */
  scan(line: string, want: number, ascii?: boolean): number;
  /** For firstMatch: the candidates of the current line (analysed), each list in rule order. */
  candidates(line: string): CompiledRule[][];
  stats: Omit<Matcher['stats'], 'rules'>;
}

function buildIndex(placed: Placed[]): RuleIndex {
  const all = placed.map((p) => p.compiled);
  const byTag = new Map<string, Entry[]>();
  const byPrefix: Array<{ prefix: string; entry: Entry }> = [];
  const headerOnly: Entry[] = [];
  const headerAnyRules: GatedRule[] = [];
  const otherRules: GatedRule[] = [];
  let indexed = 0;
  let byMessage = 0;
  for (const { compiled, shape } of placed) {
    if (shape.split === undefined) {
      otherRules.push(gated(compiled, shape.gate));
      continue;
    }
    const entry: Entry = { rule: compiled, messages: shape.messages };
    if (shape.messages) byMessage++;
    if (!shape.tags) {
      if (shape.messages) headerOnly.push(entry);
      else headerAnyRules.push(gated(compiled, shape.gate));
      continue;
    }
    indexed++;
    for (const { tag, exact } of shape.tags) {
      if (!exact) {
        byPrefix.push({ prefix: tag, entry });
        continue;
      }
      let list = byTag.get(tag);
      if (!list) byTag.set(tag, (list = []));
      if (!list.includes(entry)) list.push(entry);
    }
  }
  const headerBucket = headerOnly.length > 0 ? new Bucket(headerOnly) : undefined;
  // One group per set: a set already matched skips its group's literal scan.
  const headerAny = new GatedGroups(headerAnyRules);
  const others = new GatedGroups(otherRules);
  // Per line tag: its exact rules and the prefix rules it starts with. Built on first sight of a tag;
  // bounded, since tags come from logs.
  const buckets: Array<Bucket | undefined> = [];
  const bucketFor = (line: string): Bucket => {
    const id = current.tagId;
    const known = id >= 0 ? buckets[id] : undefined;
    if (known) return known;
    const tag = line.slice(current.start as number, current.tagEnd);
    const entries = [...(byTag.get(tag) ?? [])];
    for (const p of byPrefix) if (tag.startsWith(p.prefix)) entries.push(p.entry);
    const bucket = entries.length > 0 ? new Bucket(entries) : EMPTY_BUCKET;
    if (id >= 0) {
      while (buckets.length < id) buckets.push(undefined);
      buckets[id] = bucket;
    }
    return bucket;
  };

  const scan = (line: string, want: number, ascii = false): number => {
    if (line !== current.line) analyseLine(line, ascii);
    const start = current.start;
    let found = 0;
    if (start === undefined) {
      for (const c of all) {
        if ((c.bit & want & ~found) !== 0 && rxCurrent(c, line)) found |= c.bit;
      }
      return found;
    }
    if (start !== null) {
      found = bucketFor(line).scan(line, want);
      if (found === want) return found;
      if (headerBucket !== undefined) {
        found |= headerBucket.scan(line, want & ~found);
        if (found === want) return found;
      }
      found |= headerAny.scan(line, want & ~found, testHeaderRule);
      if (found === want) return found;
    }
    return found | others.scan(line, want & ~found, rxCurrent);
  };
  const candidates = (line: string): CompiledRule[][] => {
    if (current.start === undefined) return [all];
    const out: CompiledRule[][] = [];
    if (current.start !== null) {
      out.push(...bucketFor(line).lists(line));
      if (headerBucket) out.push(...headerBucket.lists(line));
      out.push(headerAny.rules.filter((g) => gateAdmits(g, line)).map((g) => g.rule));
    }
    out.push(others.rules.filter((g) => gateAdmits(g, line)).map((g) => g.rule));
    return out;
  };
  return {
    scan,
    candidates,
    stats: {
      indexed,
      unindexed: otherRules.length + headerAnyRules.length,
      tags: byTag.size + byPrefix.length,
      byMessage,
      headerOnly: headerOnly.length,
    },
  };
}

/** The placed rules of each matcher made by compileRules (for combineMatchers). */
const PLACED = new WeakMap<object, Placed[]>();

export function compileRules(rules: Rule[]): Matcher {
  const problems: Array<{ rule: Rule; reason: string }> = [];
  const placed: Placed[] = [];
  rules.forEach((rule, order) => {
    let compiled: CompiledRule;
    try {
      compiled = compileOne(rule, order);
    } catch (err) {
      problems.push({ rule, reason: (err as Error).message });
      return;
    }
    const shape = analyseRule(compiled.ast);
    const split = shape.split;
    if (split !== undefined) {
      const items = (compiled.ast as EreNode & { t: 'cat' }).items;
      const program = items.slice(shape.split);
      if (!program.some(hasBackref)) {
        const pre = emitEre({ t: 'cat', items: items.slice(0, shape.split) }, 'ascii');
        const suf = emitEre({ t: 'cat', items: program }, 'ascii');
        compiled.split = {
          prefix: headerId(pre.source, pre.flags, () => headerTable(compiled.ast, split)),
          suffix: new RegExp(suf.source, `${suf.flags}y`),
        };
      }
    }
    placed.push({ compiled, shape });
  });
  const index = buildIndex(placed);
  const matchAny = (line: string): boolean => index.scan(line, 1) !== 0;
  // First match: the earliest in rule order among every candidate list.
  const firstMatch = (line: string): Rule | undefined => {
    if (line !== current.line) analyseLine(line);
    let best: CompiledRule | undefined;
    const test = (c: CompiledRule): boolean =>
      typeof current.start === 'number' && c.split !== undefined
        ? testHeaderRule(c, line)
        : rxCurrent(c, line);
    for (const list of index.candidates(line)) {
      for (const c of list) {
        if (best && c.order > best.order) break;
        if (test(c)) {
          best = c;
          break;
        }
      }
    }
    return best?.rule;
  };
  const matcher: Matcher = {
    matchAny,
    firstMatch,
    problems,
    stats: { rules: placed.length, ...index.stats },
  };
  PLACED.set(matcher, placed);
  return matcher;
}

/**
 * One index over several rule sets, each a matcher made by compileRules: `match(line, want, ascii?)`
 * says which sets (bit k = matchers[k]) have a rule matching the line, among the wanted ones (`ascii`:
 * the caller knows the line is pure ASCII). The line is
 * analysed and looked up once for all sets instead of once per set. Undefined when a matcher was not
 * made by compileRules (or there are more than 30).
 */
export function combineMatchers(
  matchers: readonly object[],
): ((line: string, want: number, ascii?: boolean) => number) | undefined {
  if (matchers.length > 30) return undefined;
  const placed: Placed[] = [];
  let offset = 0;
  for (let k = 0; k < matchers.length; k++) {
    const own = PLACED.get(matchers[k] as object);
    if (own === undefined) return undefined;
    // Copies share the compiled regexes; each carries its set's bit, and orders stay distinct.
    for (const p of own) {
      placed.push({
        compiled: { ...p.compiled, bit: 1 << k, order: offset + p.compiled.order },
        shape: p.shape,
      });
    }
    offset += own.reduce((m, p) => Math.max(m, p.compiled.order + 1), 0);
  }
  return buildIndex(placed).scan;
}

/** The program tags a rule is anchored to, or undefined when it cannot be indexed. */
export function programTags(ast: EreNode): ProgramTag[] | undefined {
  const shape = analyseRule(ast);
  return shape.split === undefined ? undefined : shape.tags;
}

/** Reference implementation: every rule, in order (used by tests to prove the index changes nothing). */
export function compileRulesNaive(rules: Rule[]): Pick<Matcher, 'matchAny' | 'firstMatch'> {
  const list: CompiledRule[] = [];
  rules.forEach((rule, order) => {
    try {
      list.push(compileOne(rule, order));
    } catch {
      // skipped, as compileRules does
    }
  });
  const find = (line: string) => list.find((c) => rx(c, line));
  return { matchAny: (line) => find(line) !== undefined, firstMatch: (line) => find(line)?.rule };
}
