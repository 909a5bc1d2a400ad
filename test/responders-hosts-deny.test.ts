import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runResponderContract } from '../src/responders/contract.cases.js';
import { HOSTS_DENY_BEGIN, HostsDenyResponder, parseHostsDeny } from '../src/responders/hosts-deny.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rsp-hd-'));
}

const ban = (address: string) => ({ address, family: (address.includes(':') ? 6 : 4) as 4 | 6, until: null });

runResponderContract('hosts-deny', async () => {
  const dir = tempDir();
  const path = join(dir, 'hosts.deny');
  writeFileSync(path, '# site rules\nsshd: 10.0.0.0/8\n');
  return {
    create: () => new HostsDenyResponder({ path }),
    sabotage: () => writeFileSync(path, '# site rules\nsshd: 10.0.0.0/8\n'),
    kernelExpiry: false,
    persistent: true,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});

const ORIGINALS: [string, string][] = [
  ['empty file', ''],
  ['ordinary file', '# /etc/hosts.deny\nALL: 198.51.100.0/24\n'],
  ['no final newline', 'ALL: 198.51.100.7\nsshd: .example.org'],
  ['CRLF and blank lines', 'ALL: 10.0.0.1\r\n\r\n\n# comment with ALL: 192.0.2.1\n\n'],
  ['odd bytes', 'in.telnetd: ALL   \t\nportmap: [2001:db8::/32] : spawn (/bin/echo %a) \\\n  & \n'],
];

for (const [label, original] of ORIGINALS) {
  test(`hosts.deny: every byte outside our block survives block and release (${label})`, async () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'hosts.deny');
      writeFileSync(path, original);
      chmodSync(path, 0o640);
      const r = new HostsDenyResponder({ path });
      await r.init();
      await r.block([ban('192.0.2.5'), ban('2001:db8::5')]);
      const during = readFileSync(path, 'utf8');
      assert.ok(during.startsWith(original), 'original bytes kept in front');
      assert.match(during, /^ALL: 192\.0\.2\.5$/m);
      assert.match(during, /^ALL: \[2001:db8::5\]$/m);
      assert.equal(statSync(path).mode & 0o777, 0o640, 'mode kept');
      // User edits the file around our block while we hold bans: kept too.
      writeFileSync(path, `${during}sshd: 203.0.113.9\n`);
      await r.release(['192.0.2.5']);
      await r.release(['2001:db8::5']);
      assert.equal(
        readFileSync(path, 'utf8'),
        `${original}${original === '' || original.endsWith('\n') ? '' : '\n'}sshd: 203.0.113.9\n`,
      );
      await r.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('hosts.deny: block then release restores a file without final newline byte for byte', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'hosts.deny');
    const original = 'ALL: 198.51.100.7\nsshd: .example.org';
    writeFileSync(path, original);
    const r = new HostsDenyResponder({ path, line: 'ALL: $TARGET$ : DENY' });
    await r.block([ban('192.0.2.6')]);
    assert.match(readFileSync(path, 'utf8'), /^ALL: 192\.0\.2\.6 : DENY$/m);
    assert.deepEqual(await r.list(), ['192.0.2.6']);
    await r.release(['192.0.2.6']);
    assert.deepEqual(readFileSync(path), Buffer.from(original));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hosts.deny: a block in the middle of the file stays in place; a symlink stays a link', async () => {
  const dir = tempDir();
  try {
    const real = join(dir, 'real.deny');
    const link = join(dir, 'hosts.deny');
    writeFileSync(real, `a: 1\n${HOSTS_DENY_BEGIN}\nALL: 192.0.2.1\n# END portsentinel\nb: 2\n`);
    symlinkSync(real, link);
    const r = new HostsDenyResponder({ path: link });
    await r.block([ban('192.0.2.2')]);
    assert.equal(
      readFileSync(real, 'utf8'),
      `a: 1\n${HOSTS_DENY_BEGIN}\nALL: 192.0.2.1\nALL: 192.0.2.2\n# END portsentinel\nb: 2\n`,
    );
    assert.ok(statSync(link).isFile() && readFileSync(link, 'utf8').includes('192.0.2.2'));
    await r.reconcile([]);
    assert.equal(readFileSync(real, 'utf8'), 'a: 1\nb: 2\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hosts.deny: parse ignores look-alike lines outside the markers', () => {
  const p = parseHostsDeny('ALL: 192.0.2.1\n# END portsentinel\n');
  assert.deepEqual(p.lines, []);
  assert.equal(p.before, 'ALL: 192.0.2.1\n# END portsentinel\n');
});

test('hosts.deny: a missing directory makes init unsupported', async () => {
  const r = new HostsDenyResponder({ path: '/nonexistent-rsp-dir/hosts.deny' });
  await assert.rejects(r.init(), { code: 'E_UNSUPPORTED' });
  assert.throws(() => new HostsDenyResponder({ path: '/tmp/x', line: 'ALL: nothing' }), { code: 'E_CONFIG' });
});
