// combineMatchers answers, per rule set, exactly what each set's own matcher answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateLogLines } from '../gen-logs.js';
import type { Rule } from './load.js';
import { combineMatchers, compileRules } from './matcher.js';

const H = '^(\\w{3} [ :0-9]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ ';
const rules = (file: string, patterns: string[]): Rule[] =>
  patterns.map((pattern, k) => ({ file, line: k + 1, pattern }) as Rule);

test('one index over several sets = each set on its own', () => {
  const sets = [
    rules('cracking', ['kernel: Oversized packet received from', `${H}sshd\\[[0-9]+\\]: Failed password`]),
    rules('violations', [`${H}sudo: `, `${H}su\\[[0-9]+\\]: `, 'FAILED SMART']),
    rules('ignore', [
      `${H}sshd\\[[0-9]+\\]: (Accepted|Disconnected|Received disconnect) `,
      `${H}CRON\\[[0-9]+\\]: `,
      `${H}postfix/(smtpd|qmgr|cleanup|smtp)\\[[0-9]+\\]: `,
      `${H}sudo: pam_unix\\(sudo:session\\): session (opened|closed) for user root`,
      '^[-0-9]{10} [0-9:]{8} (Start|End) queue run: pid=[0-9]+$',
      'kernel: .*UFW BLOCK',
    ]),
  ];
  const own = sets.map((s) => compileRules(s));
  const combined = combineMatchers(own);
  assert.ok(combined, 'matchers made by compileRules combine');
  const lines = [
    ...generateLogLines(3000, { seed: 11 }),
    'Mar 13 10:02:11 web1 kernel: Oversized packet received from 203.0.113.9',
    'Mar 13 10:02:11 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id',
    '2026-03-13 10:02:11 Start queue run: pid=1234',
    'not a syslog line at all',
  ];
  const seen = [0, 0, 0];
  for (const line of lines) {
    const want = own.reduce((m, o, k) => m | (o.matchAny(line) ? 1 << k : 0), 0);
    for (let k = 0; k < 3; k++) if (want & (1 << k)) seen[k]!++;
    assert.equal(combined(line, 7), want, line);
    // Asking for fewer sets answers for those only.
    assert.equal(combined(line, 2), want & 2, line);
  }
  assert.ok(
    seen.every((n) => n > 0),
    `every set matched some line: ${seen}`,
  );
  assert.equal(combineMatchers([...own, { matchAny: () => false }]), undefined);
});
