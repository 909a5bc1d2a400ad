// Command backend: runs an argument-vector template per address, never through a shell.
// Placeholders ($TARGET$, $PORT$, $MODE$, $PROTOCOL$) are substituted inside each argument with
// values we produced ourselves (a canonical address, a number, an enum), so nothing an attacker
// controls can reach the program's argv as anything but those values.
//
// A command's effect cannot be read back, so `list()` is what this process ran successfully and
// not released, and `reconcile()` adopts the active bans without re-running the command (a
// restart must not repeat every notification or append duplicate rules to a foreign firewall);
// it runs the release command for held entries that are no longer active.

import { canonicalIp } from '../core/address.js';
import type { ActionResult, BanTarget, ReconcileReport, Responder, ResponderContext } from './contract.js';
import { describeArgv } from './spawn.js';

export interface CommandOptions {
  /** Backend name: `command` for KILL_RUN_CMD (the daemon's order logic keys on it), `route-command` for a KILL_ROUTE blocker. */
  name?: string;
  argv: string[];
  /** Run when a ban is lifted; [] = nothing to run. */
  releaseArgv?: string[];
  timeoutMs: number;
  /** Commands run in parallel at most this many at a time. */
  concurrency?: number;
}

export const PLACEHOLDERS = ['$TARGET$', '$PORT$', '$MODE$', '$PROTOCOL$'] as const;

/** Substitutes the placeholders in every argument; unknown values become ''. */
export function expandArgv(template: readonly string[], target: BanTarget): string[] {
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    $TARGET$: target.address,
    $PORT$: target.port === undefined ? '' : String(target.port),
    $MODE$: target.mode ?? '',
    $PROTOCOL$: target.protocol ?? '',
  };
  return template.map((arg) =>
    arg.replace(/\$(TARGET|PORT|MODE|PROTOCOL)\$/g, (m) => values[m as keyof typeof values]),
  );
}

export class CommandResponder implements Responder {
  readonly name: string;
  private readonly held = new Map<string, BanTarget>();

  constructor(
    private readonly ctx: ResponderContext,
    private readonly options: CommandOptions,
  ) {
    this.name = options.name ?? 'command';
  }

  async init(): Promise<void> {}

  async block(targets: BanTarget[]): Promise<ActionResult[]> {
    return this.each(targets, async (t) => {
      const result = await this.runFor(this.options.argv, t);
      if (result.ok) this.held.set(t.address, t);
      return result;
    });
  }

  async release(addresses: string[]): Promise<ActionResult[]> {
    const targets = addresses.map(
      (a): BanTarget =>
        this.held.get(canonicalIp(a) ?? a) ?? { address: a, family: a.includes(':') ? 6 : 4, until: null },
    );
    return this.each(targets, async (t) => {
      const releaseArgv = this.options.releaseArgv ?? [];
      const result =
        releaseArgv.length > 0 ? await this.runFor(releaseArgv, t) : { address: t.address, ok: true };
      if (result.ok) this.held.delete(t.address);
      return result;
    });
  }

  async list(): Promise<string[]> {
    return [...this.held.keys()];
  }

  async reconcile(active: BanTarget[]): Promise<ReconcileReport> {
    const report: ReconcileReport = { applied: [], removed: [], errors: [] };
    const now = this.ctx.now();
    const wanted = new Map<string, BanTarget>();
    for (const t of active) {
      const address = canonicalIp(t.address);
      if (!address) report.errors.push(`${t.address}: not an IP address`);
      else if (t.until === null || t.until > now) wanted.set(address, { ...t, address });
    }
    const orphans = [...this.held.keys()].filter((a) => !wanted.has(a));
    for (const r of await this.release(orphans)) {
      if (r.ok) report.removed.push(r.address);
      else report.errors.push(`${r.address}: ${r.error ?? 'release failed'}`);
    }
    for (const [address, t] of wanted) this.held.set(address, t);
    return report;
  }

  async close(): Promise<void> {}

  private async runFor(template: string[], target: BanTarget): Promise<ActionResult> {
    const argv = expandArgv(template, target);
    const r = await this.ctx.run(argv, { timeoutMs: this.options.timeoutMs });
    this.ctx.log(
      'debug',
      `${this.name}: ran ${describeArgv(argv)} -> ${r.timedOut ? 'timeout' : `exit ${r.code}`}`,
    );
    if (r.timedOut)
      return { address: target.address, ok: false, error: `timed out after ${this.options.timeoutMs} ms` };
    if (r.code === 0) return { address: target.address, ok: true };
    const detail = r.stderr.trim().split('\n')[0]?.slice(0, 300) ?? '';
    const status = r.code === null ? 'could not run' : `exit status ${r.code}`;
    return { address: target.address, ok: false, error: detail ? `${status}: ${detail}` : status };
  }

  /** Validates addresses and runs `job` for each, a few at a time; results in input order. */
  private async each(
    targets: BanTarget[],
    job: (t: BanTarget) => Promise<ActionResult>,
  ): Promise<ActionResult[]> {
    const results: ActionResult[] = new Array(targets.length);
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const i = next++;
        const t = targets[i] as BanTarget;
        const address = canonicalIp(t.address);
        results[i] = address
          ? await job({ ...t, address })
          : { address: t.address, ok: false, error: 'not an IP address' };
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency ?? 4, targets.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return results;
  }
}
