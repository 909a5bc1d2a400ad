// Which sensor serves which detection mode. Classic `tcp`/`udp` are trap sockets; the packet
// modes (`stcp sudp atcp audp trap`) come from src/sensors/packet/ when that module provides a
// live sensor, and are a clear error naming the mode until then.

import type { Config } from '../config/types.js';
import { errorMessage, SentinelError } from '../core/errors.js';
import type { Mode, ProbeEvent } from '../core/records.js';
import { startTcpTraps } from '../sensors/tcp-trap.js';
import { startUdpTraps } from '../sensors/udp-trap.js';

export interface RunningSensor {
  modes: Mode[];
  /** One-line description for the log and `status` (ports listening, ports skipped). */
  summary: unknown;
  close(): Promise<void> | void;
}

export interface SensorHooks {
  onProbe(event: ProbeEvent): void;
  onError(message: string): void;
}

/** The optional packet-sensor module's entry point (issue 3); looked up at run time. */
type PacketSensorStarter = (
  options: { modes: Mode[]; config: Config } & SensorHooks,
) => Promise<RunningSensor>;

async function loadPacketSensor(): Promise<PacketSensorStarter | undefined> {
  const candidates = ['../sensors/packet/live.js', '../sensors/packet/sensor.js'];
  for (const path of candidates) {
    try {
      const mod = (await import(path)) as { startPacketSensor?: PacketSensorStarter };
      if (typeof mod.startPacketSensor === 'function') return mod.startPacketSensor;
    } catch {
      // not there (yet)
    }
  }
  return undefined;
}

export async function startSensors(
  modes: Mode[],
  config: Config,
  hooks: SensorHooks,
): Promise<RunningSensor[]> {
  const running: RunningSensor[] = [];
  const packetModes = modes.filter((m) => m !== 'tcp' && m !== 'udp');
  try {
    if (packetModes.length > 0) {
      const start = await loadPacketSensor();
      if (!start) {
        throw new SentinelError(
          'E_UNSUPPORTED',
          `mode${packetModes.length > 1 ? 's' : ''} ${packetModes.join(', ')} not implemented in this version (available: tcp, udp)`,
        );
      }
      running.push(await start({ modes: packetModes, config, ...hooks }));
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
      running.push({ modes: ['tcp'], summary: traps.summary, close: () => traps.close() });
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
