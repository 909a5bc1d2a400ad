import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import type { ProbeEvent } from '../core/records.js';
import { startTcpTraps } from './tcp-trap.js';
import { bindAll } from './trap-bind.js';
import { startUdpTraps } from './udp-trap.js';

// Unprivileged high ports on loopback only; a per-process base keeps parallel runs apart.
const BASE = 40_000 + (process.pid % 2000) * 8;

function waitFor<T>(get: () => T | undefined, ms = 2000): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      const v = get();
      if (v !== undefined) resolve(v);
      else if (Date.now() - start > ms) reject(new Error('timed out'));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

function connectAndRead(host: string, port: number): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = '';
    socket.on('data', (d) => {
      data += d.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ data, closed: true }));
  });
}

describe('tcp traps', () => {
  const occupied = net.createServer();
  after(() => occupied.close());

  test('bind v4+v6, skip a port in use, report once, emit connect probes, banner then close', async () => {
    await new Promise<void>((r) => occupied.listen({ port: BASE, host: '127.0.0.1' }, () => r()));
    const probes: ProbeEvent[] = [];
    const traps = await startTcpTraps({
      ports: [BASE, BASE + 1, BASE + 1],
      bindAddresses: ['127.0.0.1', '::1'],
      banner: 'hello\n',
      onProbe: (e) => probes.push(e),
      now: () => 1234,
    });
    try {
      assert.deepEqual(traps.summary.bound, [BASE + 1]);
      assert.deepEqual(traps.summary.inUse, [BASE]);
      assert.deepEqual(traps.summary.failed, []);
      // The trap gave up the whole port: nothing of ours sits on [::1]:BASE.
      await assert.rejects(connectAndRead('::1', BASE), /ECONNREFUSED/);

      const v4 = await connectAndRead('127.0.0.1', BASE + 1);
      const v6 = await connectAndRead('::1', BASE + 1);
      assert.equal(v4.data, 'hello\n');
      assert.ok(v4.closed && v6.closed, 'the trap closes the connection');
      await waitFor(() => (probes.length >= 2 ? true : undefined));
      assert.deepEqual(
        probes.map((p) => [p.source, p.destination, p.port, p.protocol, p.technique, p.mode, p.sensor, p.at]),
        [
          ['127.0.0.1', '127.0.0.1', BASE + 1, 'tcp', 'connect', 'tcp', 'tcp-trap', 1234],
          ['::1', '::1', BASE + 1, 'tcp', 'connect', 'tcp', 'tcp-trap', 1234],
        ],
      );
    } finally {
      await traps.close();
    }
    await assert.rejects(connectAndRead('127.0.0.1', BASE + 1), /ECONNREFUSED/, 'close() releases the ports');
  });

  test('a connection reset before the daemon accepts it (nmap -sT) still names its source', async () => {
    const probes: ProbeEvent[] = [];
    const traps = await startTcpTraps({
      ports: [BASE + 5],
      bindAddresses: ['127.0.0.1', '::1'],
      banner: '',
      onProbe: (e) => probes.push(e),
    });
    try {
      // Another process connects and resets at once while this one is blocked (spawnSync):
      // the connections are complete and already reset when the trap gets to accept them.
      const script = `const net=require('node:net');let n=0;for(const host of ['127.0.0.1','::1']){const c=net.connect({host,port:${BASE + 5}});c.on('connect',()=>{c.resetAndDestroy();if(++n===2)setTimeout(()=>process.exit(0),50)})}`;
      assert.equal(spawnSync(process.execPath, ['-e', script], { timeout: 5000 }).status, 0);
      await waitFor(() => (probes.length >= 2 ? true : undefined));
      assert.deepEqual(probes.map((p) => p.source).sort(), ['127.0.0.1', '::1']);
      assert.equal(traps.unattributed?.(), 0);
    } finally {
      await traps.close();
    }
  });

  test('other bind errors are failures in the summary; partial binds of a skipped port are closed', async () => {
    const closed: string[] = [];
    const { summary, handles } = await bindAll([7, 8], ['0.0.0.0', '::'], async (port, address) => {
      if (port === 7 && address === '::') throw Object.assign(new Error('denied'), { code: 'EACCES' });
      return { close: async () => void closed.push(`${address}:${port}`) };
    });
    assert.deepEqual(summary.bound, [8]);
    assert.deepEqual(summary.failed, [{ port: 7, error: 'EACCES' }]);
    assert.deepEqual(closed, ['0.0.0.0:7']);
    assert.equal(handles.length, 2);
  });

  test('an address the host does not have is skipped, other addresses still bind', async () => {
    const traps = await startTcpTraps({
      ports: [BASE + 2],
      bindAddresses: ['127.0.0.1', '203.0.113.254'],
      banner: '',
      onProbe: () => {},
    });
    try {
      assert.deepEqual(traps.summary.bound, [BASE + 2]);
      assert.deepEqual(traps.summary.skippedAddresses, [
        { address: '203.0.113.254', error: 'EADDRNOTAVAIL' },
      ]);
    } finally {
      await traps.close();
    }
  });
});

describe('udp traps', () => {
  test('any datagram is a probe; a port in use is skipped; nothing is sent back', async () => {
    const occupied = dgram.createSocket('udp4');
    await new Promise<void>((r) => occupied.bind({ port: BASE + 4, address: '127.0.0.1' }, () => r()));
    const probes: ProbeEvent[] = [];
    const traps = await startUdpTraps({
      ports: [BASE + 4, BASE + 5],
      bindAddresses: ['127.0.0.1', '::1'],
      onProbe: (e) => probes.push(e),
    });
    const v4 = dgram.createSocket('udp4');
    const v6 = dgram.createSocket('udp6');
    let replies = 0;
    v4.on('message', () => replies++);
    try {
      assert.deepEqual(traps.summary.bound, [BASE + 5]);
      assert.deepEqual(traps.summary.inUse, [BASE + 4]);
      v4.send('x', BASE + 5, '127.0.0.1');
      v6.send('', BASE + 5, '::1');
      await waitFor(() => (probes.length >= 2 ? true : undefined));
      const seen = probes.map((p) => [p.source, p.destination, p.port, p.technique, p.mode, p.sensor]).sort();
      assert.deepEqual(seen, [
        ['127.0.0.1', '127.0.0.1', BASE + 5, 'udp', 'udp', 'udp-trap'],
        ['::1', '::1', BASE + 5, 'udp', 'udp', 'udp-trap'],
      ]);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(replies, 0);
    } finally {
      v4.close();
      v6.close();
      occupied.close();
      await traps.close();
    }
  });
});
