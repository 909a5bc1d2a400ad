// The one typed configuration every part of portsentinel reads. Produced by `load.ts` from
// portsentinel.toml or from a PortSentry 1.2 portsentry.conf (auto-detected); nothing outside
// config/ ever sees the old formats. All durations are milliseconds.

import type { Mode } from '../core/records.js';

/** What to do when a protocol's probes cross the threshold (PortSentry BLOCK_TCP/BLOCK_UDP 0/1/2). */
export type ResponseLevel = 'alert' | 'block' | 'command';

export type BackendName = 'auto' | 'nftables' | 'iptables' | 'route' | 'hosts-deny' | 'command' | 'dry-run';

export interface DetectConfig {
  modes: Mode[];
  /** Classic/stealth ports. */
  tcpPorts: number[];
  udpPorts: number[];
  /** Advanced modes: every port below the limit (1..limit) except the excludes. */
  advancedTcpLimit: number;
  advancedUdpLimit: number;
  advancedTcpExclude: number[];
  advancedUdpExclude: number[];
  /** Probes from one source within `window` that trigger a response (1 = the first probe). */
  threshold: number;
  window: number;
  /** When false, a UDP datagram (whose source may be forged) only alerts; see README "Defaults". */
  blockUnverifiedUdp: boolean;
  /** Text sent to a TCP trap connection before it is closed; empty = none. */
  banner: string;
  /** Upper bound of tracked sources in the detector (fixed memory). */
  maxSources: number;
  resolveHost: boolean;
  dnsTimeout: number;
  /** Interfaces for live capture (stealth/advanced modes); ["any"] by default. */
  interfaces: string[];
  /** Address(es) the trap listeners bind; default both stacks. */
  bindAddresses: string[];
  /**
   * Unverified sources (a UDP datagram, a packet-level probe: the source may be forged) are
   * banned at once for this long (trap mode: in the kernel, at the first probe), and only
   * for longer once corroborated. 0 = unverified sources are only alerted on until corroborated.
   */
  provisionalBan: number;
  /** An unverified source that probed this many distinct ports within `window` is treated as proven. 0 = never. */
  corroboratePorts: number;
  /** NFLOG group the kernel tripwire (trap mode) logs to. */
  nflogGroup: number;
  /** Packets from already-banned sources still reported as evidence, per second at most (trap mode). */
  evidenceRate: number;
}

export interface RespondConfig {
  /** Backends run in order; `auto` = nftables, else iptables, else route. */
  backends: BackendName[];
  tcp: ResponseLevel;
  udp: ResponseLevel;
  /** First ban duration; 0 = permanent (PortSentry's behaviour). */
  banDuration: number;
  /** Each further offence multiplies the duration by this factor... */
  banGrowth: number;
  /** ...up to this ceiling (0 = no ceiling). */
  banMax: number;
  /** How far back earlier bans count as a repeat offence. */
  offenceMemory: number;
  maxBansPerMinute: number;
  dryRun: boolean;
  /** Never-block list (CIDRs, IPv4 and IPv6), in addition to loopback/own/gateway/resolvers. */
  ignore: string[];
  /** Legacy ignore file(s) (portsentry.ignore format: one address or CIDR per line, # comments). */
  ignoreFiles: string[];
  reconcileInterval: number;
  /** Argument vector with $TARGET$, $PORT$, $MODE$, $PROTOCOL$ placeholders; [] = none. */
  command: string[];
  /** Run the command before the other backends (KILL_RUN_CMD_FIRST). */
  commandFirst: boolean;
  commandTimeout: number;
  /** Command run when a ban is released (same placeholders); [] = none. */
  releaseCommand: string[];
  nftables: { table: string; family: 'inet' };
  iptables: { chain: string; useIpset: boolean; ipsetName: string };
  route: Record<string, never>;
  /**
   * `line` (added by config): a hosts.deny line template with `$TARGET$` (PortSentry's KILL_HOSTS_DENY,
   * e.g. "ALL: $TARGET$ : DENY"); absent or "" = `${service}: ${address}`.
   */
  hostsDeny: { path: string; service: string; line?: string };
  /**
   * (added by config) Argument vector the `command` backend runs to block an address (a PortSentry
   * KILL_ROUTE that maps to no built-in backend); same placeholders as `command`. [] = none.
   * Unlike `command` (KILL_RUN_CMD, run at levels `block` and `command`), this one is a blocker.
   */
  routeCommand?: string[];
}

export interface StoreConfig {
  path: string;
  /** Probes and decisions older than this are pruned; 0 = keep forever. */
  retention: number;
  /** PortSentry-format files (for fail2ban's `portsentry` filter); "" = off. */
  historyFile: string;
  blockedFile: string;
}

export interface LogConfig {
  syslog: boolean;
  syslogSocket: string;
  syslogFormat: 'rfc3164' | 'rfc5424';
  facility: string;
  ident: string;
  /** Structured JSON lines on stdout. */
  json: boolean;
}

export interface ControlConfig {
  socket: string;
}

export type ReportLevel = 'paranoid' | 'server' | 'workstation';
export type MailAttach = 'inline' | 'attach' | 'gzip';

export interface LogcheckConfig {
  /** Log files to read (logcheck.logfiles); "journal" reads the systemd journal. */
  logfiles: string[];
  journal: boolean;
  /** journalctl extra args, e.g. ["--directory", "/var/log/journal"] (for tests: --file). */
  journalArgs: string[];
  rulesDir: string;
  reportLevel: ReportLevel;
  supportCrackingIgnore: boolean;
  sortUniq: boolean;
  addTag: boolean;
  intro: boolean;
  fqdn: boolean;
  attackSubject: string;
  securitySubject: string;
  eventsSubject: string;
  /** Interval at which the daemon runs the report; 0 = only from cron/timer. */
  interval: number;
  /** Include the sentinel's detections/bans summary section. */
  sentinelSummary: boolean;
  /** Opt-in fixes of logcheck surprises; off = logcheck-identical output. */
  keepExcusedViolations: boolean;
  trimTrailingSpace: boolean;
  mail: MailConfig;
}

export interface MailConfig {
  to: string[];
  from: string;
  transport: 'smtp' | 'sendmail' | 'stdout';
  attach: MailAttach;
  smtp: { host: string; port: number; secure: boolean; starttls: boolean; user: string; password: string };
  sendmailPath: string;
}

export interface Config {
  /** Where the config was read from, and in which format (for messages). */
  origin: { path: string; format: 'toml' | 'portsentry' | 'defaults' };
  detect: DetectConfig;
  respond: RespondConfig;
  store: StoreConfig;
  log: LogConfig;
  control: ControlConfig;
  logcheck: LogcheckConfig;
}

/** A validation problem, as data: `check-config` and daemon start-up format the same list. */
export interface ConfigProblem {
  /** Key path, e.g. `respond.ban_duration` or `TCP_PORTS`. */
  path: string;
  /** Stable code, e.g. `unknown-key`, `wrong-type`, `bad-port`, `bad-cidr`, `contradiction`. */
  code: string;
  message: string;
  line?: number;
  file?: string;
  /** (added by config) Absent = 'error'. Warnings are printed but do not make the config invalid. */
  severity?: 'error' | 'warning';
}
