/**
 * The data directory is the owner's only (issue #15, item 7): PGlite wrote 968 of its files
 * 0666 (its WAL holds password hashes), whatever the umask. Every start makes the whole tree
 * 0700/0600, fixing what it finds with a warning, or refuses with a clear message when it cannot.
 * (`test/app/main-process.test.ts` starts the real process on a 0777 data directory.)
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirectoryPermissionError, secureDataDirectory } from '../../src/persistence/data-dir-mode.js';
import { PgliteDatabase } from '../../src/persistence/database.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});
function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), 'troupe-modes-'));
  roots.push(root);
  return root;
}

/** Every entry under `root` (itself included, symbolic links left out) whose mode lets group or others in: `path mode`. */
function openToOthers(root: string): { readonly open: string[]; readonly entries: number } {
  const open: string[] = [];
  let entries = 0;
  const visit = (path: string): void => {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) return;
    entries += 1;
    if (stats.mode & 0o077) open.push(`${path} ${(stats.mode & 0o777).toString(8)}`);
    if (stats.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return { open, entries };
}

describe('the data directory is owner-only', () => {
  it('a fresh embedded database: every directory and file is 0700/0600 once open, and after close', async () => {
    const dataDir = join(scratch(), '.troupe');
    const db = await PgliteDatabase.open(join(dataDir, 'pgdata'));
    const opened = openToOthers(dataDir);
    expect(opened.entries).toBeGreaterThan(500); // the whole cluster, WAL included
    expect(opened.open).toEqual([]);
    // files written while open follow the process's umask (0077 under src/main.ts) inside 0700 directories; close fixes them too
    await db.exec('CREATE TABLE secrets (hash text); INSERT INTO secrets SELECT md5(g::text) FROM generate_series(1, 200) g');
    await db.close();
    expect(openToOthers(dataDir).open).toEqual([]);
  }, 60_000);

  it('fixes directories to 0700 and files to 0600 (0700 when executable), leaves symbolic links and what they point to alone', () => {
    const root = scratch();
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'not ours to change');
    chmodSync(outside, 0o644);
    const dataDir = join(root, 'data');
    mkdirSync(join(dataDir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dataDir, 'a', 'b', 'file'), '1');
    writeFileSync(join(dataDir, 'a', 'tool'), '#!/bin/sh\n');
    symlinkSync(outside, join(dataDir, 'link'));
    chmodSync(join(dataDir, 'a', 'b', 'file'), 0o666);
    chmodSync(join(dataDir, 'a', 'tool'), 0o755);
    chmodSync(join(dataDir, 'a', 'b'), 0o777);
    chmodSync(join(dataDir, 'a'), 0o750);
    chmodSync(dataDir, 0o755);
    const report = secureDataDirectory(dataDir);
    expect(report).toMatchObject({ checked: 5, fixed: 5 });
    expect(report.examples).toContain(`${join(dataDir, 'a', 'b', 'file')} (0666)`);
    const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);
    expect([dataDir, join(dataDir, 'a'), join(dataDir, 'a', 'b'), join(dataDir, 'a', 'b', 'file'), join(dataDir, 'a', 'tool')].map(mode)).toEqual([
      '700',
      '700',
      '700',
      '600',
      '700',
    ]);
    expect(mode(outside)).toBe('644');
    expect(secureDataDirectory(dataDir)).toMatchObject({ checked: 5, fixed: 0 }); // nothing left to fix
  });

  it('refuses to start, naming the entry and the fix, when an entry cannot be made owner-only', () => {
    const dataDir = join(scratch(), 'foreign');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(join(dataDir, 'theirs'), 'x');
    chmodSync(join(dataDir, 'theirs'), 0o666);
    // as chmod answers for an entry of another user (or on a read-only file system)
    const chmod = (): never => {
      throw Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });
    };
    let error: unknown;
    try {
      secureDataDirectory(dataDir, { chmod });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DataDirectoryPermissionError);
    expect((error as Error).message).toContain(`${join(dataDir, 'theirs')} has mode 0666`);
    expect((error as Error).message).toContain('EPERM');
    expect((error as Error).message).toContain(`chmod -R go-rwx ${dataDir}`);
    expect((error as Error).message).toContain('TROUPE_DATA_DIR');
  });
});
