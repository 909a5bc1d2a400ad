// The subcommands. Each is a name, a help text, its flags and a function from parsed arguments
// to an exit status. Read commands take --json; changes go through the daemon when it runs and
// straight to the store (and backends) when it does not.

import { readFileSync } from 'node:fs';
import { describeConfig } from '../config/describe.js';
import { formatProblems } from '../config/format.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import { parsePortsentryConf } from '../config/portsentry.js';
import { configToToml } from '../config/to-toml.js';
import { canonicalIp } from '../core/address.js';
import { parseDuration } from '../core/duration.js';
import { SentinelError } from '../core/errors.js';
import { ALL_MODES, type Mode } from '../core/records.js';
import { EXIT_CONFIG, runForeground } from '../daemon/daemon.js';
import { Enforcer, manualBan, refuseNeverBlock } from '../daemon/enforcer.js';
import { buildHostNeverBlock } from '../daemon/never-block.js';
import { runLogcheckCli, runTestRulesCli } from '../logcheck/cli.js';
import { createResponders } from '../responders/registry.js';
import { makeRunner } from '../responders/spawn.js';
import type { BanRecord } from '../store/types.js';
import {
  EXIT_FAILURE,
  EXIT_OK,
  flag,
  type OptionSpec,
  type Parsed,
  positionals,
  positiveInt,
  str,
  UsageError,
} from './args.js';
import {
  askDaemon,
  COMMON_HELP,
  COMMON_OPTIONS,
  commandConfig,
  type Io,
  openExistingStore,
  printJson,
  wantsJson,
} from './context.js';
import { formatBan, formatExplain, formatHistory, formatStatus } from './format.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** Extra help lines (flags). */
  help: string;
  run(p: Parsed, io: Io): Promise<number>;
  /** Argument rewriting before parseArgs (PortSentry's single-dash mode flags). */
  preprocess?: (argv: string[]) => string[];
  /** Commands owned elsewhere get the raw argv (they parse their own flags). */
  delegate?: (argv: string[], io: Io) => Promise<number>;
}

const JSON_OPTION: OptionSpec = { json: { type: 'boolean' } };
const JSON_HELP = '      --json          machine-readable output';

/** PortSentry's mode flags `-tcp -udp -stcp -atcp -sudp -audp` → `--mode X`. */
function modeAliases(argv: string[]): string[] {
  return argv.flatMap((a) => {
    const m = /^-(tcp|udp|stcp|atcp|sudp|audp)$/.exec(a);
    return m ? ['--mode', m[1] as string] : [a];
  });
}

function parseModes(values: string[]): Mode[] {
  const modes: Mode[] = [];
  for (const v of values.flatMap((x) => x.split(','))) {
    const m = v.trim();
    if (!m) continue;
    if (!(ALL_MODES as readonly string[]).includes(m)) {
      throw new UsageError(`unknown mode "${m}" (modes: ${ALL_MODES.join(', ')})`);
    }
    if (!modes.includes(m as Mode)) modes.push(m as Mode);
  }
  return modes;
}

function addressArg(text: string): string {
  const address = canonicalIp(text);
  if (!address) throw new UsageError(`not an IP address: "${text}"`);
  return address;
}

function durationArg(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new UsageError(`${name}: not a duration: "${text}" (e.g. 90s, 15m, 1h, 7d; 0 = permanent)`);
  return ms;
}

const run: Command = {
  name: 'run',
  summary: 'run the daemon in the foreground',
  usage: 'portsentinel run [-tcp] [-udp] [-stcp] [-atcp] [-sudp] [-audp] [--mode M,...] [options]',
  options: {
    ...COMMON_OPTIONS,
    mode: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
  },
  help: `${COMMON_HELP}
      --mode M[,M]    detection modes (tcp, udp, stcp, sudp, atcp, audp, trap); default from the config
  -tcp -udp ...       PortSentry's mode flags, any combination, same as --mode
      --dry-run       detect and log, block nothing
SIGHUP reloads the configuration (bans are kept); SIGTERM/SIGINT stop cleanly (bans stay).`,
  preprocess: modeAliases,
  async run(p) {
    positionals(p, []);
    const modeValues = (p.values.mode as string[] | undefined) ?? [];
    const modes = parseModes(modeValues);
    const options: Parameters<typeof runForeground>[0] = {};
    const config = str(p, 'config');
    if (config) options.configPath = config;
    if (modes.length > 0) options.modes = modes;
    const state = str(p, 'state');
    if (state) options.statePath = state;
    const socket = str(p, 'socket');
    if (socket) options.socketPath = socket;
    if (flag(p, 'dry-run')) options.dryRun = true;
    return runForeground(options);
  },
};

const status: Command = {
  name: 'status',
  summary: 'show the daemon, active bans and counters',
  usage: 'portsentinel status [--json] [options]',
  options: { ...COMMON_OPTIONS, ...JSON_OPTION },
  help: `${COMMON_HELP}\n${JSON_HELP}`,
  async run(p, io) {
    positionals(p, []);
    const config = commandConfig(p);
    let result = (await askDaemon(config, { op: 'status' })) as Record<string, unknown> | undefined;
    if (!result) {
      const store = openExistingStore(config);
      try {
        result = { daemon: null, ...store.status(Date.now()), active: store.bans({ state: 'active' }) };
      } finally {
        store.close();
      }
    }
    if (wantsJson(p)) printJson(io, result);
    else io.out(formatStatus(result));
    return EXIT_OK;
  },
};

const history: Command = {
  name: 'history',
  summary: 'list bans, newest first',
  usage: 'portsentinel history [--since DURATION] [--address IP] [--limit N] [--json] [options]',
  options: {
    ...COMMON_OPTIONS,
    ...JSON_OPTION,
    since: { type: 'string' },
    address: { type: 'string' },
    limit: { type: 'string' },
  },
  help: `      --since D       only bans from the last D (e.g. 1h, 7d)
      --address IP    only this address
      --limit N       at most N entries (default 50)
${COMMON_HELP}
${JSON_HELP}`,
  async run(p, io) {
    positionals(p, []);
    const since = durationArg(str(p, 'since'), '--since');
    const addressText = str(p, 'address');
    const address = addressText === undefined ? undefined : addressArg(addressText);
    const limit = positiveInt(str(p, 'limit'), '--limit') ?? 50;
    const config = commandConfig(p);
    const store = openExistingStore(config);
    try {
      const filter: { since?: number; address?: string; limit?: number } = { limit };
      if (since !== undefined) filter.since = Date.now() - since;
      if (address) filter.address = address;
      const bans = store.history(filter);
      if (wantsJson(p)) printJson(io, bans);
      else io.out(formatHistory(bans));
    } finally {
      store.close();
    }
    return EXIT_OK;
  },
};

const explain: Command = {
  name: 'explain',
  summary: 'every decision about an address and why',
  usage: 'portsentinel explain IP [--json] [options]',
  options: { ...COMMON_OPTIONS, ...JSON_OPTION },
  help: `${COMMON_HELP}\n${JSON_HELP}`,
  async run(p, io) {
    const [text] = positionals(p, ['ip']);
    const address = addressArg(text as string);
    const config = commandConfig(p);
    const store = openExistingStore(config);
    try {
      const result = store.explain(address);
      if (wantsJson(p)) printJson(io, result);
      else io.out(formatExplain(address, result));
    } finally {
      store.close();
    }
    return EXIT_OK;
  },
};

/** Offline change: the store and the configured backends, without a daemon. */
async function withOfflineEnforcer<T>(
  p: Parsed,
  io: Io,
  job: (enforcer: Enforcer) => Promise<T>,
): Promise<T> {
  const config = commandConfig(p);
  const { Store } = await import('../store/store.js');
  const store = Store.open(config.store.path);
  const { responders, notes } = await createResponders(config.respond, {
    run: makeRunner([]),
    log: (level, message) => {
      if (level !== 'debug') io.err(`${level}: ${message}`);
    },
    now: () => Date.now(),
  });
  for (const n of notes) io.err(`note: ${n}`);
  const problems: string[] = [];
  const enforcer = new Enforcer(store, responders, config.respond, {
    applied: () => undefined,
    released: () => undefined,
    reconciled: () => undefined,
    problem: (m) => problems.push(m),
  });
  try {
    return await job(enforcer);
  } finally {
    for (const m of problems) io.err(`warning: ${m}`);
    await Promise.allSettled(responders.map((r) => r.close()));
    store.close();
  }
}

const block: Command = {
  name: 'block',
  summary: 'ban an address now',
  usage: 'portsentinel block IP [--for DURATION] [--reason TEXT] [--force] [--json] [options]',
  options: {
    ...COMMON_OPTIONS,
    ...JSON_OPTION,
    for: { type: 'string' },
    reason: { type: 'string' },
    force: { type: 'boolean' },
  },
  help: `      --for D         ban length (e.g. 1h); 0 or absent = permanent
      --reason TEXT   recorded with the ban (default "manual")
      --force         block even an address in the never-block set (loopback, this host,
                      its gateways and resolvers, the ignore list); refused otherwise
${COMMON_HELP}
${JSON_HELP}
Goes through the running daemon; without one, writes the store and applies the backends directly.`,
  async run(p, io) {
    const [text] = positionals(p, ['ip']);
    const address = addressArg(text as string);
    const forMs = durationArg(str(p, 'for'), '--for') ?? null;
    const reason = str(p, 'reason') ?? 'manual';
    const force = flag(p, 'force');
    const config = commandConfig(p);
    let ban = (await askDaemon(config, {
      op: 'block',
      address,
      for: forMs,
      reason,
      ...(force ? { force } : {}),
    })) as BanRecord | undefined;
    let via = 'daemon';
    if (!ban) {
      via = 'offline';
      // The daemon refuses never-block addresses; without one, the same set is built here.
      if (!force) refuseNeverBlock(address, (await buildHostNeverBlock(config)).set, false);
      ban = await withOfflineEnforcer(p, io, async (enforcer) => {
        const now = Date.now();
        const store = enforcer.store;
        const active = store.activeBan(address);
        if (active) await enforcer.release(address, now, 'replaced', 'released', active.id);
        const { record } = await enforcer.ban(manualBan(address, now, forMs, reason), 'block', 'replaced');
        return store.activeBan(address) ?? record;
      });
    }
    if (wantsJson(p)) printJson(io, { via, ban });
    else io.out(`blocked ${formatBan(ban)} (${via})`);
    const failed = Object.entries(ban.backends ?? {}).filter(([, v]) => v !== 'ok');
    return failed.length > 0 && failed.length === Object.keys(ban.backends).length ? EXIT_FAILURE : EXIT_OK;
  },
};

const unblock: Command = {
  name: 'unblock',
  summary: 'lift a ban now',
  usage: 'portsentinel unblock IP [--json] [options]',
  options: { ...COMMON_OPTIONS, ...JSON_OPTION },
  help: `${COMMON_HELP}\n${JSON_HELP}`,
  async run(p, io) {
    const [text] = positionals(p, ['ip']);
    const address = addressArg(text as string);
    const config = commandConfig(p);
    let result = (await askDaemon(config, { op: 'unblock', address })) as
      | { address: string; released: boolean }
      | undefined;
    let via = 'daemon';
    if (!result) {
      via = 'offline';
      result = await withOfflineEnforcer(p, io, async (enforcer) => {
        const store = enforcer.store;
        if (!store.activeBan(address)) {
          // Still lift it from the backends: an orphan entry may exist without a record.
          for (const r of enforcer.backends) await r.release([address]).catch(() => undefined);
          return { address, released: false };
        }
        await enforcer.release(address, Date.now(), 'manual', 'released');
        return { address, released: true };
      });
    }
    if (wantsJson(p)) printJson(io, { via, ...result });
    else io.out(result.released ? `released ${address} (${via})` : `${address} was not banned (${via})`);
    return EXIT_OK;
  },
};

const checkConfig: Command = {
  name: 'check-config',
  summary: 'validate a configuration and list every problem',
  usage: 'portsentinel check-config [--config FILE] [--json]',
  options: { config: { type: 'string', short: 'c' }, ...JSON_OPTION },
  help: `  -c, --config FILE   configuration to check (default: the standard location)\n${JSON_HELP}
Exit status 78 when there are problems (the daemon would refuse to start).`,
  async run(p, io) {
    positionals(p, []);
    const { config, problems } = loadConfig(resolveConfigPath(str(p, 'config')));
    if (wantsJson(p)) {
      printJson(io, { ok: problems.length === 0 && !!config, origin: config?.origin ?? null, problems });
    } else {
      if (problems.length > 0) io.err(formatProblems(problems));
      if (config) {
        const where =
          config.origin.format === 'defaults'
            ? 'built-in defaults'
            : `${config.origin.path} (${config.origin.format})`;
        io.out(
          `configuration OK: ${where}\n${describeConfig(config)
            .map((l) => `  ${l}`)
            .join('\n')}`,
        );
      }
    }
    // Warnings alone leave a usable config (exit 0); any error means the daemon would refuse it.
    return config ? EXIT_OK : EXIT_CONFIG;
  },
};

const importPortsentry: Command = {
  name: 'import-portsentry',
  summary: 'print the TOML equivalent of a portsentry.conf',
  usage: 'portsentinel import-portsentry FILE',
  options: {},
  help: 'Problems in the file are listed on stderr; errors give exit 78. The TOML goes to stdout.',
  async run(p, io) {
    const [file] = positionals(p, ['file']);
    let text: string;
    try {
      text = readFileSync(file as string, 'utf8');
    } catch (err) {
      throw new SentinelError('E_IO', `cannot read ${file}: ${(err as Error).message}`);
    }
    const { config, problems, notes } = parsePortsentryConf(text, file as string);
    if (problems.length > 0) io.err(formatProblems(problems));
    if (!config) return EXIT_CONFIG;
    io.out(configToToml(config, { header: [`imported from ${file}`, ...notes] }));
    return EXIT_OK;
  },
};

const demo: Command = {
  name: 'demo',
  summary: 'two-namespace lab: run the daemon, scan it with nmap, show what happened',
  usage: 'portsentinel demo [--keep-state DIR]',
  options: { 'keep-state': { type: 'string' } },
  help: `      --keep-state DIR  leave the demo's config and state database in DIR
Needs root, iproute2 and nmap. Only documentation addresses inside private namespaces are used.`,
  async run(p, io) {
    positionals(p, []);
    const { runDemo } = await import('./demo.js');
    return runDemo(io, str(p, 'keep-state'));
  },
};

const replay: Command = {
  name: 'replay',
  summary: 'run a pcap/pcapng capture through the detector (nothing enforced) and print the decisions',
  usage: 'portsentinel replay FILE [--local ADDR]... [--json] [--config F]',
  options: { ...COMMON_OPTIONS, ...JSON_OPTION, local: { type: 'string', multiple: true } },
  help: `${COMMON_HELP}
      --local ADDR    an address of the capturing host (repeatable); only packets to these
                      count (default: every destination)
${JSON_HELP} (NDJSON: probes, decisions, summaries, then totals)
The same file gives the same output every time: packet timestamps drive the detector, the
never-block set is loopback plus the configured ignore list, and ports that answered in the
capture (SYN+ACK) are treated as in use.`,
  async run(p, io) {
    const { runReplay } = await import('./replay.js');
    return runReplay(p, io);
  },
};

/** Commands that parse their own flags (logcheck keeps logcheck's own option letters). */
function delegated(name: string, summary: string, fn: (argv: string[]) => Promise<number>): Command {
  return {
    name,
    summary,
    usage: `portsentinel ${name} [flags]  (see portsentinel ${name} --help)`,
    options: {},
    help: '',
    run: async () => EXIT_OK,
    delegate: (argv: string[]) => fn(argv),
  };
}

export const COMMANDS: Command[] = [
  run,
  status,
  history,
  explain,
  block,
  unblock,
  checkConfig,
  importPortsentry,
  demo,
  replay,
  delegated('logcheck', 'read logs, classify with logcheck rules, mail the report', runLogcheckCli),
  delegated('test-rules', 'show which logcheck rules match each line of a log', runTestRulesCli),
];
