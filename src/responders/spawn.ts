// The one way portsentinel runs programs: an argument vector (never a shell string), an optional
// prefix (tests run everything inside `ip netns exec NS`), a timeout that kills the whole process
// group, and captured output. Every run is reported to `onRun`, so what was executed is on record.

import { spawn } from 'node:child_process';
import type { Runner, RunResult } from './contract.js';

/** Default time a program may run before its process group is killed. */
export const DEFAULT_RUN_TIMEOUT_MS = 10_000;
/** Captured output per stream is cut beyond this, so a chatty program cannot grow our memory. */
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

export interface RunRecord {
  argv: string[];
  result: RunResult;
  durationMs: number;
}

export interface RunnerOptions {
  /** Called after every run (for logs and tests). */
  onRun?: (record: RunRecord) => void;
  /** Timeout when the caller gives none. */
  defaultTimeoutMs?: number;
}

/**
 * A Runner that executes `[...prefix, ...argv]` directly (execve, no shell).
 * A program that cannot be started resolves with code null and the reason in stderr, so callers
 * handle one shape of failure.
 */
export function makeRunner(prefix: string[] = [], options: RunnerOptions = {}): Runner {
  return (argv, runOptions = {}) => {
    const full = [...prefix, ...argv];
    const timeoutMs = runOptions.timeoutMs ?? options.defaultTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    const started = performance.now();
    return runArgv(full, runOptions.input, timeoutMs).then((result) => {
      options.onRun?.({ argv: full, result, durationMs: performance.now() - started });
      return result;
    });
  };
}

function runArgv(argv: string[], input: string | undefined, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined || file === '') {
      resolve({ code: null, stdout: '', stderr: 'empty argument vector', timedOut: false });
      return;
    }
    // detached: the child leads its own process group, so a timeout kills its children too.
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false });
    const out = new Capture();
    const err = new Capture();
    let timedOut = false;
    let settled = false;
    const finish = (result: RunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      // A descendant that left our process group may hold the pipes open: do not wait for it.
      setTimeout(
        () => finish({ code: null, stdout: out.text(), stderr: err.text(), timedOut }),
        1000,
      ).unref();
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e) => {
      finish({ code: null, stdout: out.text(), stderr: `${err.text()}${e.message}`, timedOut });
    });
    child.on('close', (code) => {
      finish({ code: timedOut ? null : code, stdout: out.text(), stderr: err.text(), timedOut });
    });
    // A child that exits without reading its input makes stdin emit EPIPE: not our failure.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Kills a process group (negative pid); the group may already be gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already exited
    }
  }
}

class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  push(chunk: Buffer): void {
    if (this.size >= MAX_CAPTURE_BYTES) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** One line for logs: the argv, quoted where needed, so a reader can re-run it by hand. */
export function describeArgv(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
