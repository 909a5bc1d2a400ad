// Runs the real daemon (bin/portsentinel run) inside a lab namespace and follows its JSON event
// lines, for `demo`, the end-to-end tests and the benchmarks. Each event is stamped with the
// local receive time (performance clock), so latencies are measured on one clock.

import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentinelError } from '../core/errors.js';
import { controlRequest } from './control.js';

export const BIN_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/portsentinel');

export interface DaemonEvent {
  event: string;
  /** performance.now() when the line arrived. */
  receivedAt: number;
  [key: string]: unknown;
}

type Waiter = { match: (e: DaemonEvent) => boolean; resolve: (e: DaemonEvent) => void };

export class LabDaemon {
  readonly events: DaemonEvent[] = [];
  stderr = '';
  private readonly waiters = new Set<Waiter>();
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly socket: string,
  ) {
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const receivedAt = performance.now();
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let e: DaemonEvent;
        try {
          e = { ...(JSON.parse(line) as Record<string, unknown>), receivedAt } as DaemonEvent;
        } catch {
          continue;
        }
        this.events.push(e);
        for (const w of this.waiters) {
          if (w.match(e)) {
            this.waiters.delete(w);
            w.resolve(e);
          }
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  /** Starts `portsentinel run ARGS` in namespace `ns` and waits until it answers on `socket`. */
  static async start(ns: string, args: string[], socket: string, timeoutMs = 20_000): Promise<LabDaemon> {
    const child = spawn('ip', ['netns', 'exec', ns, BIN_PATH, 'run', ...args, '--socket', socket], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const d = new LabDaemon(child, socket);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new SentinelError(
          'E_DAEMON',
          `daemon exited with status ${child.exitCode}: ${d.stderr.trim()}`,
        );
      }
      try {
        await controlRequest(socket, { op: 'ping' }, 1000);
        return d;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    d.kill('SIGKILL');
    throw new SentinelError('E_TIMEOUT', `daemon did not come up: ${d.stderr.trim()}`);
  }

  /** Resolves with the first event (already seen or future) that matches. */
  waitFor(match: (e: DaemonEvent) => boolean, timeoutMs = 10_000, from = 0): Promise<DaemonEvent> {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolvePromise(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new SentinelError('E_TIMEOUT', `no matching daemon event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  request(req: Parameters<typeof controlRequest>[1]): Promise<unknown> {
    return controlRequest(this.socket, req);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Sends `signal` and waits for the process to exit; returns its exit code (null when killed). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    this.kill(signal);
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
