// Which sensor serves which detection mode. Classic `tcp`/`udp` are trap sockets; the packet
// modes (`stcp sudp atcp audp` live capture, `trap` the kernel tripwire) come from
// src/sensors/packet/live.ts.

import type { Config } from '../config/types.js';
import type { CidrSet } from '../core/address.js';
import { errorMessage } from '../core/errors.js';
import type { Mode, ProbeEvent } from '../core/records.js';
import { makeRunner } from '../responders/spawn.js';
import { startPacketSensor } from '../sensors/packet/live.js';
import { startTcpTraps } from '../sensors/tcp-trap.js';
import { startUdpTraps } from '../sensors/udp-trap.js';

export interface RunningSensor {
  modes: Mode[];
  /** One-line description for the log and `status` (ports listening, ports skipped). */
  summary: unknown;
  /** What the sensor saw and dropped (malformed frames, ignored packets, unattributed connections). */
  counters?(): Record<string, number>;
  close(): Promise<void> | void;
}

export interface SensorHooks {
  onProbe(event: ProbeEvent): void;
  onError(message: string): void;
  /** The never-block set; trap mode loads it into the kernel's allow set. */
  neverBlock: CidrSet;
}

/** Can this process manage nftables (nft installed, and root or CAP_NET_ADMIN)? */
async function nftUsable(): Promise<boolean> {
  const r = await makeRunner([])(['nft', 'list', 'tables'], { timeoutMs: 5000 });
  return r.code === 0;
}

export async function startSensors(
  requested: Mode[],
  config: Config,
  hooks: SensorHooks,
): Promise<RunningSensor[]> {
  let modes = requested;
  if (modes.includes('trap') && !(await nftUsable())) {
    // Trap mode is the default where nftables is available; elsewhere the classic listeners
    // still catch connect scans and UDP probes.
    hooks.onError(
      'trap mode needs nftables (nft missing or not permitted): using the classic tcp and udp traps instead',
    );
    modes = [...new Set<Mode>([...modes.filter((m) => m !== 'trap'), 'tcp', 'udp'])];
  }
  const running: RunningSensor[] = [];
  const packetModes = modes.filter((m) => m !== 'tcp' && m !== 'udp');
  try {
    if (packetModes.length > 0) {
      const sensor = await startPacketSensor({ modes: packetModes, config, ...hooks });
      running.push({
        modes: packetModes,
        summary: sensor.summary,
        counters: () => sensor.counters(),
        close: () => sensor.close(),
      });
    }
    const bindAddresses = config.detect.bindAddresses;
    if (modes.includes('tcp')) {
      const traps = await startTcpTraps({
        ports: config.detect.tcpPorts,
        bindAddresses,
        banner: config.detect.banner,
        onProbe: hooks.onProbe,
        onError: (err: unknown) => hooks.onError(`tcp trap: ${errorMessage(err)}`),
      });
      running.push({
        modes: ['tcp'],
        summary: traps.summary,
        counters: () => ({ unattributed: traps.unattributed?.() ?? 0 }),
        close: () => traps.close(),
      });
    }
    if (modes.includes('udp')) {
      const traps = await startUdpTraps({
        ports: config.detect.udpPorts,
        bindAddresses,
        onProbe: hooks.onProbe,
        onError: (err: unknown) => hooks.onError(`udp trap: ${errorMessage(err)}`),
      });
      running.push({ modes: ['udp'], summary: traps.summary, close: () => traps.close() });
    }
  } catch (err) {
    await Promise.allSettled(running.map((s) => s.close()));
    throw err;
  }
  return running;
}
