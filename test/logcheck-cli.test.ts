// `portsentinel logcheck` with logcheck's flags: -o prints, -t commits nothing, a second run
// reports only new lines, the lock refuses a concurrent run, logcheck.conf is read and never
// executed; `portsentinel test-rules` names the rule that took each line.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type LogcheckCliDeps, runLogcheckCli, runTestRulesCli } from '../src/logcheck/cli.js';
import { CUSTOM_RULES, compileSimple } from './logcheck-custom-rules.js';
import { writeRuleTree } from './logcheck-real.js';

function capture(): { deps: LogcheckCliDeps; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
  });
  return {
    deps: {
      compile: compileSimple,
      host: 'web01',
      out: stream,
      err: (t) => {
        err += `${t}\n`;
      },
      defaultLogcheckConf: '/nonexistent/logcheck.conf',
    },
    out: () => out,
    err: () => err,
  };
}

describe('portsentinel logcheck CLI', () => {
  let dir: string;
  let rules: string;
  let log: string;
  let conf: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ps-lc-cli-'));
    rules = writeRuleTree(join(dir, 'rules'), CUSTOM_RULES);
    log = join(dir, 'syslog');
    writeFileSync(
      log,
      [
        'Jun  4 03:00:00 web01 app[1]: an unknown line',
        'Jun  4 03:00:01 web01 CRON[5]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)',
        'Jun  4 03:00:02 web01 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh',
        '',
      ].join('\n'),
    );
    conf = join(dir, 'logcheck.conf');
    writeFileSync(
      conf,
      [
        '# a logcheck.conf as Debian ships it, plus traps',
        'REPORTLEVEL="server"',
        'SENDMAILTO="root@example.org"',
        "ATTACKSUBJECT='Alarm'",
        `EVENTSSUBJECT="Things $(touch ${join(dir, 'pwned')})"`,
        `SECURITYSUBJECT=\`touch ${join(dir, 'pwned2')}\``,
        'TMP="/tmp"',
        'SITE_VARIABLE=1',
        'ADDTAG=yes',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('-o -t prints the report and creates no state', async () => {
    const c = capture();
    const state = join(dir, 'state-t');
    const code = await runLogcheckCli(
      ['-o', '-t', '-d', '-l', log, '-r', rules, '-S', state, '-c', conf],
      c.deps,
    );
    assert.equal(code, 0, c.err());
    assert.match(c.out(), /^`touch \S+pwned2` for sudo\n(=-)+=\n.*COMMAND=\/bin\/sh\n\n/);
    assert.match(c.out(), /Things \$\(touch .*pwned\)\n/, 'subject text taken literally');
    assert.doesNotMatch(c.out(), /CRON/);
    assert.equal(existsSync(join(state, 'state.db')), false, '-t creates no store');
    assert.equal(existsSync(join(dir, 'pwned')), false, '$(...) never executed');
    assert.equal(existsSync(join(dir, 'pwned2')), false, 'backticks never executed');
    assert.match(c.err(), /SITE_VARIABLE.*ignored/);
    assert.match(c.err(), /TMP is a logcheck setting portsentinel does not need/);
  });

  test('without -t the cursor is committed: the next run reports only new lines; -t then leaves it', async () => {
    const state = join(dir, 'state');
    const base = ['-o', '-l', log, '-r', rules, '-S', state, '-p'];
    const first = capture();
    assert.equal(await runLogcheckCli(base, first.deps), 0, first.err());
    assert.match(first.out(), /an unknown line/);
    const second = capture();
    assert.equal(await runLogcheckCli(base, second.deps), 0, second.err());
    assert.equal(second.out(), '', 'nothing new');
    appendFileSync(log, 'Jun  4 03:00:09 web01 app[1]: a new line\n');
    const test1 = capture();
    assert.equal(await runLogcheckCli([...base, '-t'], test1.deps), 0, test1.err());
    assert.match(test1.out(), /a new line/);
    assert.doesNotMatch(test1.out(), /an unknown line/);
    const third = capture();
    assert.equal(await runLogcheckCli(base, third.deps), 0, third.err());
    assert.match(third.out(), /a new line/, '-t did not move the cursor');
  });

  test('a live lock refuses the run with E_LOCKED; a stale one is taken over', async () => {
    const state = join(dir, 'state-lock');
    mkdirSync(state, { recursive: true });
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(join(state, 'logcheck.lock'), `${sleeper.pid}\n`);
      const c = capture();
      assert.equal(await runLogcheckCli(['-o', '-l', log, '-r', rules, '-S', state], c.deps), 1);
      assert.match(c.err(), /E_LOCKED/);
    } finally {
      sleeper.kill();
    }
    await new Promise((r) => sleeper.once('exit', r));
    const c2 = capture();
    assert.equal(await runLogcheckCli(['-o', '-l', log, '-r', rules, '-S', state], c2.deps), 0, c2.err());
    assert.equal(existsSync(join(state, 'logcheck.lock')), false, 'lock released');
  });

  test('-L reads a logcheck.logfiles list; a missing log is an error line in the report', async () => {
    const list = join(dir, 'logcheck.logfiles');
    writeFileSync(list, `# list\n${log}\n${join(dir, 'gone.log')}\n`);
    const c = capture();
    assert.equal(
      await runLogcheckCli(
        ['-o', '-t', '-L', list, '-D', join(dir, 'no.d'), '-r', rules, '-S', join(dir, 'st-L')],
        c.deps,
      ),
      0,
      c.err(),
    );
    assert.match(c.out(), /^\nE: File could not be read: .*gone\.log\n\n/);
    assert.match(c.out(), /an unknown line/);
  });

  test('usage errors and a missing -l file', async () => {
    const c = capture();
    assert.equal(await runLogcheckCli(['-x'], c.deps), 64);
    const h = capture();
    assert.equal(await runLogcheckCli(['-h'], h.deps), 0);
    assert.match(h.out(), /-S DIR/);
    const m = capture();
    assert.equal(
      await runLogcheckCli(
        ['-o', '-t', '-l', join(dir, 'nope'), '-r', rules, '-S', join(dir, 'st-n')],
        m.deps,
      ),
      1,
    );
    assert.match(m.err(), /does not exist or could not be read/);
  });

  test('test-rules names the rule that took each line', async () => {
    const c = capture();
    assert.equal(
      await runTestRulesCli([log, '--rules', rules, '--level', 'server', '--json'], c.deps),
      0,
      c.err(),
    );
    const r = JSON.parse(c.out()) as {
      lines: { line: string; sections: string[]; rules: string[] }[];
      unmatched: string[];
      counts: { rule: string; lines: number }[];
    };
    const cron = r.lines.find((l) => l.line.includes('CRON'))!;
    assert.deepEqual(cron.sections, []);
    assert.deepEqual(cron.rules, ['ignore.d.paranoid/cron:1']);
    const sudo = r.lines.find((l) => l.line.includes('COMMAND=/bin/sh'))!;
    assert.deepEqual(sudo.sections, ['Security Events for sudo']);
    assert.deepEqual(sudo.rules, ['violations.d/sudo:1']);
    assert.ok(r.unmatched.some((l) => l.includes('an unknown line')));
    assert.ok(r.counts.some((x) => x.rule === 'violations.d/sudo:1' && x.lines === 1));
    const t = capture();
    assert.equal(await runTestRulesCli([log, '--rules', rules], t.deps), 0);
    assert.match(t.out(), /matched ignore\.d\.paranoid\/cron:1/);
    assert.match(t.out(), /Lines no rule matched:\n {2}Jun {2}4 03:00:00 web01 app\[1\]: an unknown line/);
  });
});
