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
