// The plain, JSON-serialisable records that flow between the stages (see DESIGN.md).
// Every stage can be fed and read alone: records in, records out.

export type Protocol = 'tcp' | 'udp';

/** How a probe was made. `connect` = a completed TCP handshake (the source address is proven). */
export type Technique = 'connect' | 'syn' | 'fin' | 'null' | 'xmas' | 'ack' | 'maimon' | 'udp' | 'odd';

/** Detection modes. `tcp`/`udp` are PortSentry's classic modes, `s*` stealth, `a*` advanced, `trap` the kernel tripwire. */
export type Mode = 'tcp' | 'udp' | 'stcp' | 'sudp' | 'atcp' | 'audp' | 'trap';
export const ALL_MODES: readonly Mode[] = ['tcp', 'udp', 'stcp', 'sudp', 'atcp', 'audp', 'trap'];

export interface ProbeEvent {
  /** Epoch milliseconds, set by the sensor from the packet or accept time; never re-read later. */
  at: number;
  /** Source address in canonical text form (IPv4 dotted quad, IPv6 compressed lower case, no zone). */
  source: string;
  /** Destination address the probe was sent to, when known. */
  destination?: string;
  port: number;
  protocol: Protocol;
  technique: Technique;
  /** Mode that produced the event (`tcp`, `udp`, `stcp`, ...). */
  mode: Mode;
  /** Which sensor saw it, e.g. `tcp-trap`, `udp-trap`, `nflog:5`, `pcap:eth0`, `replay`. */
  sensor: string;
  /**
   * The source holds an established session with the host (trap mode: the kernel saw it). A
   * single stray packet from such a peer is never enough for a ban: it must be corroborated.
   */
  peer?: boolean;
}

/** Why a probe did not (yet) lead to a block. */
export type SkipReason =
  | 'allow-listed'
  | 'already-blocked'
  | 'below-threshold'
  | 'rate-limited'
  | 'alert-only'
  | 'dry-run';

export interface Evidence {
  /** Distinct ports seen in the window, ascending, capped. */
  ports: number[];
  protocols: Protocol[];
  techniques: Technique[];
  probes: number;
  firstAt: number;
  lastAt: number;
}

export type Decision =
  | {
      kind: 'block';
      at: number;
      source: string;
      reason: string;
      /** Epoch ms when the ban ends, or null for a permanent ban. */
      until: number | null;
      /** How many times this source has been banned, including this one (1 = first offence). */
      offence: number;
      evidence: Evidence;
      /** The probe that triggered the decision. */
      trigger: ProbeEvent;
      /** Set when the detector runs in dry-run mode: the decision is computed and logged, nothing is enforced. */
      dryRun?: boolean;
      /**
       * A short ban of an unverified source (its address may be forged): it does not count as an
       * offence, and becomes a full ban (a new block decision) once the source is corroborated.
       */
      provisional?: boolean;
    }
  | { kind: 'release'; at: number; source: string; reason: string }
  | { kind: 'skip'; at: number; source: string; why: SkipReason; detail: string; trigger?: ProbeEvent };

export type Decisions = Decision[];

/** Outcome of a scanner burst, strongest first: what the detector did about it at least once. */
export type BurstOutcome = 'blocked' | 'already-blocked' | 'rate-limited' | 'alert-only';

/**
 * One record per scanner burst (a source that crossed the threshold), emitted by the detector once
 * the source has been quiet for a few seconds or the burst ran too long: the "one summary log line
 * per scanner burst" instead of one line per probe.
 */
export interface BurstSummary {
  source: string;
  firstAt: number;
  lastAt: number;
  probes: number;
  /** Distinct destination ports seen, ascending, capped (see `otherPortProbes`). */
  ports: number[];
  /** Probes to ports beyond the cap (not stored, so their distinctness is unknown). */
  otherPortProbes: number;
  protocols: Protocol[];
  techniques: Technique[];
  modes: Mode[];
  outcome: BurstOutcome;
  /** True when a ban was decided (or already in force) during the burst. */
  blocked: boolean;
}

// ---- Logcheck side ----------------------------------------------------------------------------

export interface LogLine {
  /** Name of the source (a file path or `journal`). */
  source: string;
  /** The line as logcheck's rules see it (syslog format, without the trailing newline). */
  text: string;
  /** Opaque position after this line, so a consumer can commit exactly what it used. */
  cursor?: string;
  host?: string;
  program?: string;
  time?: number;
}

export type Category = 'attack' | 'security' | 'system';

export interface Classified {
  attack: string[];
  security: string[];
  system: string[];
}
