// Reads a PortSentry 1.2 portsentry.conf (KEY="value" lines, `#` comments) into the same Config,
// keeping PortSentry's meaning but not its bugs:
// - SCAN_TRIGGER=n tolerates n probes and reacts to the next (threshold n+1); PortSentry treated 0
//   and 1 alike.
// - BLOCK_*=1 with nothing configured to block is reported and becomes alert-only (PortSentry
//   recorded the host as blocked anyway).
// - Commands are split into argument vectors and run without a shell; shell syntax is an error.
// Like PortSentry, the first occurrence of a key wins. Values may use earlier keys as $NAME or
// ${NAME} (e.g. "$INSTALLDIR/portsentry.ignore"); $TARGET$, $PORT$ and $MODE$ are placeholders.

import { defaultConfig } from './defaults.js';
import { type ConfigResult, finish } from './finish.js';
import { mapKillRoute } from './kill-route.js';
import { parsePortSpec } from './ports.js';
import { didYouMean } from './suggest.js';
import type { BackendName, ConfigProblem, ResponseLevel } from './types.js';
import { convertArgv } from './values.js';

/** The keys PortSentry 1.2 reads. */
export const PORTSENTRY_KEYS = [
  'TCP_PORTS',
  'UDP_PORTS',
  'ADVANCED_PORTS_TCP',
  'ADVANCED_PORTS_UDP',
  'ADVANCED_EXCLUDE_TCP',
  'ADVANCED_EXCLUDE_UDP',
  'IGNORE_FILE',
  'HISTORY_FILE',
  'BLOCKED_FILE',
  'RESOLVE_HOST',
  'BLOCK_TCP',
  'BLOCK_UDP',
  'KILL_ROUTE',
  'KILL_HOSTS_DENY',
  'KILL_RUN_CMD',
  'KILL_RUN_CMD_FIRST',
  'SCAN_TRIGGER',
  'PORT_BANNER',
] as const;
type PortsentryKey = (typeof PORTSENTRY_KEYS)[number];

/** Where a Config key came from, so cross-key problems name the PortSentry key the user wrote. */
const TOML_TO_PORTSENTRY: Record<string, PortsentryKey> = {
  'detect.tcp_ports': 'TCP_PORTS',
  'detect.udp_ports': 'UDP_PORTS',
  'detect.advanced_tcp_limit': 'ADVANCED_PORTS_TCP',
  'detect.advanced_udp_limit': 'ADVANCED_PORTS_UDP',
  'detect.advanced_tcp_exclude': 'ADVANCED_EXCLUDE_TCP',
  'detect.advanced_udp_exclude': 'ADVANCED_EXCLUDE_UDP',
  'detect.threshold': 'SCAN_TRIGGER',
  'detect.banner': 'PORT_BANNER',
  'detect.resolve_host': 'RESOLVE_HOST',
  'respond.tcp': 'BLOCK_TCP',
  'respond.udp': 'BLOCK_UDP',
  'respond.command': 'KILL_RUN_CMD',
  'respond.command_first': 'KILL_RUN_CMD_FIRST',
  'respond.route_command': 'KILL_ROUTE',
  'respond.hosts_deny.line': 'KILL_HOSTS_DENY',
  'respond.ignore_files': 'IGNORE_FILE',
  'store.history_file': 'HISTORY_FILE',
  'store.blocked_file': 'BLOCKED_FILE',
};

const LINE_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** True when every setting line is KEY=value and at least one key is PortSentry's. */
export function looksLikePortsentryConf(text: string): boolean {
  let known = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE_RE.exec(line);
    if (!m || (m[1] as string) !== (m[1] as string).toUpperCase()) return false;
    if ((PORTSENTRY_KEYS as readonly string[]).includes(m[1] as string)) known++;
  }
  return known > 0;
}

interface Entry {
  key: string;
  value: string;
  line: number;
}

export interface PortsentryResult extends ConfigResult {
  /** What each setting became, for `import-portsentry` to print as comments. */
  notes: string[];
}

export function parsePortsentryConf(text: string, file: string): PortsentryResult {
  const problems: ConfigProblem[] = [];
  const notes: string[] = [];
  const report = (key: string, line: number | undefined, code: string, message: string, warning = false) =>
    problems.push({
      path: key,
      code,
      message,
      ...(line === undefined ? {} : { line }),
      ...(warning ? { severity: 'warning' as const } : {}),
    });

  // 1. Lines -> entries, first occurrence of a key wins (as in PortSentry).
  const entries = new Map<string, Entry>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = (lines[i] as string).trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const m = LINE_RE.exec(raw);
    if (!m) {
      report('', lineNo, 'syntax', `expected KEY="value", got: ${raw.slice(0, 60)}`);
      continue;
    }
    const key = m[1] as string;
    const value = unquote(m[2] as string, (code, message) => report(key, lineNo, code, message, true));
    if (entries.has(key)) {
      report(
        key,
        lineNo,
        'duplicate-key',
        `${key} is set again; the first setting (line ${entries.get(key)?.line}) wins, as in PortSentry`,
        true,
      );
      continue;
    }
    entries.set(key, { key, value, line: lineNo });
  }

  // 2. $NAME / ${NAME} refer to keys set earlier in the file.
  const referenced = new Set<string>();
  const seen = new Map<string, string>();
  for (const entry of entries.values()) {
    entry.value = entry.value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)(\$?)/g,
      (all, braced, bare, placeholder) => {
        if (placeholder === '$') return all; // $TARGET$, $PORT$, $MODE$
        const name = (braced ?? bare) as string;
        const value = seen.get(name);
        if (value === undefined) {
          report(entry.key, entry.line, 'unknown-variable', `$${name} is not set earlier in the file`);
          return all;
        }
        referenced.add(name);
        return value;
      },
    );
    seen.set(entry.key, entry.value);
  }
  for (const entry of entries.values()) {
    if ((PORTSENTRY_KEYS as readonly string[]).includes(entry.key) || referenced.has(entry.key)) continue;
    report(
      entry.key,
      entry.line,
      'unknown-key',
      `unknown PortSentry key ${entry.key}${didYouMean(entry.key, PORTSENTRY_KEYS)}`,
    );
  }

  // 3. Meaning.
  const config = defaultConfig();
  config.origin = { path: file, format: 'portsentry' };
  const get = (key: PortsentryKey) => entries.get(key);
  const at = (key: PortsentryKey) => get(key)?.line;
  const bad = (key: PortsentryKey, code: string, message: string) => report(key, at(key), code, message);
  // PortSentry's bans last until reboot (routes) or forever (hosts.deny); keep that.
  config.respond.banDuration = 0;
  config.respond.banMax = 0;
  config.respond.backends = [];
  // Log under PortSentry's name, so syslog filters and local Logcheck rules keep matching.
  config.log.ident = 'portsentry';
  notes.push(
    'Syslog ident "portsentry" (log.ident), so existing syslog filters and Logcheck rules keep matching.',
  );
  notes.push(
    'Bans are permanent as in PortSentry (respond.ban_duration = "0"); set a duration to let them expire.',
  );

  for (const [key, which] of [
    ['TCP_PORTS', 'tcpPorts'],
    ['UDP_PORTS', 'udpPorts'],
    ['ADVANCED_EXCLUDE_TCP', 'advancedTcpExclude'],
    ['ADVANCED_EXCLUDE_UDP', 'advancedUdpExclude'],
  ] as const) {
    const e = get(key);
    if (!e) {
      if (key === 'TCP_PORTS' || key === 'UDP_PORTS') {
        report(key, undefined, 'missing-key', `${key} is not set; using portsentinel's default list`, true);
      }
      continue;
    }
    const spec = parsePortSpec(e.value);
    for (const err of spec.errors) bad(key, err.code, err.message);
    if (spec.errors.length === 0) config.detect[which] = spec.ports;
  }
  for (const [key, which] of [
    ['ADVANCED_PORTS_TCP', 'advancedTcpLimit'],
    ['ADVANCED_PORTS_UDP', 'advancedUdpLimit'],
  ] as const) {
    const e = get(key);
    if (!e) continue;
    if (!/^\d+$/.test(e.value)) bad(key, 'wrong-type', `expected a port number, got "${e.value}"`);
    else if (Number(e.value) < 1 || Number(e.value) > 65_535)
      bad(key, 'bad-port', `port ${e.value} is outside 1-65535`);
    else config.detect[which] = Number(e.value);
  }

  const ignoreFile = get('IGNORE_FILE')?.value ?? '';
  if (ignoreFile !== '') config.respond.ignoreFiles = [ignoreFile];
  config.store.historyFile = get('HISTORY_FILE')?.value ?? '';
  config.store.blockedFile = get('BLOCKED_FILE')?.value ?? '';
  config.detect.banner = get('PORT_BANNER')?.value ?? '';

  const flag = (key: PortsentryKey, allowed: readonly string[]): string | undefined => {
    const e = get(key);
    if (!e) return undefined;
    if (!allowed.includes(e.value)) {
      bad(key, 'bad-enum', `"${e.value}" is not one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
      return undefined;
    }
    return e.value;
  };
  config.detect.resolveHost = flag('RESOLVE_HOST', ['0', '1']) === '1';

  const trigger = get('SCAN_TRIGGER');
  if (trigger) {
    if (!/^\d+$/.test(trigger.value))
      bad('SCAN_TRIGGER', 'wrong-type', `expected a whole number, got "${trigger.value}"`);
    else {
      config.detect.threshold = Number(trigger.value) + 1;
      notes.push(
        `SCAN_TRIGGER="${trigger.value}" tolerates ${trigger.value} probe(s) and reacts to the next: detect.threshold = ${config.detect.threshold}.`,
      );
      if (config.detect.threshold > 1) {
        notes.push(
          'PortSentry counted probes without a time limit (until 50 others pushed them out); detect.window bounds it.',
        );
      }
    }
  }

  // Blockers, in PortSentry's order: hosts.deny first, then the dropped route.
  const backends: BackendName[] = [];
  const hostsDeny = get('KILL_HOSTS_DENY');
  if (hostsDeny && hostsDeny.value !== '') {
    backends.push('hosts-deny');
    config.respond.hostsDeny.line = hostsDeny.value;
    notes.push(
      `KILL_HOSTS_DENY -> backend "hosts-deny" writing "${hostsDeny.value}" (its own marked lines only).`,
    );
  }
  const killRoute = get('KILL_ROUTE');
  if (killRoute && killRoute.value !== '') {
    const argv = convertArgv(killRoute.value, (code, message, options) =>
      report('KILL_ROUTE', killRoute.line, code, message, options?.severity === 'warning'),
    );
    if (argv) {
      const mapping = mapKillRoute(argv);
      backends.push(mapping.backend);
      if (mapping.argv) config.respond.routeCommand = mapping.argv;
      notes.push(`KILL_ROUTE -> backend "${mapping.backend}": ${mapping.why}.`);
    }
  }
  config.respond.backends = backends;

  const runCmd = get('KILL_RUN_CMD');
  if (runCmd && runCmd.value !== '') {
    const argv = convertArgv(runCmd.value, (code, message, options) =>
      report('KILL_RUN_CMD', runCmd.line, code, message, options?.severity === 'warning'),
    );
    if (argv) config.respond.command = argv;
    // PortSentry reads KILL_RUN_CMD_FIRST only when there is a command.
    config.respond.commandFirst = flag('KILL_RUN_CMD_FIRST', ['0', '1']) === '1';
  }

  for (const [key, proto] of [
    ['BLOCK_TCP', 'tcp'],
    ['BLOCK_UDP', 'udp'],
  ] as const) {
    const value = flag(key, ['0', '1', '2']) ?? '0';
    let level: ResponseLevel = value === '1' ? 'block' : value === '2' ? 'command' : 'alert';
    const hasCommand = config.respond.command.length > 0;
    if (level === 'block' && backends.length === 0) {
      level = hasCommand ? 'command' : 'alert';
      report(
        key,
        at(key),
        'contradiction',
        `${key}="1" but neither KILL_ROUTE nor KILL_HOSTS_DENY is set: nothing can block, so ${proto} probes ${hasCommand ? 'only run KILL_RUN_CMD' : 'only alert'}`,
        true,
      );
    } else if (level === 'command' && !hasCommand) {
      level = 'alert';
      report(
        key,
        at(key),
        'contradiction',
        `${key}="2" runs KILL_RUN_CMD, which is not set: ${proto} probes only alert`,
        true,
      );
    }
    config.respond[proto] = level;
    if (proto === 'udp') {
      // Setting BLOCK_UDP="1" is the operator's explicit choice to block on unverified UDP sources.
      config.detect.blockUnverifiedUdp = level === 'block';
      if (level === 'block')
        notes.push(
          'BLOCK_UDP="1": UDP probes block (detect.block_unverified_udp = true; a UDP source can be forged).',
        );
    }
  }

  return {
    ...finish(config, problems, {
      file,
      lineOf: (path) => entries.get(path)?.line,
      renamePath: (path) => TOML_TO_PORTSENTRY[path] ?? path,
      ignoreFilePath: () => 'IGNORE_FILE',
    }),
    notes,
  };
}

/** `"value"` (up to the next quote, as PortSentry reads it), `'value'`, or a bare value. */
function unquote(text: string, warn: (code: string, message: string) => void): string {
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const end = text.indexOf(quote, 1);
    if (end < 0) {
      warn('syntax', 'missing closing quote');
      return text.slice(1).trim();
    }
    const rest = text.slice(end + 1).trim();
    if (rest !== '' && !rest.startsWith('#'))
      warn('trailing-text', `text after the closing quote is ignored: ${rest}`);
    return text.slice(1, end);
  }
  warn('missing-quotes', 'PortSentry 1.2 skipped values without quotes; portsentinel reads it');
  return text.replace(/\s+#.*$/, '').trim();
}
