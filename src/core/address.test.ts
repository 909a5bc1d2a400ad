import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CidrSet, canonicalIp, parseCidr } from './address.js';

test('canonical forms', () => {
  const cases: [string, string | undefined][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['192.0.2.256', undefined],
    ['192.0.2.01', undefined],
    ['1.2.3', undefined],
    ['2001:db8:::1', undefined],
    ['192.0.2.1.evil.example', undefined],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIp(input), want, input);
});

test('CIDR sets match whole addresses only', () => {
  const set = new CidrSet()
    .add('192.0.2.0/24', 'doc')
    .add('2001:db8::/32', 'doc6')
    .add('198.51.100.7', 'host');
  assert.equal(set.match('192.0.2.200'), 'doc');
  assert.equal(set.match('::ffff:192.0.2.9'), 'doc');
  assert.equal(set.match('2001:db8:ffff::1'), 'doc6');
  assert.equal(set.match('198.51.100.7'), 'host');
  assert.equal(set.match('198.51.100.70'), undefined);
  assert.equal(set.match('198.51.100.77'), undefined);
  assert.equal(set.match('2001:db9::1'), undefined);
  assert.equal(parseCidr('192.0.2.1/24'), undefined, 'host bits set');
  assert.ok(parseCidr('192.0.2.1/24', true));
});

test('parser agrees with Node (net.isIP) and the WHATWG URL parser on random inputs', async () => {
  const net = await import('node:net');
  const reference = (x: string): string | undefined => {
    if (net.isIPv4(x)) return x;
    if (!net.isIPv6(x)) return undefined;
    const h = new URL(`http://[${x}]/`).hostname.slice(1, -1);
    const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
    if (!m) return h;
    const a = Number.parseInt(m[1] as string, 16);
    const b = Number.parseInt(m[2] as string, 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  };
  const pieces = [
    '0',
    '1',
    'ff',
    'FFFF',
    'abcd',
    '0000',
    '00000',
    'g',
    '',
    '::',
    ':',
    '1.2.3.4',
    '01.2.3.4',
    '256.1.1.1',
    'db8',
    '1.2.3',
  ];
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 50_000; i++) {
    let s = '';
    const k = 1 + rand(9);
    for (let j = 0; j < k; j++) s += pieces[rand(pieces.length)] + (j < k - 1 && rand(10) < 7 ? ':' : '');
    if (rand(10) < 3) s = [0, 1, 2, 3].map(() => String(rand(300))).join('.');
    assert.equal(canonicalIp(s), reference(s), JSON.stringify(s));
  }
});
