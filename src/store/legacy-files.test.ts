import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  appendBlocked,
  appendHistory,
  blockedFileFor,
  formatLegacyLine,
  isListedBlocked,
  type LegacyEntry,
  legacyLineAddress,
  removeBlocked,
} from './legacy-files.js';

const root = mkdtempSync(join(tmpdir(), 'portsentinel-legacy-'));
after(() => rmSync(root, { recursive: true, force: true }));

// fail2ban's config/filter.d/portsentry.conf: failregex = \/<HOST> Port\: [0-9]+ (TCP|UDP) Blocked$
// with <HOST> expanded as fail2ban/server/failregex.py does (ip4 | ip6 | dns), translated to JS
// (Python's (?P<name>) is JS's (?<name>)). fail2ban searches (not anchored at the start).
const IP4 = String.raw`(?:\d{1,3}\.){3}\d{1,3}`;
const IP6 = '(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)';
const HOST = String.raw`(?:\[?(?:(?:::f{4,6}:)?(?<ip4>${IP4})|(?<ip6>${IP6}))\]?|(?<dns>[\w\-.^_]*\w))`;
const FAIL2BAN_PORTSENTRY = new RegExp(String.raw`\/${HOST} Port\: [0-9]+ (TCP|UDP) Blocked$`);
// datepattern = {^LN-BEG}Epoch: the line starts with the epoch seconds.
const EPOCH_AT_START = /^(\d{10})\b/;

function fail2banHost(line: string): string | undefined {
  const m = FAIL2BAN_PORTSENTRY.exec(line);
  return m?.groups?.ip4 ?? m?.groups?.ip6 ?? m?.groups?.dns;
}

const at = new Date(2002, 10, 14, 13, 45, 32).getTime(); // local time, as PortSentry wrote it

describe('PortSentry line shape', () => {
  test('matches PortSentry 1.2 byte for byte', () => {
    const line = formatLegacyLine({
      at,
      host: 'name',
      address: '1.2.3.4',
      port: 80,
      protocol: 'tcp',
      blocked: true,
    });
    assert.equal(
      line,
      `${Math.floor(at / 1000)} - 11/14/2002 13:45:32 Host: name/1.2.3.4 Port: 80 TCP Blocked`,
    );
  });

  test("fail2ban's sample line and ours parse the same way", () => {
    // From fail2ban/tests/files/logs/portsentry.
    const sample = '1403884279 - 06/27/2014 17:51:19 Host: 192.168.56.1/192.168.56.1 Port: 1 TCP Blocked';
    assert.equal(fail2banHost(sample), '192.168.56.1');
    const ours = formatLegacyLine({
      at: 1403884279000,
      address: '192.168.56.1',
      port: 1,
      protocol: 'tcp',
      blocked: true,
    });
    assert.equal(ours.replace(/^\d+ - [\d/]+ [\d:]+/, ''), sample.replace(/^\d+ - [\d/]+ [\d:]+/, ''));
  });

  const cases: Array<{ name: string; entry: LegacyEntry; host: string | undefined }> = [
    {
      name: 'IPv4 TCP blocked',
      entry: { at, address: '192.0.2.9', port: 22, protocol: 'tcp', blocked: true },
      host: '192.0.2.9',
    },
    {
      name: 'IPv4 UDP blocked',
      entry: { at, address: '192.0.2.9', port: 53, protocol: 'udp', blocked: true },
      host: '192.0.2.9',
    },
    {
      name: 'IPv6 with a name',
      entry: {
        at,
        host: 'scanner.example',
        address: '2001:db8::5',
        port: 443,
        protocol: 'tcp',
        blocked: true,
      },
      host: '2001:db8::5',
    },
    {
      name: 'not blocked: no match',
      entry: { at, address: '192.0.2.9', port: 22, protocol: 'tcp', blocked: false },
      host: undefined,
    },
    {
      name: 'hostile reverse name is replaced by the address',
      entry: {
        at,
        host: 'x/203.0.113.1 Port: 1 TCP Blocked\nfoo',
        address: '192.0.2.9',
        port: 22,
        protocol: 'tcp',
        blocked: true,
      },
      host: '192.0.2.9',
    },
  ];
  for (const c of cases) {
    test(`fail2ban regex on our line: ${c.name}`, () => {
      const line = formatLegacyLine(c.entry);
      assert.ok(!line.includes('\n'));
      assert.equal(fail2banHost(line), c.host, line);
      assert.equal(EPOCH_AT_START.exec(line)?.[1], String(Math.floor(at / 1000)));
    });
  }

  test('bad input is a clear error', () => {
    assert.throws(
      () => formatLegacyLine({ at, address: '1.2.3', port: 1, protocol: 'tcp', blocked: true }),
      /not an IP/,
    );
    assert.throws(
      () => formatLegacyLine({ at, address: '1.2.3.4', port: 70000, protocol: 'tcp', blocked: true }),
      /port/,
    );
  });
});

describe('history and blocked files', () => {
  test('blocked file name follows PortSentry (BLOCKED_FILE.mode)', () => {
    assert.equal(
      blockedFileFor('/var/lib/portsentry/portsentry.blocked', 'tcp'),
      '/var/lib/portsentry/portsentry.blocked.tcp',
    );
  });

  test('history gets every detection, the blocked file only real blocks; both 0600', () => {
    const history = join(root, 'a', 'portsentry.history');
    const blocked = join(root, 'a', 'portsentry.blocked.tcp');
    const detected: LegacyEntry = { at, address: '192.0.2.1', port: 23, protocol: 'tcp', blocked: false };
    const banned: LegacyEntry = { at, address: '192.0.2.2', port: 23, protocol: 'tcp', blocked: true };
    appendHistory(history, detected);
    appendHistory(history, banned);
    assert.equal(appendBlocked(blocked, detected), false);
    assert.equal(appendBlocked(blocked, banned), true);
    const lines = readFileSync(history, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.equal(
      lines.filter((l) => FAIL2BAN_PORTSENTRY.test(l)).length,
      1,
      'only the real block matches fail2ban',
    );
    assert.equal(readFileSync(blocked, 'utf8').trimEnd().split('\n').length, 1);
    assert.equal(statSync(history).mode & 0o777, 0o600);
    assert.equal(statSync(blocked).mode & 0o777, 0o600);
  });

  test('isListedBlocked compares whole addresses, not substrings', () => {
    const blocked = join(root, 'b', 'portsentry.blocked.tcp');
    appendBlocked(blocked, { at, address: '192.0.2.10', port: 1, protocol: 'tcp', blocked: true });
    appendBlocked(blocked, {
      at,
      host: 'h.example',
      address: '2001:db8::10',
      port: 1,
      protocol: 'tcp',
      blocked: true,
    });
    assert.equal(isListedBlocked(blocked, '192.0.2.10'), true);
    assert.equal(isListedBlocked(blocked, '192.0.2.1'), false, 'a prefix of a listed address is not listed');
    assert.equal(isListedBlocked(blocked, '2.0.2.10'), false, 'a suffix is not listed');
    assert.equal(isListedBlocked(blocked, '2001:db8::1'), false);
    assert.equal(isListedBlocked(blocked, '2001:DB8:0:0::10'), true, 'compared in canonical form');
    assert.equal(isListedBlocked(blocked, 'nonsense'), false);
    assert.equal(isListedBlocked(join(root, 'missing'), '192.0.2.10'), false);
  });

  test('a PortSentry-written file with foreign lines is read safely', () => {
    const blocked = join(root, 'c.blocked.udp');
    writeFileSync(
      blocked,
      [
        '1037281532 - 11/14/2002 13:45:32 Host: 192.0.2.100/192.0.2.100 Port: 80 TCP Blocked',
        'garbage line',
        '1037281532 - 11/14/2002 13:45:32 Host: evil/192.0.2.1000 Port: 80 TCP Blocked',
      ].join('\n'),
    );
    assert.equal(isListedBlocked(blocked, '192.0.2.100'), true);
    assert.equal(legacyLineAddress('garbage line'), undefined);
    assert.equal(isListedBlocked(blocked, '192.0.2.10'), false);
  });

  test('removeBlocked drops only that address, keeping other bytes', () => {
    const blocked = join(root, 'd.blocked.tcp');
    appendBlocked(blocked, { at, address: '192.0.2.1', port: 1, protocol: 'tcp', blocked: true });
    appendBlocked(blocked, { at, address: '192.0.2.11', port: 2, protocol: 'tcp', blocked: true });
    appendBlocked(blocked, { at, address: '192.0.2.1', port: 3, protocol: 'tcp', blocked: true });
    const before = readFileSync(blocked, 'utf8').split('\n');
    assert.equal(removeBlocked(blocked, '192.0.2.1'), 2);
    assert.equal(readFileSync(blocked, 'utf8'), `${before[1]}\n`);
    assert.equal(isListedBlocked(blocked, '192.0.2.1'), false);
    assert.equal(isListedBlocked(blocked, '192.0.2.11'), true);
    assert.equal(statSync(blocked).mode & 0o777, 0o600);
    assert.equal(removeBlocked(blocked, '192.0.2.1'), 0);
  });
});
