// Live capture through libpcap (the `cap` binding): a network device for the stealth and
// advanced modes, or `nflog:GROUP` for trap mode, where the kernel tripwire hands us the
// probes it dropped. This file only opens the handle and passes frames on; decoding and
// classification are pure functions elsewhere, so they are tested without root.

import { createRequire } from 'node:module';
import { SentinelError, UnsupportedError } from '../../core/errors.js';
import { LinkType } from './decode.js';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
}

/** cap names a few link types and reports the others as "Unknown linktype N". */
export function linkTypeFromCap(name: string): number {
  switch (name) {
    case 'NULL':
      return LinkType.NULL;
    case 'ETHERNET':
      return LinkType.ETHERNET;
    case 'LINKTYPE_LINUX_SLL':
      return LinkType.LINUX_SLL;
    case 'RAW':
      return LinkType.RAW;
    default: {
      const m = /Unknown linktype (\d+)/.exec(name);
      return m ? Number(m[1]) : -1;
    }
  }
}

export interface LiveCapture {
  device: string;
  linkType: number;
  /** Frames delivered, and frames larger than the buffer (truncated: decoded as far as possible). */
  stats(): { frames: number; truncated: number };
  close(): void;
}

export interface LiveCaptureOptions {
  device: string;
  /** BPF filter (ignored by libpcap for nflog devices: the nft rule is the filter there). */
  filter: string;
  /** libpcap's ring buffer; large enough to ride out a burst (masscan at 100k packets/s). */
  bufferBytes?: number;
  /** Called synchronously for each frame; `frame` is only valid during the call. */
  onFrame: (linkType: number, frame: Uint8Array, at: number) => void;
}

export function openLiveCapture(options: LiveCaptureOptions): LiveCapture {
  let Cap: new () => CapHandle;
  try {
    const require = createRequire(import.meta.url);
    Cap = (require('cap') as { Cap: new () => CapHandle }).Cap;
  } catch (err) {
    throw new UnsupportedError(
      'packet capture needs the `cap` module built against libpcap (apt-get install libpcap-dev; npm ci)',
      {
        cause: err,
      },
    );
  }
  const handle = new Cap();
  // One frame at a time: large enough for any IP packet we care about (the headers) and jumbo frames.
  const buffer = Buffer.alloc(65_536);
  let name: string;
  try {
    name = handle.open(
      options.device,
      options.device.startsWith('nflog:') ? '' : options.filter,
      options.bufferBytes ?? 32 * 1024 * 1024,
      buffer,
    );
  } catch (err) {
    throw new SentinelError('E_IO', `cannot capture on ${options.device}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const linkType = linkTypeFromCap(name);
  const counts = { frames: 0, truncated: 0 };
  handle.on('packet', (nbytes, truncated) => {
    counts.frames++;
    if (truncated) counts.truncated++;
    options.onFrame(linkType, buffer.subarray(0, Math.min(nbytes, buffer.length)), Date.now());
  });
  let closed = false;
  return {
    device: options.device,
    linkType,
    stats: () => ({ ...counts }),
    close: () => {
      if (closed) return;
      closed = true;
      handle.close();
    },
  };
}
