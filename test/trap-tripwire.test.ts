// The kernel tripwire on its own, in a network namespace: nmap from the attacker namespace
// must learn nothing (not even the real service), the scanner lands in the ban set at its
// first probe, and a benign client keeps reaching the real services, including one started
// after the rules were loaded.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { parseCidr } from '../src/core/address.js';
import { NFT_SET_V4, NFT_SET_V6, nftablesBaseRuleset } from '../src/responders/nftables.js';
import { trapRuleset } from '../src/sensors/packet/trap-ruleset.js';
import { createLab, nsExec, requireLab } from './lab.js';

const BASE = nftablesBaseRuleset('pst');

function listen(ns: string, port: number): ReturnType<typeof spawn> {
  const code = `require('net').createServer(s=>{s.end('hello\\n')}).listen(${port}, '::')`;
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: 'ignore' });
}

async function connects(ns: string, host: string, port: number): Promise<boolean> {
  const code = `const s=require('net').connect({host:'${host}',port:${port},timeout:1500});s.on('data',()=>{process.exit(0)});s.on('timeout',()=>process.exit(1));s.on('error',()=>process.exit(1))`;
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: 'ignore' });
    child.on('exit', (c) => resolve(c === 0));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('trap ruleset: nmap -sS learns no open port, scanner banned at its first probe', async (t) => {
  if (!requireLab(t, ['nmap', 'nft'])) return;
  const lab = createLab('trp', { benign: true });
  const services: ReturnType<typeof spawn>[] = [];
  try {
    const options = {
      table: 'pst',
      nflogGroup: 7,
      allow: [parseCidr('127.0.0.0/8')!, parseCidr('::1/128')!],
      tcpPorts: Array.from({ length: 1024 }, (_, i) => i + 1),
      udpPorts: Array.from({ length: 1024 }, (_, i) => i + 1),
      provisionalBanSeconds: 30,
      evidenceRate: 10,
      banSet4: NFT_SET_V4,
      banSet6: NFT_SET_V6,
    };
    nsExec(lab.target, ['nft', '-f', '-'], BASE + trapRuleset(options));
    // Re-applying (a restart or reload) works, even once the rules have made the sets dynamic.
    nsExec(lab.target, ['nft', '-f', '-'], BASE + trapRuleset(options));
    services.push(listen(lab.target, 22));
    await sleep(400);
    assert.ok(await connects(lab.benign!, lab.targetV4, 22), 'benign client reaches ssh before the scan');

    // -r: ports in order, so the first probe is a trap (nmap otherwise moves popular ports, 22
    // among them, to the front at random; a first packet that reaches a real service is answered).
    const out = nsExec(lab.attacker, [
      'nmap',
      '-n',
      '-Pn',
      '-r',
      '-sS',
      '-T4',
      '-p',
      '1-1024',
      '--max-retries',
      '0',
      '--initial-rtt-timeout',
      '50ms',
      '--max-rtt-timeout',
      '100ms',
      lab.targetV4,
    ]);
    assert.doesNotMatch(out, /\d+\/tcp\s+open/, `nmap learned an open port:\n${out}`);
    const set = nsExec(lab.target, ['nft', 'list', 'set', 'inet', 'pst', 'ban4']);
    assert.match(set, new RegExp(lab.attackerV4.replaceAll('.', '\\.')));

    // IPv6 scanner too
    const out6 = nsExec(lab.attacker, [
      'nmap',
      '-6',
      '-n',
      '-Pn',
      '-r',
      '-sS',
      '-T4',
      '-p',
      '20-30',
      '--max-retries',
      '1',
      lab.targetV6,
    ]);
    assert.doesNotMatch(out6, /\d+\/tcp\s+open/, out6);
    assert.match(nsExec(lab.target, ['nft', 'list', 'set', 'inet', 'pst', 'ban6']), /2001:db8:51::1/);

    // A service started after the rules is never trapped.
    services.push(listen(lab.target, 80));
    await sleep(400);
    assert.ok(await connects(lab.benign!, lab.targetV4, 80), 'service started later is reachable');
    assert.ok(await connects(lab.benign!, lab.targetV6, 22), 'benign over IPv6');
    // A broadcast to a trapped port (Wake-on-LAN on udp/9) is not a probe of this host.
    // (Six of them: the benign host holds sessions, so it is a peer that a burst would ban.)
    const wol = `const s=require('dgram').createSocket('udp4');s.bind(()=>{s.setBroadcast(true);let n=0;const go=()=>s.send('x',9,'203.0.113.255',()=>{if(++n<6)go();else s.close()});go()})`;
    nsExec(lab.benign!, [process.execPath, '-e', wol]);
    await sleep(200);
    assert.doesNotMatch(nsExec(lab.target, ['nft', 'list', 'set', 'inet', 'pst', 'ban4']), /203\.0\.113\.3/);
  } finally {
    for (const s of services) s.kill('SIGKILL');
    lab.close();
  }
});

test('trap ruleset: a scanner that first opens a real session is banned after a few trap hits; a stray packet is not enough', async (t) => {
  if (!requireLab(t, ['nmap', 'nft'])) return;
  const lab = createLab('trq');
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const ports = Array.from({ length: 1024 }, (_, i) => i + 1);
    nsExec(
      lab.target,
      ['nft', '-f', '-'],
      BASE +
        trapRuleset({
          table: 'pst',
          nflogGroup: 8,
          allow: [parseCidr('127.0.0.0/8')!, parseCidr('::1/128')!],
          tcpPorts: ports,
          udpPorts: ports,
          provisionalBanSeconds: 30,
          evidenceRate: 10,
          banSet4: NFT_SET_V4,
          banSet6: NFT_SET_V6,
        }),
    );
    children.push(listen(lab.target, 22), listen(lab.target, 80));
    await sleep(400);
    // The attacker holds an ordinary session to :80, which makes it a peer of the host.
    const hold = `const s=require('net').connect({host:'${lab.targetV4}',port:80});s.on('error',()=>{});setInterval(()=>{},1000)`;
    children.push(
      spawn('ip', ['netns', 'exec', lab.attacker, process.execPath, '-e', hold], { stdio: 'ignore' }),
    );
    await sleep(500);
    const banned = () =>
      nsExec(lab.target, ['nft', 'list', 'set', 'inet', 'pst', NFT_SET_V4]).includes(lab.attackerV4);
    // Two stray packets from a peer (or forged in its name): logged, dropped, nobody banned.
    nsExec(lab.attacker, [
      'nmap',
      '-n',
      '-Pn',
      '-r',
      '-sS',
      '--max-retries',
      '0',
      '-p',
      '23,24',
      lab.targetV4,
    ]);
    assert.equal(banned(), false, 'a peer is not banned on a stray packet');
    await sleep(1500); // let the per-peer meter refill
    // A scan from the peer: banned by the kernel after a small burst of trap hits; ports in
    // order, so the real services (22, 80) come after the traps that give it away.
    const out = nsExec(lab.attacker, [
      'nmap',
      '-n',
      '-Pn',
      '-r',
      '-sS',
      '-T4',
      '--max-retries',
      '0',
      '-p',
      '1-1024',
      lab.targetV4,
    ]);
    assert.ok(banned(), 'the scanning peer is banned in the kernel');
    assert.doesNotMatch(out, /\d+\/tcp\s+open/, `the scanning peer learned a port:\n${out}`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    lab.close();
  }
});
