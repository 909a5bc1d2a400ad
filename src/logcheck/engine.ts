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
  let i = 0;
  const n = line.length;
  for (let field = 0; field < 3 && i < n; field++) {
    while (i < n && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++;
    while (i < n && line.charCodeAt(i) !== 0x20 && line.charCodeAt(i) !== 0x09) i++;
  }
  return i;
}

/**
 * Compares two strings in code point order (C.UTF-8 collation) within [0, endA) and [0, endB).
 * UTF-16 code unit order differs only when a surrogate meets a code unit >= 0xE000.
 */
function compareCodePoints(a: string, endA: number, b: string, endB: number): number {
  const n = Math.min(endA, endB);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x - y;
    }
  }
  return endA - endB;
}

interface Kept {
  /** What the sort compares: the whole line (SORTUNIQ) or `sort -k 1,3`'s key. */
  sortKey: string;
  /** The sort key has no surrogate (so UTF-16 order is code point order). */
  plainKey: boolean;
  /** The line after trailing-space stripping (what rules matched and the report prints). */
  text: string;
  /** Basename of the source (logcheck's temp file name: the concatenation order). */
  group: string;
  seq: number;
  /** Section indexes that report the line. */
  sections: readonly number[];
  /** Security sections that vanish when an alert was reported (the line also matches cracking.d). */
  deferredSecurity: readonly number[];
  /** Reported under System Events unless it was reported as a security event (keepExcusedViolations). */
  systemIfNotSecurity: boolean;
  system: boolean;
}

function hasSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

/** Sort keys in code point order; without surrogates that is UTF-16 order, which `<` compares natively. */
function compareKeys(a: Kept, b: Kept): number {
  const x = a.sortKey;
  const y = b.sortKey;
  if (x === y) return 0;
  if (a.plainKey && b.plainKey) return x < y ? -1 : 1;
  return compareCodePoints(x, x.length, y, y.length);
}

function sortComparator(uniq: boolean): (a: Kept, b: Kept) => number {
  if (uniq) return compareKeys;
  return (a, b) => {
    const c = compareKeys(a, b);
    if (c !== 0) return c;
    // Stable: logcheck concatenated its temp files in glob order of their (basename) names.
    if (a.group !== b.group) return compareCodePoints(a.group, a.group.length, b.group, b.group.length);
    return a.seq - b.seq;
  };
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
  private readonly kept: Kept[] = [];
  /** SORTUNIQ: raw lines already seen among the kept ones (unreported duplicates need no memory). */
  private readonly seenRaw = new Set<string>();
  /**
   * cracking.d, violations.d and the ignore dir in one index (bits 1, 2, 4), when their matchers
   * allow it: each line is looked up once instead of once per directory.
   */
  private readonly matchDirs: ((line: string, want: number) => number) | undefined;
  private seq = 0;
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
    return { raise, ignore, ignoreByName, locals, others, sectionOf };
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
        const own = p.ignoreByName.get(f.name);
        if (own && removes(own, line)) continue;
        const prefixed = p.ignoreByName.get(`logcheck-${f.name}`);
        if (prefixed && removes(prefixed, line)) continue;
      }
      if (f.name === 'logcheck') {
        if (p.ignore && p.ignore.files.length > 0 && dirRemoves(p.ignore, line)) continue;
        if (p.others.some((o) => removes(o, line))) continue;
      }
      if (p.locals.some((l) => removes(l, line))) continue;
      (out ??= []).push(p.sectionOf[i]!);
    }
    return out;
  }

  /** Classifies one line from the source whose basename is `group`. */
  push(raw: string, group = ''): void {
    if (this.finished) throw new Error('Classifier: push after finish');
    this.read++;
    const seq = this.seq++;
    const stripped = stripTrailingSpace(raw);
    const key = this.opts.trimTrailingSpace ? stripped : raw;
    if (this.opts.sortUniq && this.seenRaw.has(key)) {
      this.duplicates++;
      return;
    }
    const text = stripped;
    const { cracking, violations, ignore } = this.rules;
    // Each directory's combined matcher is asked once; a pass and a filter share the answer.
    const dirHits = this.matchDirs?.(text, 7);
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
    // Kept lines are copied: a line cut from a source's decoded chunk would keep the whole chunk alive.
    const keptText = detached(text);
    const keptKey = key === text ? keptText : detached(key);
    if (this.opts.sortUniq) this.seenRaw.add(keptKey);
    const sortKey = this.opts.sortUniq ? keptKey : keptKey.slice(0, keyEnd(keptKey));
    this.kept.push({
      sortKey,
      plainKey: !hasSurrogate(sortKey),
      text: keptText,
      group,
      seq,
      sections: sections ?? NONE,
      deferredSecurity: deferredSecurity ?? NONE,
      systemIfNotSecurity,
      system,
    });
  }

  /** Sorts the kept lines as logcheck's `sort` would and fills the sections. */
  finish(): ClassifyResult {
    if (this.finished) throw new Error('Classifier: finish called twice');
    this.finished = true;
    this.kept.sort(sortComparator(this.opts.sortUniq));
    const systemIndex = this.sections.length - 1;
    const isSecurity = (i: number): boolean => this.sections[i]!.category === 'security';
    // ATTACK=1 when any alert section has a line.
    const attack = this.kept.some((k) => k.sections.some((i) => this.sections[i]!.category === 'attack'));
    let reported = 0;
    for (const k of this.kept) {
      const secs = attack ? [...k.sections] : k.sections.concat(k.deferredSecurity);
      let system = k.system;
      if (k.systemIfNotSecurity && !secs.some(isSecurity)) system = true;
      if (system) secs.push(systemIndex);
      if (secs.length > 0) reported++;
      for (const i of secs.sort((a, b) => a - b)) this.sections[i]!.lines.push(k.text);
    }
    this.kept.length = 0;
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
