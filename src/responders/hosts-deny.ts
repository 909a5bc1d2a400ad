// hosts.deny backend (TCP wrappers). All our lines live in one marked block; every byte outside
// it is left exactly as it was (including a missing final newline, which the BEGIN marker then
// records so removing the block restores the file byte for byte). hosts_access(5) has no
// trailing comments, hence a block between marker lines rather than a comment on each line.
// Rewrites are atomic: a temp file in the same directory, fsync, the original mode and owner,
// rename over the original, fsync of the directory.

import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { canonicalIp, ipFamily } from '../core/address.js';
import { errorMessage, SentinelError, UnsupportedError } from '../core/errors.js';
import type { ActionResult, BanTarget, ReconcileReport, Responder } from './contract.js';

export const HOSTS_DENY_BEGIN = '# BEGIN portsentinel (managed, do not edit)';
/** Used instead when the file did not end with a newline: the newline before it is ours. */
export const HOSTS_DENY_BEGIN_JOINED =
  '# BEGIN portsentinel (managed, do not edit; file had no final newline)';
export const HOSTS_DENY_END = '# END portsentinel';

export interface HostsDenyOptions {
  path: string;
  /** Line template with $TARGET$ (IPv6 written as [addr]); default `ALL: $TARGET$`. */
  line?: string;
}

export interface ParsedHostsDeny {
  /** Bytes before our block (exactly as in the file). */
  before: string;
  /** Bytes after our block. */
  after: string;
  /** Our lines, in file order. */
  lines: string[];
  /** The block was preceded by a newline we added. */
  joined: boolean;
}

/** Splits the file into the bytes we do not own and the lines of our block. */
export function parseHostsDeny(text: string): ParsedHostsDeny {
  const lines = text.split('\n');
  let begin = -1;
  let end = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (begin < 0 && (l === HOSTS_DENY_BEGIN || l === HOSTS_DENY_BEGIN_JOINED)) begin = i;
    else if (begin >= 0 && l === HOSTS_DENY_END) {
      end = i;
      break;
    }
  }
  if (begin < 0 || end < 0) return { before: text, after: '', lines: [], joined: false };
  const joined = lines[begin] === HOSTS_DENY_BEGIN_JOINED;
  const offsetOf = (line: number) => lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0);
  let before = text.slice(0, offsetOf(begin));
  if (joined && before.endsWith('\n')) before = before.slice(0, -1);
  // The END line's newline belongs to the block; when the file ends right after END there is none.
  const afterStart = Math.min(text.length, offsetOf(end + 1));
  return {
    before,
    after: text.slice(afterStart),
    lines: lines.slice(begin + 1, end).filter((l) => l !== ''),
    joined,
  };
}

/** Puts the file back together; no block at all when we hold nothing. */
export function renderHostsDeny(
  parsed: Pick<ParsedHostsDeny, 'before' | 'after' | 'joined'>,
  lines: string[],
): string {
  const { before, after } = parsed;
  // The newline we added before a joined block now ends a line someone wrote after it: keep it.
  if (lines.length === 0) return parsed.joined && after !== '' ? `${before}\n${after}` : before + after;
  const joined = before !== '' && !before.endsWith('\n');
  const begin = joined ? `\n${HOSTS_DENY_BEGIN_JOINED}` : HOSTS_DENY_BEGIN;
  const block = `${begin}\n${lines.join('\n')}\n${HOSTS_DENY_END}\n`;
  // A block in the middle of a file without final newline: `after` keeps its own bytes.
  return before + block + after;
}

function formatTarget(address: string): string {
  return ipFamily(address) === 6 ? `[${address}]` : address;
}

export class HostsDenyResponder implements Responder {
  readonly name = 'hosts-deny';
  private readonly path: string;
  private readonly template: string;
  private readonly matcher: RegExp;
  /** Serialises read-modify-write cycles within this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: HostsDenyOptions) {
    this.path = options.path;
    this.template = options.line && options.line !== '' ? options.line : 'ALL: $TARGET$';
    if (!this.template.includes('$TARGET$') || /[\r\n]/.test(this.template)) {
      throw new SentinelError('E_CONFIG', 'hosts.deny line template must be one line containing $TARGET$');
    }
    const pattern = this.template
      .split('$TARGET$')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\[?([0-9A-Fa-f:.]+)\\]?');
    this.matcher = new RegExp(`^${pattern}$`);
  }

  async init(): Promise<void> {
    const dir = dirname(this.path);
    try {
      await fs.access(dir, constants.W_OK);
    } catch (err) {
      throw new UnsupportedError(`hosts.deny: cannot write in ${dir}: ${errorMessage(err)}`);
    }
  }

  lineFor(address: string): string {
    return this.template.split('$TARGET$').join(formatTarget(address));
  }

  /** The address a line of our block bans (template first, then any address-looking token). */
  addressOf(line: string): string | undefined {
    const m = this.matcher.exec(line);
    if (m?.[1]) {
      const a = canonicalIp(m[1]);
      if (a) return a;
    }
    for (const token of line.split(/[\s,:]+(?![^[]*\])/)) {
      const a = canonicalIp(token.replace(/^\[|\]$/g, ''));
      if (a) return a;
    }
    return undefined;
  }

  async block(targets: BanTarget[]): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    const add: string[] = [];
    for (const t of targets) {
      const a = canonicalIp(t.address);
      if (a) add.push(a);
      else results.push({ address: t.address, ok: false, error: 'not an IP address' });
    }
    if (add.length === 0) return results;
    const outcome = await this.edit((held) => {
      for (const a of add) if (!held.has(a)) held.set(a, this.lineFor(a));
    });
    return [...results, ...add.map((address) => withOutcome(address, outcome))];
  }

  async release(addresses: string[]): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    const drop: string[] = [];
    for (const a of addresses) {
      const c = canonicalIp(a);
      if (c) drop.push(c);
      else results.push({ address: a, ok: false, error: 'not an IP address' });
    }
    if (drop.length === 0) return results;
    const outcome = await this.edit((held) => {
      for (const a of drop) held.delete(a);
    });
    return [...results, ...drop.map((address) => withOutcome(address, outcome))];
  }

  async list(): Promise<string[]> {
    const parsed = parseHostsDeny(await this.read());
    return parsed.lines.map((l) => this.addressOf(l)).filter((a): a is string => a !== undefined);
  }

  async reconcile(active: BanTarget[]): Promise<ReconcileReport> {
    const report: ReconcileReport = { applied: [], removed: [], errors: [] };
    const wanted: string[] = [];
    for (const t of active) {
      const a = canonicalIp(t.address);
      if (a) wanted.push(a);
      else report.errors.push(`${t.address}: not an IP address`);
    }
    const outcome = await this.edit((held) => {
      const want = new Set(wanted);
      for (const a of [...held.keys()]) {
        if (!want.has(a)) {
          held.delete(a);
          report.removed.push(a);
        }
      }
      for (const a of want) {
        if (!held.has(a)) {
          held.set(a, this.lineFor(a));
          report.applied.push(a);
        }
      }
    });
    if (!outcome.ok) {
      report.errors.push(`hosts.deny: ${outcome.error}`);
      report.applied = [];
      report.removed = [];
    }
    return report;
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  /** Read, change our block via `change`, write back atomically if anything changed. */
  private edit(change: (held: Map<string, string>) => void): Promise<{ ok: boolean; error?: string }> {
    const run = async () => {
      try {
        const text = await this.read();
        const parsed = parseHostsDeny(text);
        const held = new Map<string, string>();
        for (const line of parsed.lines) {
          const a = this.addressOf(line);
          // A line in our block we cannot read is ours and stale: dropped on rewrite.
          if (a && !held.has(a)) held.set(a, line);
        }
        change(held);
        const next = renderHostsDeny(parsed, [...held.values()]);
        if (next !== text) await this.write(next);
        return { ok: true };
      } catch (err) {
        return { ok: false, error: errorMessage(err) };
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p;
    return p;
  }

  private async read(): Promise<string> {
    try {
      return await fs.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  private async write(text: string): Promise<void> {
    // Write through a symlink to the real file, so the link stays a link.
    let real = this.path;
    let mode = 0o644;
    let owner: { uid: number; gid: number } | undefined;
    try {
      real = await fs.realpath(this.path);
      const st = await fs.stat(real);
      mode = st.mode & 0o7777;
      owner = { uid: st.uid, gid: st.gid };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const dir = dirname(real);
    const tmp = join(dir, `.${basename(real)}.portsentinel-${process.pid}-${randomBytes(4).toString('hex')}`);
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.chmod(mode);
      if (owner) await handle.chown(owner.uid, owner.gid);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await fs.rm(tmp, { force: true });
      throw err;
    }
    await handle.close();
    try {
      await fs.rename(tmp, real);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    const dirHandle = await fs.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}

function withOutcome(address: string, outcome: { ok: boolean; error?: string }): ActionResult {
  return outcome.ok
    ? { address, ok: true }
    : { address, ok: false, error: outcome.error ?? 'hosts.deny write failed' };
}
