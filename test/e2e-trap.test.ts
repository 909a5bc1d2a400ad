// Trap mode and the advanced mode end to end: the real daemon in the target namespace, nmap
// from the attacker. In trap mode the kernel tripwire must stop the scan at its first probe
// (nmap learns no open port, not even the real service), the daemon must record the scan with
// the right technique and turn the kernel's provisional ban into a full one; a forged packet
// claiming the gateway or a host with an established session must ban nobody; a service
// started after the daemon is never trapped. In advanced mode (live capture, the firewall is
// not ours to own) the same scan is detected and blocked through the responders.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addAttackerAddresses, createLab, type Lab } from '../src/daemon/lab.js';
import { LabDaemon } from '../src/daemon/lab-daemon.js';
import { cliJson, nftBanned, run, sleep, startService, tcpConnect, writeTrapConfig } from './e2e-support.js';
import { requireLab } from './lab.js';

/** An attacker-side address that holds a real session with the target while a forger uses it. */
const PEER = '198.51.100.60';

/** One SYN with a forged source address, sent by nmap from the attacker namespace. */
function forgedSyn(lab: Lab, from: string, port: number): void {
  const iface = lab.attackerIface;
  run([
    'ip',
    'netns',
    'exec',
    lab.attacker,
    'nmap',
    '-n',
    '-Pn',
    '-sS',
    '-e',
    iface,
    '-S',
    from,
    '-p',
    String(port),
    '--max-retries',
    '0',
    lab.targetV4,
  ]);
}

/** A long-lived TCP session from `source` to host:port (keeps the target's conntrack entry). */
function holdSession(ns: string, source: string, host: string, port: number): ChildProcess {
  const script = `const s=require('node:net').connect({host:${JSON.stringify(host)},port:${port},localAddress:${JSON.stringify(source)}});s.on('error',()=>process.exit(1));setInterval(()=>{},1000)`;
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: 'ignore' });
}

/** nmap -sS from namespace `ns`, ports in order (-r), no retries. */
function synScan(ns: string, args: string[]) {
  return run([
    'ip',
    'netns',
    'exec',
    ns,
    'nmap',
    '-n',
    '-Pn',
    '-r',
    '-sS',
    '-T4',
    '--max-retries',
    '0',
    ...args,
  ]);
}

function nmapOpen(out: string): string[] {
  return [...out.matchAll(/^(\d+)\/tcp\s+open\b/gm)].map((m) => m[1] as string);
}

test('trap mode: nmap learns nothing, the scanner is recorded and banned, forged packets ban nobody', async (t) => {
  if (!requireLab(t, ['nmap', 'nft'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-trap-'));
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  const services: { stop(): void }[] = [];
  const sessions: ChildProcess[] = [];
  try {
    lab = createLab('e2t', { gatewayVia: 'benign' });
    addAttackerAddresses(lab, [PEER]);
    services.push(startService(lab.target, 22));
    await sleep(300);
    const socket = join(dir, 'control.sock');
    daemon = await LabDaemon.start(
      lab.target,
      ['--config', writeTrapConfig(dir, { modes: ['trap'] })],
      socket,
    );

    // A host with an established session: a forged stray packet in its name bans nobody.
    sessions.push(holdSession(lab.attacker, PEER, lab.targetV4, 22));
    await sleep(500);
    forgedSyn(lab, PEER, 23);
    // The gateway (the benign host) likewise: the kernel's allow set lets it through untrapped.
    forgedSyn(lab, lab.gatewayV4, 24);
    await sleep(500);
    const peerProbe = await daemon.waitFor((e) => e.event === 'probe' && e.source === PEER);
    assert.equal(peerProbe.decision, 'skip', 'a session peer is only alerted on');
    assert.equal(peerProbe.why, 'alert-only');
    assert.deepEqual(nftBanned(lab.target), [], 'nobody banned by forged packets');

    // The scan: the first probe is dropped and its source banned in the kernel at once. `-r`
    // (ports in order) makes the first probe a trap: nmap otherwise moves popular ports (22
    // among them) to the front in random order, and a scanner whose very first packet reaches
    // a real service learns that one port, as any client would (bench/scanner-learns measures it).
    const scan = synScan(lab.attacker, ['-p', '1-1024', lab.targetV4]);
    assert.deepEqual(nmapOpen(scan.stdout), [], `nmap learned open ports:\n${scan.stdout}`);
    const ban = await daemon.waitFor(
      (e) => e.event === 'ban' && e.address === lab?.attackerV4 && Number(e.offence) >= 1,
    );
    assert.equal(ban.offence, 1, 'corroborated scan gets the full first-offence ban');
    const probe = await daemon.waitFor((e) => e.event === 'probe' && e.source === lab?.attackerV4);
    assert.equal(probe.technique, 'syn');
    assert.equal(probe.mode, 'trap');
    assert.ok(nftBanned(lab.target).includes(lab.attackerV4));

    // IPv6 scanner too.
    const scan6 = synScan(lab.attacker, ['-6', '-p', '1-100', lab.targetV6]);
    assert.deepEqual(nmapOpen(scan6.stdout), [], scan6.stdout);
    await daemon.waitFor((e) => e.event === 'ban' && e.address === lab?.attackerV6);

    // The store explains it.
    const explained = cliJson<{ bans: { state: string; offence: number }[] }>(lab.target, [
      'explain',
      lab.attackerV4,
      '--state',
      join(dir, 'state.db'),
    ]);
    assert.ok(
      explained.bans.some((b) => b.state === 'active' && b.offence === 1),
      JSON.stringify(explained.bans),
    );

    // The session peer, the gateway and a service started after the daemon all still work.
    services.push(startService(lab.target, 80));
    await sleep(400);
    const benign = lab.benign as string;
    assert.ok(tcpConnect(benign, undefined, lab.targetV4, 22), 'benign reaches ssh');
    assert.ok(tcpConnect(benign, undefined, lab.targetV4, 80), 'service started later is not trapped');
    assert.ok(tcpConnect(lab.attacker, PEER, lab.targetV4, 22), 'the session peer is not banned');
    assert.equal(tcpConnect(lab.attacker, lab.attackerV4, lab.targetV4, 22), false, 'the scanner is cut off');

    // Clean shutdown removes the tripwire but keeps the bans.
    assert.equal(await daemon.stop(), 0);
    daemon = undefined;
    const table = run([
      'ip',
      'netns',
      'exec',
      lab.target,
      'nft',
      'list',
      'table',
      'inet',
      'portsentinel',
    ]).stdout;
    assert.doesNotMatch(table, /trap_input/);
    assert.match(table, /198\.51\.100\.1/);
  } finally {
    for (const s of sessions) s.kill('SIGKILL');
    for (const s of services) s.stop();
    if (daemon) await daemon.stop('SIGKILL');
    lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('advanced mode (-atcp): a SYN scan seen by live capture is detected and blocked', async (t) => {
  if (!requireLab(t, ['nmap', 'nft'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-adv-'));
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  try {
    lab = createLab('e2a', { gatewayVia: 'benign' });
    const iface = lab.targetIface;
    const socket = join(dir, 'control.sock');
    daemon = await LabDaemon.start(
      lab.target,
      ['--config', writeTrapConfig(dir, { modes: ['atcp', 'audp'], interfaces: [iface] })],
      socket,
    );
    await sleep(300);
    run([
      'ip',
      'netns',
      'exec',
      lab.attacker,
      'nmap',
      '-n',
      '-Pn',
      '-sF',
      '-T4',
      '--max-retries',
      '0',
      '-p',
      '1-20',
      lab.targetV4,
    ]);
    const probe = await daemon.waitFor((e) => e.event === 'probe' && e.source === lab?.attackerV4);
    assert.equal(probe.technique, 'fin');
    assert.equal(probe.mode, 'atcp');
    const ban = await daemon.waitFor(
      (e) => e.event === 'ban' && e.address === lab?.attackerV4 && Number(e.offence) >= 1,
    );
    assert.equal(ban.offence, 1);
    assert.ok(nftBanned(lab.target).includes(lab.attackerV4));
  } finally {
    if (daemon) await daemon.stop('SIGKILL');
    lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
