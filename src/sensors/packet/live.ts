// The packet modes as the daemon starts them:
//   trap          the kernel tripwire (trap-ruleset.ts) in portsentinel's nftables table, read
//                 back through NFLOG; the kernel already chose the packets, we classify them.
//   stcp/sudp     live capture of the configured ports (PortSentry's stealth modes);
//   atcp/audp     live capture of every port up to the limit, minus excludes and ports in use
//                 (PortSentry's advanced modes), for hosts whose firewall we must not own.
// Detection happens in the daemon's detector; this module only turns packets into ProbeEvents.

import type { Config } from '../../config/types.js';
import { type CidrSet, canonicalIp, parseCidr } from '../../core/address.js';
import { errorMessage, SentinelError } from '../../core/errors.js';
import type { Mode, ProbeEvent } from '../../core/records.js';
import { discoverHostFacts } from '../../host/facts.js';
import type { Runner } from '../../responders/contract.js';
import { NFT_SET_V4, NFT_SET_V6, nftablesBaseRuleset } from '../../responders/nftables.js';
import { makeRunner } from '../../responders/spawn.js';
import { type CaptureSensor, startCaptureSensor } from './packet-sensor.js';
import { type PortsInUse, readPortsInUse } from './ports-in-use.js';
import { captureFilter, type WatchedPorts, watchedPortsScope } from './probe-filter.js';
import { PEER_PREFIX, trapRuleset, trapTeardown } from './trap-ruleset.js';

/** How often the socket table and the host's addresses are re-read for the capture modes. */
const PORTS_REFRESH_MS = 1000;
const ADDRESSES_REFRESH_MS = 30_000;

export interface PacketSensorOptions {
  modes: Mode[];
  config: Config;
  onProbe(event: ProbeEvent): void;
  onError(message: string): void;
  /** The daemon's never-block set; trap mode loads it into the kernel's allow set. */
  neverBlock?: CidrSet;
  /** Runs nft (tests: inside a namespace). */
  run?: Runner;
}

export interface RunningPacketSensor {
  modes: Mode[];
  summary: { devices: string[]; trap?: { tcpPorts: number; udpPorts: number; nflogGroup: number } };
  counters(): Record<string, number>;
  close(): Promise<void>;
}

/** Ports 1..limit minus excludes, plus explicit extras: what trap mode and the advanced modes watch. */
export function trappedPorts(limit: number, exclude: number[], extra: number[]): number[] {
  const out = new Set<number>();
  const skip = new Set(exclude);
  for (let p = 1; p <= limit; p++) if (!skip.has(p)) out.add(p);
  for (const p of extra) if (!skip.has(p)) out.add(p);
  return [...out].sort((a, b) => a - b);
}

async function applyNft(run: Runner, script: string, what: string): Promise<void> {
  const result = await run(['nft', '-f', '-'], { input: script, timeoutMs: 15_000 });
  if (result.code !== 0) {
    throw new SentinelError(
      'E_COMMAND_FAILED',
      `${what}: nft failed: ${result.stderr.trim() || `exit ${result.code}`}`,
    );
  }
}

export async function startPacketSensor(options: PacketSensorOptions): Promise<RunningPacketSensor> {
  const { config, modes } = options;
  const detect = config.detect;
  const run = options.run ?? makeRunner([]);
  const sensors: CaptureSensor[] = [];
  const timers: NodeJS.Timeout[] = [];
  let local = new Set<string>();
  const refreshLocal = async () => {
    const facts = await discoverHostFacts();
    local = new Set(facts.ownAddresses.map((a) => canonicalIp(a) ?? a));
  };
  await refreshLocal();
  timers.push(
    setInterval(
      () => refreshLocal().catch((e) => options.onError(`host addresses: ${errorMessage(e)}`)),
      ADDRESSES_REFRESH_MS,
    ),
  );
  const isLocal = (address: string) => local.has(address);
  const summary: RunningPacketSensor['summary'] = { devices: [] };
  let trapLoaded = false;
  const table = config.respond.nftables.table;

  const close = async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sensors) s.close();
    // The tripwire goes with the daemon (a stopped service detects nothing); bans stay, with
    // their kernel timeouts.
    if (trapLoaded)
      await applyNft(run, trapTeardown(table), 'removing the trap rules').catch(() => undefined);
  };

  try {
    if (modes.includes('trap')) {
      const tcp = trappedPorts(detect.advancedTcpLimit, detect.advancedTcpExclude, detect.tcpPorts);
      const udp = trappedPorts(detect.advancedUdpLimit, detect.advancedUdpExclude, detect.udpPorts);
      const allow = (options.neverBlock?.list() ?? [])
        .map((e) => parseCidr(e.cidr, true))
        .filter((c) => c !== undefined);
      const script =
        nftablesBaseRuleset(table) +
        trapRuleset({
          table,
          nflogGroup: detect.nflogGroup,
          allow,
          tcpPorts: tcp,
          udpPorts: udp,
          provisionalBanSeconds: Math.ceil(detect.provisionalBan / 1000),
          kernelBan: {
            tcp: !config.respond.dryRun && config.respond.tcp !== 'alert',
            udp: !config.respond.dryRun && config.respond.udp !== 'alert',
          },
          evidenceRate: detect.evidenceRate,
          banSet4: NFT_SET_V4,
          banSet6: NFT_SET_V6,
        });
      // Listen before the rules exist, so the first probe they log is not lost.
      const tcpSet = new Set(tcp);
      const udpSet = new Set(udp);
      const device = `nflog:${detect.nflogGroup}`;
      sensors.push(
        startCaptureSensor({
          device,
          filter: '',
          mode: 'trap',
          scope: {
            // The input hook only sees packets delivered to this host (unicast: the rules skip
            // broadcast and multicast), so every destination is ours, even an address added
            // since the last refresh; `isSelf` still keeps the host's own packets out.
            isLocal: () => true,
            isSelf: isLocal,
            // The kernel only logs unused ports (its socket lookup decides), so no in-use check here.
            modeFor: (protocol, port) =>
              (protocol === 'tcp' ? tcpSet : udpSet).has(port) ? 'trap' : undefined,
          },
          onProbe: (event, packet) => {
            if (packet.logPrefix === PEER_PREFIX) event.peer = true;
            options.onProbe(event);
          },
        }),
      );
      await applyNft(run, script, 'loading the trap rules');
      trapLoaded = true;
      summary.devices.push(device);
      summary.trap = { tcpPorts: tcp.length, udpPorts: udp.length, nflogGroup: detect.nflogGroup };
    }

    const watched: WatchedPorts = {};
    if (modes.includes('stcp')) watched.stealthTcp = detect.tcpPorts;
    if (modes.includes('sudp')) watched.stealthUdp = detect.udpPorts;
    if (modes.includes('atcp'))
      watched.advancedTcp = { limit: detect.advancedTcpLimit, exclude: detect.advancedTcpExclude };
    if (modes.includes('audp'))
      watched.advancedUdp = { limit: detect.advancedUdpLimit, exclude: detect.advancedUdpExclude };
    if (Object.keys(watched).length > 0) {
      let inUse: PortsInUse = readPortsInUse();
      timers.push(
        setInterval(() => {
          inUse = readPortsInUse();
        }, PORTS_REFRESH_MS),
      );
      const modeFor = watchedPortsScope(watched, () => inUse);
      const filter = captureFilter(watched);
      for (const device of detect.interfaces) {
        sensors.push(
          startCaptureSensor({
            device,
            filter,
            scope: { isLocal, modeFor },
            onProbe: (e) => options.onProbe(e),
          }),
        );
        summary.devices.push(device);
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    modes,
    summary,
    counters: () => {
      const all: Record<string, number> = {};
      for (const s of sensors) for (const [k, v] of Object.entries(s.counters())) all[k] = (all[k] ?? 0) + v;
      return all;
    },
    close,
  };
}
