// safeLines is only a faster path: it must print exactly what safeLine prints line by line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeLine, safeLines } from './safe-text.js';

const perLine = (lines: string[], max?: number): string => lines.map((l) => `${safeLine(l, max)}\n`).join('');

test('safeLines = safeLine on each line, clean or hostile', () => {
  const cases: string[][] = [
    [],
    [''],
    ['Mar 13 10:02:11 web1 sshd[1]: Accepted publickey for alice', 'second line', ''],
    ['ok', 'bell \u0007 here', 'ok'],
    ['an embedded\nnewline', 'ok'],
    ['ansi \u001b[31mred\u001b[0m'],
    ['lone high \ud800 surrogate', 'pair \ud83d\ude00 fine'],
    ['ends with high \ud83d', '\ude00 starts with low'],
    ['bidi \u202e override', 'tab\tkept'],
    ['x'.repeat(40), 'short'],
  ];
  for (const lines of cases) assert.equal(safeLines(lines), perLine(lines), JSON.stringify(lines));
  // A line over the limit is cut (the slow path), the others unchanged.
  const long = ['y'.repeat(50), 'fine'];
  assert.equal(safeLines(long, 20), perLine(long, 20));
  assert.match(safeLines(long, 20), /\[\.\.\. 30 more characters cut by portsentinel\]\nfine\n$/);
});
