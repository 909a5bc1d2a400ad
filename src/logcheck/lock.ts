// One logcheck run at a time: a lock file holding the owner's PID, created atomically (O_EXCL).
// A lock whose PID no longer runs (a crashed run) is stale and taken over; a live one is
// E_LOCKED. Two runs racing for a stale lock: the rename/unlink dance below lets exactly one win.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { SentinelError } from '../core/errors.js';

export interface RunLock {
  path: string;
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SentinelError('E_IO', `cannot create lock file ${path}`, { cause: err });
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock or throws E_LOCKED (another live run holds it). */
export function acquireRunLock(path: string): RunLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path)) {
      let released = false;
      return {
        path,
        release(): void {
          if (released) return;
          released = true;
          // Remove only our own lock (a takeover after we were presumed dead leaves theirs alone).
          if (ownerOf(path) === process.pid) {
            try {
              unlinkSync(path);
            } catch {
              // already gone
            }
          }
        },
      };
    }
    const owner = ownerOf(path);
    if (owner !== undefined && owner !== process.pid && pidAlive(owner)) {
      throw new SentinelError('E_LOCKED', `another logcheck run (PID ${owner}) holds ${path}`);
    }
    if (owner === undefined) {
      // Being written right now, or garbage: a moment later tells which.
      const again = ownerOf(path);
      if (again !== undefined && pidAlive(again)) {
        throw new SentinelError('E_LOCKED', `another logcheck run (PID ${again}) holds ${path}`);
      }
    }
    // Stale: remove and retry the exclusive create (only one racer's create can succeed).
    try {
      unlinkSync(path);
    } catch {
      // someone else removed it first
    }
  }
  throw new SentinelError('E_LOCKED', `could not take the lock ${path}`);
}
