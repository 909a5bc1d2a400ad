// Differential proof of the ERE translation: GNU grep (run as logcheck runs it, `grep -E -f <rule file>`,
// here in C.UTF-8) and our matcher over every rule file of Debian's logcheck-database and portsentinel's
// own rules, on lines derived from the rules themselves, near misses and real-looking syslog lines.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BUNDLED_RULES_DIR, listRuleFiles, parseRuleText } from '../src/logcheck/rules/load.js';
import { compileRules, compileRulesNaive } from '../src/logcheck/rules/matcher.js';
import {
  grepMatches,
  mutations,
  parseOrUndefined,
  REAL_LINES,
  rng,
  sampleFor,
  withInvalidByte,
} from './rules-corpus.js';

const DIRS = [
  'cracking.d',
  'cracking.ignore.d',
  'violations.d',
  'violations.ignore.d',
  'ignore.d.paranoid',
  'ignore.d.server',
  'ignore.d.workstation',
];

function ruleFiles(root: string): string[] {
  return DIRS.flatMap((d) => listRuleFiles(join(root, d)).map((n) => join(root, d, n)));
}

describe('ERE translation vs GNU grep on every logcheck rule', () => {
  const haveDb = existsSync('/etc/logcheck/ignore.d.server');
  test('every rule file: zero differences', (t) => {
    if (!haveDb) {
      if (process.env.CI === 'true') assert.fail('logcheck-database is not installed (/etc/logcheck)');
      t.skip('logcheck-database not installed');
      return;
    }
    const files = [...ruleFiles('/etc/logcheck'), ...ruleFiles(BUNDLED_RULES_DIR)];
    const r = rng(4242);
    // Its own generator, so the rest of the corpus stays what it was.
    const invalid = rng(977);
    // a pool of lines from all rules, so each file also meets other programs' lines
    const pool: string[] = [...REAL_LINES];
    const perFile = new Map<string, { patterns: string[]; lines: string[] }>();
    let rulesSeen = 0;
    for (const file of files) {
      const { rules, problems } = parseRuleText(readFileSync(file, 'utf8'), file);
      assert.deepEqual(problems, [], `untranslatable rules in ${file}`);
      const lines: string[] = [];
      for (const rule of rules) {
        rulesSeen++;
        const ast = parseOrUndefined(rule.pattern);
        assert.ok(ast, rule.pattern);
        for (let k = 0; k < 3; k++) {
          const s = sampleFor(ast, r);
          lines.push(s, ...mutations(s, r, 2));
          // Invalid UTF-8 (an encoding error for grep): `.`, classes and `\w` must refuse it.
          if (k === 0) lines.push(withInvalidByte(s, invalid));
        }
      }
      for (const l of lines) if (r() < 0.01) pool.push(l);
      perFile.set(file, { patterns: rules.map((x) => x.pattern), lines });
    }
    assert.ok(rulesSeen > 1500, `only ${rulesSeen} rules found`);
    let compared = 0;
    let matched = 0;
    let ownLines = 0;
    let ownMatched = 0;
    const diffs: string[] = [];
    for (const [file, { patterns, lines: own }] of perFile) {
      if (patterns.length === 0) continue;
      const lines = [...own, ...pool];
      const expected = grepMatches(patterns, lines);
      const rules = patterns.map((pattern, k) => ({ pattern, file, line: k + 1 }));
      const m = compileRules(rules);
      const naive = compileRulesNaive(rules);
      lines.forEach((line, k) => {
        const got = m.matchAny(line);
        compared++;
        if (got) matched++;
        if (k < own.length) {
          ownLines++;
          if (got) ownMatched++;
        }
        if (got !== expected.has(k))
          diffs.push(`${file}: grep=${expected.has(k)} ours=${got}: ${JSON.stringify(line)}`);
        if (naive.matchAny(line) !== got)
          diffs.push(`${file}: index changed the answer: ${JSON.stringify(line)}`);
      });
    }
    assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} differences`);
    assert.ok(
      ownMatched > ownLines / 5,
      `too few matching lines (${ownMatched}/${ownLines}): corpus is not exercising rules`,
    );
    t.diagnostic(`${files.length} files, ${rulesSeen} rules, ${compared} line checks, ${matched} matches`);
  });
});
