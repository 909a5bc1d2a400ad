// Turns a decoded packet into the scan technique it represents, or null when it is not a
// probe (replies, resets). Pure.

import type { Technique } from '../../core/records.js';
import type { DecodedPacket } from './decode.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
/** ECE and CWR are congestion bits that SYNs may carry (ECN negotiation); they don't change the technique. */
const CORE_FLAGS = TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG;

/**
 * nmap's names: -sS SYN, -sF FIN, -sN NULL, -sX XMAS (FIN+PSH+URG), -sA ACK, -sM Maimon (FIN+ACK).
 * A RST (alone or with ACK) is never a probe: it is how a host answers, and forging RSTs would
 * otherwise get innocent hosts banned. A SYN+ACK is a reply too. Everything else is `odd`.
 */
export function tcpTechnique(flags: number): Technique | null {
  const f = flags & CORE_FLAGS;
  if (f & TCP_RST) return null;
  switch (f) {
    case TCP_SYN:
      return 'syn';
    case TCP_SYN | TCP_ACK:
      return null;
    case TCP_FIN:
      return 'fin';
    case 0:
      return 'null';
    case TCP_FIN | TCP_PSH | TCP_URG:
      return 'xmas';
    case TCP_ACK:
      return 'ack';
    case TCP_FIN | TCP_ACK:
      return 'maimon';
    default:
      return 'odd';
  }
}

export function techniqueOf(packet: DecodedPacket): Technique | null {
  return packet.protocol === 'udp' ? 'udp' : tcpTechnique(packet.tcpFlags);
}
