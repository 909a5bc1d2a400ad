// Turns one value read from a config file into its typed form, reporting what is wrong with it.
// Shared by the TOML reader (any TOML value) and the portsentry.conf importer (strings).

import { formatCidr, parseCidr, parseIp } from '../core/address.js';
import { parseDuration } from '../core/duration.js';
import { splitCommandLine, unknownPlaceholders } from './argv.js';
import type { PortSpecError } from './ports.js';
import { parsePortItem, sortedPorts } from './ports.js';
import type { FieldKind } from './schema.js';
import { PLACEHOLDERS } from './schema.js';
import { didYouMean } from './suggest.js';

export type Report = (code: string, message: string, options?: { at?: string; severity?: 'warning' }) => void;

const describe = (v: unknown): string => {
  if (Array.isArray(v)) return 'an array';
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return v instanceof Date ? 'a date' : 'a table';
  return `${typeof v} ${JSON.stringify(v)}`;
};

function expected(report: Report, what: string, value: unknown, at?: string): undefined {
  report('wrong-type', `expected ${what}, got ${describe(value)}`, at === undefined ? undefined : { at });
  return undefined;
}

/** A list of strings, each checked by `each`. A single string is accepted as a one-item list. */
function stringList(value: unknown, report: Report, what: string): string[] | undefined {
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items)) return expected(report, `an array of ${what}`, value);
  const out: string[] = [];
  let ok = true;
  items.forEach((item, i) => {
    if (typeof item !== 'string') {
      ok = false;
      expected(report, what.replace(/s$/, ''), item, `[${i}]`);
    } else out.push(item);
  });
  return ok ? out : undefined;
}

export function convertDuration(value: unknown, report: Report, positive = false): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return expected(report, 'a duration such as "90s", "1h" or "30d"', value);
  }
  const ms = parseDuration(value);
  if (ms === undefined) {
    report(
      'bad-duration',
      `${JSON.stringify(value)} is not a duration (use e.g. "90s", "15m", "1h", "7d", or 0)`,
    );
    return undefined;
  }
  if (positive && ms <= 0) {
    report('bad-duration', 'must be longer than 0');
    return undefined;
  }
  return ms;
}

export function convertPorts(value: unknown, report: Report): number[] | undefined {
  // "1,7,11-15" is accepted as well as [1, 7, "11-15"].
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items)) return expected(report, 'an array of ports (integers or "a-b" ranges)', value);
  const set = new Set<number>();
  let ok = true;
  items.forEach((item: unknown, i) => {
    const at = typeof value === 'string' ? undefined : `[${i}]`;
    const where = at === undefined ? undefined : { at };
    if (typeof item === 'number') {
      if (!Number.isInteger(item)) {
        ok = false;
        report('wrong-type', `${item} is not a whole port number`, where);
      } else if (item < 1 || item > 65_535) {
        ok = false;
        report('bad-port', `port ${item} is outside 1-65535`, where);
      } else set.add(item);
    } else if (typeof item === 'string') {
      const errors: PortSpecError[] = [];
      parsePortItem(item, set, errors);
      for (const e of errors) {
        ok = false;
        report(e.code, e.message, where);
      }
    } else {
      ok = false;
      expected(report, 'a port or an "a-b" range', item, at);
    }
  });
  return ok ? sortedPorts(set) : undefined;
}

export function convertArgv(value: unknown, report: Report): string[] | undefined {
  let argv: string[];
  if (typeof value === 'string') {
    const split = splitCommandLine(value);
    if (split.error !== undefined) {
      report('bad-command', split.error);
      return undefined;
    }
    if (split.shellSyntax !== undefined) {
      report(
        'shell-syntax',
        `uses shell syntax (${split.shellSyntax}); commands run without a shell: put the pipeline in a script and call that`,
      );
      return undefined;
    }
    argv = split.argv;
  } else {
    const list = stringList(value, report, 'strings (an argument vector)');
    if (list === undefined) return undefined;
    argv = list;
  }
  if (argv.length > 0 && argv[0] === '') {
    report('bad-command', 'the program name (first item) is empty');
    return undefined;
  }
  for (const p of unknownPlaceholders(argv, PLACEHOLDERS)) {
    report('bad-placeholder', `unknown placeholder ${p} (known: ${PLACEHOLDERS.join(' ')})`, {
      severity: 'warning',
    });
  }
  return argv;
}

export function convertValue(kind: FieldKind, value: unknown, report: Report): unknown {
  switch (kind.type) {
    case 'string':
      if (typeof value !== 'string') return expected(report, 'a string', value);
      if (kind.required && value.trim() === '') {
        report('required', 'must not be empty');
        return undefined;
      }
      return value;
    case 'bool':
      return typeof value === 'boolean' ? value : expected(report, 'true or false', value);
    case 'int':
    case 'number': {
      if (typeof value !== 'number' || (kind.type === 'int' && !Number.isInteger(value))) {
        return expected(report, kind.type === 'int' ? 'an integer' : 'a number', value);
      }
      if (value < kind.min || value > kind.max) {
        report('bad-range', `${value} is outside ${kind.min}-${kind.max}`);
        return undefined;
      }
      return value;
    }
    case 'duration':
      return convertDuration(value, report, kind.positive);
    case 'port':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return expected(report, 'a port number', value);
      if (value < 1 || value > 65_535) {
        report('bad-port', `port ${value} is outside 1-65535`);
        return undefined;
      }
      return value;
    case 'ports':
      return convertPorts(value, report);
    case 'strings':
      return stringList(value, report, 'strings');
    case 'argv':
      return convertArgv(value, report);
    case 'enum':
      if (typeof value !== 'string') return expected(report, `one of ${kind.values.join(', ')}`, value);
      if (!kind.values.includes(value)) {
        report(
          'bad-enum',
          `"${value}" is not one of ${kind.values.join(', ')}${didYouMean(value, kind.values)}`,
        );
        return undefined;
      }
      return value;
    case 'enums': {
      const list = stringList(value, report, 'strings');
      if (list === undefined) return undefined;
      let ok = true;
      list.forEach((item, i) => {
        if (!kind.values.includes(item)) {
          ok = false;
          report(
            'bad-enum',
            `"${item}" is not one of ${kind.values.join(', ')}${didYouMean(item, kind.values)}`,
            {
              at: `[${i}]`,
            },
          );
        }
      });
      return ok ? list : undefined;
    }
    case 'cidrs': {
      const list = stringList(value, report, 'strings');
      if (list === undefined) return undefined;
      let ok = true;
      list.forEach((item, i) => {
        const at = `[${i}]`;
        if (parseCidr(item)) return;
        const loose = parseCidr(item, true);
        if (loose) {
          report('bad-cidr', `host bits set in ${item}; it means ${formatCidr(loose)}`, {
            at,
            severity: 'warning',
          });
        } else {
          ok = false;
          report('bad-cidr', `"${item}" is not an address or CIDR (e.g. 192.0.2.0/24, 2001:db8::/32)`, {
            at,
          });
        }
      });
      return ok ? list.map((s) => s.trim()) : undefined;
    }
    case 'addresses': {
      const list = stringList(value, report, 'strings');
      if (list === undefined) return undefined;
      let ok = true;
      list.forEach((item, i) => {
        if (!parseIp(item)) {
          ok = false;
          report('bad-address', `"${item}" is not an IPv4 or IPv6 address`, { at: `[${i}]` });
        }
      });
      return ok ? list : undefined;
    }
  }
}
