// What every command needs besides its own flags: the config (with --state/--socket applied),
// output helpers, and the choice between talking to a running daemon and working offline.

import { existsSync } from 'node:fs';
import { formatProblems } from '../config/format.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import type { Config } from '../config/types.js';
import { SentinelError } from '../core/errors.js';
import { type ControlRequest, controlRequest, NoDaemonError } from '../daemon/control.js';
import { Store } from '../store/store.js';
import { flag, type OptionSpec, type Parsed, str } from './args.js';

/** Flags shared by the commands that read the config, the store or the socket. */
export const COMMON_OPTIONS: OptionSpec = {
  config: { type: 'string', short: 'c' },
  state: { type: 'string' },
  socket: { type: 'string' },
};

export const COMMON_HELP = `  -c, --config FILE   configuration (portsentinel.toml or portsentry.conf)
      --state PATH    state database (overrides store.path)
      --socket PATH   control socket of the daemon (overrides control.socket)`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

export class ConfigError extends SentinelError {
  constructor(message: string) {
    super('E_CONFIG', message);
  }
}

/** The configuration with the command-line overrides; invalid → ConfigError (exit 78). */
export function commandConfig(p: Parsed): Config {
  const { config, problems } = loadConfig(resolveConfigPath(str(p, 'config')));
  if (!config) throw new ConfigError(`invalid configuration:\n${formatProblems(problems)}`);
  const state = str(p, 'state');
  if (state) config.store.path = state;
  const socket = str(p, 'socket');
  if (socket) config.control.socket = socket;
  return config;
}

/** Sends a request to the daemon; undefined when none runs (the caller then works offline). */
export async function askDaemon(config: Config, request: ControlRequest): Promise<unknown | undefined> {
  try {
    return await controlRequest(config.control.socket, request);
  } catch (err) {
    if (err instanceof NoDaemonError) return undefined;
    throw err;
  }
}

/** Opens the store for reading; a missing database is a clear error, not an empty new file. */
export function openExistingStore(config: Config): Store {
  if (!existsSync(config.store.path)) {
    throw new SentinelError(
      'E_STORE',
      `no state database at ${config.store.path} (has the daemon run? see --state)`,
    );
  }
  return Store.open(config.store.path, { readonly: true });
}

export function wantsJson(p: Parsed): boolean {
  return flag(p, 'json');
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
