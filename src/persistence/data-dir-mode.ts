/**
 * The data directory (`.troupe/` by default: the embedded PostgreSQL under `pgdata/`, its WAL
 * with password hashes, the secret key, logs) is the owner's only: directories 0700, files
 * 0600 (an owner's execute bit is kept). PGlite writes its files 0666 whatever the umask, so
 * the tree is checked and fixed at start, after the embedded database is created and when it
 * is closed; the directory's own 0700 is what keeps others out of files written in between.
 * An entry that cannot be fixed (another user's, a read-only file system) refuses the start
 * with {@link DataDirectoryPermissionError}, naming it and saying what to do. POSIX only:
 * on Windows modes mean nothing and nothing is done.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** Group and other permission bits. */
const NOT_OWNER = 0o077;

/** An entry of the data directory is readable or writable by others and could not be made owner-only. */
export class DataDirectoryPermissionError extends Error {
  readonly code = 'data-directory-permissions';
  constructor(
    readonly directory: string,
    readonly path: string,
    readonly mode: number,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `the data directory ${directory} must be the owner's only (0700 directories, 0600 files), but ${path} has mode ` +
        `${(mode & 0o777).toString(8).padStart(4, '0')} and could not be changed (${reason}): run Troupe as the user who owns it, ` +
        `or fix it with "chmod -R go-rwx ${directory}", or set TROUPE_DATA_DIR to a directory of your own`,
      { cause },
    );
    this.name = 'DataDirectoryPermissionError';
  }
}

/** What {@link secureDataDirectory} found. */
export interface DataDirectoryModeReport {
  /** Entries looked at (the directory included). */
  readonly checked: number;
  /** Entries whose mode gave others access, now owner-only. */
  readonly fixed: number;
  /** The first few of them, with their mode before (`path (0666)`), for the log. */
  readonly examples: readonly string[];
}

export interface SecureDataDirectoryOptions {
  /** Changes a mode (default `fs.chmodSync`; a test makes it fail as a foreign or read-only entry would). */
  readonly chmod?: (path: string, mode: number) => void;
}

/** The owner-only mode of an entry: 0700 for a directory, 0600 (0700 when the owner may execute it) for anything else. */
export function ownerOnlyMode(stats: Pick<Stats, 'mode' | 'isDirectory'>): number {
  if (stats.isDirectory()) return 0o700;
  return stats.mode & 0o100 ? 0o700 : 0o600;
}

/**
 * Creates `directory` (0700) when missing, then makes it and everything under it owner-only.
 * Symbolic links are left alone (their mode means nothing; what they point to is not ours to
 * change). Throws {@link DataDirectoryPermissionError} when an entry cannot be fixed.
 */
export function secureDataDirectory(directory: string, options: SecureDataDirectoryOptions = {}): DataDirectoryModeReport {
  if (process.platform === 'win32') return { checked: 0, fixed: 0, examples: [] };
  const chmod = options.chmod ?? chmodSync;
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  let checked = 0;
  let fixed = 0;
  const examples: string[] = [];
  const visit = (path: string): void => {
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile (a WAL segment recycled)
      throw error;
    }
    if (stats.isSymbolicLink()) return;
    checked += 1;
    if ((stats.mode & NOT_OWNER) !== 0) {
      try {
        chmod(path, ownerOnlyMode(stats));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new DataDirectoryPermissionError(directory, path, stats.mode, error);
      }
      fixed += 1;
      if (examples.length < 5) examples.push(`${path} (${(stats.mode & 0o777).toString(8).padStart(4, '0')})`);
    }
    if (!stats.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) visit(join(path, name));
  };
  visit(directory);
  return { checked, fixed, examples };
}
