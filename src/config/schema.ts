// The shape of portsentinel.toml, as data: every table, every key, and the kind of value it takes.
// The TOML reader, the TOML writer and the docs all follow this one list, so they cannot drift
// apart. TOML keys are snake_case; each maps onto the camelCase field of `Config` with the same words.

import { ALL_MODES } from '../core/records.js';
import type { BackendName, MailAttach, ReportLevel, ResponseLevel } from './types.js';

export const BACKENDS: readonly BackendName[] = [
  'auto',
  'nftables',
  'iptables',
  'route',
  'hosts-deny',
  'command',
  'dry-run',
];
export const RESPONSE_LEVELS: readonly ResponseLevel[] = ['alert', 'block', 'command'];
export const REPORT_LEVELS: readonly ReportLevel[] = ['paranoid', 'server', 'workstation'];
export const MAIL_ATTACH: readonly MailAttach[] = ['inline', 'attach', 'gzip'];
export const MAIL_TRANSPORTS = ['smtp', 'sendmail', 'stdout'] as const;
export const SYSLOG_FORMATS = ['rfc3164', 'rfc5424'] as const;
export const SYSLOG_FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;
/** Placeholders a command template may use. */
export const PLACEHOLDERS = ['$TARGET$', '$PORT$', '$MODE$', '$PROTOCOL$'] as const;

export type FieldKind =
  | { type: 'string'; required?: boolean }
  | { type: 'bool' }
  | { type: 'int'; min: number; max: number }
  | { type: 'number'; min: number; max: number }
  /** Milliseconds in Config; "90s"/"1h30m" or a number of seconds in TOML. */
  | { type: 'duration'; positive?: boolean }
  | { type: 'port' }
  | { type: 'ports' }
  | { type: 'strings' }
  /** An argument vector; a string is split into words (quotes honoured, no shell). */
  | { type: 'argv' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'enums'; values: readonly string[] }
  | { type: 'cidrs' }
  | { type: 'addresses' };

export interface FieldSpec {
  /** snake_case TOML key. */
  key: string;
  kind: FieldKind;
}

export interface SectionSpec {
  /** TOML table path, e.g. `respond.hosts_deny`. */
  key: string;
  fields: FieldSpec[];
}

const str = (required = false): FieldKind => ({ type: 'string', required });
const bool: FieldKind = { type: 'bool' };
const duration: FieldKind = { type: 'duration' };
const positiveDuration: FieldKind = { type: 'duration', positive: true };
const strings: FieldKind = { type: 'strings' };
const argv: FieldKind = { type: 'argv' };
const enumOf = (values: readonly string[]): FieldKind => ({ type: 'enum', values });
const f = (key: string, kind: FieldKind): FieldSpec => ({ key, kind });

export const SCHEMA: readonly SectionSpec[] = [
  {
    key: 'detect',
    fields: [
      f('modes', { type: 'enums', values: ALL_MODES }),
      f('tcp_ports', { type: 'ports' }),
      f('udp_ports', { type: 'ports' }),
      f('advanced_tcp_limit', { type: 'port' }),
      f('advanced_udp_limit', { type: 'port' }),
      f('advanced_tcp_exclude', { type: 'ports' }),
      f('advanced_udp_exclude', { type: 'ports' }),
      f('threshold', { type: 'int', min: 1, max: 1_000_000 }),
      f('window', positiveDuration),
      f('block_unverified_udp', bool),
      f('banner', str()),
      f('max_sources', { type: 'int', min: 1, max: 100_000_000 }),
      f('resolve_host', bool),
      f('dns_timeout', positiveDuration),
      f('interfaces', strings),
      f('bind_addresses', { type: 'addresses' }),
      f('provisional_ban', duration),
      f('corroborate_ports', { type: 'int', min: 0, max: 65535 }),
      f('nflog_group', { type: 'int', min: 1, max: 65535 }),
      f('evidence_rate', { type: 'int', min: 1, max: 100_000 }),
    ],
  },
  {
    key: 'respond',
    fields: [
      f('backends', { type: 'enums', values: BACKENDS }),
      f('tcp', enumOf(RESPONSE_LEVELS)),
      f('udp', enumOf(RESPONSE_LEVELS)),
      f('ban_duration', duration),
      f('ban_growth', { type: 'number', min: 1, max: 1000 }),
      f('ban_max', duration),
      f('offence_memory', duration),
      f('max_bans_per_minute', { type: 'int', min: 0, max: 1_000_000 }),
      f('dry_run', bool),
      f('ignore', { type: 'cidrs' }),
      f('ignore_files', strings),
      f('reconcile_interval', duration),
      f('command', argv),
      f('command_first', bool),
      f('command_timeout', positiveDuration),
      f('release_command', argv),
      f('route_command', argv),
    ],
  },
  { key: 'respond.nftables', fields: [f('table', str(true)), f('family', enumOf(['inet']))] },
  {
    key: 'respond.iptables',
    fields: [f('chain', str(true)), f('use_ipset', bool), f('ipset_name', str(true))],
  },
  { key: 'respond.route', fields: [] },
  { key: 'respond.hosts_deny', fields: [f('path', str(true)), f('service', str(true)), f('line', str())] },
  {
    key: 'store',
    fields: [
      f('path', str(true)),
      f('retention', duration),
      f('history_file', str()),
      f('blocked_file', str()),
    ],
  },
  {
    key: 'log',
    fields: [
      f('syslog', bool),
      f('syslog_socket', str()),
      f('syslog_format', enumOf(SYSLOG_FORMATS)),
      f('facility', enumOf(SYSLOG_FACILITIES)),
      f('ident', str(true)),
      f('json', bool),
    ],
  },
  { key: 'control', fields: [f('socket', str(true))] },
  {
    key: 'logcheck',
    fields: [
      f('logfiles', strings),
      f('journal', bool),
      f('journal_args', strings),
      f('rules_dir', str(true)),
      f('report_level', enumOf(REPORT_LEVELS)),
      f('support_cracking_ignore', bool),
      f('sort_uniq', bool),
      f('add_tag', bool),
      f('intro', bool),
      f('fqdn', bool),
      f('attack_subject', str()),
      f('security_subject', str()),
      f('events_subject', str()),
      f('interval', duration),
      f('sentinel_summary', bool),
      f('keep_excused_violations', bool),
      f('trim_trailing_space', bool),
    ],
  },
  {
    key: 'logcheck.mail',
    fields: [
      f('to', strings),
      f('from', str()),
      f('transport', enumOf(MAIL_TRANSPORTS)),
      f('attach', enumOf(MAIL_ATTACH)),
      f('sendmail_path', str()),
    ],
  },
  {
    key: 'logcheck.mail.smtp',
    fields: [
      f('host', str()),
      f('port', { type: 'port' }),
      f('secure', bool),
      f('starttls', bool),
      f('user', str()),
      f('password', str()),
    ],
  },
];

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `respond.hosts_deny` -> ['respond', 'hostsDeny']. */
export function sectionProps(sectionKey: string): string[] {
  return sectionKey.split('.').map(snakeToCamel);
}

export const SECTION_KEYS: ReadonlySet<string> = new Set(SCHEMA.map((s) => s.key));

/** Every full key path (`respond.ban_duration`), for did-you-mean across tables. */
export const ALL_KEY_PATHS: readonly string[] = SCHEMA.flatMap((s) =>
  s.fields.map((fl) => `${s.key}.${fl.key}`),
);
