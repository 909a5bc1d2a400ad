// The index must never change an answer: on Debian's rules (every directory, workstation level, so
// every ignore file) the indexed matcher gives the same first match as trying every rule in order,
// on lines derived from the rules, near misses of them, generated syslog and hand-written lines.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { mutations, parseOrUndefined, REAL_LINES, rng, sampleFor } from '../../../test/rules-corpus.js';
import { generateLogLines } from '../gen-logs.js';
import { loadRuleDir } from './load.js';
import { compileRules, compileRulesNaive } from './matcher.js';
import { analyseRule } from './prefilter.js';

test('indexed matcher = every rule in order, on Debian rules', (t) => {
  if (!existsSync('/etc/logcheck/ignore.d.server')) {
    if (process.env.CI === 'true') assert.fail('logcheck-database is not installed (/etc/logcheck)');
    t.skip('logcheck-database not installed');
    return;
  }
  const { sets } = loadRuleDir('/etc/logcheck', { level: 'workstation', supportCrackingIgnore: true });
  const r = rng(99);
  const lines: string[] = [...REAL_LINES, ...generateLogLines(3000, { seed: 5 })];
  for (const key of Object.keys(sets) as Array<keyof typeof sets>) {
    for (const rule of sets[key].flatMap((f) => f.rules)) {
      const ast = parseOrUndefined(rule.pattern);
      if (!ast) continue;
      const s = sampleFor(ast, r);
      lines.push(s, ...mutations(s, r, 2));
    }
  }
  let checked = 0;
  let matched = 0;
  let keyed = 0;
  const diffs: string[] = [];
  for (const key of Object.keys(sets) as Array<keyof typeof sets>) {
    const rules = sets[key].flatMap((f) => f.rules);
    if (rules.length === 0) continue;
    const m = compileRules(rules);
    const naive = compileRulesNaive(rules);
    for (const rule of rules) if (analyseRule(parseOrUndefined(rule.pattern)!).messages) keyed++;
    for (const line of lines) {
      const want = naive.firstMatch(line);
      const got = m.firstMatch(line);
      checked++;
      if (want) matched++;
      if (got !== want || m.matchAny(line) !== (want !== undefined)) {
        diffs.push(
          `${key}: ${JSON.stringify(line)}: want ${want?.file}:${want?.line}, got ${got?.file}:${got?.line}`,
        );
      }
    }
  }
  assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences`);
  assert.ok(
    matched > checked / 10,
    `too few matches (${matched}/${checked}): the corpus does not exercise rules`,
  );
  assert.ok(keyed > 1000, `only ${keyed} rules have a message key: the prefilter is not being exercised`);
  t.diagnostic(`${checked} line checks, ${matched} matched, ${keyed} rules with a message key`);
});

test('message keys: anchors found from the rule structure', () => {
  const H = '^(\\w{3} [ :0-9]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ ';
  const key = (p: string) => analyseRule(parseOrUndefined(H + p)!).messages;
  assert.deepEqual(key('sshd\\[[0-9]+\\]: Accepted (publickey|password) for'), {
    at: 'msg',
    literals: ['Accepted publickey for', 'Accepted password for'],
    first: undefined,
  });
  assert.equal(key('kernel:( \\[ *[0-9]+\\.[0-9]+\\])? usb [0-9]')?.at, 'core');
  assert.deepEqual(key('postfix/smtpd\\[[0-9]+\\]: [[:alnum:]]+: reject: x')?.literals, ['reject: x']);
  assert.equal(key('postfix/smtpd\\[[0-9]+\\]: [[:alnum:]]+: reject: x')?.at, 'msg2');
  // P may contain ": " (any character): nothing is known about the message.
  assert.equal(key('.+\\[[0-9]+\\]: \\[horde\\] x'), undefined);
  // The stamp is optional and the text after it may start with "[": core is not provable.
  assert.equal(key('kernel:( \\[[0-9.]+\\])? \\[drm\\] x'), undefined);
});
