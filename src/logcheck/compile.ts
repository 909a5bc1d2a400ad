// Binds the engine to the POSIX ERE translator (rules/matcher.ts): each rule file, each rule
// directory and the own rules become one compiled matcher. Kept apart so the engine and loader
// stay independent of the translator and tests can pass a simpler compiler.

import { SentinelError } from '../core/errors.js';
import type { CompileRules, RuleLine, RuleProblem } from './rule-dirs.js';

interface TranslatorModule {
  compileRules(rules: RuleLine[]): {
    matchAny(line: string): boolean;
    problems?: { file?: string; line?: number; message: string }[];
  };
}

let cached: CompileRules | undefined;

/** The project's ERE compiler (loaded once). */
export async function loadCompiler(): Promise<CompileRules> {
  if (cached) return cached;
  let mod: TranslatorModule;
  try {
    // Resolved at run time: the translator module is built alongside (rules/matcher.ts).
    const specifier = './rules/matcher.js';
    mod = (await import(specifier)) as TranslatorModule;
  } catch (err) {
    throw new SentinelError('E_UNSUPPORTED', 'the rule translator (logcheck/rules/matcher) is not available', {
      cause: err,
    });
  }
  cached = (rules) => {
    const m = mod.compileRules(rules);
    const problems: RuleProblem[] = (m.problems ?? []).map((p) => ({
      file: p.file ?? '',
      ...(p.line !== undefined && { line: p.line }),
      message: p.message,
    }));
    return { matcher: { matchAny: (line: string) => m.matchAny(line) }, problems };
  };
  return cached;
}
