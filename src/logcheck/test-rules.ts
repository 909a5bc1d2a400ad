// `portsentinel test-rules`: like fail2ban-regex for logcheck rules. For each line of a log: the
// report section(s) it lands in (exactly as a run would put it) and every rule that matched it
// (file:line); then how many lines each rule took, and the lines no rule matched at all.

import { relative } from 'node:path';
import { Classifier, type EngineOptions, stripTrailingSpace } from './engine.js';
import { DEFAULT_SUBJECTS, sectionTitle } from './report.js';
import type { CompileRules, LoadedRules, RuleLine } from './rule-dirs.js';

export interface LineVerdict {
  line: string;
  /** Report sections the line appears in; empty = not reported (ignored). */
  sections: string[];
  /** Every rule that matched, `dir/file:line`, in directory order. */
  rules: string[];
}

export interface TestRulesResult {
  lines: LineVerdict[];
  /** Rule → lines it matched, most first. */
  counts: { rule: string; lines: number }[];
  unmatched: string[];
  reported: number;
  ignored: number;
}

const DIR_ORDER = ['cracking', 'crackingIgnore', 'violations', 'violationsIgnore', 'ignore'] as const;

/** Which rules match `line` (one compiled matcher per file as pre-filter, then per rule). */
class RuleFinder {
  private readonly single = new Map<RuleLine, { matchAny(l: string): boolean }>();
  private readonly fileMatchers: { rules: RuleLine[]; any: { matchAny(l: string): boolean } }[];

  constructor(
    loaded: LoadedRules,
    private readonly compile: CompileRules,
    private readonly ruleDir: string,
  ) {
    const files = [...loaded.files].sort((a, b) => DIR_ORDER.indexOf(a.dir) - DIR_ORDER.indexOf(b.dir));
    this.fileMatchers = files.map((f) => ({ rules: f.rules, any: compile(f.rules).matcher }));
  }

  label(r: RuleLine): string {
    const rel = relative(this.ruleDir, r.file);
    return `${rel.startsWith('..') ? r.file : rel}:${r.line}`;
  }

  find(line: string): RuleLine[] {
    const out: RuleLine[] = [];
    for (const f of this.fileMatchers) {
      if (!f.any.matchAny(line)) continue;
      for (const r of f.rules) {
        let m = this.single.get(r);
        if (!m) {
          m = this.compile([r]).matcher;
          this.single.set(r, m);
        }
        if (m.matchAny(line)) out.push(r);
      }
    }
    return out;
  }
}

export function testRules(
  lines: string[],
  loaded: LoadedRules,
  compile: CompileRules,
  ruleDir: string,
  options: EngineOptions = {},
): TestRulesResult {
  const classifier = new Classifier(loaded.dirs, { ...options, sortUniq: false });
  for (const l of lines) classifier.push(l);
  const result = classifier.finish();
  const sectionsOf = new Map<string, string[]>();
  for (const s of result.sections) {
    const title = sectionTitle(s, DEFAULT_SUBJECTS);
    for (const l of s.lines) {
      const list = sectionsOf.get(l) ?? [];
      if (!list.includes(title)) list.push(title);
      sectionsOf.set(l, list);
    }
  }
  const finder = new RuleFinder(loaded, compile, ruleDir);
  const counts = new Map<string, number>();
  const verdicts: LineVerdict[] = [];
  const unmatched: string[] = [];
  let reported = 0;
  for (const raw of lines) {
    const line = stripTrailingSpace(raw);
    const rules = finder.find(line).map((r) => finder.label(r));
    for (const r of rules) counts.set(r, (counts.get(r) ?? 0) + 1);
    if (rules.length === 0) unmatched.push(line);
    const sections = sectionsOf.get(line) ?? [];
    if (sections.length > 0) reported++;
    verdicts.push({ line, sections, rules });
  }
  return {
    lines: verdicts,
    counts: [...counts.entries()]
      .map(([rule, n]) => ({ rule, lines: n }))
      .sort((a, b) => b.lines - a.lines || (a.rule < b.rule ? -1 : 1)),
    unmatched,
    reported,
    ignored: lines.length - reported,
  };
}
