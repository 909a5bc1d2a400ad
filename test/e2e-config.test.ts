// Every kind of bad configuration is refused by the real binary with its own error (key path and
// stable code) and exit status 78, before anything is opened or bound; an unknown mode is named.
// Runs bin/portsentinel as an operator would (no namespace needed:
// nothing starts).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN_PATH } from '../src/daemon/lab-daemon.js';
import { run } from './e2e-support.js';

const CASES: { name: string; text: string; expect: RegExp }[] = [
  { name: 'unknown key', text: '[detect]\nfrobnicate = 1\n', expect: /detect\.frobnicate.*\[unknown-key\]/ },
  {
    name: 'wrong type',
    text: '[detect]\nthreshold = "three"\n',
    expect: /detect\.threshold.*\[wrong-type\]/,
  },
  { name: 'impossible port', text: '[detect]\ntcp_ports = [1, 65536]\n', expect: /detect\.tcp_ports.*65536/ },
  {
    name: 'bad CIDR',
    text: '[respond]\nignore = ["192.0.2.0/33"]\n',
    expect: /respond\.ignore.*192\.0\.2\.0\/33/,
  },
  { name: 'TOML syntax', text: '[detect\nthreshold = 1\n', expect: /:\d+: / },
  {
    name: 'portsentry.conf with a bad value',
    text: 'TCP_PORTS="1,11,99999"\nBLOCK_TCP="7"\n',
    expect: /(TCP_PORTS|BLOCK_TCP)/,
  },
];

test('each kind of bad config gives its error and exit 78 (run and check-config)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-'));
  try {
    for (const c of CASES) {
      const file = join(dir, `${c.name.replace(/\W+/g, '-')}.conf`);
      writeFileSync(file, c.text);
      const checked = run([BIN_PATH, 'check-config', '--config', file]);
      assert.equal(checked.code, 78, `${c.name}: check-config exit (${checked.stderr})`);
      assert.match(checked.stderr, c.expect, c.name);
      const started = run([
        BIN_PATH,
        'run',
        '--config',
        file,
        '--state',
        join(dir, 'state.db'),
        '--socket',
        join(dir, 'c.sock'),
      ]);
      assert.equal(started.code, 78, `${c.name}: run exit (${started.stderr})`);
      // The daemon prints the same problem lines check-config printed.
      for (const line of checked.stderr.trim().split('\n'))
        assert.ok(started.stderr.includes(line), `${c.name}: ${line}`);
    }
    const missing = run([BIN_PATH, 'run', '--config', join(dir, 'nope.toml')]);
    assert.equal(missing.code, 78);
    assert.match(missing.stderr, /cannot read config file/);
    t.diagnostic(`${CASES.length + 1} bad configurations refused`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown mode is a config error naming it; bad flags are usage errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-'));
  try {
    const file = join(dir, 'ok.toml');
    // dry-run backend: this test must never touch the host's firewall.
    writeFileSync(
      file,
      '[respond]\nbackends = ["dry-run"]\n[log]\nsyslog = false\n[detect]\nmodes = ["tcp", "xtcp"]\n',
    );
    const common = ['--config', file, '--state', join(dir, 'state.db'), '--socket', join(dir, 'c.sock')];
    const r = run([BIN_PATH, 'run', ...common], undefined, 5000);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /detect\.modes.*xtcp/);
    const bad = run([BIN_PATH, 'run', '-xtcp', ...common]);
    assert.equal(bad.code, 64);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    t.diagnostic(bad.stderr.trim().split('\n')[0] ?? '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
