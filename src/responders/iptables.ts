// iptables/ip6tables backend, for hosts without nftables userspace. A chain of our own (default
// PORTSENTINEL) in the filter table, jumped to from the top of INPUT and FORWARD: INPUT covers
// traffic to this host, FORWARD the containers/VMs it routes for (the nftables backend's
// prerouting hook covers both; an attacker banned here should not reach a container either).
//
// With ipset (preferred): one `hash:ip` set per family with per-entry timeouts (the kernel lifts
// a ban even when the daemon is down) and one rule per family; changes go through one
// `ipset restore -exist` per call (`-exist`: re-adding updates the timeout, deleting a missing
// entry is not an error). Without ipset: one DROP rule per address, changed through one
// `iptables-restore --noflush` per family and call, after reading the chain to skip duplicates
// and missing rules (a restore aborts on the first bad line).

import { canonicalIp, type Family, ipFamily } from '../core/address.js';
import { SentinelError, UnsupportedError } from '../core/errors.js';
import type {
  ActionResult,
  BanTarget,
  ReconcileReport,
  Responder,
  ResponderContext,
  RunResult,
} from './contract.js';

/** ipset's largest per-entry timeout (seconds); longer bans are stored without timeout and lifted by the daemon. */
export const IPSET_MAX_TIMEOUT_S = 2_147_483;
const IPSET_MAXELEM = 1_048_576;
const EXPIRY_TOLERANCE_S = 5;
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,24}$/;

export interface IptablesOptions {
  chain: string;
  useIpset: boolean;
  /** Base name of the sets: `${ipsetName}4`, `${ipsetName}6`. */
  ipsetName: string;
}

interface Live {
  address: string;
  /** Remaining seconds, null = no timeout. */
  remainingS: number | null;
}

const TOOLS: Record<Family, { cmd: string; restore: string; host: number }> = {
  4: { cmd: 'iptables', restore: 'iptables-restore', host: 32 },
  6: { cmd: 'ip6tables', restore: 'ip6tables-restore', host: 128 },
};
const HOOKS = ['INPUT', 'FORWARD'] as const;

export class IptablesResponder implements Responder {
  readonly name = 'iptables';
  private ipset = false;

  constructor(
    private readonly ctx: ResponderContext,
    private readonly options: IptablesOptions,
  ) {
    if (!NAME.test(options.chain))
      throw new SentinelError('E_CONFIG', `respond.iptables.chain: bad chain name "${options.chain}"`);
    if (!NAME.test(options.ipsetName)) {
      throw new SentinelError('E_CONFIG', `respond.iptables.ipset_name: bad set name "${options.ipsetName}"`);
    }
  }

  /** True when bans live in ipset sets (decided at init). */
  get usesIpset(): boolean {
    return this.ipset;
  }

  setName(family: Family): string {
    return `${this.options.ipsetName}${family}`;
  }

  async init(): Promise<void> {
    for (const family of [4, 6] as Family[]) {
      const r = await this.ctx.run([TOOLS[family].cmd, '-w', '-S', 'INPUT'], { timeoutMs: 10_000 });
      if (r.code !== 0) throw new UnsupportedError(`iptables: ${TOOLS[family].cmd} unusable: ${first(r)}`);
    }
    this.ipset = false;
    if (this.options.useIpset) {
      const v = await this.ctx.run(['ipset', 'version'], { timeoutMs: 5000 });
      if (v.code === 0) this.ipset = true;
      else this.ctx.log('info', `iptables: ipset unavailable (${first(v)}); one rule per address`);
    }
    await this.ensureStructure();
  }

  async block(targets: BanTarget[]): Promise<ActionResult[]> {
    const now = this.ctx.now();
    const results: ActionResult[] = [];
    const valid: { address: string; family: Family; until: number | null }[] = [];
    for (const t of targets) {
      const address = canonicalIp(t.address);
      const family = address ? ipFamily(address) : undefined;
      if (address && family) valid.push({ address, family, until: t.until });
      else results.push({ address: t.address, ok: false, error: 'not an IP address' });
    }
    if (valid.length === 0) return results;
    if (this.ipset) {
      const lines = valid.map((v) =>
        v.until !== null && v.until <= now
          ? `del ${this.setName(v.family)} ${v.address}`
          : this.addLine(v, now),
      );
      const outcome = await this.ipsetRestore(lines);
      return [...results, ...valid.map((v) => withOutcome(v.address, outcome))];
    }
    return [...results, ...(await this.editRulesPerFamily(valid, 'add'))];
  }

  async release(addresses: string[]): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    const valid: { address: string; family: Family }[] = [];
    for (const a of addresses) {
      const address = canonicalIp(a);
      const family = address ? ipFamily(address) : undefined;
      if (address && family) valid.push({ address, family });
      else results.push({ address: a, ok: false, error: 'not an IP address' });
    }
    if (valid.length === 0) return results;
    if (this.ipset) {
      const outcome = await this.ipsetRestore(valid.map((v) => `del ${this.setName(v.family)} ${v.address}`));
      return [...results, ...valid.map((v) => withOutcome(v.address, outcome))];
    }
    return [...results, ...(await this.editRulesPerFamily(valid, 'delete'))];
  }

  /** Without ipset: one iptables-restore per address family, adding or deleting DROP rules. */
  private async editRulesPerFamily(
    valid: { address: string; family: Family }[],
    op: 'add' | 'delete',
  ): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    for (const family of [4, 6] as Family[]) {
      const mine = valid.filter((v) => v.family === family).map((v) => v.address);
      if (mine.length === 0) continue;
      const outcome = await this.editRules(family, op === 'add' ? mine : [], op === 'delete' ? mine : []);
      results.push(...mine.map((address) => withOutcome(address, outcome)));
    }
    return results;
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const family of [4, 6] as Family[])
      out.push(...(await this.listFamily(family)).map((l) => l.address));
    return out;
  }

  async reconcile(active: BanTarget[]): Promise<ReconcileReport> {
    const report: ReconcileReport = { applied: [], removed: [], errors: [] };
    try {
      await this.ensureStructure();
    } catch (err) {
      report.errors.push((err as Error).message);
      return report;
    }
    const now = this.ctx.now();
    const wanted = new Map<string, { address: string; family: Family; until: number | null }>();
    for (const t of active) {
      const address = canonicalIp(t.address);
      const family = address ? ipFamily(address) : undefined;
      if (!address || !family) report.errors.push(`${t.address}: not an IP address`);
      else if (t.until === null || t.until > now) wanted.set(address, { address, family, until: t.until });
    }
    for (const family of [4, 6] as Family[]) {
      const live = new Map((await this.listFamily(family)).map((l) => [l.address, l]));
      const want = [...wanted.values()].filter((w) => w.family === family);
      const apply = want.filter((w) => {
        const l = live.get(w.address);
        return !l || (this.ipset && !sameExpiry(l.remainingS, this.timeoutS(w.until, now)));
      });
      const orphans = [...live.keys()].filter((a) => !wanted.has(a));
      if (apply.length === 0 && orphans.length === 0) continue;
      const outcome = this.ipset
        ? await this.ipsetRestore([
            ...apply.map((w) => this.addLine(w, now)),
            ...orphans.map((a) => `del ${this.setName(family)} ${a}`),
          ])
        : await this.editRules(
            family,
            apply.map((w) => w.address),
            orphans,
          );
      if (!outcome.ok) {
        report.errors.push(`iptables reconcile (IPv${family}): ${outcome.error}`);
        continue;
      }
      report.applied.push(...apply.map((w) => w.address));
      report.removed.push(...orphans);
    }
    return report;
  }

  async close(): Promise<void> {}

  // ---- structure -----------------------------------------------------------------------------

  /** Creates (or repairs) our sets, our chain and the jumps to it. Idempotent. */
  private async ensureStructure(): Promise<void> {
    const chain = this.options.chain;
    for (const family of [4, 6] as Family[]) {
      const { cmd, restore } = TOOLS[family];
      if (this.ipset) {
        const inet = family === 4 ? 'inet' : 'inet6';
        const r = await this.ctx.run(
          [
            'ipset',
            'create',
            this.setName(family),
            'hash:ip',
            'family',
            inet,
            'timeout',
            '0',
            'maxelem',
            String(IPSET_MAXELEM),
            '-exist',
          ],
          { timeoutMs: 10_000 },
        );
        if (r.code !== 0)
          throw new UnsupportedError(`iptables: cannot create ipset ${this.setName(family)}: ${first(r)}`);
        // In ipset mode the chain holds exactly one rule of ours: (re)declaring it in a
        // --noflush restore flushes and refills it in one commit.
        const rule = await this.ctx.run(
          [cmd, '-w', '-C', chain, '-m', 'set', '--match-set', this.setName(family), 'src', '-j', 'DROP'],
          {
            timeoutMs: 10_000,
          },
        );
        const rules = await this.ctx.run([cmd, '-w', '-S', chain], { timeoutMs: 10_000 });
        const count = rules.stdout.split('\n').filter((l) => l.startsWith(`-A ${chain} `)).length;
        if (rule.code !== 0 || count !== 1) {
          const script = `*filter\n:${chain} - [0:0]\n-A ${chain} -m set --match-set ${this.setName(family)} src -j DROP\nCOMMIT\n`;
          const r2 = await this.ctx.run([restore, '-w', '--noflush'], { input: script, timeoutMs: 10_000 });
          if (r2.code !== 0)
            throw new UnsupportedError(`iptables: cannot set up chain ${chain}: ${first(r2)}`);
        }
      } else {
        const exists = await this.ctx.run([cmd, '-w', '-S', chain], { timeoutMs: 10_000 });
        if (exists.code !== 0) {
          const r = await this.ctx.run([cmd, '-w', '-N', chain], { timeoutMs: 10_000 });
          if (r.code !== 0) throw new UnsupportedError(`iptables: cannot create chain ${chain}: ${first(r)}`);
        }
      }
      for (const hook of HOOKS) {
        const jump = await this.ctx.run([cmd, '-w', '-C', hook, '-j', chain], { timeoutMs: 10_000 });
        if (jump.code === 0) continue;
        const r = await this.ctx.run([cmd, '-w', '-I', hook, '1', '-j', chain], { timeoutMs: 10_000 });
        if (r.code !== 0)
          throw new UnsupportedError(`iptables: cannot jump from ${hook} to ${chain}: ${first(r)}`);
      }
    }
  }

  // ---- ipset ---------------------------------------------------------------------------------

  private timeoutS(until: number | null, now: number): number | null {
    if (until === null) return null;
    const s = Math.max(1, Math.ceil((until - now) / 1000));
    // Beyond ipset's limit: no kernel timeout; the daemon lifts the ban at its end.
    return s > IPSET_MAX_TIMEOUT_S ? null : s;
  }

  private addLine(v: { address: string; family: Family; until: number | null }, now: number): string {
    const s = this.timeoutS(v.until, now);
    return `add ${this.setName(v.family)} ${v.address} timeout ${s ?? 0}`;
  }

  private async ipsetRestore(lines: string[]): Promise<{ ok: boolean; error?: string }> {
    if (lines.length === 0) return { ok: true };
    const r = await this.ctx.run(['ipset', 'restore', '-exist'], {
      input: `${lines.join('\n')}\n`,
      timeoutMs: 60_000,
    });
    return r.code === 0 ? { ok: true } : { ok: false, error: r.timedOut ? 'ipset timed out' : first(r) };
  }

  // ---- rules (no ipset) ----------------------------------------------------------------------

  /** Adds and deletes per-address DROP rules in one restore, skipping what is already so. */
  private async editRules(
    family: Family,
    add: string[],
    del: string[],
  ): Promise<{ ok: boolean; error?: string }> {
    const { restore, host } = TOOLS[family];
    const chain = this.options.chain;
    let present: Set<string>;
    try {
      present = new Set((await this.listFamily(family)).map((l) => l.address));
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    const lines: string[] = [];
    for (const a of new Set(add)) if (!present.has(a)) lines.push(`-A ${chain} -s ${a}/${host} -j DROP`);
    for (const a of new Set(del)) if (present.has(a)) lines.push(`-D ${chain} -s ${a}/${host} -j DROP`);
    if (lines.length === 0) return { ok: true };
    const r = await this.ctx.run([restore, '-w', '--noflush'], {
      input: `*filter\n${lines.join('\n')}\nCOMMIT\n`,
      timeoutMs: 60_000,
    });
    return r.code === 0 ? { ok: true } : { ok: false, error: r.timedOut ? `${restore} timed out` : first(r) };
  }

  // ---- reading -------------------------------------------------------------------------------

  private async listFamily(family: Family): Promise<Live[]> {
    if (this.ipset) {
      const r = await this.ctx.run(['ipset', 'save', this.setName(family)], { timeoutMs: 30_000 });
      if (r.code !== 0) {
        if (/does not exist/.test(r.stderr)) return [];
        throw new SentinelError(
          'E_SPAWN',
          `iptables: cannot read ipset ${this.setName(family)}: ${first(r)}`,
        );
      }
      return parseIpsetSave(r.stdout, this.setName(family));
    }
    const r = await this.ctx.run([TOOLS[family].cmd, '-w', '-S', this.options.chain], { timeoutMs: 30_000 });
    if (r.code !== 0) {
      if (/No chain|does not exist/.test(r.stderr)) return [];
      throw new SentinelError('E_SPAWN', `iptables: cannot read chain ${this.options.chain}: ${first(r)}`);
    }
    return parseRules(r.stdout, this.options.chain);
  }
}

/** `ipset save NAME` lines: `add NAME ADDR [timeout N]` (timeout 0 = none). */
export function parseIpsetSave(text: string, name: string): Live[] {
  const out: Live[] = [];
  for (const line of text.split('\n')) {
    const m = /^add (\S+) (\S+)(?: timeout (\d+))?/.exec(line);
    if (!m || m[1] !== name) continue;
    const address = canonicalIp(m[2] as string);
    if (!address) continue;
    const t = m[3] === undefined ? 0 : Number(m[3]);
    out.push({ address, remainingS: t === 0 ? null : t });
  }
  return out;
}

/** `iptables -S CHAIN` lines of our exact shape: `-A CHAIN -s ADDR/32 -j DROP`. */
export function parseRules(text: string, chain: string): Live[] {
  const out: Live[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 6 || parts[0] !== '-A' || parts[1] !== chain || parts[2] !== '-s') continue;
    if (parts[4] !== '-j' || parts[5] !== 'DROP') continue;
    const address = canonicalIp((parts[3] as string).replace(/\/(32|128)$/, ''));
    if (address) out.push({ address, remainingS: null });
  }
  return out;
}

function sameExpiry(live: number | null, wanted: number | null): boolean {
  if (live === null || wanted === null) return live === wanted;
  return Math.abs(live - wanted) <= EXPIRY_TOLERANCE_S;
}

function first(r: RunResult): string {
  return r.stderr.trim().split('\n')[0] || (r.timedOut ? 'timed out' : `exit ${r.code}`);
}

function withOutcome(address: string, outcome: { ok: boolean; error?: string }): ActionResult {
  return outcome.ok ? { address, ok: true } : { address, ok: false, error: outcome.error ?? 'failed' };
}
