// The index must never change an answer: on Debian's rules (every directory, workstation level, so
// every ignore file) the indexed matcher gives the same first match as trying every rule in order,
// on lines derived from the rules, near misses of them, generated syslog and hand-written lines.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { mutations, parseOrUndefined, REAL_LINES, rng, sampleFor } from '../../../test/rules-corpus.js';
import { generateLogLines } from '../gen-logs.js';
import { loadRuleDir, type Rule } from './load.js';
import { compileRules, compileRulesNaive } from './matcher.js';
import { analyseRule } from './prefilter.js';

test('indexed matcher = every rule in order, on Debian rules', (t) => {
  if (!existsSync('/etc/logcheck/ignore.d.server')) {
    if (process.env.CI === 'true') assert.fail('logcheck-database is not installed (/etc/logcheck)');
    t.skip('logcheck-database not installed');
    return;
  }
  const { sets } = loadRuleDir('/etc/logcheck', { level: 'server', supportCrackingIgnore: true });
  const r = rng(99);
  // Per rule file (as logcheck greps them): lines derived from its rules and near misses, plus a pool
  // of other programs' lines; the naive reference tries every rule, so keep the sets file-sized.
  const pool: string[] = [...REAL_LINES, ...generateLogLines(150, { seed: 5 })];
  const files = Object.values(sets).flat();
  const own = new Map<object, string[]>();
  for (const f of files) {
    const lines: string[] = [];
    for (const rule of f.rules) {
      const ast = parseOrUndefined(rule.pattern);
      if (!ast) continue;
      const s = sampleFor(ast, r);
      lines.push(s, ...mutations(s, r, 1));
    }
    for (const l of lines) if (r() < 0.02) pool.push(l);
    own.set(f, lines);
  }
  let checked = 0;
  let ownChecked = 0;
  let matched = 0;
  let keyed = 0;
  const diffs: string[] = [];
  const compare = (name: string, rules: Rule[], lines: string[], ownCount: number): void => {
    const m = compileRules(rules);
    const naive = compileRulesNaive(rules);
    lines.forEach((line, k) => {
      const want = naive.firstMatch(line);
      const got = m.firstMatch(line);
      checked++;
      if (k < ownCount) {
        ownChecked++;
        if (want) matched++;
      }
      if (got !== want || m.matchAny(line) !== (want !== undefined)) {
        diffs.push(`${name}: ${JSON.stringify(line)}: want ${want?.line}, got ${got?.line}`);
      }
    });
  };
  for (const f of files) {
    for (const rule of f.rules) if (analyseRule(parseOrUndefined(rule.pattern)!).messages) keyed++;
    const lines = own.get(f) ?? [];
    compare(f.paths.join(','), f.rules, [...lines, ...pool], lines.length);
  }
  // Small directories as one matcher (several files' rules in one index).
  for (const key of ['cracking', 'violations', 'violationsIgnore'] as const) {
    compare(
      key,
      sets[key].flatMap((f) => f.rules),
      pool,
      0,
    );
  }
  assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences`);
  assert.ok(
    matched > ownChecked / 4,
    `too few matches (${matched}/${ownChecked}): the corpus does not exercise rules`,
  );
  assert.ok(keyed > 1000, `only ${keyed} rules have a message key: the prefilter is not being exercised`);
  t.diagnostic(
    `${checked} line checks, ${matched}/${ownChecked} derived lines matched, ${keyed} keyed rules`,
  );
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

test('headers checked by character tables answer as the header regex does', () => {
  const H = '^(\\w{3} [ :0-9]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ ';
  const rules: Rule[] = [
    { pattern: `${H}sshd\\[[0-9]+\\]: Accepted publickey for [a-z]+$`, file: 't', line: 1 },
    { pattern: '^\\w{3} [ :0-9]{11} [a-z]{2,4} cron: x$', file: 't', line: 2 },
  ];
  const lines = [
    'Nov 29 09:44:12 host sshd[1]: Accepted publickey for bob',
    'Nov  9 09:44:12 h.x-y_z sshd[1]: Accepted publickey for bob',
    'N/v 29 09:44:12 host sshd[1]: Accepted publickey for bob',
    'Nov 29 09:44:1x host sshd[1]: Accepted publickey for bob',
    'Nov 29 09:44:12 ho/st sshd[1]: Accepted publickey for bob',
    'Nov 29 09:44:12 ho@st sshd[1]: Accepted publickey for bob',
    '2024-06-04T03:00:08.231000+00:00 web01 sshd[1]: Accepted publickey for bob',
    '2024-06-04T03:00:08.231000+00:0Z web01 sshd[1]: Accepted publickey for bob',
    'Nov 29 09:44:12 ab cron: x',
    'Nov 29 09:44:12 a cron: x',
    'Nov 29 09:44:12 abcde cron: x',
    'Nov 29 09:44:12 ab1 cron: x',
  ];
  const indexed = compileRules(rules);
  const naive = compileRulesNaive(rules);
  for (const l of lines) assert.equal(indexed.matchAny(l), naive.matchAny(l), l);
  assert.equal(lines.filter((l) => indexed.matchAny(l)).length, 4);
});
