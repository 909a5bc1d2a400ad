// Binds the rule loader (rules/load.ts: logcheck's cleanrules, run-parts names, level merging) and
// the ERE compiler (rules/matcher.ts) to the engine's matchers: one matcher per rule file and one
// per directory. Also reads header.txt/footer.txt and notes whether cracking.ignore.d exists
// (logcheck skips the alert pass when SUPPORT_CRACKING_IGNORE=1 and it does not).

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportLevel } from '../config/types.js';
import type { LineMatcher, RuleDirMatcher, RuleDirs, RuleFileMatcher } from './engine.js';
import { BUNDLED_RULES_DIR, loadRuleDirs as loadRuleSets, type Rule, type RuleFile } from './rules/load.js';
import { compileRules } from './rules/matcher.js';

export type RuleLine = Rule;

export interface RuleProblem {
  file: string;
  line?: number;
  message: string;
}

/** Compiles rule lines into one matcher (injectable: tests use a plain RegExp compiler). */
export type CompileRules = (rules: RuleLine[]) => { matcher: LineMatcher; problems: RuleProblem[] };

/** The project's ERE translator, indexed by program tag. */
export const compileEre: CompileRules = (rules) => {
  const m = compileRules(rules);
  return {
    matcher: m,
    problems: m.problems.map((p) => ({ file: p.rule.file, line: p.rule.line, message: p.reason })),
  };
};

export interface LoadedRules {
  dirs: RuleDirs;
  problems: RuleProblem[];
  /** Every rule file, with its rules: for test-rules (which file:line took a line). */
  files: { dir: keyof RuleDirs; name: string; rules: RuleLine[] }[];
  header: string | undefined;
  footer: string | undefined;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function compileDir(files: RuleFile[], compile: CompileRules): RuleDirMatcher {
  const out: RuleFileMatcher[] = files.map((f) => {
    const m = compile(f.rules).matcher;
    return {
      name: f.name,
      matchAny: (line: string) => m.matchAny(line),
      ...(f.grepRejectsFile && { grepRejectsFile: true }),
    };
  });
  // One matcher over the whole directory (indexed by program tag) as the fast pre-filter.
  const usable = files.filter((f) => !f.grepRejectsFile).flatMap((f) => f.rules);
  return { files: out, any: compile(usable).matcher, grepRejectsSome: files.some((f) => f.grepRejectsFile) };
}

/**
 * Loads `ruleDir` (e.g. /etc/logcheck) for `level`, as logcheck's cleanrules would. With
 * `bundled`, portsentinel's own rules (rules/violations.d/portsentinel) join violations.d.
 */
export function loadRuleDirs(
  ruleDir: string,
  options: { level: ReportLevel; supportCrackingIgnore: boolean; compile?: CompileRules; bundled?: boolean },
): LoadedRules {
  const compile = options.compile ?? compileEre;
  const dirs = options.bundled ? [ruleDir, BUNDLED_RULES_DIR] : [ruleDir];
  const { sets, problems } = loadRuleSets(dirs, {
    level: options.level,
    supportCrackingIgnore: options.supportCrackingIgnore,
  });
  const out: RuleDirs = {
    cracking: compileDir(sets.cracking, compile),
    crackingIgnore:
      options.supportCrackingIgnore && dirs.some((d) => isDir(join(d, 'cracking.ignore.d')))
        ? compileDir(sets.crackingIgnore, compile)
        : undefined,
    violations: compileDir(sets.violations, compile),
    violationsIgnore: compileDir(sets.violationsIgnore, compile),
    ignore: compileDir(sets.ignore, compile),
  };
  const files: LoadedRules['files'] = [];
  for (const key of ['cracking', 'crackingIgnore', 'violations', 'violationsIgnore', 'ignore'] as const) {
    for (const f of sets[key]) files.push({ dir: key, name: f.name, rules: f.rules });
  }
  return {
    dirs: out,
    problems: problems.map((p) => ({
      file: p.file,
      ...(p.line !== undefined && { line: p.line }),
      message: `${p.kind}: ${p.reason}${p.pattern !== undefined ? ` (${p.pattern})` : ''}`,
    })),
    files,
    header: readOptional(join(ruleDir, 'header.txt')),
    footer: readOptional(join(ruleDir, 'footer.txt')),
  };
}
