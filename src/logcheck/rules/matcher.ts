// Compiles a rule list once into a matcher that answers exactly as testing every rule in order would,
// without a giant alternation (GNU grep itself collapses on that) and without testing every rule.
//
// Most logcheck rules are anchored to a program: `^<timestamp> <host> sshd\[...`. Such a rule is indexed
// under its program tag ("sshd"); a line is tested only against the rules of the tag at its program
// position plus the rules that cannot be indexed, in original rule order. The index is only used for rules
// whose prefix provably pins the program position (a 15-character `Mmm dd hh:mm:ss` or a 32-character
// RFC 3339 timestamp without spaces, one space, a host without spaces, one space); anything else is
// "unindexed" and tested against every line.
//
// Each regex has two compiled forms: a small one valid for pure-ASCII lines (nearly all log lines) and the
// exact Unicode one, compiled lazily the first time a non-ASCII line reaches that rule.
import { type EreNode, emitEre, parseEre } from './ere.js';
import type { Rule } from './load.js';

export interface Matcher {
  /** Does any rule match the line? */
  matchAny(line: string): boolean;
  /** The first rule (in the order given) that matches, for test-rules and reports. */
  firstMatch(line: string): Rule | undefined;
  /** Rules that could not be compiled (they never match); normally caught by loadRuleDir already. */
  readonly problems: Array<{ rule: Rule; reason: string }>;
  /** How many rules were indexed by program tag, and how many are tested against every line. */
  readonly stats: { rules: number; indexed: number; unindexed: number; tags: number };
}

interface CompiledRule {
  rule: Rule;
  order: number;
  ast: EreNode;
  ascii: RegExp;
  unicode: RegExp | undefined;
  /** For indexed rules without back-references: prefix (timestamp, host) and sticky program part. */
  split?: { prefix: number; suffix: RegExp };
}

const TERMINATORS = new Set(['[', ':', ' ']);
const NON_ASCII = /[^\x00-\x7f]/;
const MAX_TAGS_PER_RULE = 16;
/** Distinct program tags remembered; past it (a log full of made-up tags) lists are rebuilt per line. */
const MAX_CACHED_TAGS = 4096;
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

function rx(compiled: CompiledRule, line: string): boolean {
  if (!NON_ASCII.test(line)) return compiled.ascii.test(line);
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
  return compiled.unicode.test(line);
}

// ---- structural analysis of a rule's prefix -----------------------------------------------------------

function setHasSpace(n: EreNode & { t: 'set' }): boolean {
  // Space (U+0020) is in [[:space:]], [[:blank:]], [[:print:]]; a negated set holds it unless it excludes it.
  const listed =
    n.classes.some((c) => c === 'space' || c === 'blank' || c === 'print') ||
    n.ranges.some(
      (_, k) => k % 2 === 0 && (n.ranges[k] as number) <= 0x20 && (n.ranges[k + 1] as number) >= 0x20,
    );
  return n.neg ? !listed : listed;
}

/** Per-position "may be a space" for a fixed-length node, or undefined if not fixed-length/simple. */
function fixedShape(n: EreNode): boolean[] | undefined {
  switch (n.t) {
    case 'char':
      return [n.cp === 0x20];
    case 'set':
      return [setHasSpace(n)];
    case 'any':
      return [true];
    case 'cat': {
      const out: boolean[] = [];
      for (const item of n.items) {
        const s = fixedShape(item);
        if (!s) return undefined;
        out.push(...s);
      }
      return out;
    }
    case 'rep': {
      if (n.min !== n.max || n.min > 64) return undefined;
      const s = fixedShape(n.body);
      if (!s) return undefined;
      const out: boolean[] = [];
      for (let k = 0; k < n.min; k++) out.push(...s);
      return out;
    }
    case 'group':
      return fixedShape(n.body);
    default:
      return undefined;
  }
}

const isSpaceChar = (n: EreNode | undefined): boolean => n?.t === 'char' && n.cp === 0x20;

/** Legacy: 3 non-space, space, 11 anything (15 long). RFC 3339: 32 non-space. */
function timestampKind(n: EreNode): 'legacy' | 'rfc' | undefined {
  const s = fixedShape(n);
  if (!s) return undefined;
  if (s.length === 15 && !s[0] && !s[1] && !s[2] && n.t !== 'any') {
    // position 3 must be exactly a space
    const flat = flatten(n);
    if (flat && isSpaceChar(flat[3])) return 'legacy';
    return undefined;
  }
  if (s.length === 32 && s.every((x) => !x)) return 'rfc';
  return undefined;
}

/** A fixed-length node as one node per character position (only chars/sets/any), or undefined. */
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

/** All literal strings a sequence of nodes can start with, cut at the first terminator; undefined if unknown. */
function literalTags(items: EreNode[]): ProgramTag[] | undefined {
  let partial: Array<{ text: string; done: boolean }> = [{ text: '', done: false }];
  const expand = (n: EreNode): string[] | undefined => {
    if (n.t === 'char') return [String.fromCodePoint(n.cp)];
    if (n.t === 'group') return expand(n.body);
    if (n.t === 'rep' && n.min === 0 && n.max === 1) {
      const e = expand(n.body);
      return e ? ['', ...e] : undefined;
    }
    if (n.t === 'cat') {
      let acc = [''];
      for (const i of n.items) {
        const e = expand(i);
        if (!e) return undefined;
        acc = acc.flatMap((a) => e.map((b) => a + b));
        if (acc.length > MAX_TAGS_PER_RULE) return undefined;
      }
      return acc;
    }
    if (n.t === 'alt') {
      const out: string[] = [];
      for (const i of n.items) {
        const e = expand(i);
        if (!e) return undefined;
        out.push(...e);
      }
      return out.length > MAX_TAGS_PER_RULE ? undefined : out;
    }
    return undefined;
  };
  for (const item of items) {
    if (partial.every((p) => p.done)) break;
    const e = expand(item);
    if (!e) break;
    const next: Array<{ text: string; done: boolean }> = [];
    for (const p of partial) {
      if (p.done) {
        next.push(p);
        continue;
      }
      for (const s of e) next.push({ text: p.text + s, done: [...s].some((ch) => TERMINATORS.has(ch)) });
    }
    if (next.length > MAX_TAGS_PER_RULE) return undefined;
    partial = next;
  }
  const tags: ProgramTag[] = [];
  for (const p of partial) {
    const chars = [...p.text];
    let cut = 0;
    while (cut < chars.length && !TERMINATORS.has(chars[cut] as string)) cut++;
    const tag = chars.slice(0, cut).join('');
    // Not terminated by a literal: the line's tag only starts with this text.
    if (!p.done && tag === '') return undefined;
    if (!tags.some((t) => t.tag === tag && t.exact === p.done)) tags.push({ tag, exact: p.done });
  }
  return tags;
}

/** `exact`: the line's program tag equals `tag`; otherwise it starts with `tag`. */
export interface ProgramTag {
  tag: string;
  exact: boolean;
}

/** The program tags a rule is anchored to, or undefined when it cannot be indexed. */
export function programTags(ast: EreNode): ProgramTag[] | undefined {
  return analyse(ast)?.tags;
}

/** Tags plus where the program part starts among the top-level items (everything before is the prefix). */
function analyse(ast: EreNode): { tags: ProgramTag[]; split: number } | undefined {
  if (ast.t !== 'cat') return undefined;
  const items = ast.items;
  if (items[0]?.t !== 'assert' || items[0].k !== 'bol') return undefined;
  let k = 1;
  // the timestamp: one group/alternation of timestamp shapes, or a legacy timestamp inline
  const ts = items[k];
  let tsOk = false;
  if (ts?.t === 'group') {
    const body = ts.body;
    const alts = body.t === 'alt' ? body.items : [body];
    tsOk = alts.every((a) => timestampKind(a) !== undefined);
    k++;
  } else {
    // inline: find the shortest run of items forming a timestamp
    for (let end = k + 1; end <= Math.min(items.length, k + 8); end++) {
      if (timestampKind({ t: 'cat', items: items.slice(k, end) }) !== undefined) {
        tsOk = true;
        k = end;
        break;
      }
    }
  }
  if (!tsOk) return undefined;
  if (!isSpaceChar(items[k])) return undefined;
  const host = items[k + 1];
  if (!(host?.t === 'rep' && host.min >= 1 && host.body.t === 'set' && !setHasSpace(host.body)))
    return undefined;
  if (!isSpaceChar(items[k + 2])) return undefined;
  const tags = literalTags(items.slice(k + 3));
  return tags && tags.length > 0 ? { tags, split: k + 3 } : undefined;
}

/**
 * The program tag of a line, as the index keys rules: the text after the host, up to `[`, `:` or a space.
 * `null`: the line cannot match any indexed rule (no timestamp/host shape). `undefined`: not sure (test all).
 */
export function lineTag(line: string): string | null | undefined {
  const at = lineTagAt(line);
  return at === null || at === undefined ? at : line.slice(at, tagEnd(line, at));
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

/** Index where the program tag starts, or null/undefined as for lineTag. */
function lineTagAt(line: string): number | null | undefined {
  // Rules count characters (code points); positions below are UTF-16 units: equal only without surrogates.
  for (let k = 0; k < 33 && k < line.length; k++) {
    const c = line.charCodeAt(k);
    if (c >= 0xd800 && c <= 0xdfff) return undefined;
  }
  let hostStart: number;
  if (line.charCodeAt(3) === 0x20 && line.charCodeAt(15) === 0x20) hostStart = 16;
  else if (line.charCodeAt(32) === 0x20) {
    for (let k = 0; k < 32; k++) if (line.charCodeAt(k) === 0x20) return null;
    hostStart = 33;
  } else return null;
  const sp = line.indexOf(' ', hostStart);
  if (sp <= hostStart) return null;
  return sp + 1;
}

export function compileRules(rules: Rule[]): Matcher {
  const problems: Array<{ rule: Rule; reason: string }> = [];
  const all: CompiledRule[] = [];
  const byTag = new Map<string, CompiledRule[]>();
  const prefixIds = new Map<string, number>();
  const prefixes: RegExp[] = [];
  const byPrefix: Array<{ prefix: string; rule: CompiledRule }> = [];
  const unindexed: CompiledRule[] = [];
  rules.forEach((rule, order) => {
    let compiled: CompiledRule;
    try {
      const { ast } = parseEre(rule.pattern);
      const a = emitEre(ast, 'ascii');
      compiled = { rule, order, ast, ascii: new RegExp(a.source, a.flags), unicode: undefined };
    } catch (err) {
      problems.push({ rule, reason: (err as Error).message });
      return;
    }
    all.push(compiled);
    const analysis = analyse(compiled.ast);
    if (!analysis) {
      unindexed.push(compiled);
      return;
    }
    const items = (compiled.ast as EreNode & { t: 'cat' }).items;
    const rest = items.slice(analysis.split);
    if (!rest.some(hasBackref)) {
      const pre = emitEre({ t: 'cat', items: items.slice(0, analysis.split) }, 'ascii');
      const suf = emitEre({ t: 'cat', items: rest }, 'ascii');
      let id = prefixIds.get(pre.source);
      if (id === undefined) {
        id = prefixes.length;
        prefixIds.set(pre.source, id);
        prefixes.push(new RegExp(pre.source, pre.flags));
      }
      compiled.split = { prefix: id, suffix: new RegExp(suf.source, `${suf.flags}y`) };
    }
    for (const { tag, exact } of analysis.tags) {
      if (!exact) {
        byPrefix.push({ prefix: tag, rule: compiled });
        continue;
      }
      let list = byTag.get(tag);
      if (!list) byTag.set(tag, (list = []));
      if (!list.includes(compiled)) list.push(compiled);
    }
  });
  // Per line tag: its exact rules, the prefix rules it starts with and the unindexed ones, in rule order
  // (first match = first in order). Built on first sight of a tag; bounded, since tags come from logs.
  const candidates = new Map<string, CompiledRule[]>();
  const candidatesFor = (tag: string): CompiledRule[] => {
    const known = candidates.get(tag);
    if (known) return known;
    const set = new Set<CompiledRule>([...(byTag.get(tag) ?? []), ...unindexed]);
    for (const p of byPrefix) if (tag.startsWith(p.prefix)) set.add(p.rule);
    const list = [...set].sort((a, b) => a.order - b.order);
    if (candidates.size < MAX_CACHED_TAGS) candidates.set(tag, list);
    return list;
  };
  // Prefix results for the current line: rules share a few timestamp/host prefixes, test each once.
  let prefixState = new Int8Array(0);
  const find = (line: string): CompiledRule | undefined => {
    const start = lineTagAt(line);
    if (start === undefined) {
      for (const c of all) if (rx(c, line)) return c;
      return undefined;
    }
    if (start === null) {
      for (const c of unindexed) if (rx(c, line)) return c;
      return undefined;
    }
    const list = candidatesFor(line.slice(start, tagEnd(line, start)));
    if (NON_ASCII.test(line)) {
      for (const c of list) if (rx(c, line)) return c;
      return undefined;
    }
    if (prefixState.length !== prefixes.length) prefixState = new Int8Array(prefixes.length);
    else prefixState.fill(0);
    for (const c of list) {
      const split = c.split;
      if (!split) {
        if (c.ascii.test(line)) return c;
        continue;
      }
      let ok = prefixState[split.prefix] as number;
      if (ok === 0) {
        ok = (prefixes[split.prefix] as RegExp).test(line) ? 1 : -1;
        prefixState[split.prefix] = ok;
      }
      if (ok < 0) continue;
      split.suffix.lastIndex = start;
      if (split.suffix.test(line)) return c;
    }
    return undefined;
  };
  return {
    matchAny: (line) => find(line) !== undefined,
    firstMatch: (line) => find(line)?.rule,
    problems,
    stats: {
      rules: all.length,
      indexed: all.length - unindexed.length,
      unindexed: unindexed.length,
      tags: byTag.size + byPrefix.length,
    },
  };
}

/** Reference implementation: every rule, in order (used by tests to prove the index changes nothing). */
export function compileRulesNaive(rules: Rule[]): Pick<Matcher, 'matchAny' | 'firstMatch'> {
  const list: CompiledRule[] = [];
  rules.forEach((rule, order) => {
    try {
      const { ast } = parseEre(rule.pattern);
      const a = emitEre(ast, 'ascii');
      list.push({ rule, order, ast, ascii: new RegExp(a.source, a.flags), unicode: undefined });
    } catch {
      // skipped, as compileRules does
    }
  });
  const find = (line: string) => list.find((c) => rx(c, line));
  return { matchAny: (line) => find(line) !== undefined, firstMatch: (line) => find(line)?.rule };
}
