import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ethernetFrame, ipPacket } from './craft.js';
import { decodeFrame, LinkType } from './decode.js';
import { parseProcNet } from './ports-in-use.js';
import { packetToProbe, watchedPortsScope } from './probe-filter.js';

const PROC_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1081 1 0 100 0 0 10 0
   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1082 1 0 100 0 0 10 0
   2: 0200A8C0:0016 0300A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 1083 1 0 100 0 0 10 0
garbage line`;

test('parseProcNet keeps the ports of the sockets in the given states', () => {
  assert.deepEqual(parseProcNet(PROC_TCP, '0A'), [22, 3306]);
  assert.deepEqual(parseProcNet(PROC_TCP, ['01', '0A']), [22, 3306]);
  assert.deepEqual(parseProcNet(PROC_TCP, ['01']), [22]);
  assert.deepEqual(parseProcNet('', '0A'), []);
});

test('packetToProbe: destination must be ours, port watched and not in use', () => {
  const inUse = { tcp: new Set([22]), udp: new Set<number>() };
  const modeFor = watchedPortsScope(
    { advancedTcp: { limit: 1024, exclude: [113] }, stealthTcp: [31337] },
    () => inUse,
  );
  const local = new Set(['198.51.100.2', '2001:db8:51::2']);
  const scope = { isLocal: (a: string) => local.has(a), modeFor };
  const probe = (dst: string, dstPort: number, flags = 0x02) => {
    const r = decodeFrame(
      LinkType.ETHERNET,
      ethernetFrame(
        ipPacket({
          src: dst.includes(':') ? '2001:db8:51::1' : '198.51.100.1',
          dst,
          protocol: 'tcp',
          dstPort,
          flags,
        }),
      ),
    );
    assert.ok(r.ok);
    return packetToProbe(r.packet, 1000, 'pcap:test', scope);
  };
  const hit = probe('198.51.100.2', 80);
  assert.equal(hit.kind, 'probe');
  assert.ok(
    hit.kind === 'probe' &&
      hit.event.mode === 'atcp' &&
      hit.event.technique === 'syn' &&
      hit.event.at === 1000,
  );
  assert.deepEqual(probe('198.51.100.9', 80), { kind: 'ignored', why: 'not-for-us' });
  assert.deepEqual(probe('198.51.100.2', 22), { kind: 'ignored', why: 'port-not-watched' });
  assert.deepEqual(probe('198.51.100.2', 113), { kind: 'ignored', why: 'port-not-watched' });
  assert.deepEqual(probe('198.51.100.2', 80, 0x14), { kind: 'ignored', why: 'not-a-probe' });
  const stealth = probe('2001:db8:51::2', 31337, 0x29);
  assert.ok(stealth.kind === 'probe' && stealth.event.mode === 'stcp' && stealth.event.technique === 'xmas');
  // a segment of some session (PSH|ACK) is not a probe in the capture modes; a pure ACK is (nmap -sA)
  assert.deepEqual(probe('198.51.100.2', 81, 0x18), { kind: 'ignored', why: 'not-a-probe' });
  const ack = probe('198.51.100.2', 81, 0x10);
  assert.ok(ack.kind === 'probe' && ack.event.technique === 'ack');
  // a service started later leaves the trap at once
  inUse.tcp.add(80);
  assert.deepEqual(probe('198.51.100.2', 80), { kind: 'ignored', why: 'port-not-watched' });
});
