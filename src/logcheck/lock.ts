// One logcheck run at a time: a lock file holding the owner's PID.
//
// The lock is never seen empty: the PID is written to a private temp file first, which is then
// link()ed to the lock path (atomic, fails with EEXIST when a lock exists). A lock whose PID no
// longer runs (a crashed run) is stale and taken over; a live one is E_LOCKED. Taking over never
// removes a fresh lock by mistake: the stale file is rename()d to a unique name first (only one
// racer can move a given file), and unlinked only if the moved file still names the dead PID;
// otherwise (a new lock slipped in between our read and our rename) it is put back with link().
// An empty or unreadable lock (written by an older version, or a foreign tool) younger than
// EMPTY_LOCK_GRACE_MS is treated as held. A lock this process already holds is E_LOCKED too
// (its PID is alive, but it is not stale: a second run in the same process, e.g. the daemon's
// timer and a manual trigger, must wait).

import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { SentinelError } from '../core/errors.js';

export interface RunLock {
  path: string;
  release(): void;
}

/** An empty/unreadable lock younger than this is someone else's, being written. */
export const EMPTY_LOCK_GRACE_MS = 5_000;

/** Lock paths held by this process (see acquireRunLock). */
const heldHere = new Set<string>();
let tempCounter = 0;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function uniqueSibling(path: string, what: string): string {
  return `${path}.${what}.${process.pid}.${Date.now()}.${++tempCounter}`;
}

/** Creates the lock holding our PID, never empty; false when a lock exists. */
function tryCreate(path: string): boolean {
  const temp = uniqueSibling(path, 'new');
  try {
    writeFileSync(temp, `${process.pid}\n`, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    throw new SentinelError('E_IO', `cannot create lock file ${temp}`, { cause: err });
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SentinelError('E_IO', `cannot create lock file ${path}`, { cause: err });
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Age of the file in ms; undefined when it is gone. */
function ageOf(path: string): number | undefined {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock that named `deadPid` (undefined: it was empty/garbage) without ever
 * removing a lock another run took in the meantime.
 */
function removeStale(path: string, deadPid: number | undefined): void {
  const moved = uniqueSibling(path, 'stale');
  try {
    renameSync(path, moved);
  } catch {
    return; // gone already: another racer moved it
  }
  if (ownerOf(moved) === deadPid) {
    try {
      unlinkSync(moved);
    } catch {
      // already gone
    }
    return;
  }
  // A live lock was swapped in between our check and our rename: put it back (link fails only if
  // yet another lock appeared, which then rightly stays), and let the caller see it on its retry.
  try {
    linkSync(moved, path);
  } catch {
    // another lock took the path
  }
  try {
    unlinkSync(moved);
  } catch {
    // already gone
  }
}

/** Takes the lock or throws E_LOCKED (another live run, or this process, holds it). */
export function acquireRunLock(path: string): RunLock {
  if (heldHere.has(path)) {
    throw new SentinelError('E_LOCKED', `this process already holds ${path} (a logcheck run is in progress)`);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path)) {
      heldHere.add(path);
      let released = false;
      return {
        path,
        release(): void {
          if (released) return;
          released = true;
          heldHere.delete(path);
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
    // Our own PID without heldHere's entry: a lock left by an earlier process that had our PID
    // (PID reuse, e.g. PID 1 in a container): stale.
    if (owner !== undefined && owner !== process.pid && pidAlive(owner)) {
      throw new SentinelError('E_LOCKED', `another logcheck run (PID ${owner}) holds ${path}`);
    }
    if (owner === undefined) {
      const age = ageOf(path);
      if (age === undefined) continue; // removed meanwhile: try again
      // Empty or unreadable: possibly another tool's lock being written. Held while young.
      if (age < EMPTY_LOCK_GRACE_MS) {
        throw new SentinelError('E_LOCKED', `${path} is being written by another run (empty lock)`);
      }
    }
    // Stale (dead PID, or empty for long): move it aside, check, then remove, and retry.
    removeStale(path, owner);
  }
  throw new SentinelError('E_LOCKED', `could not take the lock ${path}`);
}
