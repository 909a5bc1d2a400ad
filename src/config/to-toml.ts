// Writes a Config as portsentinel.toml (`portsentinel import-portsentry FILE` prints this). Follows
// SCHEMA, so reading the output back gives the same Config (tested): durations as "1h"-style
// strings ("0" for zero), port lists with ranges collapsed, command templates as argument arrays.

import { formatDuration } from '../core/duration.js';
import { defaultConfig } from './defaults.js';
import { portRuns } from './ports.js';
import { type FieldKind, SCHEMA, snakeToCamel } from './schema.js';
import { sectionTarget } from './toml.js';
import type { Config } from './types.js';

export interface ToTomlOptions {
  /** Comment lines for the top of the file (e.g. what the importer mapped and why). */
  header?: string[];
  /** Only keys whose value differs from the defaults. */
  onlyChanged?: boolean;
}

/** A TOML basic string: JSON's escapes are TOML's, except that TOML also wants DEL escaped. */
export function tomlString(s: string): string {
  return JSON.stringify(s).replace(/\x7f/g, '\\u007f');
}

function formatValue(kind: FieldKind, value: unknown): string {
  switch (kind.type) {
    case 'string':
    case 'enum':
      return tomlString(value as string);
    case 'bool':
    case 'int':
    case 'number':
    case 'port':
      return String(value);
    case 'duration':
      return tomlString(value === 0 ? '0' : formatDuration(value as number));
    case 'ports': {
      const items = portRuns(value as number[]).flatMap(([a, b]) =>
        a === b ? [String(a)] : b === a + 1 ? [String(a), String(b)] : [tomlString(`${a}-${b}`)],
      );
      return `[${items.join(', ')}]`;
    }
    case 'strings':
    case 'argv':
    case 'enums':
    case 'cidrs':
    case 'addresses':
      return `[${(value as string[]).map(tomlString).join(', ')}]`;
  }
}

export function configToToml(config: Config, options: ToTomlOptions = {}): string {
  const defaults = defaultConfig();
  const out: string[] = [];
  for (const line of options.header ?? []) out.push(line === '' ? '#' : `# ${line}`);
  for (const section of SCHEMA) {
    const target = sectionTarget(config, section.key);
    const base = sectionTarget(defaults, section.key);
    const lines: string[] = [];
    for (const field of section.fields) {
      const prop = snakeToCamel(field.key);
      const value = target[prop] ?? base[prop];
      const text = formatValue(field.kind, value);
      if (options.onlyChanged && text === formatValue(field.kind, base[prop])) continue;
      lines.push(`${field.key} = ${text}`);
    }
    if (lines.length === 0) continue;
    if (out.length > 0) out.push('');
    out.push(`[${section.key}]`, ...lines);
  }
  return `${out.join('\n')}\n`;
}
