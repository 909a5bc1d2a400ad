// Differential test: the real logcheck 1.4.2 and portsentinel's engine + report on the same log
// and the same rules must print the same report, byte for byte, at every report level and with
// SORTUNIQ / SUPPORT_CRACKING_IGNORE on and off. Custom rules exercise logcheck's corners; the
// Debian rules (/etc/logcheck) are compared when the ERE translator is present.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ReportLevel } from '../src/config/types.js';
import { Classifier } from '../src/logcheck/engine.js';
import { generateLogLines } from '../src/logcheck/gen-logs.js';
import { renderReport } from '../src/logcheck/report.js';
import { type CompileRules, compileEre, loadRuleDirs } from '../src/logcheck/rule-dirs.js';
import { CORNER_LINES, CUSTOM_RULES, compileSimple } from './logcheck-custom-rules.js';
import {
  prepareRealRun,
  type RealRun,
  realLogcheckMissing,
  runRealLogcheck,
  writeRuleTree,
} from './logcheck-real.js';

const LEVELS: ReportLevel[] = ['paranoid', 'server', 'workstation'];

function oursFor(
  lines: string[],
  logName: string,
  ruleDir: string,
  compile: CompileRules,
  o: { level: ReportLevel; sortUniq?: boolean; supportCrackingIgnore?: boolean },
): string {
  const loaded = loadRuleDirs(ruleDir, {
    level: o.level,
    supportCrackingIgnore: o.supportCrackingIgnore ?? false,
    compile,
  });
  const c = new Classifier(loaded.dirs, {
    sortUniq: o.sortUniq ?? false,
    supportCrackingIgnore: o.supportCrackingIgnore ?? false,
  });
  for (const l of lines) c.push(l, basename(logName));
  const r = renderReport({
    result: c.finish(),
    header: loaded.header,
    footer: loaded.footer,
    host: 'h',
    date: new Date(0),
  });
  return r?.body ?? '';
}

const missing = realLogcheckMissing();

describe('differential: custom rules vs logcheck 1.4.2', { skip: missing }, () => {
  let root: string;
  let ruleDir: string;
  let run: RealRun;
  const lines = [...CORNER_LINES, ...generateLogLines(1500, { seed: 7, sentinel: false })];
  // Reverse a chunk so the sort has work to do.
  lines.push(...[...generateLogLines(300, { seed: 8, sentinel: false })].reverse());

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'ps-lc-rules-'));
    chmodSync(root, 0o755);
    ruleDir = writeRuleTree(join(root, 'rules'), CUSTOM_RULES);
    run = prepareRealRun(`${lines.join('\n')}\n`);
  });
  after(() => {
    run?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  for (const level of LEVELS) {
    for (const sortUniq of [false, true]) {
      for (const supportCrackingIgnore of [false, true]) {
        test(`${level} SORTUNIQ=${+sortUniq} SUPPORT_CRACKING_IGNORE=${+supportCrackingIgnore}`, () => {
          const o = { level, sortUniq, supportCrackingIgnore };
          const real = runRealLogcheck(run, { ruleDir, ...o });
          assert.equal(real.status, 0, real.stderr);
          assert.ok(real.stdout.length > 0, 'logcheck reported something');
          const ours = oursFor(lines, run.logPath, ruleDir, compileSimple, o);
          assert.equal(ours, real.stdout);
        });
      }
    }
  }

  test('SUPPORT_CRACKING_IGNORE without cracking.ignore.d skips the alert pass, as logcheck does', () => {
    const dir = writeRuleTree(
      join(root, 'no-cracking-ignore'),
      Object.fromEntries(Object.entries(CUSTOM_RULES).filter(([k]) => !k.startsWith('cracking.ignore.d'))),
    );
    const o = { level: 'server' as const, supportCrackingIgnore: true };
    const real = runRealLogcheck(run, { ruleDir: dir, ...o });
    assert.equal(real.status, 0, real.stderr);
    assert.doesNotMatch(real.stdout, /Security Alerts/);
    assert.equal(oursFor(lines, run.logPath, dir, compileSimple, o), real.stdout);
  });

  test('a log where every line is ignored gives no report at all', () => {
    const quiet = [...generateLogLines(200, { seed: 9, sentinel: false })].filter((l) => / CRON\[/.test(l));
    const r2 = prepareRealRun(`${quiet.join('\n')}\n`);
    try {
      const real = runRealLogcheck(r2, { ruleDir, level: 'server' });
      assert.equal(real.status, 0, real.stderr);
      assert.equal(real.stdout, '');
      assert.equal(oursFor(quiet, r2.logPath, ruleDir, compileSimple, { level: 'server' }), '');
    } finally {
      r2.cleanup();
    }
  });
});

describe('differential: Debian logcheck-database (/etc/logcheck) vs logcheck 1.4.2', {
  skip: missing,
}, () => {
  let run: RealRun;
  // Sentinel lines included: without portsentinel's own rule they are classified as logcheck does.
  const lines = [...CORNER_LINES, ...generateLogLines(4000, { seed: 11 })];

  before(() => {
    run = prepareRealRun(`${lines.join('\n')}\n`, 'auth.log');
  });
  after(() => run?.cleanup());

  for (const level of LEVELS) {
    test(`${level}: same report with the ERE translator`, () => {
      const real = runRealLogcheck(run, { ruleDir: '/etc/logcheck', level });
      assert.equal(real.status, 0, real.stderr);
      assert.match(real.stdout, /System Events/);
      const ours = oursFor(lines, run.logPath, '/etc/logcheck', compileEre, { level });
      assert.equal(ours, real.stdout);
    });
  }

  test('a rule file grep rejects empties what it filters, as in logcheck', () => {
    const root = mkdtempSync(join(tmpdir(), 'ps-lc-broken-'));
    chmodSync(root, 0o755);
    try {
      const dir = writeRuleTree(join(root, 'rules'), {
        ...CUSTOM_RULES,
        'ignore.d.server/broken': 'valid-looking\nunclosed(group\n',
      });
      const real = runRealLogcheck(run, { ruleDir: dir, level: 'server' });
      assert.equal(real.status, 0, real.stderr);
      assert.doesNotMatch(real.stdout, /System Events/);
      assert.equal(oursFor(lines, run.logPath, dir, compileEre, { level: 'server' }), real.stdout);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
