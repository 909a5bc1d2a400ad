// The config module's public surface: import from here.

export { defaultConfig, PORTSENTRY_TCP_PORTS, PORTSENTRY_UDP_PORTS } from './defaults.js';
export { describeConfig } from './describe.js';
export type { ConfigResult } from './finish.js';
export { formatProblem, formatProblems } from './format.js';
export { type IgnoreFile, readIgnoreFile } from './ignore-file.js';
export {
  type ConfigFormat,
  detectFormat,
  EXIT_CONFIG,
  type LoadResult,
  loadConfig,
  parseConfigText,
} from './load.js';
export { formatPortSpec, type PortSpec, parsePortSpec } from './ports.js';
export {
  looksLikePortsentryConf,
  PORTSENTRY_KEYS,
  type PortsentryResult,
  parsePortsentryConf,
} from './portsentry.js';
export { configToToml, type ToTomlOptions } from './to-toml.js';
export { parseTomlConfig } from './toml.js';
export { type ValidateOptions, validateConfig } from './validate.js';
