// readLogSource: the one call the engine makes per logfiles entry, with the stored position.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { drainRun, readLogSource } from '../src/logcheck/sources/index.js';

const root = mkdtempSync(join(tmpdir(), 'ps-sources-index-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('stored position in, lines and the position to store out; a bad position is a notice', async () => {
  const p = join(root, 'syslog');
  writeFileSync(p, 'a\nb\n');
  const entry = { kind: 'file' as const, path: p, origin: 'test:1' };
  const got: string[] = [];
  const o1 = await drainRun(readLogSource(entry, undefined), (b) => {
    got.push(...b);
  });
  assert.deepEqual(got, ['a', 'b']);
  assert.equal(o1.source, p);
  writeFileSync(p, 'a\nb\nc\n');
  const again: string[] = [];
  await drainRun(readLogSource(entry, o1.position), (b) => {
    again.push(...b);
  });
  assert.deepEqual(again, ['c']);
  const o3 = await drainRun(readLogSource(entry, '{"kind":"journal","cursor":"x"}'), () => {});
  assert.equal(o3.problems[0]?.code, 'cursor-invalid');
  assert.equal(JSON.parse(o3.position ?? '{}').offset, 6);
});
