import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from './defaults.js';
import { applyLogcheckConf, parseLogcheckConf } from './logcheck-conf.js';

test('logcheck.conf is read as KEY=value, quotes undone, expansions kept literal', () => {
  const { values, problems } = parseLogcheckConf(
    [
      '# comment',
      'REPORTLEVEL="workstation"',
      "SENDMAILTO='admin@example.org, ops@example.org'",
      'MAILASATTACH=2',
      'FQDN=0   # short names',
      'SORTUNIQ=1',
      'SUPPORT_CRACKING_IGNORE=1',
      'ADDTAG="yes"',
      'INTRO=no',
      'export ATTACKSUBJECT="Alarm \\"now\\""',
      'SECURITYSUBJECT=$(rm -rf /)',
      'EVENTSSUBJECT=Events',
      'TMP=/tmp',
      'LOCALTHING=x',
      'echo hi',
    ].join('\n'),
  );
  assert.deepEqual(values, {
    reportLevel: 'workstation',
    sendMailTo: ['admin@example.org', 'ops@example.org'],
    attach: 'gzip',
    fqdn: false,
    sortUniq: true,
    supportCrackingIgnore: true,
    addTag: true,
    intro: false,
    attackSubject: 'Alarm "now"',
    securitySubject: '$(rm -rf /)',
    eventsSubject: 'Events',
  });
  const codes = problems.map((p) => `${p.line}:${p.code}:${p.severity ?? 'error'}`);
  assert.deepEqual(codes, [
    '11:literal-expansion:warning',
    '13:ignored-variable:warning',
    '14:ignored-variable:warning',
    '15:not-an-assignment:warning',
  ]);
  const cfg = applyLogcheckConf(defaultConfig().logcheck, values);
  assert.equal(cfg.reportLevel, 'workstation');
  assert.equal(cfg.mail.attach, 'gzip');
  assert.deepEqual(cfg.mail.to, ['admin@example.org', 'ops@example.org']);
});

test('bad values are errors with their line', () => {
  const { problems } = parseLogcheckConf('REPORTLEVEL=loud\nSORTUNIQ=maybe\nINTRO="unterminated\n');
  assert.deepEqual(
    problems.map((p) => [p.line, p.path, p.code, p.severity]),
    [
      [1, 'REPORTLEVEL', 'bad-value', undefined],
      [2, 'SORTUNIQ', 'bad-value', undefined],
      [3, 'INTRO', 'bad-value', undefined],
    ],
  );
});
