// `portsentinel replay` as an operator runs it: the real binary on a capture, the same output
// every time, a clear error for a file that is not a capture.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN_PATH } from '../src/daemon/lab-daemon.js';
import { PcapWriter } from '../src/sensors/packet/capture-file.js';
import { ethernetFrame, ipPacket } from '../src/sensors/packet/craft.js';
import { LinkType } from '../src/sensors/packet/decode.js';

const dir = mkdtempSync(join(tmpdir(), 'ps-replay-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(BIN_PATH, ['replay', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('replay prints the decisions of a capture, identically each time', () => {
  const file = join(dir, 'scan.pcap');
  const w = new PcapWriter(file, LinkType.ETHERNET);
  const t0 = Date.UTC(2026, 0, 1);
  [21, 23, 25, 110, 143].forEach((port, i) => {
    w.write(
      t0 + i,
      ethernetFrame(
        ipPacket({ src: '203.0.113.9', dst: '198.51.100.2', protocol: 'tcp', dstPort: port, flags: 0x01 }),
      ),
    );
  });
  w.close();
  const config = join(dir, 'p.toml');
  writeFileSync(config, '[log]\nsyslog = false\n');
  const a = cli([file, '--config', config, '--local', '198.51.100.2']);
  const b = cli([file, '--config', config, '--local', '198.51.100.2']);
  assert.equal(a.code, 0, a.err);
  assert.equal(a.out, b.out);
  assert.match(a.out, /block 203\.0\.113\.9 .*provisional/);
  assert.match(a.out, /block 203\.0\.113\.9 .*offence 1\).*corroborated by 3 ports/);
  assert.match(a.out, /5 packets, 5 probes, 0 malformed/);
  const json = cli([file, '--config', config, '--json'])
    .out.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(json.filter((r) => r.type === 'probe' && r.event.technique === 'fin').length, 5);
  assert.equal(json.at(-1).type, 'totals');

  const notCapture = join(dir, 'x.txt');
  writeFileSync(notCapture, 'hello world\n');
  const bad = cli([notCapture, '--config', config]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /not a pcap or pcapng file/);
  assert.doesNotMatch(bad.err, /\n\s+at /);
  assert.equal(cli([file, '--local', 'nonsense', '--config', config]).code, 64);
});
