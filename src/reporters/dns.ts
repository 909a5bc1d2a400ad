// Reverse DNS for log lines (PortSentry's RESOLVE_HOST). The PTR record is chosen by whoever owns
// the attacker's address block, so the name is hostile data: it is reduced to [A-Za-z0-9.-],
// capped at 253 characters, and dropped if it looks like an IP address (a PTR of "192.0.2.1"
// would make NAME/IP lines name the wrong host). It is only ever used in log text; it never
// reaches a command, a shell or a mail header. Lookups have a timeout, a bounded number in
// flight, and an LRU cache (negative answers cached too), so a scan of many ports costs one query.

import { Resolver } from 'node:dns/promises';
import { isIp } from '../core/address.js';

export const MAX_HOSTNAME = 253;

/** The displayable form of a PTR name, or undefined when nothing trustworthy is left. */
export function sanitizeHostname(raw: string): string | undefined {
  const name = raw
    .replace(/[^A-Za-z0-9.-]/g, '')
    .replace(/\.+$/, '')
    .slice(0, MAX_HOSTNAME);
  if (name === '' || /^[.-]/.test(name) || isIp(name)) return undefined;
  return name;
}

export interface PtrResolver {
  reverse(ip: string): Promise<string[]>;
}

export interface ReverseDnsOptions {
  timeoutMs: number;
  /** Cached answers (LRU). Default 4096. */
  cacheSize?: number;
  /** How long an answer is reused, ms. Default 1 h. */
  ttlMs?: number;
  /** Lookups in flight; beyond that the address is logged without a name. Default 32. */
  maxInFlight?: number;
  resolver?: PtrResolver;
  now?: () => number;
}

export class ReverseDns {
  private readonly cache = new Map<string, { name: string | undefined; at: number }>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  private readonly resolver: PtrResolver;
  private readonly now: () => number;
  readonly counters = { hits: 0, lookups: 0, timeouts: 0, failures: 0, refused: 0 };

  constructor(private readonly options: ReverseDnsOptions) {
    this.resolver = options.resolver ?? new Resolver({ timeout: options.timeoutMs, tries: 1 });
    this.now = options.now ?? Date.now;
  }

  /** The cached name, without waiting (undefined: unknown or none). */
  peek(ip: string): string | undefined {
    return this.fresh(ip)?.name;
  }

  /** Resolves `ip` to a sanitised name; never rejects, never takes longer than the timeout. */
  async lookup(ip: string): Promise<string | undefined> {
    const cached = this.fresh(ip);
    if (cached) {
      this.counters.hits++;
      this.cache.delete(ip);
      this.cache.set(ip, cached);
      return cached.name;
    }
    const pending = this.inFlight.get(ip);
    if (pending) return pending;
    if (this.inFlight.size >= (this.options.maxInFlight ?? 32)) {
      this.counters.refused++;
      return undefined;
    }
    const job = this.query(ip).finally(() => this.inFlight.delete(ip));
    this.inFlight.set(ip, job);
    return job;
  }

  private fresh(ip: string): { name: string | undefined; at: number } | undefined {
    const entry = this.cache.get(ip);
    if (!entry) return undefined;
    if (this.now() - entry.at > (this.options.ttlMs ?? 3_600_000)) {
      this.cache.delete(ip);
      return undefined;
    }
    return entry;
  }

  private async query(ip: string): Promise<string | undefined> {
    this.counters.lookups++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
    });
    let name: string | undefined;
    try {
      const answer = await Promise.race([this.resolver.reverse(ip), timeout]);
      if (answer === 'timeout') this.counters.timeouts++;
      else name = answer.map(sanitizeHostname).find((n) => n !== undefined);
    } catch {
      this.counters.failures++;
    } finally {
      clearTimeout(timer);
    }
    this.remember(ip, name);
    return name;
  }

  private remember(ip: string, name: string | undefined): void {
    this.cache.delete(ip);
    this.cache.set(ip, { name, at: this.now() });
    const max = this.options.cacheSize ?? 4096;
    while (this.cache.size > max) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
  }
}
