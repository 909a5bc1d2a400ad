// Reads a logcheck rule directory the way logcheck 1.4.2 does (see /usr/sbin/logcheck, cleanrules()):
// - files are listed with `run-parts --list`: only names matching ^[a-zA-Z0-9_-]+$ (so `foo.dpkg-old`,
//   `foo~`, `.hidden` are skipped), regular files only, in C/code point order;
// - each file is cleaned with `grep -E -v '^[[:space:]]*$|^#'`: blank lines (any POSIX space, \r included)
//   and lines starting with `#` go; everything else, trailing spaces included, is a pattern;
// - the ignore.d.<level> directories of the report level are merged by file name, in logcheck's order
//   (workstation, then server, then paranoid), as logcheck appends them into one cleaned file each;
// - cracking.ignore.d is read only with SUPPORT_CRACKING_IGNORE.
// How the sets are applied (per-file ignores, `local`/`local-*`, the special `logcheck` file) is the
// engine's job; this module only hands over the files, in order, with every rule's origin.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEre } from './ere.js';
import { UNICODE_CLASSES } from './unicode-classes.js';

export type ReportLevel = 'paranoid' | 'server' | 'workstation';

export interface Rule {
  /** The pattern exactly as in the file (GNU grep -E syntax). */
  pattern: string;
  /** Path of the file it came from. */
  file: string;
  /** 1-based line number in that file. */
  line: number;
}

export interface RuleFile {
  /** Base name: logcheck's section title uses it ("Security Events for <name>"), ignores pair by it. */
  name: string;
  /** Files merged under this name (one, or one per level for ignore.d.*). */
  paths: string[];
  /** Translatable rules, in file order. */
  rules: Rule[];
  /** GNU grep rejects at least one pattern here, so logcheck's `grep -f` of this file fails as a whole. */
  grepRejectsFile: boolean;
}

export interface RuleSets {
  cracking: RuleFile[];
  /** Empty unless supportCrackingIgnore. */
  crackingIgnore: RuleFile[];
  violations: RuleFile[];
  violationsIgnore: RuleFile[];
  /** ignore.d.* of the level and the levels below it, merged by name. */
  ignore: RuleFile[];
}

export interface RuleProblem {
  file: string;
  line?: number;
  /** `invalid`: grep rejects it too; `unsupported`: grep takes it, we cannot match it identically;
   *  `unreadable`: the file cannot be read (logcheck stops with an error). */
  kind: 'invalid' | 'unsupported' | 'unreadable';
  reason: string;
  column?: number;
  pattern?: string;
}

export interface LoadOptions {
  level: ReportLevel;
  supportCrackingIgnore: boolean;
}

/** logcheck's REPORTLEVELS: each level includes the ones below it, in this order. */
export const LEVEL_DIRS: Record<ReportLevel, readonly string[]> = {
  workstation: ['ignore.d.workstation', 'ignore.d.server', 'ignore.d.paranoid'],
  server: ['ignore.d.server', 'ignore.d.paranoid'],
  paranoid: ['ignore.d.paranoid'],
};

/** run-parts' default name filter (Debian debianutils, without --lsbsysinit). */
export const RUN_PARTS_NAME = /^[a-zA-Z0-9_-]+$/;

/** portsentinel's own rules shipped with the package (`rules/` at the repository root). */
export const BUNDLED_RULES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../rules');

/** The files of one rule directory that logcheck would use, in order; missing directory = none. */
export function listRuleFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => RUN_PARTS_NAME.test(n))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .filter((n) => {
      try {
        return statSync(join(dir, n)).isFile();
      } catch {
        return false;
      }
    });
}

const SPACE = UNICODE_CLASSES.space ?? [];
function isPosixSpace(cp: number): boolean {
  for (let k = 0; k + 1 < SPACE.length; k += 2) {
    if (cp >= (SPACE[k] as number) && cp <= (SPACE[k + 1] as number)) return true;
  }
  return false;
}

/** logcheck's `grep -E -v '^[[:space:]]*$|^#'`: is this line a pattern? */
export function isPatternLine(line: string): boolean {
  if (line.startsWith('#')) return false;
  for (const ch of line) if (!isPosixSpace(ch.codePointAt(0) as number)) return true;
  return false;
}

/** Parse one rule file's text into rules and problems (no I/O). */
export function parseRuleText(text: string, file: string): { rules: Rule[]; problems: RuleProblem[] } {
  const rules: Rule[] = [];
  const problems: RuleProblem[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((pattern, idx) => {
    if (!isPatternLine(pattern)) return;
    const line = idx + 1;
    if (pattern.includes('\uFFFD')) {
      problems.push({ file, line, kind: 'unsupported', reason: 'invalid UTF-8 in the pattern', pattern });
      return;
    }
    try {
      parseEre(pattern);
      rules.push({ pattern, file, line });
    } catch (err) {
      const e = err as { message: string; column?: number; kind?: 'invalid' | 'unsupported' };
      const problem: RuleProblem = { file, line, kind: e.kind ?? 'unsupported', reason: e.message, pattern };
      if (e.column !== undefined) problem.column = e.column + 1;
      problems.push(problem);
    }
  });
  return { rules, problems };
}

function readSetDir(dirs: string[], problems: RuleProblem[]): RuleFile[] {
  const byName = new Map<string, RuleFile>();
  for (const dir of dirs) {
    for (const name of listRuleFiles(dir)) {
      const path = join(dir, name);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        problems.push({ file: path, kind: 'unreadable', reason: (err as Error).message });
        continue;
      }
      const parsed = parseRuleText(text, path);
      problems.push(...parsed.problems);
      let rf = byName.get(name);
      if (!rf) {
        rf = { name, paths: [], rules: [], grepRejectsFile: false };
        byName.set(name, rf);
      }
      rf.paths.push(path);
      rf.rules.push(...parsed.rules);
      if (parsed.problems.some((p) => p.kind === 'invalid')) rf.grepRejectsFile = true;
    }
  }
  // logcheck iterates its cleaned directory with a shell glob: sorted by name.
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Load a logcheck rule directory (e.g. /etc/logcheck) for a report level. */
export function loadRuleDir(dir: string, options: LoadOptions): { sets: RuleSets; problems: RuleProblem[] } {
  return loadRuleDirs([dir], options);
}

/**
 * Load several rule directories as one: same-named files are appended in the order given, as if their
 * rules were in one file. Used for `/etc/logcheck` followed by BUNDLED_RULES_DIR.
 */
export function loadRuleDirs(
  dirs: string[],
  options: LoadOptions,
): { sets: RuleSets; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const sub = (name: string): string[] => dirs.map((d) => join(d, name));
  const sets: RuleSets = {
    cracking: readSetDir(sub('cracking.d'), problems),
    crackingIgnore: options.supportCrackingIgnore ? readSetDir(sub('cracking.ignore.d'), problems) : [],
    violations: readSetDir(sub('violations.d'), problems),
    violationsIgnore: readSetDir(sub('violations.ignore.d'), problems),
    ignore: readSetDir(
      LEVEL_DIRS[options.level].flatMap((level) => sub(level)),
      problems,
    ),
  };
  return { sets, problems };
}
