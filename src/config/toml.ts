// Reads portsentinel.toml: parse with smol-toml, then walk the document against SCHEMA, converting
// each value and collecting every problem (unknown keys with a did-you-mean, wrong types, bad
// ports/CIDRs/durations), then the cross-key checks. Keys left out keep their defaults.

import { parse, TomlError } from 'smol-toml';
import { defaultConfig } from './defaults.js';
import { type ConfigResult, finish } from './finish.js';
import {
  ALL_KEY_PATHS,
  SCHEMA,
  SECTION_KEYS,
  type SectionSpec,
  sectionProps,
  snakeToCamel,
} from './schema.js';
import { closest } from './suggest.js';
import { indexTomlLines, lineOf } from './toml-lines.js';
import type { Config, ConfigProblem } from './types.js';
import { convertValue } from './values.js';

const SECTIONS = new Map<string, SectionSpec>(SCHEMA.map((s) => [s.key, s]));

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The object inside `config` that holds the fields of a TOML table. */
export function sectionTarget(config: Config, sectionKey: string): Record<string, unknown> {
  let target: Record<string, unknown> = config as unknown as Record<string, unknown>;
  for (const prop of sectionProps(sectionKey)) target = target[prop] as Record<string, unknown>;
  return target;
}

function unknownKeyMessage(prefix: string, key: string): string {
  const section = SECTIONS.get(prefix);
  const local = [
    ...(section?.fields.map((f) => f.key) ?? []),
    ...[...SECTION_KEYS]
      .filter((k) => k.startsWith(prefix === '' ? '' : `${prefix}.`))
      .map((k) => k.slice(prefix.length + (prefix ? 1 : 0)))
      .filter((k) => !k.includes('.')),
  ];
  const near = closest(key, local);
  if (near !== undefined) return `unknown key "${key}" (did you mean "${near}"?)`;
  // The right key in the wrong table is a common slip.
  const elsewhere = ALL_KEY_PATHS.find((p) => p.endsWith(`.${key}`));
  if (elsewhere !== undefined)
    return `unknown key "${key}" here (it belongs in [${elsewhere.slice(0, -key.length - 1)}])`;
  const where = prefix === '' ? 'at the top level' : `in [${prefix}]`;
  return `unknown key "${key}" ${where}`;
}

export function parseTomlConfig(text: string, file: string): ConfigResult {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const first = (err.message.split('\n')[0] ?? 'syntax error').trim();
      const message = `${first} (column ${err.column})`;
      return { problems: [{ path: '', code: 'syntax', message, line: err.line, file }] };
    }
    throw err;
  }
  const index = indexTomlLines(text);
  const config = defaultConfig();
  config.origin = { path: file, format: 'toml' };
  const problems: ConfigProblem[] = [];

  const walk = (table: Record<string, unknown>, prefix: string) => {
    const section = SECTIONS.get(prefix);
    for (const [key, value] of Object.entries(table)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (SECTION_KEYS.has(path)) {
        if (isTable(value)) walk(value, path);
        else problems.push({ path, code: 'wrong-type', message: `expected a table [${path}]` });
        continue;
      }
      const field = section?.fields.find((f) => f.key === key);
      if (!section || !field) {
        problems.push({ path, code: 'unknown-key', message: unknownKeyMessage(prefix, key) });
        continue;
      }
      let ok = true;
      const converted = convertValue(field.kind, value, (code, message, options) => {
        if (options?.severity !== 'warning') ok = false;
        problems.push({
          path: path + (options?.at ?? ''),
          code,
          message,
          ...(options?.severity ? { severity: options.severity } : {}),
        });
      });
      if (ok && converted !== undefined) sectionTarget(config, prefix)[snakeToCamel(key)] = converted;
    }
  };
  walk(doc, '');

  return finish(config, problems, {
    file,
    lineOf: (path) => lineOf(index, path),
    ignoreFilePath: (i) => `respond.ignore_files[${i}]`,
  });
}
