import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SentinelError } from '../core/errors.js';
import { controlRequest, NoDaemonError, startControlServer } from './control.js';

describe('control socket', () => {
  test('answers requests, reports handler errors with their code, and is 0600 in a 0700 dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-ctl-'));
    const path = join(dir, 'run', 'control.sock');
    const server = await startControlServer(path, async (req) => {
      if (req.op === 'block') throw new SentinelError('E_ADDRESS', `bad ${req.address}`);
      return { op: req.op };
    });
    try {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'run')).mode & 0o777, 0o700);
      assert.deepEqual(await controlRequest(path, { op: 'status' }), { op: 'status' });
      await assert.rejects(controlRequest(path, { op: 'block', address: 'x' }), (err: unknown) => {
        assert.ok(err instanceof SentinelError);
        assert.equal(err.code, 'E_ADDRESS');
        return true;
      });
      // A second server on the same path is refused while the first one answers.
      await assert.rejects(
        startControlServer(path, async () => null),
        /another daemon/,
      );
    } finally {
      await server.close();
    }
    await assert.rejects(controlRequest(path, { op: 'ping' }), NoDaemonError);
    rmSync(dir, { recursive: true, force: true });
  });

  test('block carries `force` only when it is literally true', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-ctl-'));
    const path = join(dir, 'control.sock');
    const server = await startControlServer(path, async (req) => (req.op === 'block' ? req : null));
    try {
      const forced = await controlRequest(path, { op: 'block', address: '192.0.2.1', force: true });
      assert.deepEqual(forced, { op: 'block', address: '192.0.2.1', force: true });
      const plain = await controlRequest(path, { op: 'block', address: '192.0.2.1' });
      assert.deepEqual(plain, { op: 'block', address: '192.0.2.1' });
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rejects malformed and unknown requests without closing the connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-ctl-'));
    const path = join(dir, 'control.sock');
    const server = await startControlServer(path, async () => 'ok');
    try {
      const { createConnection } = await import('node:net');
      const replies = await new Promise<string[]>((resolve, reject) => {
        const s = createConnection(path);
        let buf = '';
        s.setEncoding('utf8');
        s.on('connect', () => s.write('not json\n{"op":"frobnicate"}\n{"op":"ping"}\n'));
        s.on('data', (c: string) => {
          buf += c;
          const lines = buf.split('\n').filter(Boolean);
          if (lines.length === 3) {
            s.end();
            resolve(lines);
          }
        });
        s.on('error', reject);
      });
      const parsed = replies.map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string } });
      assert.deepEqual(
        parsed.map((p) => p.ok),
        [false, false, true],
      );
      assert.equal(parsed[0]?.error?.code, 'E_USAGE');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
