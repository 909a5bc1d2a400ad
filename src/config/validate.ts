// Checks that need more than one key: settings that contradict each other or cannot do what they
// say. Runs on the typed Config (whatever format it came from) and names keys by their TOML path;
// the portsentry.conf importer translates the paths it can into PortSentry keys.

import { formatDuration } from '../core/duration.js';
import type { Mode } from '../core/records.js';
import type { Config, ConfigProblem } from './types.js';

/** A problem plus the other keys it depends on (a problem in one of those makes this one moot). */
export type CrossKeyProblem = Omit<ConfigProblem, 'file' | 'line'> & { involves?: string[] };
type Problem = CrossKeyProblem;

export interface ValidateOptions {
  /** Modes the running build implements (the daemon knows its sensors); others are `unsupported`. */
  implementedModes?: readonly Mode[];
}

export function validateConfig(config: Config, options: ValidateOptions = {}): ConfigProblem[] {
  return crossKeyProblems(config, options).map(({ involves: _, ...p }) => p);
}

export function crossKeyProblems(config: Config, options: ValidateOptions = {}): CrossKeyProblem[] {
  const out: Problem[] = [];
  const error = (path: string, code: string, message: string, involves?: string[]) =>
    out.push({ path, code, message, ...(involves ? { involves } : {}) });
  const warn = (path: string, code: string, message: string, involves?: string[]) =>
    out.push({ path, code, message, severity: 'warning', ...(involves ? { involves } : {}) });
  const { detect, respond, log, logcheck } = config;

  // --- detection
  if (detect.modes.length === 0) error('detect.modes', 'contradiction', 'no detection mode is enabled');
  const modes = new Set(detect.modes);
  if (modes.size !== detect.modes.length)
    warn('detect.modes', 'duplicate', 'a mode is listed more than once');
  for (const m of modes) {
    if (options.implementedModes && !options.implementedModes.includes(m))
      error('detect.modes', 'unsupported', `mode "${m}" is not implemented in this version`);
  }
  for (const [classic, stealth, advanced] of [
    ['tcp', 'stcp', 'atcp'],
    ['udp', 'sudp', 'audp'],
  ] as const) {
    const on = [classic, stealth, advanced].filter((m) => modes.has(m));
    if (on.length > 1) {
      warn(
        'detect.modes',
        'redundant',
        `${on.join(' and ')} watch the same ${classic.toUpperCase()} ports twice; one probe may count twice`,
      );
    }
  }
  if (modes.has('tcp') && detect.tcpPorts.length === 0) {
    error('detect.tcp_ports', 'contradiction', 'mode tcp needs ports', ['detect.modes']);
  }
  if (modes.has('udp') && detect.udpPorts.length === 0) {
    error('detect.udp_ports', 'contradiction', 'mode udp needs ports', ['detect.modes']);
  }
  if (detect.threshold < 1)
    error('detect.threshold', 'bad-range', 'must be at least 1 (1 = react to the first probe)');

  // --- response
  const levels = [
    ['respond.tcp', respond.tcp],
    ['respond.udp', respond.udp],
  ] as const;
  const command = respond.command;
  for (const [path, level] of levels) {
    if (level === 'command' && command.length === 0) {
      error(path, 'contradiction', 'level "command" runs respond.command, which is empty', [
        'respond.command',
      ]);
    }
    if (level === 'block' && respond.backends.length === 0 && !respond.dryRun) {
      error(path, 'contradiction', 'level "block" needs at least one backend in respond.backends', [
        'respond.backends',
        'respond.dry_run',
      ]);
    }
  }
  if (respond.commandFirst && command.length === 0) {
    error('respond.command_first', 'contradiction', 'command_first is set but respond.command is empty', [
      'respond.command',
    ]);
  }
  if (respond.releaseCommand.length > 0 && command.length === 0 && !respond.backends.includes('command')) {
    warn('respond.release_command', 'contradiction', 'release_command is set but no command ever blocks');
  }
  const backends = respond.backends;
  if (new Set(backends).size !== backends.length)
    warn('respond.backends', 'duplicate', 'a backend is listed twice');
  if (backends.includes('auto')) {
    const overlap = backends.filter((b) => b === 'nftables' || b === 'iptables' || b === 'route');
    if (overlap.length > 0) {
      warn(
        'respond.backends',
        'redundant',
        `"auto" already picks one of nftables/iptables/route; also listing ${overlap.join(', ')} blocks twice`,
      );
    }
  }
  const routeCommand = respond.routeCommand ?? [];
  if (backends.includes('command') && routeCommand.length === 0) {
    error(
      'respond.route_command',
      'contradiction',
      'backend "command" needs respond.route_command (the argv that blocks)',
      ['respond.backends'],
    );
  }
  if (routeCommand.length > 0 && !routeCommand.some((a) => a.includes('$TARGET$'))) {
    error('respond.route_command', 'missing-placeholder', 'a blocking command must contain $TARGET$');
  }
  const line = respond.hostsDeny.line ?? '';
  if (line !== '' && !line.includes('$TARGET$')) {
    error('respond.hosts_deny.line', 'missing-placeholder', 'the hosts.deny line must contain $TARGET$');
  }
  if (/[\r\n]/.test(line))
    error('respond.hosts_deny.line', 'bad-value', 'the hosts.deny line must be one line');
  if (respond.banDuration > 0 && respond.banMax > 0 && respond.banMax < respond.banDuration) {
    error(
      'respond.ban_max',
      'contradiction',
      `ban_max (${formatDuration(respond.banMax)}) is shorter than ban_duration (${formatDuration(respond.banDuration)})`,
      ['respond.ban_duration'],
    );
  }
  if (respond.banGrowth < 1) error('respond.ban_growth', 'bad-range', 'must be at least 1 (1 = no growth)');
  if (respond.dryRun && backends.includes('dry-run') && backends.length > 1) {
    warn('respond.backends', 'redundant', 'dry_run is on: the other backends are not touched');
  }

  // --- output
  if (log.syslog && log.syslogSocket.trim() === '') {
    error('log.syslog_socket', 'contradiction', 'syslog is on but no socket path is set');
  }
  const mail = logcheck.mail;
  if (mail.transport === 'smtp' && mail.smtp.host.trim() === '') {
    error('logcheck.mail.smtp.host', 'contradiction', 'transport "smtp" needs a host', [
      'logcheck.mail.transport',
    ]);
  }
  if (mail.transport === 'sendmail' && mail.sendmailPath.trim() === '') {
    error('logcheck.mail.sendmail_path', 'contradiction', 'transport "sendmail" needs sendmail_path');
  }
  if (mail.transport !== 'stdout' && mail.to.length === 0) {
    error('logcheck.mail.to', 'contradiction', `transport "${mail.transport}" needs at least one recipient`);
  }
  if (mail.smtp.secure && mail.smtp.starttls) {
    warn(
      'logcheck.mail.smtp.starttls',
      'redundant',
      'secure (TLS from the start) makes starttls meaningless',
    );
  }
  return out;
}
