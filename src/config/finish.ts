// The last steps every config format shares: read the ignore files it names, run the cross-key
// checks, stamp each problem with its file and line, and return a config only if nothing is wrong.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { readIgnoreFile } from './ignore-file.js';
import type { Config, ConfigProblem } from './types.js';
import { crossKeyProblems } from './validate.js';

export interface ConfigResult {
  config?: Config;
  problems: ConfigProblem[];
}

export function isError(p: ConfigProblem): boolean {
  return p.severity !== 'warning';
}

/** Relative ignore files are read from the config file's directory; the config keeps the full path. */
export function checkIgnoreFiles(
  config: Config,
  configFile: string,
  pathOf: (i: number) => string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const base = configFile === '' ? process.cwd() : dirname(resolve(configFile));
  config.respond.ignoreFiles = config.respond.ignoreFiles.map((p, i) => {
    const full = isAbsolute(p) ? p : resolve(base, p);
    let text: string;
    try {
      text = readFileSync(full, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(
        code === 'ENOENT'
          ? { path: pathOf(i), code: 'missing-file', message: `ignore file ${full} does not exist` }
          : {
              path: pathOf(i),
              code: 'unreadable',
              message: `cannot read ignore file ${full}: ${code ?? err}`,
            },
      );
      return full;
    }
    problems.push(...readIgnoreFile(text, full).problems);
    return full;
  });
  return problems;
}

export interface FinishOptions {
  file: string;
  /** Line of a key path, when the reader knows it. */
  lineOf: (path: string) => number | undefined;
  /** Renames TOML key paths for messages (portsentry.conf reports its own key names). */
  renamePath?: (path: string) => string;
  ignoreFilePath: (i: number) => string;
}

/** Relative PortSentry-format history/blocked files live next to the config file, like ignore files. */
function resolveStoreFiles(config: Config, configFile: string): void {
  const base = configFile === '' ? process.cwd() : dirname(resolve(configFile));
  const full = (p: string) => (p === '' || isAbsolute(p) ? p : resolve(base, p));
  config.store.historyFile = full(config.store.historyFile);
  config.store.blockedFile = full(config.store.blockedFile);
}

export function finish(config: Config, found: ConfigProblem[], options: FinishOptions): ConfigResult {
  resolveStoreFiles(config, options.file);
  const problems = [...found, ...checkIgnoreFiles(config, options.file, options.ignoreFilePath)];
  // Cross-key checks on a config where some values fell back to defaults would blame the defaults;
  // skip those whose key already has a problem.
  const rename = options.renamePath ?? ((path: string) => path);
  const reported = new Set(problems.filter(isError).map((p) => p.path.replace(/\[\d+\]$/, '')));
  for (const { involves = [], ...p } of crossKeyProblems(config)) {
    if ([p.path, ...involves].some((k) => reported.has(rename(k)))) continue;
    problems.push({ ...p, path: rename(p.path) });
  }
  const stamped = problems.map((p) => {
    if (p.file !== undefined) return p;
    const line = p.line ?? options.lineOf(p.path);
    return { ...p, file: options.file, ...(line === undefined ? {} : { line }) };
  });
  // Reading order: by line within the config file; the ignore files' own problems after.
  const rank = (p: ConfigProblem) =>
    p.file === options.file ? (p.line ?? Number.MAX_SAFE_INTEGER) : Infinity;
  stamped.sort((a, b) => rank(a) - rank(b));
  return stamped.some(isError) ? { problems: stamped } : { config, problems: stamped };
}
