// A human summary of a loaded config, printed by `portsentinel check-config` when all is well:
// what will be watched, what happens to a scanner, and where things go.

import { formatDuration } from '../core/duration.js';
import { formatPortSpec } from './ports.js';
import type { Config, ResponseLevel } from './types.js';

const ordinal = (n: number) => {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
};

const duration = (ms: number) => formatDuration(ms);

function levelText(config: Config, level: ResponseLevel, unverified: boolean): string {
  const { respond } = config;
  const backends = respond.backends.map((b) =>
    b === 'auto' ? 'auto (nftables, else iptables, else route)' : b,
  );
  const command = respond.command.length > 0 ? ` and run ${respond.command[0]}` : '';
  switch (level) {
    case 'alert':
      return 'alert only';
    case 'command':
      return `run ${respond.command.join(' ')} (no block)`;
    case 'block':
      if (unverified) {
        const { provisionalBan, corroboratePorts } = config.detect;
        if (provisionalBan === 0 && corroboratePorts === 0)
          return 'alert only (block_unverified_udp = false: a UDP source can be forged)';
        const parts = [
          provisionalBan > 0 ? `provisional ${duration(provisionalBan)} ban` : 'alert',
          corroboratePorts > 0 ? `full ban once ${corroboratePorts} ports corroborate` : '',
        ].filter(Boolean);
        return `${parts.join(', ')} (a UDP source can be forged), via ${backends.join(', ') || 'nothing'}`;
      }
      return `block via ${backends.join(', ') || 'nothing'}${command}${respond.commandFirst && command ? ' (command first)' : ''}`;
  }
}

export function describeConfig(config: Config): string[] {
  const { detect, respond, store, log, logcheck } = config;
  const out: string[] = [];
  const origin =
    config.origin.format === 'defaults'
      ? 'built-in defaults'
      : `${config.origin.path} (${config.origin.format})`;
  out.push(`config: ${origin}`);
  out.push(`modes: ${detect.modes.join(', ')}`);
  const modes = new Set(detect.modes);
  if (modes.has('tcp') || modes.has('stcp'))
    out.push(`tcp ports (${detect.tcpPorts.length}): ${formatPortSpec(detect.tcpPorts)}`);
  if (modes.has('udp') || modes.has('sudp'))
    out.push(`udp ports (${detect.udpPorts.length}): ${formatPortSpec(detect.udpPorts)}`);
  if (modes.has('atcp')) {
    out.push(
      `advanced tcp: ports 1-${detect.advancedTcpLimit} except ${formatPortSpec(detect.advancedTcpExclude) || 'none'} and ports in use`,
    );
  }
  if (modes.has('audp')) {
    out.push(
      `advanced udp: ports 1-${detect.advancedUdpLimit} except ${formatPortSpec(detect.advancedUdpExclude) || 'none'} and ports in use`,
    );
  }
  if (modes.has('trap')) {
    out.push(
      `trap (kernel tripwire, NFLOG group ${detect.nflogGroup}): tcp 1-${detect.advancedTcpLimit} except ${formatPortSpec(detect.advancedTcpExclude) || 'none'}, udp 1-${detect.advancedUdpLimit} except ${formatPortSpec(detect.advancedUdpExclude) || 'none'}, plus tcp_ports/udp_ports; ports with a listening socket are never trapped`,
    );
  }
  if (detect.provisionalBan > 0) {
    out.push(
      `unverified sources (UDP, packet probes): banned ${duration(detect.provisionalBan)} at once, fully once ${detect.corroboratePorts > 0 ? `${detect.corroboratePorts} ports corroborate` : 'verified'}`,
    );
  }
  out.push(
    detect.threshold === 1
      ? 'trigger: the first probe from a source'
      : `trigger: the ${ordinal(detect.threshold)} probe from a source within ${duration(detect.window)}`,
  );
  out.push(`tcp response: ${levelText(config, respond.tcp, false)}`);
  out.push(`udp response: ${levelText(config, respond.udp, !detect.blockUnverifiedUdp)}`);
  if (respond.dryRun) out.push('dry run: ON (decisions are logged, nothing is blocked)');
  if (respond.banDuration === 0) out.push('bans: permanent');
  else {
    const max = respond.banMax === 0 ? 'no ceiling' : `at most ${duration(respond.banMax)}`;
    out.push(
      `bans: ${duration(respond.banDuration)}, x${respond.banGrowth} for each repeat within ${duration(respond.offenceMemory)}, ${max}`,
    );
  }
  out.push(
    `ban rate cap: ${respond.maxBansPerMinute === 0 ? 'none' : `${respond.maxBansPerMinute} new bans per minute`}`,
  );
  const files = respond.ignoreFiles.length > 0 ? ` + ${respond.ignoreFiles.join(', ')}` : '';
  out.push(
    `never blocked: loopback, own addresses, gateways, resolvers, ${respond.ignore.length} listed network(s)${files}`,
  );
  if (respond.backends.includes('hosts-deny')) {
    out.push(
      `hosts.deny: ${respond.hostsDeny.path} ("${respond.hostsDeny.line || `${respond.hostsDeny.service}: $TARGET$`}")`,
    );
  }
  if ((respond.routeCommand ?? []).length > 0)
    out.push(`block command: ${(respond.routeCommand ?? []).join(' ')}`);
  out.push(
    `store: ${store.path} (keeps ${store.retention === 0 ? 'everything' : duration(store.retention)})`,
  );
  if (store.historyFile) out.push(`PortSentry history file: ${store.historyFile}`);
  if (store.blockedFile) out.push(`PortSentry blocked file: ${store.blockedFile}`);
  out.push(
    log.syslog
      ? `syslog: ${log.syslogSocket} ${log.syslogFormat}, facility ${log.facility}, ident ${log.ident}`
      : 'syslog: off',
  );
  if (log.json) out.push('json lines: stdout');
  out.push(`control socket: ${config.control.socket}`);
  const sources = [...logcheck.logfiles, ...(logcheck.journal ? ['journal'] : [])];
  out.push(
    `logcheck: ${logcheck.reportLevel} rules from ${logcheck.rulesDir}, ${sources.length} source(s), mail to ${logcheck.mail.to.join(', ') || 'nobody'} via ${logcheck.mail.transport}` +
      (logcheck.interval > 0 ? `, every ${duration(logcheck.interval)}` : ''),
  );
  return out;
}
