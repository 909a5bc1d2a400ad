// Argument parsing for the CLI: node:util parseArgs plus the two things every command needs,
// a usage error (exit 64, EX_USAGE, one clear line, never a stack trace) and `--help`.

import { parseArgs } from 'node:util';
import { SentinelError } from '../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** sysexits.h EX_USAGE: bad flags or arguments. */
export const EXIT_USAGE = 64;
/** sysexits.h EX_UNAVAILABLE: a needed service/program is missing. */
export const EXIT_UNAVAILABLE = 69;

export class UsageError extends SentinelError {
  constructor(message: string) {
    super('E_USAGE', message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** parseArgs in strict mode; its errors become UsageError with the same message. */
export function parse(argv: string[], options: OptionSpec, allowPositionals = true): Parsed {
  try {
    const r = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals,
      strict: true,
    });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? String(err)) : String(err);
    throw new UsageError(message);
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** Exactly `count` positionals named in `names` (for the message). */
export function positionals(p: Parsed, names: string[]): string[] {
  if (p.positionals.length !== names.length) {
    const want = names.length === 0 ? 'no arguments' : names.map((n) => n.toUpperCase()).join(' ');
    throw new UsageError(
      `expected ${want}, got ${p.positionals.length === 0 ? 'none' : p.positionals.join(' ')}`,
    );
  }
  return p.positionals;
}

export function positiveInt(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) <= 0)
    throw new UsageError(`${name} must be a positive integer, got "${text}"`);
  return Number(text);
}
