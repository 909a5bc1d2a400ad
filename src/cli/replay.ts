// `portsentinel replay FILE`: a pcap/pcapng capture through the daemon's own decode → detector
// pipeline, on the packets' timestamps, enforcing nothing. Deterministic: the never-block set is
// loopback plus the configured ignore list (not this machine's addresses, which have nothing to
// do with the capture), and ports in use are learnt from the capture itself.

import { CidrSet, canonicalIp } from '../core/address.js';
import { detectorOptionsFromConfig } from '../detector/options.js';
import { LOOPBACK } from '../host/facts.js';
import { formatReplayRecord, replayCapture } from '../sensors/packet/replay.js';
import { EXIT_OK, type Parsed, positionals, UsageError } from './args.js';
import { commandConfig, type Io, wantsJson } from './context.js';

export async function runReplay(p: Parsed, io: Io): Promise<number> {
  const [file] = positionals(p, ['file']);
  const config = commandConfig(p);
  const localValues = p.values.local;
  const local = (Array.isArray(localValues) ? localValues : []).flatMap((v) => String(v).split(','));
  const localAddresses = local.map((text) => {
    const a = canonicalIp(text.trim());
    if (!a) throw new UsageError(`--local: not an IP address: "${text}"`);
    return a;
  });
  const neverBlock = new CidrSet();
  for (const cidr of LOOPBACK) neverBlock.add(cidr, 'loopback');
  for (const cidr of config.respond.ignore) neverBlock.add(cidr, 'ignore-list');
  const { dryRun: _dryRun, ...detector } = detectorOptionsFromConfig(config, neverBlock);
  const d = config.detect;
  const result = replayCapture(file as string, {
    detector,
    watched: {
      stealthTcp: d.tcpPorts,
      stealthUdp: d.udpPorts,
      advancedTcp: { limit: d.advancedTcpLimit, exclude: d.advancedTcpExclude },
      advancedUdp: { limit: d.advancedUdpLimit, exclude: d.advancedUdpExclude },
    },
    localAddresses,
  });
  if (wantsJson(p)) {
    for (const record of result.records) io.out(JSON.stringify(record));
    const { records: _records, ...totals } = result;
    io.out(JSON.stringify({ type: 'totals', ...totals }));
    return EXIT_OK;
  }
  for (const record of result.records) {
    const line = formatReplayRecord(record);
    if (line) io.out(line);
  }
  const malformed = Object.values(result.malformed).reduce((a, b) => a + (b ?? 0), 0);
  io.out(
    `${result.packets} packets, ${result.probes} probes, ${malformed} malformed` +
      (result.truncatedRecords ? `, ${result.truncatedRecords} truncated record(s)` : '') +
      (result.portsInUse.tcp.length
        ? `; ports answering (treated as in use): ${result.portsInUse.tcp.join(',')}`
        : ''),
  );
  return EXIT_OK;
}
