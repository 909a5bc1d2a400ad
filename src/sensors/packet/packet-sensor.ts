// A capture sensor: frames from a live handle → decode → probe filter → ProbeEvent. Used by
// the stealth/advanced modes (a network device with a BPF filter) and by trap mode (nflog).
// Malformed frames and packets that are not probes are counted by reason, never thrown.

import type { ProbeEvent } from '../../core/records.js';
import { type DecodedPacket, decodeFrame } from './decode.js';
import { FragmentTable } from './fragments.js';
import { type LiveCapture, openLiveCapture } from './live-capture.js';
import { type ProbeScope, packetToProbe } from './probe-filter.js';

export interface CaptureSensorOptions {
  device: string;
  filter: string;
  scope: ProbeScope;
  onProbe: (event: ProbeEvent, packet: DecodedPacket) => void;
  /** Overrides the mode the scope assigns (trap mode reports mode `trap`). */
  mode?: ProbeEvent['mode'];
}

export interface CaptureSensor {
  capture: LiveCapture;
  counters(): Record<string, number>;
  close(): void;
}

export function startCaptureSensor(options: CaptureSensorOptions): CaptureSensor {
  const fragments = new FragmentTable();
  const counts: Record<string, number> = {};
  const bump = (key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const sensorName = options.device.startsWith('nflog:') ? options.device : `pcap:${options.device}`;
  const capture = openLiveCapture({
    device: options.device,
    filter: options.filter,
    onFrame: (linkType, frame, at) => {
      const decoded = decodeFrame(linkType, frame, { fragments, now: at });
      if (!decoded.ok) {
        if (decoded.reason !== 'fragment') bump(`malformed:${decoded.reason}`);
        return;
      }
      const outcome = packetToProbe(decoded.packet, at, sensorName, options.scope);
      if (outcome.kind === 'ignored') {
        bump(`ignored:${outcome.why}`);
        return;
      }
      bump('probes');
      if (options.mode) outcome.event.mode = options.mode;
      options.onProbe(outcome.event, decoded.packet);
    },
  });
  return {
    capture,
    counters: () => ({ ...counts, fragmentsEvicted: fragments.evicted }),
    close: () => capture.close(),
  };
}
