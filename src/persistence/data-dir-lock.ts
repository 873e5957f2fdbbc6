/**
 * One process per embedded data directory. PGlite opens a directory that another process (or
 * this one) already has open without complaint, and two writers corrupt it; so the directory is
 * locked with a file beside it (`<dir>.lock`, outside the directory so backups never copy it)
 * holding the owner's PID, host, and on Linux the boot id and the process's start time.
 *
 * - Created with `O_EXCL`: of two processes starting at once, one gets it.
 * - Held by a live process (this one included, for a second open in-process): {@link
 *   DataDirectoryLockedError}, naming the directory, the PID and the lock file.
 * - Left behind by a process that is gone (kill -9, power loss): stale, taken over. Gone means:
 *   no process with that PID, or a PID now used by another process (its start time differs), or
 *   written before the last reboot. A lock from another host is never taken over (a network
 *   file system: its process cannot be checked from here).
 */
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/** What the lock file holds. */
export interface DataDirectoryLockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** Linux: `/proc/sys/kernel/random/boot_id` when the lock was written. */
  readonly bootId?: string;
  /** Linux: the owner's start time (`/proc/<pid>/stat` field 22, clock ticks after boot). */
  readonly startTicks?: number;
  readonly since: string;
  readonly directory: string;
}

/** The data directory is open in another live process (or already in this one). */
export class DataDirectoryLockedError extends Error {
  readonly code = 'data-directory-locked';
  constructor(
    readonly directory: string,
    readonly lockFile: string,
    readonly owner: DataDirectoryLockOwner,
  ) {
    const who =
      owner.pid === process.pid && owner.hostname === hostname()
        ? `this process (PID ${owner.pid})`
        : `another process (PID ${owner.pid}${owner.hostname === hostname() ? '' : ` on ${owner.hostname}`})`;
    super(
      `the embedded database ${directory} is already open in ${who} since ${owner.since}: only one Troupe process may use an embedded data directory. ` +
        `Stop that process first, or give this one another data directory (TROUPE_DATA_DIR), or use PostgreSQL (DATABASE_URL) to run several. ` +
        `If PID ${owner.pid} is not a Troupe process, delete ${lockFile}`,
    );
    this.name = 'DataDirectoryLockedError';
  }
}

/** Lock files this process holds (a second open in-process is refused, a leftover of ours is stale). */
const heldHere = new Set<string>();

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const bootId = (): string | undefined => readText('/proc/sys/kernel/random/boot_id');

/** Start time of a process in clock ticks after boot (Linux), undefined when unknown. */
function startTicksOf(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the owner recorded in a lock file may still be running (see the module comment). */
export function ownerIsAlive(owner: DataDirectoryLockOwner, lockFile: string): boolean {
  if (owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid) return heldHere.has(lockFile);
  const boot = bootId();
  if (owner.bootId !== undefined && boot !== undefined && owner.bootId !== boot) return false;
  if (!Number.isInteger(owner.pid) || owner.pid <= 0 || !processExists(owner.pid)) return false;
  const ticks = startTicksOf(owner.pid);
  return owner.startTicks === undefined || ticks === undefined || ticks === owner.startTicks;
}

function parseOwner(text: string | undefined): DataDirectoryLockOwner | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const value = JSON.parse(text) as Partial<DataDirectoryLockOwner>;
    return typeof value.pid === 'number' && typeof value.hostname === 'string' ? (value as DataDirectoryLockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/** A held lock; `release` removes the file (only if it is still ours). */
export interface DataDirectoryLock {
  readonly lockFile: string;
  readonly owner: DataDirectoryLockOwner;
  release(): void;
}

/**
 * Locks `directory` (an absolute path) for this process, taking over a stale lock. Throws
 * {@link DataDirectoryLockedError} when a live process holds it.
 */
export function lockDataDirectory(directory: string): DataDirectoryLock {
  const lockFile = `${directory}.lock`;
  const boot = bootId();
  const ticks = startTicksOf(process.pid);
  const owner: DataDirectoryLockOwner = {
    pid: process.pid,
    hostname: hostname(),
    ...(boot === undefined ? {} : { bootId: boot }),
    ...(ticks === undefined ? {} : { startTicks: ticks }),
    since: new Date().toISOString(),
    directory,
  };
  const content = `${JSON.stringify(owner)}\n`;
  for (let attempt = 0; attempt < 30; attempt += 1) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      heldHere.add(lockFile);
      return {
        lockFile,
        owner,
        release: () => {
          heldHere.delete(lockFile);
          if (readText(lockFile) === content.trim()) unlinkSync(lockFile);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const text = readText(lockFile);
    if (text === undefined) continue; // gone meanwhile: try again
    const holder = parseOwner(text);
    if (holder !== undefined) {
      if (ownerIsAlive(holder, lockFile)) throw new DataDirectoryLockedError(directory, lockFile, holder);
      takeOverStale(lockFile, text);
      continue;
    }
    // unreadable: being written this instant (give it up to 200 ms), or left half-written by a crash
    if (attempt < 20) pauseMs(10);
    else takeOverStale(lockFile, text);
  }
  throw new Error(`cannot lock ${directory}: ${lockFile} keeps changing (another process is starting on it at the same time)`);
}

/** A short synchronous pause (lock contention at start-up only). */
function pauseMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Moves a stale lock file aside (rename: atomic) and removes it. If what was moved is not the
 * stale file read a moment ago (another process replaced it meanwhile), it is put back.
 */
function takeOverStale(lockFile: string, staleText: string): void {
  const aside = `${lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it
    throw error;
  }
  if (readText(aside) !== staleText) {
    try {
      linkSync(aside, lockFile); // a fresh lock of another process: put it back
    } catch {
      // yet another lock took its place: that one stands
    }
  }
  if (existsSync(aside)) unlinkSync(aside);
}
