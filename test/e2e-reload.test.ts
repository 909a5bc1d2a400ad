// SIGHUP: a valid new configuration takes effect and the bans stay; an invalid one is refused
// with its problems, and the daemon keeps running on the old one.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLab, type Lab } from '../src/daemon/lab.js';
import { LabDaemon } from '../src/daemon/lab-daemon.js';
import { nftBanned, nmap, TRAP_TCP, tcpConnect, writeConfig } from './e2e-support.js';
import { requireLab } from './lab.js';

const NEW_TRAP = 4444;

test('SIGHUP reloads a valid configuration and keeps bans; an invalid one is refused', async (t) => {
  if (!requireLab(t, ['nmap', 'nft'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-reload-'));
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  try {
    lab = createLab('e2r', { gatewayVia: 'benign' });
    const config = writeConfig(dir);
    daemon = await LabDaemon.start(lab.target, ['--config', config], join(dir, 'control.sock'));
    nmap(lab.attacker, ['-sT', '-p', TRAP_TCP.join(','), lab.targetV4]);
    await daemon.waitFor((e) => e.event === 'ban' && e.address === lab?.attackerV4);

    // A new trap port: after the reload the benign host (the gateway) touching it is seen.
    const original = readFileSync(config, 'utf8');
    writeFileSync(config, original.replace(/tcp_ports = \[([^\]]*)\]/, `tcp_ports = [$1, ${NEW_TRAP}]`));
    const mark = daemon.events.length;
    daemon.kill('SIGHUP');
    await daemon.waitFor(
      (e) => e.event === 'log' && String(e.message).startsWith('configuration reloaded'),
      10_000,
      mark,
    );
    assert.deepEqual(nftBanned(lab.target), [lab.attackerV4], 'bans survive the reload');
    assert.ok(tcpConnect(lab.benign as string, undefined, '203.0.113.2', NEW_TRAP), 'new trap port listens');
    const seen = await daemon.waitFor((e) => e.event === 'probe' && e.port === NEW_TRAP, 10_000, mark);
    assert.equal(seen.why, 'allow-listed', 'the gateway is seen, never banned');

    // An invalid configuration: refused, old one kept, daemon alive.
    writeFileSync(config, `${original}\n[detect.bogus]\nx = 1\n`);
    const mark2 = daemon.events.length;
    daemon.kill('SIGHUP');
    const refused = await daemon.waitFor(
      (e) => e.event === 'log' && String(e.message).startsWith('reload refused'),
      10_000,
      mark2,
    );
    assert.match(String(refused.message), /unknown/);
    assert.equal(((await daemon.request({ op: 'ping' })) as { pong?: boolean }).pong, true, 'still running');
    assert.deepEqual(nftBanned(lab.target), [lab.attackerV4]);
  } finally {
    if (daemon) await daemon.stop('SIGKILL');
    lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
