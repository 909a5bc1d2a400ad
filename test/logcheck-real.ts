// Runs the real logcheck 1.4.2 (Debian's /usr/sbin/logcheck) on a log and a rule dir, for the
// differential tests and the benchmark. logcheck refuses root, so it runs as user `logcheck`
// (runuser) in a private temp tree: its own state dir, lock file and TMP, so parallel runs and
// the host's real logcheck never meet. `-o -t`: print the report, touch no offsets.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportLevel } from '../src/config/types.js';

export const LOGCHECK = '/usr/sbin/logcheck';

/** Why the real logcheck cannot run here, or undefined when it can. */
export function realLogcheckMissing(): string | undefined {
  if (!existsSync(LOGCHECK)) return `${LOGCHECK} not installed (apt install logcheck)`;
  if (process.getuid?.() !== 0) return 'needs root to run logcheck as user logcheck';
  const id = spawnSync('id', ['-u', 'logcheck'], { encoding: 'utf8' });
  if (id.status !== 0) return 'no user logcheck';
  if (!existsSync('/usr/sbin/runuser')) return 'runuser missing';
  return undefined;
}

function ids(): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', 'logcheck'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'logcheck'], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

export interface RealRun {
  /** The temp tree (log file at `logPath`); removed by `cleanup`. */
  dir: string;
  logPath: string;
  cleanup(): void;
}

/** Makes a temp tree readable by user logcheck, with the log written as `name`. */
export function prepareRealRun(logText: string | Buffer, name = 'syslog'): RealRun {
  const dir = mkdtempSync(join(tmpdir(), 'ps-lc-real-'));
  chmodSync(dir, 0o755);
  const { uid, gid } = ids();
  for (const sub of ['state', 'lock', 'tmp', 'logs']) {
    mkdirSync(join(dir, sub));
    chownSync(join(dir, sub), uid, gid);
  }
  const logPath = join(dir, 'logs', name);
  writeFileSync(logPath, logText, { mode: 0o644 });
  return { dir, logPath, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RealOptions {
  ruleDir: string;
  level: ReportLevel;
  sortUniq?: boolean;
  supportCrackingIgnore?: boolean;
  intro?: boolean;
}

function argsFor(run: RealRun, o: RealOptions): string[] {
  const conf = join(run.dir, `logcheck-${Math.random().toString(36).slice(2)}.conf`);
  // Sourced by logcheck as shell (that is what logcheck does; our reader never does).
  writeFileSync(
    conf,
    [
      `REPORTLEVEL="${o.level}"`,
      `SORTUNIQ=${o.sortUniq ? 1 : 0}`,
      `SUPPORT_CRACKING_IGNORE=${o.supportCrackingIgnore ? 1 : 0}`,
      `INTRO=${o.intro === false ? 0 : 1}`,
      `TMP="${join(run.dir, 'tmp')}"`,
      `LOCKDIR="${join(run.dir, 'lock')}"`,
      `LOCKFILE="${join(run.dir, 'lock', 'logcheck')}"`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const level = o.level === 'paranoid' ? '-p' : o.level === 'server' ? '-s' : '-w';
  return [
    '-u',
    'logcheck',
    '--',
    'env',
    'LC_ALL=C.UTF-8',
    LOGCHECK,
    '-c',
    conf,
    '-o',
    '-t',
    '-l',
    run.logPath,
    '-r',
    o.ruleDir,
    '-S',
    join(run.dir, 'state'),
    level,
  ];
}

/** Runs logcheck synchronously; returns its stdout (the report, or "" when nothing to report). */
export function runRealLogcheck(
  run: RealRun,
  o: RealOptions,
): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('/usr/sbin/runuser', argsFor(run, o), {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: 600_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** The same, asynchronously (the benchmark measures it while the event loop is free). */
export function runRealLogcheckAsync(
  run: RealRun,
  o: RealOptions,
): Promise<{ stdout: string; stderr: string; status: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/sbin/runuser', argsFor(run, o), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        status: code ?? -1,
      }),
    );
  });
}

/** Writes a rule tree: { 'cracking.d/attack': 'pattern\n...' } under a fresh readable dir. */
export function writeRuleTree(root: string, files: Record<string, string>): string {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  for (const [rel, text] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(path, text, { mode: 0o644 });
  }
  return root;
}
