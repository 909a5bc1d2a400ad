// masscan against trap mode, end to end: the real daemon in the target namespace, masscan
// (its own user-space TCP stack, 10,000 SYNs a second) from the attacker. The daemon must record
// the scan as SYN probes, ban the scanner (kernel set and store), and masscan must learn at most
// one of the three real services listening inside the trapped range (without the daemon it
// finds all three).
//
// Why "at most one": masscan sends its probes in a random order. If its very first SYN happens
// to reach a real service (3 chances in 1024), the kernel answers it as it would any client (a
// port with a listening socket is never trapped), so masscan reports that port; its next probe
// hits a trap, the source goes into the ban set in the kernel, and everything after that is
// dropped. A second open port, or one with no service behind it, means the scan got through.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLab, type Lab, linkMac } from '../src/daemon/lab.js';
import { LabDaemon } from '../src/daemon/lab-daemon.js';
import { cliJson, nftBanned, run, sleep, startService, tcpConnect, writeTrapConfig } from './e2e-support.js';
import { requireLab } from './lab.js';

/** Real services, inside the trapped range 1-1024. */
const SERVICES = [22, 80, 443];

test('masscan vs trap mode: SYN probes recorded, scanner banned, at most one real service learned', async (t) => {
  if (!requireLab(t, ['masscan', 'nft'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-msc-'));
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  const services: { stop(): void }[] = [];
  try {
    // The gateway is the benign host, so the scanner is not on the never-block list.
    lab = createLab('msc', { gatewayVia: 'benign' });
    for (const port of SERVICES) services.push(startService(lab.target, port));
    await sleep(300);
    daemon = await LabDaemon.start(
      lab.target,
      [
        '--config',
        writeTrapConfig(dir, { modes: ['trap'], nflogGroup: 33, detect: 'advanced_tcp_exclude = []' }),
      ],
      join(dir, 'control.sock'),
    );

    // Inside a namespace masscan cannot discover its adapter, address or next hop: name them.

    const routerMac = linkMac(lab.target, lab.targetIface);
    const scan = run(
      [
        'ip',
        'netns',
        'exec',
        lab.attacker,
        'masscan',
        lab.targetV4,
        '-p1-1024',
        '--rate',
        '10000',
        '--wait',
        '2',
        '--adapter',
        lab.attackerIface,
        '--adapter-ip',
        lab.attackerV4,
        '--router-mac',
        routerMac,
      ],
      undefined,
      30_000,
    );
    assert.equal(scan.code, 0, `masscan failed:\n${scan.stderr}`);
    assert.match(scan.stderr, /Scanning 1 hosts \[1024 ports\/host\]/, 'masscan ran the whole range');
    const learned = [...scan.stdout.matchAll(/Discovered open port (\d+)\/tcp/g)].map((m) => Number(m[1]));
    assert.ok(learned.length <= 1, `masscan learned ${learned.length} ports: ${learned.join(', ')}`);
    assert.ok(
      learned.every((p) => SERVICES.includes(p)),
      `masscan learned a port with no real service behind it: ${learned.join(', ')}`,
    );

    const attacker = lab.attackerV4;
    const probe = await daemon.waitFor((e) => e.event === 'probe' && e.source === attacker);
    assert.equal(probe.technique, 'syn', 'masscan sends plain SYNs');
    assert.equal(probe.mode, 'trap');
    // Evidence keeps flowing from the banned source (rate-limited), so 3 distinct ports
    // corroborate the kernel's provisional ban into the full first-offence ban.
    const ban = await daemon.waitFor(
      (e) => e.event === 'ban' && e.address === attacker && Number(e.offence) >= 1,
    );
    assert.equal(ban.offence, 1);
    assert.ok(nftBanned(lab.target).includes(attacker), 'scanner in the kernel ban set');
    const explained = cliJson<{ bans: { state: string; offence: number }[] }>(lab.target, [
      'explain',
      attacker,
      '--state',
      join(dir, 'state.db'),
    ]);
    assert.ok(
      explained.bans.some((b) => b.state === 'active' && b.offence === 1),
      JSON.stringify(explained.bans),
    );

    // The real services in the trapped range were never trapped: a benign client reaches them.
    for (const port of SERVICES) {
      assert.ok(tcpConnect(lab.benign as string, undefined, lab.targetV4, port), `benign reaches ${port}`);
    }
    assert.equal(
      tcpConnect(lab.attacker, attacker, lab.targetV4, 80),
      false,
      'the scanner is cut off from the service too',
    );
  } finally {
    for (const s of services) s.stop();
    if (daemon) await daemon.stop('SIGKILL');
    lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
