// Surrogate-escape decoding: every invalid byte becomes its own U+DC00+b, valid text is untouched,
// and encoding gives the original bytes back (what the report's sort compares).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeUtf8Escaped, encodeUtf8Escaped, hasEscapedByte } from './utf8-escape.js';

test('valid UTF-8 decodes as Buffer#toString does, with no escape', () => {
  const text = 'ascii é € 😀 \ufffd \uffff';
  const buf = Buffer.from(text);
  assert.equal(decodeUtf8Escaped(buf), text);
  assert.equal(hasEscapedByte(text), false);
});

test('each invalid byte is one escape, as glibc mbrtowc splits them', () => {
  const cases: Array<[number[], string]> = [
    [[0x61, 0xff, 0x62], 'a\udcffb'],
    [[0x61, 0x80], 'a\udc80'],
    [[0xc3], '\udcc3'], // a lead byte cut by the end
    [[0xe2, 0x82, 0x78], '\udce2\udc82x'], // truncated 3-byte sequence: two errors
    [[0xed, 0xa0, 0x80], '\udced\udca0\udc80'], // an encoded surrogate
    [[0xc0, 0xaf], '\udcc0\udcaf'], // overlong
    [[0xf4, 0x90, 0x80, 0x80], '\udcf4\udc90\udc80\udc80'], // above U+10FFFF
    [[0xc3, 0xa9, 0xff, 0xc3, 0xa9], 'é\udcffé'],
  ];
  for (const [bytes, want] of cases) {
    const buf = Buffer.from(bytes);
    assert.equal(decodeUtf8Escaped(buf), want, bytes.join(','));
    assert.equal(hasEscapedByte(want), true);
    assert.deepEqual([...encodeUtf8Escaped(want)], bytes, `round trip ${bytes.join(',')}`);
  }
});

test('a range inside a buffer, and a pair is never taken for an escape', () => {
  const buf = Buffer.from([0x78, 0x61, 0xff, 0x62, 0x78]);
  assert.equal(decodeUtf8Escaped(buf, 1, 4), 'a\udcffb');
  assert.equal(hasEscapedByte('\ud83d\udcff'), false); // U+1F4FF, a valid pair ending in DCFF
  assert.deepEqual(encodeUtf8Escaped('\ud83d\udcff'), Buffer.from('\u{1f4ff}'));
});
