import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildNeverBlock,
  discoverHostFacts,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  parseResolvConf,
} from './facts.js';

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t00000000\t FE6433C6\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth2\t00000000\t0A0A0A0A\t0001\t0\t0\t0\t00000000\t0\t0\t0
eth3\t0064A8C0\t0A0A0A0A\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;

const ROUTE6 = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 00000400 00000002 00000000 00000003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe80000000000000021122fffe334455 00000400 00000002 00000000 00000003     eth1
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

describe('routing table parsers', () => {
  test('IPv4 default gateways, little-endian hex', () => {
    // eth1's line has a stray space (tolerated); eth2 lacks RTF_GATEWAY; eth3 is not a default route.
    assert.deepEqual(parseProcNetRoute(ROUTE), ['192.0.2.1', '198.51.100.254']);
  });
  test('IPv6 default gateways, including link-local next hops; reject routes skipped', () => {
    assert.deepEqual(parseProcNetIpv6Route(ROUTE6), ['2001:db8::1', 'fe80::211:22ff:fe33:4455']);
  });
  test('garbage gives nothing, never a throw', () => {
    for (const junk of ['', '\n\n', 'a b c d e f g h i j k', '\u0000'.repeat(100)]) {
      assert.deepEqual(parseProcNetRoute(junk), []);
      assert.deepEqual(parseProcNetIpv6Route(junk), []);
    }
  });
  test('resolv.conf nameserver lines', () => {
    const text =
      '# comment\nsearch example.org\nnameserver 192.0.2.53\nnameserver  2001:db8::53\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:1\nnameserver 192.0.2.53\n';
    assert.deepEqual(parseResolvConf(text), ['192.0.2.53', '2001:db8::53', 'fe80::1']);
  });
});

describe('buildNeverBlock', () => {
  const facts = {
    ownAddresses: ['127.0.0.1', '192.0.2.10', '::1'],
    gateways: ['192.0.2.1', 'fe80::1'],
    resolvers: ['198.51.100.53'],
  };
  const invalid: string[] = [];
  const set = buildNeverBlock({
    ignore: ['203.0.113.0/24', '2001:db8:5::/48'],
    ignoreFileEntries: ['198.51.100.7/24', 'not-an-address'],
    facts,
    onInvalid: (e) => invalid.push(e),
  });
  const table: [string, string | undefined][] = [
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['192.0.2.10', 'own-address'],
    ['192.0.2.1', 'gateway'],
    ['fe80::1', 'gateway'],
    ['198.51.100.53', 'resolver'],
    ['203.0.113.99', 'ignore-list'],
    ['2001:db8:5::9', 'ignore-list'],
    ['198.51.100.200', 'ignore-list'],
    ['192.0.2.2', undefined],
    ['2001:db8:6::1', undefined],
  ];
  for (const [address, label] of table) {
    test(`${address} → ${label ?? 'not protected'}`, () => {
      assert.equal(set.match(address), label);
    });
  }
  test('invalid entries are reported, not thrown', () => {
    assert.deepEqual(invalid, ['not-an-address']);
  });
});

test('discoverHostFacts reads sample files and this host', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'det-facts-'));
  try {
    await writeFile(join(dir, 'route'), ROUTE);
    await writeFile(join(dir, 'resolv'), 'nameserver 192.0.2.53\n');
    const facts = await discoverHostFacts({
      route: join(dir, 'route'),
      ipv6Route: join(dir, 'missing'),
      resolvConf: join(dir, 'resolv'),
    });
    assert.deepEqual(facts.gateways, ['192.0.2.1', '198.51.100.254']);
    assert.deepEqual(facts.resolvers, ['192.0.2.53']);
    assert.ok(facts.ownAddresses.includes('127.0.0.1'), 'loopback interface address is own');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
