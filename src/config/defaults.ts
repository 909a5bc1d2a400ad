// The built-in defaults, chosen for safety; docs/configuration.md explains each one and
// etc/portsentinel.toml spells them out. A config file only needs the keys it changes.

import type { Config } from './types.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** PortSentry 1.2's active default lists ("Use these if you just want to be aware"). */
export const PORTSENTRY_TCP_PORTS: readonly number[] = [
  1, 11, 15, 79, 111, 119, 143, 540, 635, 1080, 1524, 2000, 5742, 6667, 12345, 12346, 20034, 27665, 31337,
  32771, 32772, 32773, 32774, 40421, 49724, 54320,
];
export const PORTSENTRY_UDP_PORTS: readonly number[] = [
  1, 7, 9, 69, 161, 162, 513, 635, 640, 641, 700, 31335, 31337, 32770, 32771, 32772, 32773, 32774, 34555,
  37444, 54321,
];

export function defaultConfig(): Config {
  return {
    origin: { path: '', format: 'defaults' },
    detect: {
      // The kernel tripwire: a scanner is stopped at its first probe. Where nftables is not
      // available the daemon falls back to the classic tcp and udp traps (and says so).
      modes: ['trap'],
      tcpPorts: [...PORTSENTRY_TCP_PORTS],
      udpPorts: [...PORTSENTRY_UDP_PORTS],
      advancedTcpLimit: 1024,
      advancedUdpLimit: 1024,
      // PortSentry's defaults: ident and NetBIOS (TCP); RIP, NetBIOS and bootp broadcasts (UDP).
      advancedTcpExclude: [113, 139],
      // Plus the DHCP clients' ports (68, and 546 for DHCPv6): a DHCP server's reply may reach the
      // host before any socket is bound there, and must never be taken for a probe.
      advancedUdpExclude: [67, 68, 137, 138, 520, 546],
      // A completed handshake to a port nothing legitimate uses is already a scan (PortSentry's
      // SCAN_TRIGGER="0" default); the window matters once the threshold is raised.
      threshold: 1,
      window: 60 * SECOND,
      // A UDP datagram's source can be forged: blocking on it lets anyone ban any address.
      blockUnverifiedUdp: false,
      banner: '',
      // Bound of the detector's per-source table (a few hundred bytes each): a flood of spoofed
      // sources evicts old entries instead of growing memory.
      maxSources: 65_536,
      resolveHost: false,
      dnsTimeout: 2 * SECOND,
      interfaces: ['any'],
      bindAddresses: ['0.0.0.0', '::'],
      // A forged probe can make us drop the forged address for at most this long; a real
      // scanner touches more ports and is corroborated within milliseconds.
      provisionalBan: 30 * SECOND,
      corroboratePorts: 3,
      nflogGroup: 20,
      evidenceRate: 20,
    },
    respond: {
      backends: ['auto'],
      tcp: 'block',
      udp: 'block',
      banDuration: HOUR,
      banGrowth: 4,
      banMax: 30 * DAY,
      offenceMemory: 30 * DAY,
      maxBansPerMinute: 60,
      dryRun: false,
      ignore: [],
      ignoreFiles: [],
      reconcileInterval: 60 * SECOND,
      command: [],
      commandFirst: false,
      commandTimeout: 10 * SECOND,
      releaseCommand: [],
      routeCommand: [],
      nftables: { table: 'portsentinel', family: 'inet' },
      iptables: { chain: 'PORTSENTINEL', useIpset: true, ipsetName: 'portsentinel' },
      route: {},
      hostsDeny: { path: '/etc/hosts.deny', service: 'ALL', line: '' },
    },
    store: {
      path: '/var/lib/portsentinel/state.db',
      retention: 90 * DAY,
      historyFile: '',
      blockedFile: '',
    },
    log: {
      syslog: true,
      syslogSocket: '/dev/log',
      syslogFormat: 'rfc3164',
      facility: 'daemon',
      ident: 'portsentinel',
      json: true,
    },
    control: { socket: '/run/portsentinel/control.sock' },
    // As logcheck 1.4.2 ships them (/etc/logcheck/logcheck.conf and logcheck.logfiles).
    logcheck: {
      logfiles: ['/var/log/syslog', '/var/log/auth.log'],
      journal: false,
      journalArgs: [],
      rulesDir: '/etc/logcheck',
      reportLevel: 'server',
      supportCrackingIgnore: false,
      sortUniq: false,
      addTag: false,
      intro: true,
      fqdn: true,
      attackSubject: 'Security Alerts',
      securitySubject: 'Security Events',
      eventsSubject: 'System Events',
      // 0: the daemon leaves the schedule to cron/the systemd timer, as logcheck does.
      interval: 0,
      sentinelSummary: true,
      keepExcusedViolations: false,
      trimTrailingSpace: false,
      mail: {
        to: ['root'],
        from: '',
        transport: 'sendmail',
        attach: 'inline',
        smtp: { host: 'localhost', port: 25, secure: false, starttls: false, user: '', password: '' },
        sendmailPath: '/usr/sbin/sendmail',
      },
    },
  };
}
