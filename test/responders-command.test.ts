import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CommandResponder, expandArgv } from '../src/responders/command.js';
import { runResponderContract } from '../src/responders/contract.cases.js';
import type { ResponderContext } from '../src/responders/contract.js';
import { makeRunner } from '../src/responders/spawn.js';

function workspace(): { dir: string; script: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rsp-cmd-'));
  const script = join(dir, 'record.sh');
  const log = join(dir, 'calls.log');
  // Appends its arguments, one call per line; fails for 192.0.2.66, hangs for 192.0.2.77.
  writeFileSync(
    script,
    `#!/bin/sh\nprintf '%s|' "$@" >> '${log}'\necho >> '${log}'\n[ "$2" = 192.0.2.66 ] && { echo 'refused by policy' >&2; exit 3; }\n[ "$2" = 192.0.2.77 ] && sleep 30\nexit 0\n`,
  );
  chmodSync(script, 0o755);
  return { dir, script, log };
}

function context(logs: string[] = []): ResponderContext {
  return { run: makeRunner([]), log: (level, m) => logs.push(`${level}: ${m}`), now: () => Date.now() };
}

runResponderContract('command', async () => {
  const ws = workspace();
  return {
    create: () =>
      new CommandResponder(context(), {
        argv: [ws.script, 'block', '$TARGET$'],
        releaseArgv: [ws.script, 'release', '$TARGET$'],
        timeoutMs: 5000,
      }),
    sabotage: () => {},
    kernelExpiry: false,
    persistent: false,
    cleanup: () => rmSync(ws.dir, { recursive: true, force: true }),
  };
});

test('command: placeholders are substituted per argument, never through a shell', async () => {
  const ws = workspace();
  try {
    const r = new CommandResponder(context(), {
      argv: [ws.script, 'block', '$TARGET$', 'port=$PORT$', '$MODE$/$PROTOCOL$', '$(touch pwned) ; `id`'],
      timeoutMs: 5000,
    });
    const results = await r.block([
      { address: '2001:DB8::7', family: 6, until: null, port: 443, protocol: 'tcp', mode: 'stcp' },
    ]);
    assert.deepEqual(results, [{ address: '2001:db8::7', ok: true }]);
    assert.equal(
      readFileSync(ws.log, 'utf8'),
      'block|2001:db8::7|port=443|stcp/tcp|$(touch pwned) ; `id`|\n',
    );
    assert.ok(!existsSync(join(process.cwd(), 'pwned')));
    assert.deepEqual(expandArgv(['$TARGET$$PORT$', 'x'], { address: '192.0.2.1', family: 4, until: null }), [
      '192.0.2.1',
      'x',
    ]);
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test('command: a non-zero exit is a failed block with the reason; the others still run', async () => {
  const ws = workspace();
  try {
    const r = new CommandResponder(context(), { argv: [ws.script, 'block', '$TARGET$'], timeoutMs: 5000 });
    const results = await r.block([
      { address: '192.0.2.66', family: 4, until: null },
      { address: '192.0.2.67', family: 4, until: null },
    ]);
    assert.equal(results[0]?.ok, false);
    assert.match(results[0]?.error ?? '', /exit status 3: refused by policy/);
    assert.equal(results[1]?.ok, true);
    assert.deepEqual(await r.list(), ['192.0.2.67']);
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test('command: a hanging command is killed at the timeout and reported as failed', async () => {
  const ws = workspace();
  try {
    const r = new CommandResponder(context(), { argv: [ws.script, 'block', '$TARGET$'], timeoutMs: 300 });
    const started = Date.now();
    const [result] = await r.block([{ address: '192.0.2.77', family: 4, until: null }]);
    assert.ok(Date.now() - started < 3000, 'did not wait for the sleep');
    assert.equal(result?.ok, false);
    assert.match(result?.error ?? '', /timed out after 300 ms/);
    assert.deepEqual(await r.list(), []);
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test('command: a missing program is a failed block, not a crash', async () => {
  const r = new CommandResponder(context(), {
    argv: ['/nonexistent/rsp-block', '$TARGET$'],
    timeoutMs: 1000,
  });
  const [result] = await r.block([{ address: '192.0.2.1', family: 4, until: null }]);
  assert.equal(result?.ok, false);
  assert.match(result?.error ?? '', /could not run/);
});
