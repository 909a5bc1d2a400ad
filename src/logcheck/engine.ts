// Classifies log lines exactly as logcheck 1.4.2 (/usr/sbin/logcheck) does, streaming and pure.
//
// What logcheck does, step by step, and where it lives here:
//  1. `cleanrules` copies each rule directory's run-parts-named files, minus blank and `#` lines,
//     into a temp dir; ignore.d.<level> for every level at or above REPORTLEVEL land in ONE dir,
//     same-named files concatenated. (The loader does this; we receive `RuleDirs`.)
//  2. All log output is concatenated (temp files named by the log's basename, in glob order),
//     sorted (`sort -k 1,3 -s`, or `sort -u` with SORTUNIQ), and only THEN stripped of trailing
//     whitespace (`sed 's/[[:space:]]\+$//'`). Rules see the stripped line; SORTUNIQ compared
//     the unstripped one (so "x " and "x" both survive: the `trimTrailingSpace` switch).
//  3. `greplogoutput` per file of cracking.d (Security Alerts) and violations.d (Security Events):
//     lines the file matches, minus ignore/<name>, ignore/logcheck-<name>; for the file named
//     `logcheck` also minus every ignore file and minus every raise file not named `logchec*`;
//     minus the "higher" dir (cracking.d, only when an alert was reported); minus ignore/local
//     and ignore/local-*. A line may appear in several sections (one per matching file).
//  4. System Events: every line minus the whole ignore dir, minus every cracking.d and every
//     violations.d match, whether or not those were reported (a violation excused by
//     violations.ignore.d vanishes: the `keepExcusedViolations` switch keeps it here).
//
// Streaming: every line is classified on arrival; only lines reported somewhere are kept (for
// the final sort), the rest are counted. Memory is bounded by the report, not by the logs.

import { combineMatchers } from './rules/matcher.js';
import { isAsciiBatch } from './sources/types.js';
import { encodeUtf8Escaped } from './sources/utf8-escape.js';

/** A compiled rule file or set of files: does any of its patterns match the line? */
export interface LineMatcher {
  matchAny(line: string): boolean;
}

/** One cleaned rule file, as logcheck's temp dir holds it. */
export interface RuleFileMatcher extends LineMatcher {
  /** File name (run-parts valid), e.g. `kernel`, `logcheck`, `local-site`. */
  name: string;
  /**
   * GNU grep rejects a pattern of this file, so logcheck's `grep -f FILE` fails as a whole: as a
   * section's rules it reports nothing; as a filter (`grep -v -f`) its empty output removes EVERY
   * line. Reproduced because that is what logcheck does; the loader reports the pattern.
   */
  grepRejectsFile?: boolean;
}

/** One cleaned rule directory: its files in glob (byte) order, and a matcher for all of them. */
export interface RuleDirMatcher {
  files: RuleFileMatcher[];
  /** True when any usable file of the directory matches (a fast pre-filter). */
  any: LineMatcher;
  /** Some file has `grepRejectsFile`: as a filter, the directory removes every line. */
  grepRejectsSome?: boolean;
}

/** The file used as logcheck's `grep -v -f` filter: does it remove the line? */
function removes(f: RuleFileMatcher, line: string): boolean {
  return f.grepRejectsFile === true || f.matchAny(line);
}

/**
 * Does one of the files remove the line? A plain loop: a closure over `line` in the caller would make
 * V8 allocate a context for every line the caller sees, matched or not.
 */
function anyRemoves(files: readonly RuleFileMatcher[], line: string): boolean {
  for (let i = 0; i < files.length; i++) if (removes(files[i]!, line)) return true;
  return false;
}

/** The directory used as a filter (every file in turn): does it remove the line? */
function dirRemoves(d: RuleDirMatcher | undefined, line: string): boolean {
  if (d === undefined) return false;
  return d.grepRejectsSome === true || d.any.matchAny(line);
}

/** The rule directories of one run; `undefined` = the directory does not exist. */
export interface RuleDirs {
  cracking?: RuleDirMatcher | undefined;
  /** Only consulted with `supportCrackingIgnore`. */
  crackingIgnore?: RuleDirMatcher | undefined;
  violations?: RuleDirMatcher | undefined;
  violationsIgnore?: RuleDirMatcher | undefined;
  /** ignore.d.<level> for the report level and the stricter ones, merged by file name. */
  ignore?: RuleDirMatcher | undefined;
}

export interface EngineOptions {
  /** SORTUNIQ=1: `sort -u` (duplicates removed, whole-line order) instead of `sort -k 1,3 -s`. */
  sortUniq?: boolean;
  /** SUPPORT_CRACKING_IGNORE=1. As in logcheck, without a cracking.ignore.d the alert pass is skipped. */
  supportCrackingIgnore?: boolean;
  /** Opt-in: a violation excused by violations.ignore.d is reported under System Events. */
  keepExcusedViolations?: boolean;
  /** Opt-in: strip trailing whitespace before SORTUNIQ compares lines. */
  trimTrailingSpace?: boolean;
}

export interface ReportSection {
  /** `attack` (cracking.d), `security` (violations.d) or `system`. */
  category: 'attack' | 'security' | 'system';
  /** Rule file name the section is for; undefined = the `logcheck` file or System Events. */
  file: string | undefined;
  lines: string[];
}

export interface ClassifyResult {
  /** In report order: alerts per cracking.d file, events per violations.d file, then system. */
  sections: ReportSection[];
  /** Lines read (after SORTUNIQ removed duplicates: `linesChecked`). */
  linesRead: number;
  linesChecked: number;
  /** Lines reported at least once. */
  linesReported: number;
}

// ---- text helpers (exactly the tools' semantics in a C.UTF-8 locale) ------------------------

/** glibc iswspace in C.UTF-8, which sed's `[[:space:]]` uses. */
function isSpaceCode(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x2006) ||
    (c >= 0x2008 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** `sed -e 's/[[:space:]]\+$//'`. */
export function stripTrailingSpace(line: string): string {
  let end = line.length;
  while (end > 0 && isSpaceCode(line.charCodeAt(end - 1))) end--;
  return end === line.length ? line : line.slice(0, end);
}

/** End of `sort -k 1,3`'s key: after the third run of non-blanks (blank = space or tab). */
function keyEnd(line: string): number {
  return keyEndIn(line, 0, line.length);
}

/** keyEnd of the line held in `s` from `from` to `n`. */
function keyEndIn(s: string, from: number, n: number): number {
  const line = s;
  let i = from;
  for (let field = 0; field < 3 && i < n; field++) {
    while (i < n && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++;
    while (i < n && line.charCodeAt(i) !== 0x20 && line.charCodeAt(i) !== 0x09) i++;
  }
  return i;
}

/**
 * Compares two strings in code point order (C.UTF-8 collation) within [0, endA) and [0, endB).
 * UTF-16 code unit order differs only when a surrogate meets a code unit >= 0xE000.
 * `sort` in C.UTF-8 compares BYTES, which is code point order for valid UTF-8; a line holding
 * invalid bytes (escaped as lone U+DC80..U+DCFF by the sources) is compared by its original bytes
 * from the first difference on (`a\x80` sorts before `aé`, `a\xff` after every valid character).
 */
function compareCodePoints(a: string, endA: number, b: string, endB: number): number {
  const n = Math.min(endA, endB);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if ((x >= ESCAPE_MIN && x <= ESCAPE_MAX) || (y >= ESCAPE_MIN && y <= ESCAPE_MAX)) {
        // Start at the character's first unit (the low half of a pair shares its high half).
        const from = i > 0 && isHighSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i;
        return Buffer.compare(encodeUtf8Escaped(a.slice(from, endA)), encodeUtf8Escaped(b.slice(from, endB)));
      }
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x - y;
    }
  }
  return endA - endB;
}

const ESCAPE_MIN = 0xdc80;
const ESCAPE_MAX = 0xdcff;
const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

function hasSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

const SYSTEM = 1;
const SYSTEM_IF_NOT_SECURITY = 2;
/** The sort key has no surrogate (so UTF-16 order is code point order, which `<` compares natively). */
const PLAIN_KEY = 4;
/** Kept lines gathered before they are packed into one string. */
const PACK_LINES = 4096;

/** Where a kept line is reported, when not (only) under System Events. */
interface KeptSections {
  /** Section indexes that report the line. */
  sections: readonly number[];
  /** Security sections that vanish when an alert was reported (the line also matches cracking.d). */
  deferredSecurity: readonly number[];
}

/**
 * The lines kept for the final sort (about one in five of a busy log), in arrays rather than an
 * object per line. A line cut from a source's decoded chunk is a view that would keep the whole
 * chunk alive, so kept lines are packed, a few thousand at a time, into one string each line then
 * points into (by offsets): memory follows the report, not the logs, and the collector sees a few
 * large strings instead of a copy and an object per line.
 */
class KeptLines {
  count = 0;
  /** Lines not packed yet, and their explicit sort keys (undefined: the key is cut from the text). */
  private pending: string[] = [];
  private pendingKeys: Array<string | undefined> = [];
  private readonly blocks: string[] = [];
  private readonly blockOf: number[] = [];
  private readonly start: number[] = [];
  private readonly length: number[] = [];
  /** What the sort compares: the whole line (SORTUNIQ) or `sort -k 1,3`'s key. */
  readonly keys: string[] = [];
  /** Basename of the source (logcheck's temp file name: the concatenation order). */
  readonly groups: string[] = [];
  /** SYSTEM, SYSTEM_IF_NOT_SECURITY, PLAIN_KEY. */
  readonly flags: number[] = [];
  /** By kept index, for the few lines reported in a security or alert section. */
  readonly sections = new Map<number, KeptSections>();

  /**
   * Keeps `text`. `key`: the sort key when it is not `sort -k 1,3`'s key of `text` (SORTUNIQ, or
   * trailing spaces the key sees), already detached from any chunk.
   */
  add(text: string, key: string | undefined, group: string, flags: number, where?: KeptSections): void {
    const i = this.count++;
    this.pending.push(text);
    this.pendingKeys.push(key);
    this.groups.push(group);
    this.flags.push(flags);
    if (where !== undefined) this.sections.set(i, where);
    if (this.pending.length >= PACK_LINES) this.pack();
  }

  /** Packs the pending lines into one string and cuts their sort keys from it. */
  pack(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    const block = pending.join('\n');
    const b = this.blocks.length;
    this.blocks.push(block);
    let at = 0;
    // Neighbouring lines often share a key (the same second): one string for them all.
    let prevKey = this.keys.length > 0 ? this.keys[this.keys.length - 1]! : undefined;
    let prevPlain = 0;
    if (prevKey !== undefined) prevPlain = this.flags[this.keys.length - 1]! & PLAIN_KEY;
    for (let k = 0; k < pending.length; k++) {
      const len = pending[k]!.length;
      const i = this.keys.length;
      this.blockOf.push(b);
      this.start.push(at);
      this.length.push(len);
      let key = this.pendingKeys[k];
      if (key === undefined) {
        const end = keyEndIn(block, at, at + len);
        const same = prevKey !== undefined && prevKey.length === end - at && block.startsWith(prevKey, at);
        key = same ? (prevKey as string) : block.slice(at, end);
      }
      if (key !== prevKey) {
        prevKey = key;
        prevPlain = hasSurrogate(key) ? 0 : PLAIN_KEY;
      }
      this.keys.push(key);
      this.flags[i] = this.flags[i]! | prevPlain;
      at += len + 1;
    }
    this.pending = [];
    this.pendingKeys = [];
  }

  text(i: number): string {
    const start = this.start[i]!;
    return this.blocks[this.blockOf[i]!]!.slice(start, start + this.length[i]!);
  }

  /** Kept indexes in logcheck's `sort` order. */
  sorted(uniq: boolean): number[] {
    this.pack();
    const { keys, flags, groups } = this;
    const order: number[] = new Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const compareKeys = (a: number, b: number): number => {
      const x = keys[a]!;
      const y = keys[b]!;
      if (x === y) return 0;
      if ((flags[a]! & flags[b]! & PLAIN_KEY) !== 0) return x < y ? -1 : 1;
      return compareCodePoints(x, x.length, y, y.length);
    };
    if (uniq) return order.sort(compareKeys);
    return order.sort((a, b) => {
      const c = compareKeys(a, b);
      if (c !== 0) return c;
      // Stable: logcheck concatenated its temp files in glob order of their (basename) names.
      const ga = groups[a]!;
      const gb = groups[b]!;
      if (ga !== gb) return compareCodePoints(ga, ga.length, gb, gb.length);
      return a - b;
    });
  }
}

function byName(dir: RuleDirMatcher | undefined): Map<string, RuleFileMatcher> {
  const m = new Map<string, RuleFileMatcher>();
  for (const f of dir?.files ?? []) m.set(f.name, f);
  return m;
}

interface RaisePass {
  raise: RuleDirMatcher;
  ignore: RuleDirMatcher | undefined;
  ignoreByName: Map<string, RuleFileMatcher>;
  /** ignore/local then ignore/local-* (glob order). */
  locals: RuleFileMatcher[];
  /** Raise files not named `logchec*`: they take lines away from the `logcheck` file's section. */
  others: RuleFileMatcher[];
  /** Section index of each raise file. */
  sectionOf: number[];
  /** Per raise file: ignore/<name> and ignore/logcheck-<name>, when they exist. */
  ownIgnore: Array<RuleFileMatcher | undefined>;
  prefixedIgnore: Array<RuleFileMatcher | undefined>;
}

/**
 * The streaming classifier. `push` every line (in source order, sources in list order), then
 * `finish` once. Pure: no I/O, no clock.
 */
export class Classifier {
  private readonly rules: RuleDirs;
  private readonly opts: Required<EngineOptions>;
  private readonly sections: ReportSection[] = [];
  private readonly crackingPass: RaisePass | undefined;
  private readonly violationsPass: RaisePass | undefined;
  private kept = new KeptLines();
  /** SORTUNIQ: raw lines already seen among the kept ones (unreported duplicates need no memory). */
  private readonly seenRaw = new Set<string>();
  /**
   * cracking.d, violations.d and the ignore dir in one index (bits 1, 2, 4), when their matchers
   * allow it: each line is looked up once instead of once per directory.
   */
  private readonly matchDirs: ((line: string, want: number, ascii?: boolean) => number) | undefined;
  private read = 0;
  private duplicates = 0;
  private finished = false;

  constructor(rules: RuleDirs, options: EngineOptions = {}) {
    this.rules = rules;
    this.opts = {
      sortUniq: options.sortUniq ?? false,
      supportCrackingIgnore: options.supportCrackingIgnore ?? false,
      keepExcusedViolations: options.keepExcusedViolations ?? false,
      trimTrailingSpace: options.trimTrailingSpace ?? false,
    };
    // logcheck: with SUPPORT_CRACKING_IGNORE=1 but no cracking.ignore.d, the alert pass never runs.
    const alertsRun =
      rules.cracking !== undefined &&
      (!this.opts.supportCrackingIgnore || rules.crackingIgnore !== undefined);
    this.crackingPass = alertsRun
      ? this.pass(
          rules.cracking!,
          this.opts.supportCrackingIgnore ? rules.crackingIgnore : undefined,
          'attack',
        )
      : undefined;
    this.violationsPass = rules.violations
      ? this.pass(rules.violations, rules.violationsIgnore ?? emptyDir(), 'security')
      : undefined;
    this.sections.push({ category: 'system', file: undefined, lines: [] });
    this.matchDirs =
      rules.cracking && rules.violations && rules.ignore
        ? combineMatchers([rules.cracking.any, rules.violations.any, rules.ignore.any])
        : undefined;
  }

  private pass(
    raise: RuleDirMatcher,
    ignore: RuleDirMatcher | undefined,
    category: 'attack' | 'security',
  ): RaisePass {
    const ignoreByName = byName(ignore);
    const locals: RuleFileMatcher[] = [];
    const local = ignoreByName.get('local');
    if (local) locals.push(local);
    for (const f of ignore?.files ?? []) if (f.name.startsWith('local-')) locals.push(f);
    const sectionOf: number[] = [];
    for (const f of raise.files) {
      sectionOf.push(this.sections.length);
      this.sections.push({ category, file: f.name === 'logcheck' ? undefined : f.name, lines: [] });
    }
    // bash `[[ name =~ ^logcheck* ]]` is the ERE "logchec" followed by any number of "k".
    const others = raise.files.filter((f) => !f.name.startsWith('logchec'));
    const ownIgnore = raise.files.map((f) => ignoreByName.get(f.name));
    const prefixedIgnore = raise.files.map((f) => ignoreByName.get(`logcheck-${f.name}`));
    return { raise, ignore, ignoreByName, locals, others, sectionOf, ownIgnore, prefixedIgnore };
  }

  /**
   * Section indexes of `pass` that report `line` (before the "higher" filter), or undefined for none.
   * `anyHit`: the pass's `raise.any` answer for the line, already asked by the caller.
   */
  private runPass(p: RaisePass, line: string, anyHit: boolean): number[] | undefined {
    if (!anyHit) return undefined;
    let out: number[] | undefined;
    const files = p.raise.files;
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      if (f.grepRejectsFile || !f.matchAny(line)) continue;
      if (p.ignore) {
        const own = p.ownIgnore[i];
        if (own && removes(own, line)) continue;
        const prefixed = p.prefixedIgnore[i];
        if (prefixed && removes(prefixed, line)) continue;
      }
      if (f.name === 'logcheck') {
        if (p.ignore && p.ignore.files.length > 0 && dirRemoves(p.ignore, line)) continue;
        if (anyRemoves(p.others, line)) continue;
      }
      if (anyRemoves(p.locals, line)) continue;
      (out ??= []).push(p.sectionOf[i]!);
    }
    return out;
  }

  /** Classifies a source's batch of lines (see push); a batch the source proved ASCII is not re-checked. */
  pushBatch(lines: readonly string[], group = ''): void {
    const ascii = isAsciiBatch(lines);
    for (let i = 0; i < lines.length; i++) this.push(lines[i]!, group, ascii);
    // The batch's lines are views into the source's decoded chunk: packing what was kept now lets
    // the chunk die young, instead of being carried into the old generation by a few kept lines.
    this.kept.pack();
  }

  /**
   * Classifies one line from the source whose basename is `group`. `ascii`: the caller knows the line
   * is pure ASCII (a hint that skips a check; false = unknown).
   */
  push(raw: string, group = '', ascii = false): void {
    if (this.finished) throw new Error('Classifier: push after finish');
    this.read++;
    const stripped = stripTrailingSpace(raw);
    const key = this.opts.trimTrailingSpace ? stripped : raw;
    if (this.opts.sortUniq && this.seenRaw.has(key)) {
      this.duplicates++;
      return;
    }
    const text = stripped;
    const { cracking, violations, ignore } = this.rules;
    // Each directory's combined matcher is asked once; a pass and a filter share the answer.
    const dirHits = this.matchDirs?.(text, 7, ascii);
    const crackingHit = dirHits === undefined ? cracking?.any.matchAny(text) === true : (dirHits & 1) !== 0;
    const crackingMatch = crackingHit || cracking?.grepRejectsSome === true;
    let sections = this.crackingPass ? this.runPass(this.crackingPass, text, crackingHit) : undefined;
    let deferredSecurity: number[] | undefined;
    const violationsHit =
      dirHits === undefined ? violations?.any.matchAny(text) === true : (dirHits & 2) !== 0;
    if (this.violationsPass) {
      const sec = this.runPass(this.violationsPass, text, violationsHit);
      // cracking.d acts as the "higher ignore" only if an alert was reported at all (ATTACK=1):
      // known only at the end, so these wait.
      if (sec !== undefined) {
        if (crackingMatch) deferredSecurity = sec;
        else if (sections === undefined) sections = sec;
        else sections.push(...sec);
      }
    }
    let system = false;
    let systemIfNotSecurity = false;
    // System Events: not removed by cracking.d, the ignore dir, or violations.d.
    const ignored =
      dirHits === undefined
        ? dirRemoves(ignore, text)
        : ignore?.grepRejectsSome === true || (dirHits & 4) !== 0;
    if (!crackingMatch && !ignored) {
      const violationMatch = violationsHit || violations?.grepRejectsSome === true;
      if (!violationMatch) system = true;
      else if (this.opts.keepExcusedViolations) systemIfNotSecurity = true;
    }
    if (sections === undefined && deferredSecurity === undefined && !system && !systemIfNotSecurity) return;
    // An explicit sort key only when it is not cut from the text at packing (see KeptLines).
    let sortKey: string | undefined;
    if (this.opts.sortUniq) {
      sortKey = detached(key);
      this.seenRaw.add(sortKey);
    } else if (key !== text) sortKey = detached(key.slice(0, keyEnd(key)));
    const flags = (system ? SYSTEM : 0) | (systemIfNotSecurity ? SYSTEM_IF_NOT_SECURITY : 0);
    const where =
      sections === undefined && deferredSecurity === undefined
        ? undefined
        : { sections: sections ?? NONE, deferredSecurity: deferredSecurity ?? NONE };
    this.kept.add(text, sortKey, group, flags, where);
  }

  /** Sorts the kept lines as logcheck's `sort` would and fills the sections. */
  finish(): ClassifyResult {
    if (this.finished) throw new Error('Classifier: finish called twice');
    this.finished = true;
    const kept = this.kept;
    const order = kept.sorted(this.opts.sortUniq);
    const systemIndex = this.sections.length - 1;
    const isSecurity = (i: number): boolean => this.sections[i]!.category === 'security';
    // ATTACK=1 when any alert section has a line.
    let attack = false;
    for (const k of kept.sections.values()) {
      if (k.sections.some((i) => this.sections[i]!.category === 'attack')) attack = true;
    }
    let reported = 0;
    const systemLines = this.sections[systemIndex]!.lines;
    for (let n = 0; n < order.length; n++) {
      const i = order[n]!;
      const flags = kept.flags[i]!;
      const k = kept.sections.get(i);
      if (k === undefined) {
        // Most kept lines: System Events only (no list to build).
        if ((flags & (SYSTEM | SYSTEM_IF_NOT_SECURITY)) !== 0) {
          systemLines.push(kept.text(i));
          reported++;
        }
        continue;
      }
      const secs = attack ? [...k.sections] : k.sections.concat(k.deferredSecurity);
      let system = (flags & SYSTEM) !== 0;
      if ((flags & SYSTEM_IF_NOT_SECURITY) !== 0 && !secs.some(isSecurity)) system = true;
      if (system) secs.push(systemIndex);
      if (secs.length > 0) reported++;
      const text = kept.text(i);
      for (const s of secs.sort((a, b) => a - b)) this.sections[s]!.lines.push(text);
    }
    this.kept = new KeptLines();
    this.seenRaw.clear();
    return {
      sections: this.sections,
      linesRead: this.read,
      linesChecked: this.read - this.duplicates,
      linesReported: reported,
    };
  }
}

/**
 * A copy of `s` that shares no memory with the string it was cut from. V8 keeps a substring as a
 * view into its parent (a source's whole decoded chunk), so a kept line would pin every chunk it
 * came from; concatenating forces a fresh flat string, and the slice of it pins only that.
 */
function detached(s: string): string {
  return `${s} `.slice(0, -1);
}

/** Shared empty section list of kept lines (never mutated). */
const NONE: readonly number[] = Object.freeze([]);

function emptyDir(): RuleDirMatcher {
  return { files: [], any: { matchAny: () => false } };
}

/** Classifies a whole array at once (tests, test-rules). */
export function classifyLines(
  lines: Iterable<string | { text: string; group: string }>,
  rules: RuleDirs,
  options: EngineOptions = {},
): ClassifyResult {
  const c = new Classifier(rules, options);
  for (const l of lines) {
    if (typeof l === 'string') c.push(l);
    else c.push(l.text, l.group);
  }
  return c.finish();
}
