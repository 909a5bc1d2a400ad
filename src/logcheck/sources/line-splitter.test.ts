// The splitter checks each chunk for ASCII once and says so on the batch; lines and bounds must be the
// same whichever decoding path a chunk took.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from './line-splitter.js';
import { emptyStats, isAsciiBatch } from './types.js';

test('an all-ASCII batch is marked; one non-ASCII byte (even in the held fragment) unmarks it', () => {
  const stats = emptyStats();
  const s = new LineSplitter(1024, stats);
  const a = s.push(Buffer.from('one\ntwo\nthr'));
  assert.deepEqual(a, ['one', 'two']);
  assert.equal(isAsciiBatch(a), true);
  const b = s.push(Buffer.from('ee\nfour\n'));
  assert.deepEqual(b, ['three', 'four']);
  assert.equal(isAsciiBatch(b), true);
  const c = s.push(Buffer.from('caf\u00e9\nok\n'));
  assert.deepEqual(c, ['caf\u00e9', 'ok']);
  assert.equal(isAsciiBatch(c), false);
  s.push(Buffer.from('\u00e9t'));
  const d = s.push(Buffer.from('\u00e9\nplain\n'));
  assert.deepEqual(d, ['\u00e9t\u00e9', 'plain']);
  assert.equal(isAsciiBatch(d), false);
  assert.equal(isAsciiBatch(['not', 'from', 'a', 'source']), false);
  assert.equal(stats.lines, 8);
});

test('ASCII and UTF-8 chunks cut over-long lines at the same bound and count them', () => {
  for (const fill of ['x', '\u00e9']) {
    const stats = emptyStats();
    const s = new LineSplitter(10, stats);
    const long = fill.repeat(12);
    const out = s.push(Buffer.from(`short\n${long}\nend\n`));
    const cut = Buffer.from(long)
      .subarray(0, 10)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
    assert.deepEqual(out, ['short', cut, 'end']);
    assert.equal(stats.truncatedLines, 1);
    assert.equal(stats.lines, 3);
  }
});

test('invalid UTF-8: each bad byte escaped (never U+FFFD), line kept and counted, in every path', () => {
  const stats = emptyStats();
  const s = new LineSplitter(1024, stats);
  // Complete lines of a chunk, then a held fragment finished by the next chunk.
  const a = s.push(Buffer.from([0x61, 0xff, 0x62, 0x0a, 0x6f, 0x6b, 0x0a, 0x63, 0x80]));
  assert.deepEqual(a, ['a\udcffb', 'ok']);
  const b = s.push(Buffer.from([0x64, 0x0a]));
  assert.deepEqual(b, ['c\udc80d']);
  // A genuine U+FFFD stays U+FFFD and is not counted as invalid.
  assert.deepEqual(s.push(Buffer.from('x\ufffdy\n')), ['x\ufffdy']);
  assert.equal(stats.replacedLines, 2);
  assert.equal(stats.lines, 4);
});

test('invalid UTF-8 in a line cut at the bound keeps its escapes and the byte bound', () => {
  const stats = emptyStats();
  const s = new LineSplitter(8, stats);
  const line = Buffer.from([0xff, 0x61, 0x62, 0xc3, 0xa9, 0x63, 0x64, 0xfe, 0x65, 0x66, 0x0a]);
  const [out] = s.push(line);
  assert.equal(out, '\udcffab\u00e9cd\udcfe');
  assert.equal(stats.truncatedLines, 1);
});
