import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReverseDns, sanitizeHostname } from './dns.js';

describe('sanitizeHostname', () => {
  const table: [string, string | undefined][] = [
    ['scanner.example.org.', 'scanner.example.org'],
    ['host-1.example', 'host-1.example'],
    [
      'evil.example\nDec 1 00:00:00 host sshd[1]: Accepted password',
      'evil.exampleDec1000000hostsshd1Acceptedpassword',
    ],
    ['\u001b[31mred\u001b[0m.example', '31mred0m.example'],
    ['$(rm -rf /).example', 'rm-rf.example'],
    ['`reboot`;x.example|sh', 'rebootx.examplesh'],
    ['"quoted" <tag>', 'quotedtag'],
    ['192.0.2.1', undefined],
    ['192.0.2.1.', undefined],
    ['2001:db8::1', '2001db81'],
    ['', undefined],
    ['\u0000\u0001\u0002', undefined],
    ['-option.example', undefined],
    ['..', undefined],
  ];
  for (const [raw, expected] of table) {
    test(JSON.stringify(raw).slice(0, 60), () => assert.equal(sanitizeHostname(raw), expected));
  }
  test('a 1 KB name is capped at 253 characters', () => {
    const name = sanitizeHostname(`${'a'.repeat(1024)}.example`);
    assert.equal(name?.length, 253);
  });
  test('whatever comes in, only [A-Za-z0-9.-] comes out', () => {
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      let s = '';
      for (let j = 0; j < 40; j++)
        s += String.fromCharCode((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 0x3000);
      const out = sanitizeHostname(s);
      if (out !== undefined) assert.match(out, /^[A-Za-z0-9.-]{1,253}$/);
    }
  });
});

describe('ReverseDns', () => {
  test('caches answers (negative ones too) and sanitises them', async () => {
    let calls = 0;
    const dns = new ReverseDns({
      timeoutMs: 200,
      resolver: {
        reverse: async (ip) => {
          calls++;
          if (ip === '203.0.113.9') throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
          return ['bad\nname.example.'];
        },
      },
    });
    assert.equal(await dns.lookup('203.0.113.7'), 'badname.example');
    assert.equal(await dns.lookup('203.0.113.7'), 'badname.example');
    assert.equal(await dns.lookup('203.0.113.9'), undefined);
    assert.equal(await dns.lookup('203.0.113.9'), undefined);
    assert.equal(calls, 2);
    assert.equal(dns.peek('203.0.113.7'), 'badname.example');
    assert.equal(dns.counters.failures, 1);
  });
  test('a slow resolver times out; concurrent lookups share one query', async () => {
    let calls = 0;
    const dns = new ReverseDns({
      timeoutMs: 50,
      resolver: {
        reverse: () => {
          calls++;
          return new Promise<string[]>(() => {});
        },
      },
    });
    const start = Date.now();
    const [a, b] = await Promise.all([dns.lookup('198.51.100.1'), dns.lookup('198.51.100.1')]);
    assert.equal(a, undefined);
    assert.equal(b, undefined);
    assert.ok(Date.now() - start < 1000);
    assert.equal(calls, 1);
    assert.equal(dns.counters.timeouts, 1);
  });
  test('the cache is bounded and expires', async () => {
    let t = 0;
    const dns = new ReverseDns({
      timeoutMs: 50,
      cacheSize: 2,
      ttlMs: 100,
      now: () => t,
      resolver: { reverse: async (ip) => [`h${ip.split('.')[3]}.example`] },
    });
    await dns.lookup('192.0.2.1');
    await dns.lookup('192.0.2.2');
    await dns.lookup('192.0.2.3');
    assert.equal(dns.peek('192.0.2.1'), undefined, 'evicted');
    assert.equal(dns.peek('192.0.2.3'), 'h3.example');
    t = 500;
    assert.equal(dns.peek('192.0.2.3'), undefined, 'expired');
  });
});
