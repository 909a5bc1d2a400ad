// Ban lifecycle end to end, in namespaces: short bans expire (kernel element and store agree)
// and grow for a repeat offender; `kill -9` of the daemon in the middle of a scan, then a
// restart, converges: no lost ban, no duplicate element, no orphan. The attacker namespace is
// the target's gateway here, so the scanners use extra addresses on the attacker's link.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addAttackerAddresses, createLab, type Lab } from '../src/daemon/lab.js';
import { LabDaemon } from '../src/daemon/lab-daemon.js';
import { Store } from '../src/store/store.js';
import { nftBanned, run, sleep, TRAP_TCP, tcpConnect, writeConfig } from './e2e-support.js';
import { requireLab } from './lab.js';

test('bans expire and grow for a repeat offender; the gateway is never banned', async (t) => {
  if (!requireLab(t, ['nft'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-'));
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  try {
    lab = createLab('e2e');
    const scanner = '198.51.100.60';
    addAttackerAddresses(lab, [scanner]);
    const config = writeConfig(dir, {
      respond:
        'backends = ["nftables"]\nban_duration = "2s"\nban_growth = 2\nban_max = "1h"\noffence_memory = "1h"',
    });
    daemon = await LabDaemon.start(lab.target, ['--config', config], join(dir, 'control.sock'));
    // The attacker namespace is the target's default gateway: probes from it are never banned.
    assert.ok(tcpConnect(lab.attacker, lab.gatewayV4, lab.targetV4, TRAP_TCP[0] as number));
    const gw = await daemon.waitFor((e) => e.event === 'probe' && e.source === lab?.gatewayV4);
    assert.equal(gw.why, 'allow-listed');

    tcpConnect(lab.attacker, scanner, lab.targetV4, TRAP_TCP[1] as number);
    const first = await daemon.waitFor((e) => e.event === 'ban' && e.address === scanner);
    assert.equal(first.offence, 1);
    assert.deepEqual(nftBanned(lab.target), [scanner]);
    await daemon.waitFor((e) => e.event === 'release' && e.address === scanner, 6000);
    assert.deepEqual(nftBanned(lab.target), [], 'element gone after expiry');
    const from = daemon.events.length;
    tcpConnect(lab.attacker, scanner, lab.targetV4, TRAP_TCP[2] as number);
    const second = await daemon.waitFor((e) => e.event === 'ban' && e.address === scanner, 10_000, from);
    assert.equal(second.offence, 2);
    const length = (second.until as number) - Date.now();
    assert.ok(length > 2500 && length <= 4000, `second ban lasts ~4 s, got ${length} ms`);
    await daemon.stop();
    daemon = undefined;
    const store = Store.open(join(dir, 'state.db'), { readonly: true });
    try {
      const bans = store.bans({ address: scanner });
      assert.equal(bans.length, 2);
      assert.ok(bans.some((b) => b.state === 'expired'));
    } finally {
      store.close();
    }
  } finally {
    await daemon?.stop();
    lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 mid-scan, then restart: no lost ban, no duplicate, no orphan', async (t) => {
  if (!requireLab(t, ['nft'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-'));
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  try {
    lab = createLab('e2e');
    const scanners = Array.from({ length: 12 }, (_, i) => `198.51.100.${70 + i}`);
    addAttackerAddresses(lab, scanners);
    const config = writeConfig(dir, { respond: 'backends = ["nftables"]\nban_duration = "1h"' });
    const socket = join(dir, 'control.sock');
    daemon = await LabDaemon.start(lab.target, ['--config', config], socket);
    // Scans from every scanner address, one every 40 ms; the daemon is killed while they run.
    const script = `const net=require('node:net');const src=${JSON.stringify(scanners)};const ports=${JSON.stringify(TRAP_TCP)};
src.forEach((a,i)=>setTimeout(()=>{for(const p of ports){const s=net.connect({host:'${lab.targetV4}',port:p,localAddress:a});
s.setTimeout(500,()=>s.destroy());s.on('connect',()=>s.destroy());s.on('error',()=>{});}},i*40));setTimeout(()=>process.exit(0),src.length*40+1500);`;
    const scan = spawn('ip', ['netns', 'exec', lab.attacker, process.execPath, '-e', script], {
      stdio: 'ignore',
    });
    const scanDone = new Promise((r) => scan.once('exit', r));
    await daemon.waitFor((e) => e.event === 'ban', 20_000);
    await sleep(60);
    await daemon.stop('SIGKILL');
    await scanDone;
    daemon = undefined;
    // A crash right after the store write and before the firewall: a ban the kernel lacks; and an
    // orphan element nobody owns.
    const store = Store.open(join(dir, 'state.db'));
    const lost = '192.0.2.201';
    store.insertBan({
      address: lost,
      family: 4,
      createdAt: Date.now(),
      until: Date.now() + 3_600_000,
      origin: 'detector',
      reason: 'crash window',
      offence: 1,
      evidence: null,
    });
    store.close();
    run([
      'ip',
      'netns',
      'exec',
      lab.target,
      'nft',
      'add',
      'element',
      'inet',
      'portsentinel',
      'ban4',
      '{ 192.0.2.202 }',
    ]);

    daemon = await LabDaemon.start(lab.target, ['--config', config], socket);
    const check = Store.open(join(dir, 'state.db'), { readonly: true });
    let active: string[];
    try {
      active = check.activeBans().map((b) => b.address);
    } finally {
      check.close();
    }
    const inKernel = nftBanned(lab.target);
    assert.ok(active.includes(lost), 'the crash-window ban is in the store');
    assert.deepEqual(
      inKernel,
      [...active].sort(),
      'kernel holds exactly the active bans (no orphan, none lost)',
    );
    assert.equal(new Set(inKernel).size, inKernel.length, 'no duplicates');
    assert.ok(!inKernel.includes('192.0.2.202'), 'orphan removed');
    assert.ok(active.length >= 2, `some scanners were banned before the kill (${active.join(' ')})`);
  } finally {
    await daemon?.stop();
    lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
