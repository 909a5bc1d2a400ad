// `portsentinel logcheck` (logcheck's own flags, so an existing cron line carries over) and
// `portsentinel test-rules`. Settings, weakest first: built-in defaults, `--config
// portsentinel.toml`, logcheck.conf (`-c`, or /etc/logcheck/logcheck.conf when readable and no
// --config was given, as logcheck reads it), then the flags. Needs no root: read access to the
// logs and a writable state directory (-S) are enough.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { formatProblems } from '../config/format.js';
import { loadConfig } from '../config/load.js';
import { applyLogcheckConf, parseLogcheckConf } from '../config/logcheck-conf.js';
import type { LogcheckConfig, ReportLevel } from '../config/types.js';
import { errorMessage, SentinelError } from '../core/errors.js';
import { Store } from '../store/store.js';
import type { DeliveryResult, OutgoingReport } from './mailer.js';
import { type CompileRules, compileEre, loadRuleDirs } from './rule-dirs.js';
import { runLogcheck } from './run.js';
import { safeLine } from './safe-text.js';
import { testRules } from './test-rules.js';

export const DEFAULT_LOGCHECK_CONF = '/etc/logcheck/logcheck.conf';
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 64;

/** Injection points for tests; the real CLI uses none. */
export interface LogcheckCliDeps {
  compile?: CompileRules;
  out?: NodeJS.WritableStream;
  err?: (text: string) => void;
  deliver?: (report: OutgoingReport) => Promise<DeliveryResult>;
  now?: () => number;
  /** Host name used instead of asking the system. */
  host?: string;
  /** logcheck.conf read when -c is not given (default /etc/logcheck/logcheck.conf). */
  defaultLogcheckConf?: string;
}

export const LOGCHECK_USAGE = `usage: portsentinel logcheck [-c CFG] [-d] [-h] [-H HOST] [-l LOG] [-L CFG] [-D DIR] [-m MAIL] [-o]
                            [-r DIR] [-s|-p|-w] [-R] [-S DIR] [-t] [--config portsentinel.toml]
 -c CFG       = logcheck.conf to read (plain KEY=value; never executed)
 -d           = debug: print what is read and decided on stderr
 -h, --help   = print this usage information and exit
 -H HOST      = use this hostname in the subject
 -l LOG       = check only this log file
 -L CFG       = logfiles list (logcheck.logfiles format)
 -D DIR       = directory of *.logfiles lists
 -m MAIL      = send the report to this recipient
 -o           = print the report on stdout, send no mail
 -p | -s | -w = report level paranoid | server | workstation
 -r DIR       = rules directory (default /etc/logcheck)
 -R           = add "Reboot:" to the subject
 -S DIR       = state directory: the store is DIR/state.db, the lock DIR/logcheck.lock
 -t           = test: read and report, but do not move the read positions
 -T, -u       = accepted for compatibility, no effect
 -v           = print the version
 --config F   = portsentinel.toml (or portsentry.conf) to take [logcheck] settings from
 --no-sentinel = leave out the sentinel's detections section and own rules (pure logcheck)
Cursors are committed only after the report was accepted by the mail server (or printed).
`;

interface Getopt {
  flags: Set<string>;
  /** Flags in the order given (the last of -p/-s/-w wins, as in logcheck). */
  order: string[];
  values: Map<string, string>;
  long: Map<string, string | true>;
  rest: string[];
}

/** POSIX getopts with logcheck's spec, plus `--name[=value]` long options. */
export function getopt(argv: string[], spec: string, longWithValue: string[] = []): Getopt {
  const withArg = new Set<string>();
  const known = new Set<string>();
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === ':') continue;
    known.add(c);
    if (spec[i + 1] === ':') withArg.add(c);
  }
  const out: Getopt = { flags: new Set(), order: [], values: new Map(), long: new Map(), rest: [] };
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') {
      out.rest.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      if (longWithValue.includes(name)) {
        const v = eq === -1 ? argv[++i] : a.slice(eq + 1);
        if (v === undefined) throw new SentinelError('E_USAGE', `--${name} needs a value`);
        out.long.set(name, v);
      } else {
        if (eq !== -1) throw new SentinelError('E_USAGE', `--${name} takes no value`);
        out.long.set(name, true);
      }
      i++;
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      out.rest.push(a);
      i++;
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (!known.has(c)) throw new SentinelError('E_USAGE', `unknown option -${c}`);
      if (withArg.has(c)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (v === undefined) throw new SentinelError('E_USAGE', `option -${c} needs a value`);
        out.values.set(c, v);
        break;
      }
      out.flags.add(c);
      out.order.push(c);
    }
    i++;
  }
  return out;
}

/** `hostname --short` or `hostname --fqdn`, without a shell; os.hostname() if that fails. */
export function systemHostName(fqdn: boolean): string {
  const r = spawnSync('hostname', [fqdn ? '--fqdn' : '--short'], { encoding: 'utf8', timeout: 5000 });
  const name = r.status === 0 ? r.stdout.trim() : '';
  if (name !== '') return name;
  const h = hostname();
  return fqdn ? h : (h.split('.')[0] ?? h);
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Settings from defaults, --config, logcheck.conf; problems are printed by the caller. */
function effectiveConfig(
  o: Getopt,
  deps: LogcheckCliDeps,
  err: (t: string) => void,
): { logcheck: LogcheckConfig; storePath: string } {
  const tomlPath = o.long.get('config');
  const loaded = loadConfig(typeof tomlPath === 'string' ? tomlPath : undefined);
  if (loaded.problems.length > 0) err(formatProblems(loaded.problems));
  if (!loaded.config) throw new SentinelError('E_CONFIG', 'the configuration has errors');
  let logcheck = loaded.config.logcheck;
  const confPath =
    o.values.get('c') ??
    (tomlPath === undefined && readable(deps.defaultLogcheckConf ?? DEFAULT_LOGCHECK_CONF)
      ? (deps.defaultLogcheckConf ?? DEFAULT_LOGCHECK_CONF)
      : undefined);
  if (confPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(confPath, 'utf8');
    } catch (e) {
      throw new SentinelError('E_CONFIG', `Config file ${confPath} is unreadable or does not exist`, {
        cause: e,
      });
    }
    const parsed = parseLogcheckConf(text, confPath);
    // Cron mails whatever a job prints: the routine "TMP ignored" notices only show with -d.
    const shown = parsed.problems.filter((p) => p.code !== 'ignored-variable' || o.flags.has('d'));
    if (shown.length > 0) err(formatProblems(shown));
    if (parsed.problems.some((p) => p.severity !== 'warning')) {
      throw new SentinelError('E_CONFIG', `${confPath} has errors`);
    }
    logcheck = applyLogcheckConf(logcheck, parsed.values);
  }
  return { logcheck, storePath: loaded.config.store.path };
}

function levelFlag(o: Getopt): ReportLevel | undefined {
  // logcheck's getopts loop: the last of -p/-s/-w wins.
  let level: ReportLevel | undefined;
  for (const f of o.order) {
    if (f === 'p') level = 'paranoid';
    else if (f === 's') level = 'server';
    else if (f === 'w') level = 'workstation';
  }
  return level;
}

/** `portsentinel logcheck ...`; returns the exit status. */
export async function runLogcheckCli(argv: string[], deps: LogcheckCliDeps = {}): Promise<number> {
  const err = deps.err ?? ((t: string) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`));
  const out = deps.out ?? process.stdout;
  let o: Getopt;
  try {
    o = getopt(argv, 'c:dhH:l:L:D:m:opr:RsS:tTuvw', ['config']);
  } catch (e) {
    err(`portsentinel logcheck: ${errorMessage(e)}`);
    err(LOGCHECK_USAGE);
    return EXIT_USAGE;
  }
  if (o.flags.has('h') || o.long.has('help')) {
    out.write(LOGCHECK_USAGE);
    return EXIT_OK;
  }
  if (o.flags.has('v')) {
    out.write('portsentinel logcheck (logcheck 1.4.2 compatible)\n');
    return EXIT_OK;
  }
  for (const name of o.long.keys()) {
    if (name !== 'config' && name !== 'help' && name !== 'no-sentinel') {
      err(`portsentinel logcheck: unknown option --${name}`);
      return EXIT_USAGE;
    }
  }
  if (o.rest.length > 0) {
    err(`portsentinel logcheck: unexpected argument ${o.rest[0]}`);
    return EXIT_USAGE;
  }
  const debug = o.flags.has('d') ? err : () => {};
  let store: Store | undefined;
  try {
    const eff = effectiveConfig(o, deps, err);
    let cfg = eff.logcheck;
    const level = levelFlag(o);
    if (level) cfg = { ...cfg, reportLevel: level };
    const ruleDir = o.values.get('r');
    if (ruleDir !== undefined) cfg = { ...cfg, rulesDir: ruleDir };
    const mailTo = o.values.get('m');
    if (mailTo !== undefined) cfg = { ...cfg, mail: { ...cfg.mail, to: [mailTo] } };
    const noSentinel = o.long.has('no-sentinel');
    if (noSentinel) cfg = { ...cfg, sentinelSummary: false };
    const test = o.flags.has('t');
    const stateDir = o.values.get('S');
    const storePath = stateDir !== undefined ? join(stateDir, 'state.db') : eff.storePath;
    const lockPath = stateDir !== undefined ? lockNextTo(storePath, test) : undefined;
    if (test) {
      // -t changes nothing: an existing store is only read, a missing one is not created.
      if (existsSync(storePath)) store = Store.open(storePath, { readonly: true });
    } else {
      store = Store.open(storePath);
    }
    const logfile = o.values.get('l');
    if (logfile !== undefined && !readable(logfile)) {
      throw new SentinelError('E_IO', `${logfile} does not exist or could not be read`);
    }
    const host = o.values.get('H') ?? deps.host ?? systemHostName(cfg.fqdn);
    debug(`logcheck: level=${cfg.reportLevel} rules=${cfg.rulesDir} store=${storePath} test=${test}`);
    const result = await runLogcheck({
      config: cfg,
      store,
      lockPath: lockPath ?? lockNextTo(storePath, test),
      logfile,
      logfilesList: o.values.get('L'),
      ...(o.values.has('D') && { logfilesDir: o.values.get('D') }),
      test,
      stdout: o.flags.has('o'),
      reboot: o.flags.has('R'),
      host,
      ...(deps.compile && { compile: deps.compile }),
      bundledRules: !noSentinel,
      ...(deps.now && { now: deps.now }),
      out,
      ...(deps.deliver && { deliver: deps.deliver }),
    });
    for (const p of result.ruleProblems)
      err(`${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`);
    for (const p of result.sourceProblems)
      if (p.severity === 'notice') debug(`${p.source}: ${p.message} [${p.code}]`);
    debug(
      `logcheck: ${result.classified.linesRead} lines read, ${result.classified.linesReported} reported, ` +
        `${result.report ? `sent "${result.report.subject}"` : 'nothing to report'}, cursors ${result.committed ? 'committed' : 'untouched'}`,
    );
    return EXIT_OK;
  } catch (e) {
    const code = e instanceof SentinelError ? `${e.code}: ` : '';
    err(`portsentinel logcheck: ${code}${errorMessage(e)}`);
    return EXIT_FAILURE;
  } finally {
    store?.close();
  }
}

/** The lock file beside the store; in test mode only when that directory exists (-t creates nothing). */
function lockNextTo(storePath: string, test: boolean): string | undefined {
  const dir = dirname(storePath);
  if (test && !existsSync(dir)) return undefined;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, 'logcheck.lock');
}

export const TEST_RULES_USAGE = `usage: portsentinel test-rules LOG [--rules DIR] [--level paranoid|server|workstation] [--json] [--no-sentinel]
Shows, for every line of LOG, the report section it lands in and every rule that matched it
(file:line), then how many lines each rule matched and the lines no rule matched.
 --rules DIR   rules directory (default /etc/logcheck)
 --level L     report level (default server)
 --json        one JSON document instead of text
 --no-sentinel without portsentinel's own rule (exactly logcheck's rules)
`;

/** `portsentinel test-rules LOG ...`; returns the exit status. */
export async function runTestRulesCli(argv: string[], deps: LogcheckCliDeps = {}): Promise<number> {
  const err = deps.err ?? ((t: string) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`));
  const out = deps.out ?? process.stdout;
  let o: Getopt;
  try {
    o = getopt(argv, 'h', ['rules', 'level']);
  } catch (e) {
    err(`portsentinel test-rules: ${errorMessage(e)}`);
    return EXIT_USAGE;
  }
  if (o.flags.has('h') || o.long.has('help')) {
    out.write(TEST_RULES_USAGE);
    return EXIT_OK;
  }
  for (const name of o.long.keys()) {
    if (!['rules', 'level', 'json', 'help', 'no-sentinel'].includes(name)) {
      err(`portsentinel test-rules: unknown option --${name}`);
      return EXIT_USAGE;
    }
  }
  const [log, ...extra] = o.rest;
  if (log === undefined || extra.length > 0) {
    err(TEST_RULES_USAGE);
    return EXIT_USAGE;
  }
  const level = (o.long.get('level') ?? 'server') as string;
  if (level !== 'paranoid' && level !== 'server' && level !== 'workstation') {
    err(`portsentinel test-rules: --level must be paranoid, server or workstation`);
    return EXIT_USAGE;
  }
  const rulesOpt = o.long.get('rules');
  const ruleDir = typeof rulesOpt === 'string' ? rulesOpt : '/etc/logcheck';
  try {
    const text = readFileSync(log, 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const compile = deps.compile ?? compileEre;
    const loaded = loadRuleDirs(ruleDir, {
      level,
      supportCrackingIgnore: false,
      compile,
      bundled: !o.long.has('no-sentinel'),
    });
    for (const p of loaded.problems)
      err(`${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`);
    const r = testRules(lines, loaded, compile, ruleDir);
    if (o.long.has('json')) {
      out.write(`${JSON.stringify(r, null, 2)}\n`);
      return EXIT_OK;
    }
    const w = (s: string): boolean => out.write(`${s}\n`);
    for (const v of r.lines) {
      w(safeLine(v.line));
      w(`  => ${v.sections.length > 0 ? v.sections.join('; ') : 'not reported'}`);
      for (const rule of v.rules) w(`     matched ${rule}`);
    }
    w('');
    w(
      `Lines: ${r.lines.length}, reported: ${r.reported}, not reported: ${r.ignored}, matched by no rule: ${r.unmatched.length}`,
    );
    w('');
    w('Rules that matched (lines):');
    for (const c of r.counts) w(`  ${String(c.lines).padStart(7)}  ${c.rule}`);
    w('');
    w('Lines no rule matched:');
    for (const l of r.unmatched) w(`  ${safeLine(l)}`);
    return EXIT_OK;
  } catch (e) {
    err(`portsentinel test-rules: ${errorMessage(e)}`);
    return EXIT_FAILURE;
  }
}
