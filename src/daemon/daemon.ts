// The daemon: the one place that wires concrete parts together (config, store, host facts,
// detector, responders, sensors, reporters, control socket) and owns signals and timers.
//
// The probe pipeline is synchronous up to the firewall call: sensor → detector.observe →
// store.insertBan → responders. Probe and decision rows are queued and written once per
// event-loop turn (audit-writer.ts). Nothing on it awaits syslog or DNS; the log lines are
// produced afterwards (names resolved asynchronously for the log only).

import { hostname } from 'node:os';
import { formatProblems } from '../config/format.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import type { Config, ConfigProblem } from '../config/types.js';
import { CidrSet, canonicalIp, ipFamily } from '../core/address.js';
import { errorMessage, SentinelError } from '../core/errors.js';
import type { Decision, Mode, ProbeEvent } from '../core/records.js';
import { Detector } from '../detector/detector.js';
import { detectorOptionsFromConfig } from '../detector/options.js';
import { runLogcheck } from '../logcheck/run.js';
import type { Responder } from '../responders/contract.js';
import { createResponders } from '../responders/registry.js';
import { makeRunner } from '../responders/spawn.js';
import { Store } from '../store/store.js';
import type { BanRecord } from '../store/types.js';
import { AuditWriter } from './audit-writer.js';
import { type ControlRequest, type ControlServer, startControlServer } from './control.js';
import { Enforcer, manualBan, refuseNeverBlock } from './enforcer.js';
import { buildHostNeverBlock } from './never-block.js';
import { createOutput, type Output } from './output.js';
import { type RunningSensor, startSensors } from './sensors.js';

export interface DaemonOptions {
  configPath?: string;
  /** Overrides detect.modes (CLI `--mode` / `-tcp -udp ...`). */
  modes?: Mode[];
  /** Overrides store.path (`--state`). */
  statePath?: string;
  /** Forces respond.dryRun (`--dry-run`). */
  dryRun?: boolean;
  /** Overrides control.socket (`--socket`). */
  socketPath?: string;
  /** Where JSON lines and diagnostics go (default process.stdout / process.stderr). */
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
}

/** Exit status of a daemon whose configuration is invalid (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

export class ConfigInvalidError extends SentinelError {
  constructor(readonly problems: ConfigProblem[]) {
    super('E_CONFIG', formatProblems(problems));
    this.name = 'ConfigInvalidError';
  }
}

/** Loads the config and applies the command-line overrides. */
export function prepareConfig(options: DaemonOptions): { config?: Config; problems: ConfigProblem[] } {
  const { config, problems } = loadConfig(resolveConfigPath(options.configPath));
  // Warnings come back with a config; errors without one.
  if (!config) return { problems };
  if (options.modes && options.modes.length > 0) config.detect.modes = [...options.modes];
  if (options.statePath) config.store.path = options.statePath;
  if (options.dryRun) config.respond.dryRun = true;
  if (options.socketPath) config.control.socket = options.socketPath;
  return { config, problems };
}

/** How often detector.tick (ban expiry, burst summaries) and store expiry run. */
const TICK_MS = 500;
/** How often old probes/decisions are pruned (when retention > 0). */
const PRUNE_MS = 3_600_000;

export class Daemon {
  private sensors: RunningSensor[] = [];
  private detector!: Detector;
  private enforcer!: Enforcer;
  private control: ControlServer | undefined;
  private timers: NodeJS.Timeout[] = [];
  private logcheckTimer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  private neverBlockNotes: string[] = [];
  private neverBlock = new CidrSet();
  private responderNotes: string[] = [];
  /** Serialises reload/reconcile/expiry so they never interleave with each other. */
  private maintenance: Promise<unknown> = Promise.resolve();
  /** An expiry job is queued or running: a slow backend must not make every tick queue another. */
  private expiryPending = false;
  /**
   * A Logcheck run is in progress. On the daemon, not in scheduleLogcheck: a reload (SIGHUP)
   * reschedules, and a flag local to the old schedule would let a second run start beside a
   * slow first one.
   */
  private logcheckRunning = false;
  /** Probes whose decisions could not be handled (a store error): logged and counted, never a crash. */
  private probeErrors = 0;

  private constructor(
    private config: Config,
    private readonly options: DaemonOptions,
    private readonly store: Store,
    private output: Output,
  ) {
    this.audit = new AuditWriter(store, (m) => this.output.warn(m));
  }

  private readonly audit: AuditWriter;

  static async start(options: DaemonOptions): Promise<Daemon> {
    const { config, problems } = prepareConfig(options);
    if (!config) throw new ConfigInvalidError(problems);
    const store = Store.open(config.store.path);
    const output = createOutput(config, options);
    const daemon = new Daemon(config, options, store, output);
    try {
      await daemon.boot();
    } catch (err) {
      await daemon.stop().catch(() => undefined);
      throw err;
    }
    return daemon;
  }

  get configuration(): Config {
    return this.config;
  }

  private async boot(): Promise<void> {
    const config = this.config;
    const { responders, notes } = await this.makeResponders(config);
    this.responderNotes = notes;
    this.enforcer = new Enforcer(this.store, responders, config.respond, {
      applied: (ban, outcomes) => this.output.banApplied(ban, outcomes),
      released: (address, reason, outcomes) => this.output.banReleased(address, reason, outcomes),
      reconciled: (backend, report) => this.output.reconciled(backend, report),
      problem: (message) => this.output.warn(message),
    });
    this.detector = await this.makeDetector(config);
    // Reconcile before the traps open: bans from the last run are in force (or released) first;
    // bans of addresses now in the never-block set are released.
    await this.enforcer.reconcile(Date.now(), this.neverBlock);
    this.restoreDetectorBans();
    await this.openSensors(config);
    this.control = await startControlServer(config.control.socket, (req) => this.handle(req));
    this.startTimers();
    this.output.started({
      pid: process.pid,
      config: config.origin,
      modes: config.detect.modes,
      sensors: this.sensors.map((s) => s.summary),
      backends: this.enforcer.backends.map((r) => r.name),
      notes: [...this.responderNotes, ...this.neverBlockNotes],
      dryRun: config.respond.dryRun,
      store: config.store.path,
      socket: config.control.socket,
    });
  }

  private async openSensors(config: Config): Promise<void> {
    this.sensors = await startSensors(config.detect.modes, config, {
      onProbe: (event) => this.onProbe(event),
      onError: (message) => this.output.warn(message),
      neverBlock: this.neverBlock,
    });
    this.reportSensorProblems();
  }

  private async makeResponders(config: Config): Promise<{ responders: Responder[]; notes: string[] }> {
    return createResponders(config.respond, {
      run: makeRunner([]),
      log: (level, message) => this.output.diagnostic(level, message),
      now: () => Date.now(),
    });
  }

  private async makeDetector(config: Config): Promise<Detector> {
    const { set, notes } = await buildHostNeverBlock(config);
    this.neverBlockNotes = notes;
    this.neverBlock = set;
    const memory = config.respond.offenceMemory;
    const options = detectorOptionsFromConfig(config, set, (address) =>
      this.store.offences(address, memory > 0 ? Date.now() - memory : 0),
    );
    return new Detector(options);
  }

  /** One line per sensor for ports that could not be trapped (not one line per port). */
  private reportSensorProblems(): void {
    for (const s of this.sensors) {
      const summary = s.summary as
        | { inUse?: number[]; failed?: { port: number; error: string }[] }
        | undefined;
      if (summary?.inUse?.length) {
        this.output.warn(`${s.modes.join(',')}: ports already in use, skipped: ${summary.inUse.join(', ')}`);
      }
      if (summary?.failed?.length) {
        const list = summary.failed.map((f) => `${f.port} (${f.error})`).join(', ');
        this.output.warn(`${s.modes.join(',')}: ports that could not be bound: ${list}`);
      }
    }
  }

  private restoreDetectorBans(): void {
    for (const ban of this.store.activeBans()) this.detector.restoreBan(ban.address, ban.until, ban.offence);
  }

  private startTimers(): void {
    const tick = setInterval(() => this.tick(), TICK_MS);
    tick.unref();
    this.timers.push(tick);
    if (this.config.store.retention > 0) {
      const prune = setInterval(() => {
        try {
          this.store.prune(Date.now() - this.config.store.retention);
        } catch (err) {
          this.output.warn(`prune: ${errorMessage(err)}`);
        }
      }, PRUNE_MS);
      prune.unref();
      this.timers.push(prune);
    }
    this.scheduleReconcile();
    this.scheduleLogcheck();
  }

  /** The Logcheck report at `logcheck.interval` (0 = left to cron or a systemd timer). */
  private scheduleLogcheck(): void {
    if (this.logcheckTimer) clearInterval(this.logcheckTimer);
    this.logcheckTimer = undefined;
    const every = this.config.logcheck.interval;
    if (every <= 0) return;
    this.logcheckTimer = setInterval(() => {
      if (this.logcheckRunning || this.stopping) return; // a slow mail server must not stack runs up
      this.logcheckRunning = true;
      runLogcheck({ config: this.config.logcheck, store: this.store, host: hostname(), bundledRules: true })
        .then(
          (r) =>
            this.output.info(`logcheck: ${r.report ? `sent "${r.report.subject}"` : 'nothing to report'}`),
          (err) => this.output.warn(`logcheck: ${errorMessage(err)}`),
        )
        .finally(() => {
          this.logcheckRunning = false;
        });
    }, every);
    this.logcheckTimer.unref();
  }

  private scheduleReconcile(): void {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = undefined;
    const every = this.config.respond.reconcileInterval;
    if (every > 0) {
      this.reconcileTimer = setInterval(() => this.serial(() => this.reconcileNow()), every);
      this.reconcileTimer.unref();
    }
  }

  /** Reconciles the backends (never-block addresses released) and drops released bans from the detector. */
  private async reconcileNow(): Promise<void> {
    const released = await this.enforcer.reconcile(Date.now(), this.neverBlock);
    this.forgetReleased(released);
  }

  /** The detector forgets released bans, unless a newer ban for the address is active already. */
  private forgetReleased(addresses: readonly string[]): void {
    for (const address of addresses) if (!this.store.activeBan(address)) this.detector.forgetBan(address);
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const next = this.maintenance.then(job, job);
    this.maintenance = next.catch((err) => this.output.warn(errorMessage(err)));
    return next;
  }

  // ---- the hot path ----------------------------------------------------------------------

  private onProbe(event: ProbeEvent): void {
    if (this.stopping) return;
    let decisions: Decision[];
    try {
      decisions = this.detector.observe(event);
    } catch (err) {
      this.output.warn(`detector: ${errorMessage(err)}`);
      return;
    }
    decisions.forEach((decision, i) => {
      // A store error (disk full, locked database) must not crash a daemon whose sensors call
      // this from an event handler: log it, count it, keep going with the next probe.
      try {
        this.onDecision(decision, event, i === 0);
      } catch (err) {
        this.probeErrors++;
        this.output.error(`probe from ${event.source}: ${errorMessage(err)}`);
      }
    });
  }

  /** `withProbe`: the probe is recorded with its first decision (once, not per decision). */
  private onDecision(decision: Decision, event: ProbeEvent | undefined, withProbe = false): void {
    this.audit.add(withProbe ? event : undefined, decision);
    if (decision.kind === 'block') {
      if (decision.dryRun || this.config.respond.dryRun) {
        this.output.probe(decision.trigger, decision);
        return;
      }
      const level = this.enforcer.levelOf(decision.trigger.protocol);
      const ban = {
        address: decision.source,
        family: ipFamily(decision.source) ?? 4,
        createdAt: decision.at,
        until: decision.until,
        origin: 'detector' as const,
        reason: decision.reason,
        offence: decision.offence,
        evidence: decision.evidence,
        port: decision.trigger.port,
        protocol: decision.trigger.protocol,
        mode: decision.trigger.mode,
      };
      // An escalation (a provisional ban confirmed, a ban renewed): the new record supersedes
      // the old one in the same transaction, so the store keeps one active ban per address.
      // The enforcement starts synchronously (insertBan, first backend call) inside ban(); a
      // store error there arrives in .catch below.
      this.enforcer
        .ban(ban, level, 'superseded')
        .then(({ record, outcomes }) => {
          const backends = Object.fromEntries(
            outcomes.map((o) => [o.backend, o.ok ? 'ok' : `error: ${o.error}`]),
          );
          this.output.probe(decision.trigger, decision, { ...record, backends });
        })
        .catch((err) => {
          // The ban was not recorded (so not enforced): the detector must not believe the
          // address is banned, or it would skip it as 'already-blocked' until the ban "expires".
          this.detector.forgetBan(decision.source);
          this.output.error(`ban ${decision.source}: ${errorMessage(err)}`);
        });
      return;
    }
    if (decision.kind === 'release') {
      this.serial(async () => {
        const active = this.store.activeBan(decision.source);
        if (active && active.until !== null && active.until <= Date.now()) {
          await this.enforcer.release(decision.source, decision.at, decision.reason, 'expired', active.id);
        }
      });
      return;
    }
    if (event) this.output.probe(event, decision);
  }

  private tick(): void {
    if (this.stopping) return;
    const now = Date.now();
    try {
      const { decisions, summaries } = this.detector.tick(now);
      for (const d of decisions) this.onDecision(d, undefined);
      for (const s of summaries) this.output.summary(s);
    } catch (err) {
      this.output.warn(`tick: ${errorMessage(err)}`);
    }
    // One expiry job at a time: with a slow backend, a job per tick would pile up behind it.
    if (this.expiryPending) return;
    this.expiryPending = true;
    this.serial(async () => {
      try {
        this.forgetReleased(await this.enforcer.expire(Date.now()));
      } finally {
        this.expiryPending = false;
      }
    });
  }

  // ---- control ---------------------------------------------------------------------------

  private async handle(req: ControlRequest): Promise<unknown> {
    switch (req.op) {
      case 'ping':
        return { pong: true, pid: process.pid };
      case 'status':
        return this.status();
      case 'reload':
        return this.reload();
      case 'block':
        return this.block(req.address, req.for ?? null, req.reason, req.force === true);
      case 'unblock':
        return this.unblock(req.address, req.reason);
    }
  }

  status(): Record<string, unknown> {
    const now = Date.now();
    return {
      daemon: {
        pid: process.pid,
        startedAt: this.startedAt,
        uptimeMs: now - this.startedAt,
        config: this.config.origin,
        modes: this.config.detect.modes,
        dryRun: this.config.respond.dryRun,
        store: this.config.store.path,
        socket: this.config.control.socket,
        backends: this.enforcer.backends.map((r) => r.name),
        sensors: this.sensors.map((s) => ({ summary: s.summary, counters: s.counters?.() ?? {} })),
        detector: this.detector.stats(),
        probeErrors: this.probeErrors,
        output: this.output.stats(),
      },
      ...this.store.status(now),
      active: this.store.bans({ state: 'active' }),
    };
  }

  /** A manual ban. An address in the never-block set is refused unless `force`. */
  async block(
    addressText: string,
    forMs: number | null,
    reason = 'manual',
    force = false,
  ): Promise<BanRecord> {
    const address = canonicalIp(addressText);
    if (!address) throw new SentinelError('E_ADDRESS', `not an IP address: ${addressText}`);
    refuseNeverBlock(address, this.neverBlock, force);
    return this.serial(async () => {
      const now = Date.now();
      const active = this.store.activeBan(address);
      if (active) await this.enforcer.release(address, now, 'replaced', 'released', active.id);
      // 'replaced' also covers a detector ban made while the old one was being lifted.
      const { record } = await this.enforcer.ban(manualBan(address, now, forMs, reason), 'block', 'replaced');
      this.detector.restoreBan(address, record.until, record.offence);
      return this.store.activeBan(address) ?? record;
    });
  }

  async unblock(addressText: string, reason = 'manual'): Promise<{ address: string; released: boolean }> {
    const address = canonicalIp(addressText);
    if (!address) throw new SentinelError('E_ADDRESS', `not an IP address: ${addressText}`);
    return this.serial(async () => {
      const active = this.store.activeBan(address);
      this.detector.forgetBan(address);
      if (!active) return { address, released: false };
      await this.enforcer.release(address, Date.now(), reason, 'released', active.id);
      return { address, released: true };
    });
  }

  /** SIGHUP: re-read the config; on problems keep running with the old one. Bans are kept. */
  reload(): Promise<{ reloaded: boolean; problems: ConfigProblem[] }> {
    return this.serial(async () => {
      const { config, problems } = prepareConfig(this.options);
      if (!config) {
        this.output.warn(`reload refused, keeping the running configuration:\n${formatProblems(problems)}`);
        return { reloaded: false, problems };
      }
      // The store and the control socket stay where they are for the life of the process.
      config.store.path = this.config.store.path;
      config.control.socket = this.config.control.socket;
      const previous = this.config;
      let made: { responders: Responder[]; notes: string[] };
      try {
        made = await this.makeResponders(config);
      } catch (err) {
        // Nothing has changed yet: the daemon keeps running as it was.
        const message = `reload failed, keeping the running configuration: ${errorMessage(err)}`;
        this.output.error(message);
        return { reloaded: false, problems: [{ path: '', code: 'reload-failed', message }] };
      }
      try {
        await this.switchTo(config, made);
      } catch (err) {
        // The old sensors are closed by now: a daemon left without any would detect nothing.
        // Go back to the configuration that worked and reopen its sensors.
        const message = `reload failed, back to the running configuration: ${errorMessage(err)}`;
        this.output.error(message);
        try {
          await this.switchTo(previous, await this.makeResponders(previous));
        } catch (err2) {
          this.output.error(`cannot restore the previous configuration: ${errorMessage(err2)}`);
        }
        return { reloaded: false, problems: [{ path: '', code: 'reload-failed', message }] };
      }
      this.output.info(`configuration reloaded from ${config.origin.path}`);
      return { reloaded: true, problems: [] };
    });
  }

  /** Closes the sensors and responders, then runs with `config`: new responders, detector, sensors. */
  private async switchTo(config: Config, made: { responders: Responder[]; notes: string[] }): Promise<void> {
    const { responders, notes } = made;
    const old = this.enforcer.backends;
    await Promise.allSettled(this.sensors.map((s) => s.close()));
    this.sensors = [];
    this.config = config;
    this.responderNotes = notes;
    this.enforcer.replace(responders, config.respond);
    await Promise.allSettled(old.map((r) => r.close()));
    this.output.close();
    this.output = createOutput(config, this.options);
    this.detector = await this.makeDetector(config);
    await this.enforcer.reconcile(Date.now(), this.neverBlock);
    this.restoreDetectorBans();
    this.scheduleReconcile();
    this.scheduleLogcheck();
    await this.openSensors(config);
  }

  /** Closes sensors, the control socket, responders and the store. Bans stay in the kernel. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      for (const t of this.timers) clearInterval(t);
      if (this.reconcileTimer) clearInterval(this.reconcileTimer);
      if (this.logcheckTimer) clearInterval(this.logcheckTimer);
      const errors: string[] = [];
      const step = async (what: string, fn: () => unknown) => {
        try {
          await fn();
        } catch (err) {
          errors.push(`${what}: ${errorMessage(err)}`);
        }
      };
      for (const s of this.sensors) await step('sensor', () => s.close());
      if (this.control) await step('control socket', () => this.control?.close());
      await step('pending work', () => this.maintenance);
      for (const r of this.enforcer?.backends ?? []) await step(r.name, () => r.close());
      this.output.stopped(errors);
      await step('output', () => this.output.close());
      await step('audit rows', () => this.audit.flush());
      await step('store', () => this.store.close());
    })();
    return this.stopping;
  }
}

/**
 * Runs the daemon in the foreground until SIGTERM/SIGINT; SIGHUP reloads. Returns the exit
 * status (0 clean, 78 bad config, 1 failure to start).
 */
export async function runForeground(options: DaemonOptions): Promise<number> {
  const stderr = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(options);
  } catch (err) {
    if (err instanceof ConfigInvalidError) {
      stderr(`portsentinel: invalid configuration:\n${err.message}`);
      return EXIT_CONFIG;
    }
    stderr(`portsentinel: cannot start: ${errorMessage(err)}`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('SIGHUP', onHup);
      daemon.stop().then(
        () => resolve(0),
        (err) => {
          stderr(`portsentinel: ${signal} shutdown: ${errorMessage(err)}`);
          resolve(1);
        },
      );
    };
    const onTerm = () => shutdown('SIGTERM');
    const onInt = () => shutdown('SIGINT');
    const onHup = () => {
      daemon.reload().catch((err) => stderr(`portsentinel: reload failed: ${errorMessage(err)}`));
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
  });
}
