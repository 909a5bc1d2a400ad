// What an administrator's existing tools read: the daemon's syslog datagrams in PortSentry 1.2's
// shapes (so logcheck rules and fail2ban filters written for PortSentry keep matching), one
// alert per scanner burst rather than one per probe, and the PortSentry-format history file
// that fail2ban's `portsentry` filter reads. Real datagrams on a unix socket, real nmap.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLab, type Lab } from '../src/daemon/lab.js';
import { LabDaemon } from '../src/daemon/lab-daemon.js';
import { nmap, sleep, TRAP_TCP, writeConfig } from './e2e-support.js';
import { requireLab } from './lab.js';

/** A unix datagram receiver (Node has none): one line per datagram on stdout. */
const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    print(s.recv(65536).decode("utf-8", "replace").replace("\\n", " "), flush=True)
`;

/** fail2ban's filter.d/portsentry.conf failregex, with <HOST> as fail2ban expands it for an address. */
const FAIL2BAN_PORTSENTRY = /\/(?<host>[0-9a-f.:]+) Port: [0-9]+ (TCP|UDP) Blocked$/;

test('syslog lines in PortSentry shapes, one alert per burst, fail2ban-compatible history', async (t) => {
  if (!requireLab(t, ['nmap', 'nft', 'python3', 'logger'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-syslog-'));
  const socketPath = join(dir, 'log.sock');
  const receiver = spawn('python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'ignore'] });
  let received = '';
  receiver.stdout.on('data', (d) => {
    received += d.toString();
  });
  let lab: Lab | undefined;
  let daemon: LabDaemon | undefined;
  try {
    for (let i = 0; i < 100 && !received.includes('ready'); i++) await sleep(50);
    assert.ok(received.includes('ready'), 'syslog receiver started');
    lab = createLab('e2s', { gatewayVia: 'benign' });
    const history = join(dir, 'portsentry.history');
    const config = writeConfig(dir, { log: `syslog = true\nsyslog_socket = "${socketPath}"` });
    // history_file belongs in [store], which writeConfig writes itself.
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('[store]\n', `[store]\nhistory_file = "${history}"\n`),
    );
    daemon = await LabDaemon.start(lab.target, ['--config', config], join(dir, 'control.sock'));
    nmap(lab.attacker, ['-sT', '-p', TRAP_TCP.join(','), lab.targetV4]);
    await daemon.waitFor((e) => e.event === 'ban' && e.address === lab?.attackerV4);
    await sleep(1000);
    const lines = received.split('\n').filter((l) => l.includes('portsentinel['));
    const from = (re: RegExp) => lines.filter((l) => re.test(l));
    const connects = from(
      /attackalert: Connect from host: 198\.51\.100\.1\/198\.51\.100\.1 to TCP port: \d+$/,
    );
    assert.equal(connects.length, 1, `one alert for the scan, not one per port:\n${lines.join('\n')}`);
    assert.match(
      connects[0] ?? '',
      /^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ portsentinel\[\d+\]: /,
      'RFC 3164',
    );
    assert.equal(from(/attackalert: Host 198\.51\.100\.1 has been blocked via /).length, 1, lines.join('\n'));
    assert.equal(
      from(/adminalert: portsentinel \S+ is now active and listening/).length,
      1,
      lines.join('\n'),
    );

    const historyLines = readFileSync(history, 'utf8').trim().split('\n');
    const blocked = historyLines.map((l) => FAIL2BAN_PORTSENTRY.exec(l)?.groups?.host).filter(Boolean);
    assert.ok(
      blocked.includes(lab.attackerV4),
      `fail2ban's filter finds the attacker:\n${historyLines.join('\n')}`,
    );
  } finally {
    if (daemon) await daemon.stop('SIGKILL');
    receiver.kill('SIGKILL');
    lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
