import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadLogfiles, parseLogfilesList } from './logfiles.js';

const root = mkdtempSync(join(tmpdir(), 'ps-sources-logfiles-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('list format: paths, the word journal, comments and blank lines', () => {
  const text =
    '# comment\n\n/var/log/syslog\r\n   \n  /var/log/auth.log  \njournal\n  # indented comment\nrel/x.log\n';
  const r = parseLogfilesList(text, 'L');
  assert.deepEqual(r.entries, [
    { kind: 'file', path: '/var/log/syslog', origin: 'L:3' },
    { kind: 'file', path: '/var/log/auth.log', origin: 'L:5' },
    { kind: 'journal', origin: 'L:6' },
    { kind: 'file', path: 'rel/x.log', origin: 'L:8' },
  ]);
  assert.deepEqual(
    r.problems.map((p) => p.code),
    ['list-relative'],
  );
});

test('list file then the directory *.logfiles in name order, duplicates once, missing list an error', async () => {
  const list = join(root, 'logcheck.logfiles');
  const dir = join(root, 'logcheck.logfiles.d');
  mkdirSync(dir);
  writeFileSync(list, '/var/log/a.log\n');
  writeFileSync(join(dir, 'b.logfiles'), '/var/log/b.log\n/var/log/a.log\n');
  writeFileSync(join(dir, 'a.logfiles'), 'journal\n');
  writeFileSync(join(dir, 'c.logfiles.disabled'), '/var/log/ignored.log\n');
  writeFileSync(join(dir, '.hidden.logfiles'), '/var/log/hidden.log\n');
  const r = await loadLogfiles({ list, dir });
  assert.deepEqual(
    r.entries.map((e) => (e.kind === 'file' ? e.path : 'journal')),
    ['/var/log/a.log', 'journal', '/var/log/b.log'],
  );
  assert.deepEqual(r.problems, []);

  const missing = await loadLogfiles({ list: join(root, 'nope'), dir: join(root, 'no-dir') });
  assert.deepEqual(missing.entries, []);
  assert.deepEqual(
    missing.problems.map((p) => p.code),
    ['list-unreadable'],
  );
});

test("Debian's installed /etc/logcheck lists are read as logcheck reads them", async (t) => {
  if (!existsSync('/etc/logcheck/logcheck.logfiles')) return t.skip('logcheck is not installed');
  const r = await loadLogfiles();
  assert.deepEqual(r.problems, []);
  const names = r.entries.map((e) => (e.kind === 'file' ? e.path : 'journal'));
  assert.ok(names.includes('/var/log/syslog') && names.includes('journal'), names.join(','));
});
