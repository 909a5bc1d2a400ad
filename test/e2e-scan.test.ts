// nmap against classic mode, end to end: the real daemon in a target namespace with every
// blocking backend at once (nftables, blackhole routes, hosts.deny in a temp file, a command),
// scanned from an attacker namespace over IPv4 and IPv6. Also: the gateway and an ignore-listed
// address are never banned, a real service stays reachable for a benign client only, the CLI
// talks to the running daemon, and bans survive a restart.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addAttackerAddresses, createLab, type Lab } from '../src/daemon/lab.js';
import { LabDaemon } from '../src/daemon/lab-daemon.js';
import {
  blackholes,
  cliJson,
  nftBanned,
  nmap,
  SERVICE_PORT,
  sleep,
  startService,
  TRAP_TCP,
  TRAP_UDP,
  tcpConnect,
  writeConfig,
} from './e2e-support.js';
import { requireLab } from './lab.js';

const IGNORED = '198.51.100.50';

test('nmap -sT/-sU over IPv4 and IPv6: detected, blocked by every backend, gateway and ignore list spared', async (t) => {
  if (!requireLab(t, ['nmap', 'nft'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-'));
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  let service: { stop(): void } | undefined;
  try {
    lab = createLab('e2e', { gatewayVia: 'benign' });
    addAttackerAddresses(lab, [IGNORED]);
    const hostsDeny = join(dir, 'hosts.deny');
    writeFileSync(hostsDeny, '# site rules\nALL: 192.0.2.66\n');
    const config = writeConfig(dir, {
      respond: `backends = ["nftables", "route", "hosts-deny"]
ban_duration = "1h"
ignore = ["${IGNORED}/32"]
command = ["touch", "${dir}/cmd-$TARGET$-$PORT$-$MODE$"]
[respond.hosts_deny]
path = "${hostsDeny}"
service = "ALL"`,
    });
    service = startService(lab.target, SERVICE_PORT);
    await sleep(300);
    const socket = join(dir, 'control.sock');
    daemon = await LabDaemon.start(lab.target, ['--config', config], socket);
    const target = lab.target;
    const benign = lab.benign as string;
    assert.ok(
      tcpConnect(lab.attacker, lab.attackerV4, lab.targetV4, SERVICE_PORT),
      'attacker reaches the service before',
    );

    // UDP first: a datagram does not prove its source, so it is detected but (by default) not banned.
    nmap(lab.attacker, ['-sU', '-p', TRAP_UDP.join(','), lab.targetV4]);
    nmap(lab.attacker, ['-6', '-sU', '-p', TRAP_UDP.join(','), lab.targetV6]);
    await daemon.waitFor((e) => e.event === 'probe' && e.protocol === 'udp' && e.source === lab?.attackerV4);
    await daemon.waitFor((e) => e.event === 'probe' && e.protocol === 'udp' && e.source === lab?.attackerV6);
    assert.deepEqual(nftBanned(target), [], 'UDP alone bans nobody');

    // TCP connect scans: banned in every backend. nmap -sT resets each connection right after
    // the handshake, before the daemon accepts it; the source is still known (native/peername.c).
    nmap(lab.attacker, ['-sT', '-p', TRAP_TCP.join(','), lab.targetV4]);
    const ban4 = await daemon.waitFor((e) => e.event === 'ban' && e.address === lab?.attackerV4);
    nmap(lab.attacker, ['-6', '-sT', '-p', TRAP_TCP.join(','), lab.targetV6]);
    const ban6 = await daemon.waitFor((e) => e.event === 'ban' && e.address === lab?.attackerV6);
    for (const ban of [ban4, ban6]) {
      const outcomes = ban.backends as { backend: string; ok: boolean; error?: string }[];
      assert.deepEqual(outcomes.map((o) => `${o.backend}:${o.ok ? 'ok' : o.error}`).sort(), [
        'command:ok',
        'hosts-deny:ok',
        'nftables:ok',
        'route:ok',
      ]);
    }
    assert.deepEqual(nftBanned(target), [lab.attackerV4, lab.attackerV6].sort(), 'set elements');
    const routes = blackholes(target);
    assert.match(routes, /blackhole 198\.51\.100\.1\b/);
    assert.match(routes, /blackhole 2001:db8:51::1\b/);
    const deny = readFileSync(hostsDeny, 'utf8');
    assert.ok(deny.startsWith('# site rules\nALL: 192.0.2.66\n'), 'other lines untouched');
    assert.match(deny, /198\.51\.100\.1\b/);
    assert.match(deny, /2001:db8:51::1/);
    const ran = readdirSync(dir).filter((f) => f.startsWith('cmd-'));
    assert.ok(
      ran.some((f) => f.startsWith(`cmd-${lab?.attackerV4}-`) && f.endsWith('-tcp')),
      ran.join(' '),
    );
    assert.ok(
      ran.some((f) => f.startsWith(`cmd-${lab?.attackerV6}-`)),
      ran.join(' '),
    );

    // The real service: the attacker is cut off, the benign client (also the gateway) is not.
    assert.equal(
      tcpConnect(lab.attacker, lab.attackerV4, lab.targetV4, SERVICE_PORT),
      false,
      'attacker blocked',
    );
    assert.ok(tcpConnect(benign, undefined, '203.0.113.2', SERVICE_PORT), 'benign client still served');

    // The gateway and an ignore-listed address touch traps: detected, never banned.
    assert.ok(tcpConnect(benign, undefined, '203.0.113.2', TRAP_TCP[0] as number));
    assert.ok(tcpConnect(lab.attacker, IGNORED, lab.targetV4, TRAP_TCP[1] as number));
    const gw = await daemon.waitFor((e) => e.event === 'probe' && e.source === lab?.gatewayV4);
    const ig = await daemon.waitFor((e) => e.event === 'probe' && e.source === IGNORED);
    assert.equal(gw.why, 'allow-listed');
    assert.match(String(gw.detail), /gateway/);
    assert.equal(ig.why, 'allow-listed');
    assert.match(String(ig.detail), /ignore/);
    assert.ok(!nftBanned(target).includes(lab.gatewayV4));
    assert.ok(!nftBanned(target).includes(IGNORED));

    // The CLI against the running daemon.
    const common = ['--config', config, '--socket', socket];
    const status = cliJson<{ daemon: { pid: number }; activeBans: number }>(target, ['status', ...common]);
    assert.equal(status.daemon.pid, daemon.child.pid);
    assert.equal(status.activeBans, 2);
    const why = cliJson<{ decisions: { kind: string }[]; bans: unknown[] }>(target, [
      'explain',
      lab.attackerV4,
      ...common,
    ]);
    assert.ok(why.decisions.some((d) => d.kind === 'block'));
    assert.equal(why.bans.length, 1);
    assert.ok(cliJson<unknown[]>(target, ['history', '--limit', '5', ...common]).length > 0);
    const manual = cliJson<{ via: string }>(target, ['block', '192.0.2.77', '--for', '10m', ...common]);
    assert.equal(manual.via, 'daemon');
    assert.ok(nftBanned(target).includes('192.0.2.77'));
    const lifted = cliJson<{ via: string; released: boolean }>(target, ['unblock', '192.0.2.77', ...common]);
    assert.deepEqual([lifted.via, lifted.released], ['daemon', true]);
    assert.ok(!nftBanned(target).includes('192.0.2.77'));

    // SIGTERM: clean exit, bans stay in the kernel; a restart keeps them (store and set agree).
    assert.equal(await daemon.stop('SIGTERM'), 0);
    assert.equal(existsSync(socket), false, 'socket removed');
    assert.deepEqual(nftBanned(target), [lab.attackerV4, lab.attackerV6].sort());
    daemon = await LabDaemon.start(target, ['--config', config], socket);
    assert.deepEqual(nftBanned(target), [lab.attackerV4, lab.attackerV6].sort());
    const after = cliJson<{ activeBans: number }>(target, ['status', ...common]);
    assert.equal(after.activeBans, 2);
  } catch (err) {
    // What the daemon said, to see which step failed.
    for (const e of daemon?.events.slice(-15) ?? []) t.diagnostic(JSON.stringify(e).slice(0, 400));
    t.diagnostic(`daemon stderr: ${daemon?.stderr ?? ''}`);
    throw err;
  } finally {
    service?.stop();
    await daemon?.stop('SIGTERM');
    lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
