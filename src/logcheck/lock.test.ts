// The run lock: never empty, never taken from a live owner (another process or this one), stale
// locks taken over by exactly one racer.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SentinelError } from '../core/errors.js';
import { acquireRunLock, EMPTY_LOCK_GRACE_MS } from './lock.js';

const dir = mkdtempSync(join(tmpdir(), 'ps-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `lock-${++n}`);
const isLocked = (err: unknown): boolean => err instanceof SentinelError && err.code === 'E_LOCKED';

/** A PID that ran and exited (reaped), so nothing runs under it now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

describe('acquireRunLock', () => {
  test('holds our PID; a second acquire in the same process is E_LOCKED; release frees it', () => {
    const path = fresh();
    const lock = acquireRunLock(path);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    assert.throws(() => acquireRunLock(path), isLocked);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, 'the held lock is untouched');
    lock.release();
    assert.equal(existsSync(path), false);
    acquireRunLock(path).release();
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('lock-1.')),
      [],
      'no temp file left',
    );
  });

  test('a live owner keeps it', async () => {
    const path = fresh();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(path, `${child.pid}\n`);
      assert.throws(() => acquireRunLock(path), isLocked);
      assert.equal(readFileSync(path, 'utf8'), `${child.pid}\n`);
    } finally {
      child.kill();
    }
  });

  test('a dead owner (or a leftover lock naming our own PID) is taken over', () => {
    for (const stale of [deadPid(), process.pid]) {
      const path = fresh();
      writeFileSync(path, `${stale}\n`);
      const lock = acquireRunLock(path);
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
      lock.release();
    }
  });

  test('an empty lock is held while young, stale when old', () => {
    const path = fresh();
    writeFileSync(path, '');
    assert.throws(() => acquireRunLock(path), isLocked);
    assert.equal(existsSync(path), true, 'a young empty lock is not removed');
    const old = (Date.now() - EMPTY_LOCK_GRACE_MS - 60_000) / 1000;
    utimesSync(path, old, old);
    const lock = acquireRunLock(path);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    lock.release();
  });

  test('racers for a stale lock: exactly one wins, while it holds the lock', async () => {
    const path = fresh();
    writeFileSync(path, `${deadPid()}\n`);
    const lockModule = join(fileURLToPath(new URL('.', import.meta.url)), 'lock.js');
    // The winner holds the lock until killed, so a slow starter cannot find it released.
    const script = `
      import { acquireRunLock } from ${JSON.stringify(lockModule)};
      try { acquireRunLock(${JSON.stringify(path)}); process.stdout.write('won'); setInterval(() => {}, 1000); }
      catch (e) { process.stdout.write(e.code ?? 'error'); }`;
    const children = Array.from({ length: 5 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const racers = children.map(
      (c) =>
        new Promise<string>((resolve) => {
          c.stdout.once('data', (b: Buffer) => resolve(b.toString()));
          c.on('close', () => resolve('exited silently'));
        }),
    );
    let results: string[];
    try {
      results = await Promise.all(racers);
    } finally {
      for (const c of children) c.kill();
    }
    assert.equal(results.filter((r) => r === 'won').length, 1, results.join(','));
    assert.equal(results.filter((r) => r === 'E_LOCKED').length, 4, results.join(','));
  });
});
