// Loads the one configuration file: TOML (portsentinel.toml) or a PortSentry 1.2 portsentry.conf,
// told apart by content, not by name. Every problem is returned at once; a config comes back only
// when none of them is an error.

import { existsSync, readFileSync } from 'node:fs';
import { defaultConfig } from './defaults.js';
import type { ConfigResult } from './finish.js';
import { looksLikePortsentryConf, parsePortsentryConf } from './portsentry.js';
import { parseTomlConfig } from './toml.js';

/** sysexits.h EX_CONFIG: the exit status of a daemon refused by its configuration. */
export const EXIT_CONFIG = 78;

export type ConfigFormat = 'toml' | 'portsentry';

export function detectFormat(text: string): ConfigFormat {
  return looksLikePortsentryConf(text) ? 'portsentry' : 'toml';
}

export interface LoadResult extends ConfigResult {
  /** What the PortSentry importer mapped and why (empty for TOML). */
  notes: string[];
}

export function parseConfigText(text: string, file: string): LoadResult {
  if (detectFormat(text) === 'portsentry') return parsePortsentryConf(text, file);
  return { ...parseTomlConfig(text, file), notes: [] };
}

/** Where the commands look for the configuration when no --config is given. */
export const DEFAULT_CONFIG_PATH = '/etc/portsentinel/portsentinel.toml';

/** The --config value, else the standard file when it exists, else undefined (built-in defaults). */
export function resolveConfigPath(
  path: string | undefined,
  standard = DEFAULT_CONFIG_PATH,
): string | undefined {
  if (path !== undefined) return path;
  return existsSync(standard) ? standard : undefined;
}

export function loadConfig(path: string | undefined): LoadResult {
  if (path === undefined) return { config: defaultConfig(), problems: [], notes: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, ''); // an editor's byte-order mark
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'no such file'
        : e.code === 'EACCES'
          ? 'permission denied'
          : (e.code ?? e.message);
    return {
      problems: [{ path: '', code: 'unreadable', message: `cannot read config file: ${why}`, file: path }],
      notes: [],
    };
  }
  return parseConfigText(text, path);
}
