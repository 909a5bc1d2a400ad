// One long-lived `nft -i` child, so a ban costs a line written to a pipe instead of a process
// spawn (fork+exec+netlink cache fill is several milliseconds; a line is tens of microseconds).
//
// How we learn whether a batch worked: nft -i runs each input line as one transaction and prints
// errors to stderr, echoing the offending line. After every batch we write a sentinel line that
// is a deliberate syntax error naming a unique token (`ps_sync_<n>`): a parse error never touches
// the kernel, so it is nearly free, and since stderr is one ordered stream, whatever stderr text
// arrives before the sentinel's echo belongs to the batch. No error text = the batch committed.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { killGroup } from './spawn.js';

export interface BatchOutcome {
  ok: boolean;
  /** nft's error text (without the sentinel's own error), when not ok. */
  error?: string;
}

interface Pending {
  token: string;
  resolve: (outcome: BatchOutcome) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A batch that gets no answer within this time kills the session (the caller falls back). */
const BATCH_TIMEOUT_MS = 15_000;

export class NftSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending: Pending[] = [];
  private stderrBuffer = '';
  /** Error lines of the batch at the head of the queue, collected until its sentinel shows up. */
  private batchErrors: string[] = [];
  /** The sentinel's caret line follows its echo; skip it. */
  private skipCaretLine = false;
  private seq = 0;
  private exited = false;
  private closing = false;

  constructor(
    private readonly argv: string[],
    private readonly onExit: (reason: string) => void = () => {},
  ) {}

  get alive(): boolean {
    return this.child !== undefined && !this.exited;
  }

  /** Starts the child and proves it answers (an empty batch); rejects when it cannot. */
  async start(): Promise<void> {
    const [file, ...args] = this.argv;
    if (file === undefined) throw new Error('empty nft argv');
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child = child;
    child.stdout.on('data', () => {}); // nothing we send prints to stdout; drain anyway
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => this.onStderr(chunk));
    child.stdin.on('error', () => {}); // EPIPE after the child died; 'exit' reports it
    child.on('error', (err) => this.fail(`nft session: ${err.message}`));
    child.on('exit', (code, signal) => this.fail(`nft session exited (${signal ?? `code ${code}`})`));
    // A short probe: an nft that does not answer our sentinel the way we expect fails fast.
    await this.exec('', 3000);
  }

  /** Runs one line (one transaction); '' just round-trips. Rejects when the session died. */
  exec(line: string, timeoutMs = BATCH_TIMEOUT_MS): Promise<BatchOutcome> {
    if (line.includes('\n')) return Promise.reject(new Error('nft session: a batch must be one line'));
    const child = this.child;
    if (!child || this.exited) return Promise.reject(new Error('nft session is not running'));
    const token = `ps_sync_${++this.seq}`;
    return new Promise<BatchOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(`nft session: no answer within ${timeoutMs} ms`);
      }, timeoutMs);
      this.pending.push({ token, resolve, reject, timer });
      child.stdin.write(line === '' ? `${token}\n` : `${line}\n${token}\n`);
    });
  }

  /** Ends the session: closes stdin (nft exits on end of input), kills it if it lingers. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    this.closing = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        killGroup(child.pid);
        resolve();
      }, 2000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin.end();
    });
  }

  private onStderr(chunk: string): void {
    this.stderrBuffer += chunk;
    let nl = this.stderrBuffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.stderrBuffer.slice(0, nl);
      this.stderrBuffer = this.stderrBuffer.slice(nl + 1);
      this.onLine(line);
      nl = this.stderrBuffer.indexOf('\n');
    }
  }

  private onLine(line: string): void {
    if (this.skipCaretLine) {
      this.skipCaretLine = false;
      if (/^\s*\^+\s*$/.test(line)) return;
    }
    const head = this.pending[0];
    if (head && line === head.token) {
      this.pending.shift();
      clearTimeout(head.timer);
      // The line before the echo is the sentinel's own "Error: syntax error ..." line.
      const last = this.batchErrors.at(-1);
      if (last?.startsWith('Error:')) this.batchErrors.pop();
      const errors = this.batchErrors;
      this.batchErrors = [];
      this.skipCaretLine = true;
      const failed = errors.some((l) => l.startsWith('Error:'));
      head.resolve(failed ? { ok: false, error: summarise(errors) } : { ok: true });
      return;
    }
    this.batchErrors.push(line);
    // Bound memory if nft keeps complaining without our sentinel ever arriving.
    if (this.batchErrors.length > 200) this.batchErrors.splice(0, this.batchErrors.length - 200);
  }

  private fail(reason: string): void {
    const wasAlive = !this.exited;
    this.exited = true;
    killGroup(this.child?.pid);
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
    if (wasAlive && !this.closing) this.onExit(reason);
  }
}

/** nft's error output is "Error: ...", the input line, a caret line; keep the messages, short. */
function summarise(lines: string[]): string {
  const messages = lines.filter((l) => l.startsWith('Error:')).map((l) => l.slice('Error:'.length).trim());
  const text = [...new Set(messages)].join('; ');
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}
