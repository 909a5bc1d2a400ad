import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BurstSummary, Decision } from '../core/records.js';
import * as m from './messages.js';

const probe = {
  source: '203.0.113.7',
  port: 23,
  protocol: 'tcp',
  technique: 'connect',
  mode: 'tcp',
} as const;

test('PortSentry 1.2 shapes, byte for byte', () => {
  const table: [string, string][] = [
    [
      m.probeAlert(probe, 'scanner.example'),
      'attackalert: Connect from host: scanner.example/203.0.113.7 to TCP port: 23',
    ],
    [m.probeAlert(probe), 'attackalert: Connect from host: 203.0.113.7/203.0.113.7 to TCP port: 23'],
    [
      m.probeAlert({ ...probe, protocol: 'udp', technique: 'udp', mode: 'udp', port: 53 }),
      'attackalert: Connect from host: 203.0.113.7/203.0.113.7 to UDP port: 53',
    ],
    [
      m.probeAlert({ ...probe, protocol: 'udp', technique: 'udp', mode: 'sudp', port: 53 }),
      'attackalert: UDP scan from host: 203.0.113.7/203.0.113.7 to UDP port: 53',
    ],
    [
      m.probeAlert({ ...probe, technique: 'syn', mode: 'stcp' }),
      'attackalert: TCP SYN/Normal scan from host: 203.0.113.7/203.0.113.7 to TCP port: 23',
    ],
    [
      m.blockedViaWrappers('203.0.113.7', 'ALL: 203.0.113.7 : DENY'),
      'attackalert: Host 203.0.113.7 has been blocked via wrappers with string: "ALL: 203.0.113.7 : DENY"',
    ],
    [
      m.blockedViaRoute('203.0.113.7', 'ip route add blackhole 203.0.113.7'),
      'attackalert: Host 203.0.113.7 has been blocked via dropped route using command: "ip route add blackhole 203.0.113.7"',
    ],
    [
      m.externalCommandRun('203.0.113.7', '/usr/local/bin/notify 203.0.113.7 23'),
      'attackalert: External command run for host: 203.0.113.7 using command: "/usr/local/bin/notify 203.0.113.7 23"',
    ],
    [
      m.alreadyBlocked('203.0.113.7'),
      'attackalert: Host: 203.0.113.7/203.0.113.7 is already blocked Ignoring',
    ],
    [m.ignoringResponse('udp'), 'attackalert: Ignoring UDP response per configuration file setting.'],
  ];
  for (const [actual, expected] of table) assert.equal(actual, expected);
});

test('fail2ban/logcheck style regexes still match', () => {
  const line = m.probeAlert(probe, 'x.example');
  assert.match(line, /^attackalert: Connect from host: \S+\/203\.0\.113\.7 to TCP port: \d+$/);
});

test('hostile names cannot break the line', () => {
  const line = m.probeAlert(probe, 'evil\n<13>Jan  1 00:00:00 host sshd[1]: Accepted\u001b[31m');
  assert.ok(!/[\n\r\u001b]/.test(line));
  assert.equal(line.split('\n').length, 1);
  assert.ok(m.clean('a'.repeat(1000)).length <= 259);
});

test('our own lines', () => {
  const s: BurstSummary = {
    source: '203.0.113.7',
    firstAt: 0,
    lastAt: 8000,
    probes: 25,
    ports: [21, 22, 23],
    otherPortProbes: 5,
    protocols: ['tcp', 'udp'],
    techniques: ['connect', 'udp'],
    modes: ['tcp', 'udp'],
    outcome: 'blocked',
    blocked: true,
  };
  assert.equal(
    m.burstSummaryLine(s),
    'attackalert: Scan summary for host: 203.0.113.7/203.0.113.7 probes: 25 ports: 3 [21,22,23] (+5 probes to other ports) protocols: TCP,UDP techniques: connect,udp duration: 8s outcome: blocked',
  );
  const block = {
    kind: 'block',
    at: 0,
    source: '203.0.113.7',
    reason: '3 probes within 1m',
    until: 3_600_000,
    offence: 2,
    evidence: { ports: [], protocols: [], techniques: [], probes: 3, firstAt: 0, lastAt: 0 },
    trigger: {
      at: 0,
      source: '203.0.113.7',
      port: 23,
      protocol: 'tcp',
      technique: 'connect',
      mode: 'tcp',
      sensor: 't',
    },
  } satisfies Decision;
  assert.equal(
    m.banDecided(block),
    'attackalert: Host: 203.0.113.7/203.0.113.7 banned for 1h (offence 2: 3 probes within 1m)',
  );
  assert.equal(
    m.banReleased('203.0.113.7', 'ban expired'),
    'attackalert: Host 203.0.113.7 has been unblocked (ban expired)',
  );
  assert.match(
    m.adminStarted('0.1.0', ['tcp', 'udp']),
    /^adminalert: portsentinel 0\.1\.0 is now active and listening/,
  );
});
