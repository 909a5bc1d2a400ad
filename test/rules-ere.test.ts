// Table-driven checks of the ERE translation (each row verified against GNU grep 3.8 in C.UTF-8 when
// written), a seeded fuzz against grep itself, the loader's logcheck layout, and the matcher's index.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseEre, translateEre } from '../src/logcheck/rules/ere.js';
import { BUNDLED_RULES_DIR, isPatternLine, loadRuleDir, loadRuleDirs } from '../src/logcheck/rules/load.js';
import { compileRules, compileRulesNaive, lineTag, programTags } from '../src/logcheck/rules/matcher.js';
import { grepMatches, INVALID_BYTES, rng } from './rules-corpus.js';

function matches(pattern: string, line: string): boolean {
  const t = translateEre(pattern);
  assert.ok(t.ok, `${pattern}: ${t.ok ? '' : t.reason}`);
  const u = new RegExp(t.source, t.flags).test(line);
  if (!/[^\x00-\x7f]/.test(line))
    assert.equal(new RegExp(t.ascii.source, t.ascii.flags).test(line), u, `ascii≠unicode: ${pattern}`);
  return u;
}

const TABLE: Array<[string, string, boolean]> = [
  ['[[:alpha:]]', 'é', true],
  ['^\\w$', 'é', true],
  ['^\\w$', '٣', true],
  ['^\\s$', '\u00a0', false],
  ['^\\s$', '\u2003', true],
  ['^[[:punct:]]$', '€', true],
  ['[]a]', ']', true],
  ['^[^]a]$', 'b', true],
  ['^[^]a]$', ']', false],
  ['^[a\\]]+$', '\\]', true],
  ['^[a\\]]+$', 'a\\]', false],
  ['^[\\d]$', '\\', true],
  ['\\d', '1', false],
  ['\\d', 'd', true],
  ['dhcpd[[[:digit:]]+]:', 'dhcpd[123]:', true],
  ['a{', 'a{', true],
  ['a{1,2', 'a{1,2', true],
  ['a{x}', 'a{x}', true],
  ['^a{,2}$', 'aa', true],
  ['^a{,2}$', 'aaa', false],
  ['^a{2}$', 'aa', true],
  ['^a{2,}$', 'aaaa', true],
  ['^a{ 1}$', 'a{ 1}', true],
  ['^(a)b\\1$', 'aba', true],
  ['^(a)b\\1$', 'abb', false],
  ['*a', 'a', true],
  ['^*b', 'xb', true],
  ['^a|*$', 'x', true],
  ['^(*b)$', 'b', true],
  ['^(*b)$', '*b', false],
  ['a+?', 'b', true],
  ['^a**$', '', true],
  ['a)', 'a)', true],
  ['()', 'x', true],
  ['a||b', 'x', true],
  ['a^b', 'a^b', false],
  ['a$b', 'a$b', false],
  ['x\\<y', 'xy', false],
  ['x\\>y', 'x y', false],
  ['\\bé', ' é', true],
  ['\\bé', 'aé', false],
  ['^\\`a', 'a', true],
  ["a\\'", 'a', true],
  ['^[[.-.]]$', '-', true],
  ['^[[=a=]]$', 'á', false],
  ['^[--/]$', '.', true],
  ['^[%--]$', ',', true],
  ['^[a-]$', '-', true],
  ['^.$', '😀', true],
  ['^.$', '\r', true],
  ['end $', 'end ', true],
  ['end $', 'end', false],
  ['^[Z-a]$', '_', true],
  ['^[a-c]$', 'B', false],
];

const INVALID = [
  '(a',
  'a{2,1}',
  'a{}',
  'a{1,2,3}',
  '[[:alpha:]',
  '[a',
  '[:alpha:]',
  '[[:foo:]]',
  '[z-a]',
  'a\\',
  '[[.space.]]',
  '[é-ê]',
  '[[=é=]]',
  '[a-z-9]',
  '[[:alpha:]-z]',
  '\\1(a)',
  '(a)\\2',
  'a{32768}',
  '(*)',
];

describe('translateEre: table', () => {
  for (const [pattern, line, want] of TABLE) {
    test(`${JSON.stringify(pattern)} on ${JSON.stringify(line)} → ${want}`, () =>
      assert.equal(matches(pattern, line), want));
  }
  for (const pattern of INVALID) {
    test(`${JSON.stringify(pattern)} is reported`, () => {
      const t = translateEre(pattern);
      assert.equal(t.ok, false);
      if (!t.ok) assert.ok(t.reason.length > 0);
    });
  }
  test("constructs where grep's two engines disagree are reported as unsupported, never guessed", () => {
    for (const p of ['^{\\w$', '(a)|\\1b', '(a)?\\1']) {
      const t = translateEre(p);
      assert.equal(t.ok, false, p);
      if (!t.ok) assert.equal(t.kind, 'unsupported', p);
    }
  });
});

function haveGrep(): boolean {
  return spawnSync('grep', ['--version']).status === 0;
}

describe('translateEre: invalid UTF-8 (escaped bytes) as grep treats encoding errors', () => {
  // Every construct × invalid byte, decided by grep itself on the raw bytes (C.UTF-8).
  const PATTERNS = [
    '^a.b$',
    '^a[^x]b$',
    '^a\\Wb$',
    '^a\\wb$',
    '^a\\Sb$',
    '^a[[:print:]]b$',
    '^a[^[:alnum:]]b$',
    '^a[[:punct:]]b$',
    '^a.*$',
    '^(a).b\\1?$',
    'a\\>',
    '\\<b',
    'a\\b',
    'a\\B',
    '\\bb',
    '^a[^x]*b$',
    'a.?b',
    '^ab?$',
  ];
  test('each construct agrees with grep on each kind of invalid byte', (t) => {
    if (!haveGrep()) return t.skip('no grep');
    const lines = INVALID_BYTES.flatMap((b) => {
      const e = String.fromCharCode(0xdc00 + b);
      return [`a${e}b`, `a${e}`, `${e}b`, `a${e}${e}b`, `aé${e}b`];
    });
    for (const pattern of PATTERNS) {
      const expected = grepMatches([pattern], lines);
      lines.forEach((line, k) => {
        assert.equal(matches(pattern, line), expected.has(k), `${pattern} on ${JSON.stringify(line)}`);
      });
    }
  });
  test("the reviewer's case: an ignore rule does not hide a line with an invalid byte", () => {
    const rule = '^\\w{3} [ :0-9]{11} [._[:alnum:]-]+ sshd\\[[0-9]+\\]: Invalid user .* from [0-9.]+$';
    const line = 'Nov 29 08:00:00 host sshd[1]: Invalid user b\udcffd from 1.2.3.4';
    assert.equal(matches(rule, line), false);
    assert.equal(compileRules([{ pattern: rule, file: 'sshd', line: 1 }]).matchAny(line), false);
    // The same line with a valid character is still ignored.
    assert.equal(matches(rule, line.replace('\udcff', 'é')), true);
    if (haveGrep()) assert.equal(grepMatches([rule], [line]).size, 0);
  });
});

describe('translateEre: seeded fuzz against GNU grep', () => {
  test('random patterns agree with grep on random lines', (t) => {
    if (!haveGrep()) return t.skip('no grep');
    const r = rng(20261129);
    const atoms = [
      'a',
      'b',
      '.',
      '[ab]',
      '[^a]',
      '[[:alpha:]]',
      '[[:digit:]]',
      '\\w',
      '\\W',
      '\\s',
      '\\b',
      '\\<',
      '\\>',
      '^',
      '$',
      '(',
      ')',
      '|',
      '*',
      '+',
      '?',
      '{2}',
      '{1,2}',
      '{,1}',
      '{',
      '}',
      '\\1',
      ']',
      '[]a]',
      '[a-c]',
      '\\.',
      ' ',
      'é',
      '[[:space:]]',
      '-',
    ];
    const patterns: string[] = [];
    while (patterns.length < 300) {
      let p = '';
      const n = 1 + Math.floor(r() * 7);
      for (let k = 0; k < n; k++) p += atoms[Math.floor(r() * atoms.length)];
      const tr = translateEre(p);
      if (!tr.ok) continue; // rejected patterns: checked below that grep rejects the invalid ones
      patterns.push(p);
    }
    const alphabet = ['a', 'b', 'c', ' ', '.', 'é', '٣', '1', '_', '-', ']', '{', '}', '*', '\u2003', '😀'];
    const lines: string[] = [''];
    for (let k = 0; k < 120; k++) {
      let l = '';
      const n = Math.floor(r() * 6);
      for (let j = 0; j < n; j++) l += alphabet[Math.floor(r() * alphabet.length)];
      lines.push(l);
    }
    const diffs: string[] = [];
    for (const p of patterns) {
      const want = grepMatches([p], lines);
      const tr = translateEre(p);
      if (!tr.ok) continue;
      const re = new RegExp(tr.source, tr.flags);
      lines.forEach((l, k) => {
        if (re.test(l) !== want.has(k))
          diffs.push(`${JSON.stringify(p)} on ${JSON.stringify(l)}: grep ${want.has(k)}`);
      });
    }
    assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences`);
  });
  test('patterns we call invalid are rejected by grep', (t) => {
    if (!haveGrep()) return t.skip('no grep');
    for (const p of INVALID) {
      const res = spawnSync('grep', ['-E', '-e', p], { input: 'x\n', env: { LC_ALL: 'C.UTF-8' } });
      assert.equal(res.status, 2, `grep accepted ${p}`);
    }
  });
});

describe('loadRuleDir: logcheck layout', () => {
  test('run-parts names, comments, levels, per-file merging, cracking.ignore.d switch', () => {
    const root = mkdtempSync(join(tmpdir(), 'ps-ruledir-'));
    try {
      for (const d of [
        'cracking.d',
        'cracking.ignore.d',
        'violations.d',
        'violations.ignore.d',
        'ignore.d.paranoid',
        'ignore.d.server',
        'ignore.d.workstation',
      ]) {
        mkdirSync(join(root, d));
      }
      writeFileSync(
        join(root, 'ignore.d.server', 'sshd'),
        '# comment\n\n   \n\r\nserver-rule\n  # not a comment\ntrailing \n',
      );
      writeFileSync(join(root, 'ignore.d.workstation', 'sshd'), 'ws-rule\n');
      writeFileSync(join(root, 'ignore.d.paranoid', 'sshd'), 'paranoid-rule');
      writeFileSync(join(root, 'ignore.d.server', 'sshd.dpkg-old'), 'skipped\n');
      writeFileSync(join(root, 'ignore.d.server', 'sshd~'), 'skipped\n');
      writeFileSync(join(root, 'ignore.d.server', '.hidden'), 'skipped\n');
      writeFileSync(join(root, 'ignore.d.server', 'bad'), 'ok\n(unclosed\n');
      mkdirSync(join(root, 'ignore.d.server', 'subdir'));
      writeFileSync(join(root, 'cracking.ignore.d', 'x'), 'y\n');
      writeFileSync(join(root, 'violations.ignore.d', 'local-site'), 'z\n');

      const server = loadRuleDir(root, { level: 'server', supportCrackingIgnore: false });
      const sshd = server.sets.ignore.find((f) => f.name === 'sshd');
      assert.deepEqual(
        sshd?.rules.map((r) => r.pattern),
        ['server-rule', '  # not a comment', 'trailing ', 'paranoid-rule'],
      );
      assert.deepEqual(
        sshd?.rules.map((r) => r.line),
        [5, 6, 7, 1],
      );
      assert.deepEqual(
        server.sets.ignore.map((f) => f.name),
        ['bad', 'sshd'],
      );
      assert.equal(server.sets.ignore[0]?.grepRejectsFile, true);
      assert.equal(server.problems.length, 1);
      assert.equal(server.problems[0]?.line, 2);
      assert.equal(server.problems[0]?.kind, 'invalid');
      assert.deepEqual(server.sets.crackingIgnore, []);
      assert.deepEqual(
        server.sets.violationsIgnore.map((f) => f.name),
        ['local-site'],
      );

      const ws = loadRuleDir(root, { level: 'workstation', supportCrackingIgnore: true });
      assert.deepEqual(
        ws.sets.ignore.find((f) => f.name === 'sshd')?.rules.map((r) => r.pattern),
        ['ws-rule', 'server-rule', '  # not a comment', 'trailing ', 'paranoid-rule'],
      );
      assert.equal(ws.sets.crackingIgnore.length, 1);
      const par = loadRuleDir(root, { level: 'paranoid', supportCrackingIgnore: false });
      assert.deepEqual(
        par.sets.ignore.find((f) => f.name === 'sshd')?.rules.map((r) => r.pattern),
        ['paranoid-rule'],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  test('blank-line rule follows [[:space:]] of a UTF-8 locale', () => {
    assert.equal(isPatternLine('\u3000\t'), false);
    assert.equal(isPatternLine('\u00a0'), true);
    assert.equal(isPatternLine('#x'), false);
  });
  test('bundled rules: portsentinel lines are security events, portsentry lines are not ours', () => {
    const { sets, problems } = loadRuleDirs([BUNDLED_RULES_DIR], {
      level: 'server',
      supportCrackingIgnore: false,
    });
    assert.deepEqual(problems, []);
    const m = compileRules(sets.violations.flatMap((f) => f.rules));
    assert.ok(
      m.matchAny('Mar 13 10:08:00 web1 portsentinel[777]: attackalert: SYN scan from host 203.0.113.66'),
    );
    assert.ok(m.matchAny('2026-03-13T10:07:00.123456+00:00 web1 portsentinel: blocked 203.0.113.66'));
    assert.equal(
      m.matchAny('Mar 13 10:08:00 web1 portsentry[778]: attackalert: Connect from host: 203.0.113.66'),
      false,
    );
  });
});

describe('compileRules: index', () => {
  const rules = [
    '^(\\w{3} [ :[:digit:]]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ sshd\\[[[:digit:]]+\\]: Accepted .*$',
    '^(\\w{3} [ :0-9]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ (/usr/sbin/)?cron\\[[0-9]+\\]: x$',
    '^(\\w{3} [ :0-9]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ dhcpd[[[:digit:]]+]: y$',
    '^\\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ kernel: z',
    'anywhere',
  ].map((pattern, k) => ({ pattern, file: 't', line: k + 1 }));
  test('tags extracted from rule structure', () => {
    const tags = rules.map((r) => programTags(parseEre(r.pattern).ast));
    assert.deepEqual(tags[0], [{ tag: 'sshd', exact: true }]);
    assert.deepEqual(tags[1]?.map((t) => t.tag).sort(), ['/usr/sbin/cron', 'cron']);
    assert.deepEqual(tags[2], [{ tag: 'dhcpd', exact: false }]);
    assert.deepEqual(tags[3], [{ tag: 'kernel', exact: true }]);
    assert.equal(tags[4], undefined);
    assert.equal(lineTag('Mar 13 10:02:11 web1 sshd[1]: x'), 'sshd');
    assert.equal(lineTag('2026-03-13T10:07:00.123456+00:00 web1 CRON[3001]: x'), 'CRON');
    assert.equal(lineTag('garbage'), null);
    assert.equal(lineTag('😀ar 13 10:02:11 web1 sshd[1]: x'), undefined);
  });
  test('same first match as testing every rule, with rule origin', () => {
    const m = compileRules(rules);
    const naive = compileRulesNaive(rules);
    const lines = [
      'Mar 13 10:02:11 web1 sshd[22]: Accepted publickey',
      'Mar 13 10:02:11 web1 sshd[22]: Failed anywhere',
      'Mar  3 10:02:11 web1 /usr/sbin/cron[1]: x',
      'Mar  3 10:02:11 web1 cron[1]: x',
      'Mar  3 10:02:11 web1 dhcpd[12]: y',
      'Mar  3 10:02:11 web1 dhcpd7]: y',
      'Mar  3 10:02:11 wëb1 kernel: z',
      '😀ar 13 10:02:11 web1 kernel: z anywhere',
      'nothing',
    ];
    for (const l of lines) assert.equal(m.firstMatch(l), naive.firstMatch(l), l);
    assert.equal(m.firstMatch(lines[0] as string)?.line, 1);
    assert.equal(m.firstMatch(lines[1] as string)?.line, 5);
    assert.equal(m.firstMatch(lines[5] as string)?.line, 3);
    assert.equal(m.matchAny('nothing'), false);
  });
});
