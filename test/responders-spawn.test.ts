import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { describeArgv, makeRunner, type RunRecord } from '../src/responders/spawn.js';

test('runner: argv only, output captured, each run reported', async () => {
  const seen: RunRecord[] = [];
  const run = makeRunner([], { onRun: (r) => seen.push(r) });
  const r = await run(['sh', '-c', 'cat; echo err >&2; exit 4', 'x'], { input: 'hello; $(id)' });
  assert.deepEqual(r, { code: 4, stdout: 'hello; $(id)', stderr: 'err\n', timedOut: false });
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0]?.argv, ['sh', '-c', 'cat; echo err >&2; exit 4', 'x']);
  const echo = await run(['echo', '$HOME', '`id`']);
  assert.equal(echo.stdout, '$HOME `id`\n', 'no shell expands anything');
});

test('runner: the prefix goes in front of every argv', async () => {
  const run = makeRunner(['env', 'RSP_MARK=1']);
  const r = await run(['sh', '-c', 'echo $RSP_MARK']);
  assert.equal(r.stdout, '1\n');
});

test('runner: a timeout kills the whole process group', async () => {
  const run = makeRunner([]);
  const started = Date.now();
  // The grandchild would keep stdout open for 30 s if only the shell were killed.
  const r = await run(['sh', '-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
  assert.ok(Date.now() - started < 5000);
  assert.equal(r.timedOut, true);
  assert.equal(r.code, null);
  const grandchild = Number(r.stdout.trim());
  assert.ok(grandchild > 0);
  await new Promise((resolve) => setTimeout(resolve, 100));
  // Gone, or a zombie waiting for a reaper (PID 1 in some containers never reaps).
  const state = spawnSync('ps', ['-o', 'stat=', '-p', String(grandchild)], {
    encoding: 'utf8',
  }).stdout.trim();
  assert.ok(state === '' || state.startsWith('Z'), `grandchild not running (state "${state}")`);
});

test('runner: a missing program resolves with code null and the reason', async () => {
  const r = await makeRunner([])(['/nonexistent/rsp-program']);
  assert.equal(r.code, null);
  assert.match(r.stderr, /ENOENT/);
  assert.equal(describeArgv(['nft', '-f', '-', 'a b']), 'nft -f - "a b"');
});
