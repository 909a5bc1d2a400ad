// Reads a logcheck rule directory tree the way logcheck's `cleanrules` does and hands the engine
// compiled matchers: run-parts-valid file names only (`^[A-Za-z0-9_-]+$`, regular files), lines
// that are blank (`^[[:space:]]*$`) or start with `#` dropped, ignore.d.<level> for the level and
// every stricter one merged into one set of files, same-named files concatenated. Pattern
// translation (POSIX ERE → JS) belongs to the compiler passed in (rules/matcher.ts).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportLevel } from '../config/types.js';
import type { LineMatcher, RuleDirMatcher, RuleDirs, RuleFileMatcher } from './engine.js';

export interface RuleLine {
  pattern: string;
  file: string;
  line: number;
}

/** Compiles rule lines into a matcher; `problems` names each rule it could not translate. */
export type CompileRules = (rules: RuleLine[]) => { matcher: LineMatcher; problems: RuleProblem[] };

export interface RuleProblem {
  file: string;
  line?: number;
  message: string;
}

export interface LoadedRules {
  dirs: RuleDirs;
  problems: RuleProblem[];
  /** Every rule file read, with its rules: for test-rules (which file:line took a line). */
  files: { dir: keyof RuleDirs; name: string; rules: RuleLine[] }[];
  header: string | undefined;
  footer: string | undefined;
}

/** run-parts' default (non-LSB) name filter. */
export const RUN_PARTS_NAME = /^[A-Za-z0-9_-]+$/;

/** Levels whose ignore.d directories apply at `level` (logcheck's REPORTLEVELS). */
export function levelsFor(level: ReportLevel): ReportLevel[] {
  if (level === 'workstation') return ['workstation', 'server', 'paranoid'];
  if (level === 'server') return ['server', 'paranoid'];
  return ['paranoid'];
}

/** Code point (C.UTF-8 glob) order. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Dropped by cleanrules: `^[[:space:]]*$|^#`. */
function isBlankOrComment(line: string): boolean {
  return line.startsWith('#') || /^[\t\n\v\f\r \u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]*$/.test(line);
}

/** Cleaned rule lines of one file (line numbers are the file's own, 1-based). */
export function cleanRuleText(text: string, file: string): RuleLine[] {
  const out: RuleLine[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((l, i) => {
    if (!isBlankOrComment(l)) out.push({ pattern: l, file, line: i + 1 });
  });
  return out;
}

/**
 * Reads one directory (or several merged, e.g. ignore.d levels) into name → rule lines; undefined
 * when none of them exists (logcheck then skips that pass).
 */
export function readRuleDir(paths: string[]): Map<string, RuleLine[]> | undefined {
  let exists = false;
  const files = new Map<string, RuleLine[]>();
  for (const dir of paths) {
    let names: string[];
    try {
      if (!statSync(dir).isDirectory()) continue;
      names = readdirSync(dir);
    } catch {
      continue;
    }
    exists = true;
    for (const name of names.sort(byteOrder)) {
      if (!RUN_PARTS_NAME.test(name)) continue;
      const path = join(dir, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const rules = cleanRuleText(readFileSync(path, 'utf8'), path);
      const prev = files.get(name);
      if (prev) prev.push(...rules);
      else files.set(name, rules);
    }
  }
  if (!exists) return undefined;
  return new Map([...files.entries()].sort((a, b) => byteOrder(a[0], b[0])));
}

function compileDir(
  files: Map<string, RuleLine[]> | undefined,
  compile: CompileRules,
  problems: RuleProblem[],
): RuleDirMatcher | undefined {
  if (files === undefined) return undefined;
  const out: RuleFileMatcher[] = [];
  const all: RuleLine[] = [];
  for (const [name, rules] of files) {
    const c = compile(rules);
    problems.push(...c.problems);
    const m = c.matcher;
    out.push({ name, matchAny: (line: string) => m.matchAny(line) });
    all.push(...rules);
  }
  // The union is compiled again as one matcher (indexed by program tag) for the fast pre-filter;
  // its problems are the same as the files' and are not repeated.
  const any = compile(all).matcher;
  return { files: out, any };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Loads `ruleDir` (e.g. /etc/logcheck) for `level`, as logcheck's cleanrules would. */
export function loadRuleDirs(
  ruleDir: string,
  options: { level: ReportLevel; supportCrackingIgnore: boolean; compile: CompileRules; own?: RuleLine[] },
): LoadedRules {
  const problems: RuleProblem[] = [];
  const raw: Partial<Record<keyof RuleDirs, Map<string, RuleLine[]> | undefined>> = {
    cracking: readRuleDir([join(ruleDir, 'cracking.d')]),
    crackingIgnore: options.supportCrackingIgnore ? readRuleDir([join(ruleDir, 'cracking.ignore.d')]) : undefined,
    violations: readRuleDir([join(ruleDir, 'violations.d')]),
    violationsIgnore: readRuleDir([join(ruleDir, 'violations.ignore.d')]),
    ignore: readRuleDir(levelsFor(options.level).map((l) => join(ruleDir, `ignore.d.${l}`))),
  };
  const dirs: RuleDirs = {};
  const files: LoadedRules['files'] = [];
  for (const key of ['cracking', 'crackingIgnore', 'violations', 'violationsIgnore', 'ignore'] as const) {
    const m = raw[key];
    dirs[key] = compileDir(m, options.compile, problems);
    for (const [name, rules] of m ?? []) files.push({ dir: key, name, rules });
  }
  if (options.own && options.own.length > 0) {
    const c = options.compile(options.own);
    problems.push(...c.problems);
    dirs.own = c.matcher;
    files.push({ dir: 'own', name: 'portsentinel', rules: options.own });
  }
  return {
    dirs,
    problems,
    files,
    header: readOptional(join(ruleDir, 'header.txt')),
    footer: readOptional(join(ruleDir, 'footer.txt')),
  };
}
