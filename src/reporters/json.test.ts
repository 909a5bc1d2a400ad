import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { JsonLines } from './json.js';

test('one parseable object per line, hostile text stays inside its string', () => {
  const out = new PassThrough();
  const json = new JsonLines({ out, now: () => 0 });
  const event = {
    at: 5,
    source: '203.0.113.7',
    port: 23,
    protocol: 'tcp',
    technique: 'connect',
    mode: 'tcp',
    sensor: 't',
  } as const;
  json.write({ type: 'probe', event });
  json.write({
    type: 'apply',
    action: 'block',
    address: '203.0.113.7',
    backend: 'command',
    ok: false,
    error: 'exit 1\n\u001b[31mfake',
  });
  const lines = out.read().toString().split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  const first = JSON.parse(lines[0] as string);
  assert.deepEqual(first, { time: '1970-01-01T00:00:00.000Z', type: 'probe', event });
  assert.ok(!/[\u0000-\u001f]/.test(lines[1] as string));
  assert.equal(JSON.parse(lines[1] as string).error, 'exit 1\n\u001b[31mfake');
});

test('a stalled consumer makes lines drop, counted, never buffered without bound', () => {
  const stalled = new Writable({ highWaterMark: 16, write: () => {} });
  const json = new JsonLines({ out: stalled, maxBufferedBytes: 1000 });
  for (let i = 0; i < 100; i++) json.write({ type: 'admin', message: 'x'.repeat(100) });
  const s = json.stats();
  assert.ok(s.dropped > 80, `dropped ${s.dropped}`);
  assert.equal(s.written + s.dropped, 100);
});
