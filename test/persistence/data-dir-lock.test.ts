/**
 * One process per embedded (PGlite) data directory: a second open — in this process, or in
 * another real process — is refused with an error naming the directory and the PID holding it;
 * a lock left by a process that is gone (SIGKILL) is taken over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { DataDirectoryLockedError, lockDataDirectory, type DataDirectoryLockOwner } from '../../src/persistence/data-dir-lock.js';
import { PgliteDatabase } from '../../src/persistence/database.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-dirlock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CHILD = `
import { PgliteDatabase } from ${JSON.stringify(new URL('../../src/persistence/database.ts', import.meta.url).pathname)};
const db = await PgliteDatabase.open(process.argv[2]);
await db.query('SELECT 1');
process.stdout.write('open\\n');
process.stdin.resume(); // held until the test kills this process
`;

/** A real second process that opens `dir` and keeps it open; resolves once it has. */
async function holderProcess(dir: string): Promise<ChildProcess> {
  const script = join(root, 'holder.mts');
  writeFileSync(script, CHILD);
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`the holder process exited early: ${output}`);
      expect(output).toContain('open');
    },
    { timeoutMs: 60_000, intervalMs: 20 },
  );
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('embedded data directory lock', () => {
  it('refuses a second open in this process, naming the directory and this PID; the first close frees it', async () => {
    const dir = join(root, 'in-process', 'pgdata');
    const first = await PgliteDatabase.open(dir);
    const refused = await PgliteDatabase.open(dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DataDirectoryLockedError);
    expect((refused as DataDirectoryLockedError).owner.pid).toBe(process.pid);
    expect((refused as Error).message).toContain(`the embedded database ${dir} is already open in this process (PID ${process.pid})`);
    expect(await first.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]); // the refused open did not disturb it
    await first.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const again = await PgliteDatabase.open(dir);
    await again.close();
  }, 60_000);

  it('refuses the directory another live process holds, naming its PID; takes the lock over once that process is killed', async () => {
    const dir = join(root, 'two-processes', 'pgdata');
    const holder = await holderProcess(dir);
    try {
      const refused = await PgliteDatabase.open(dir).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DataDirectoryLockedError);
      expect((refused as Error).message).toContain(`the embedded database ${dir} is already open in another process (PID ${holder.pid})`);
      expect((refused as Error).message).toContain(`${dir}.lock`);
    } finally {
      await killed(holder); // kill -9: no close, the lock file stays behind
    }
    expect((JSON.parse(readFileSync(`${dir}.lock`, 'utf8')) as DataDirectoryLockOwner).pid).toBe(holder.pid);
    const db = await PgliteDatabase.open(dir); // stale: its PID is gone
    expect((JSON.parse(readFileSync(`${dir}.lock`, 'utf8')) as DataDirectoryLockOwner).pid).toBe(process.pid);
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await db.close();
  }, 120_000);

  it('tells stale locks from live ones: a dead PID, a reused PID, an earlier boot are stale; a live PID or another host is not', () => {
    const dir = join(root, 'stale');
    const lockFile = `${dir}.lock`;
    const live = lockDataDirectory(join(root, 'probe')); // this process's own boot id and start time
    const self = live.owner;
    live.release();
    const write = (owner: Partial<DataDirectoryLockOwner>): void =>
      writeFileSync(lockFile, JSON.stringify({ pid: 1, hostname: hostname(), since: '2026-01-01T00:00:00.000Z', directory: dir, ...owner }));
    const takes = (): boolean => {
      try {
        lockDataDirectory(dir).release();
        return true;
      } catch (error) {
        if (error instanceof DataDirectoryLockedError) return false;
        throw error;
      }
    };

    write({ pid: 2 ** 22 + 12_345 }); // above Linux's pid_max: no such process
    expect(takes()).toBe(true);
    write({
      pid: process.ppid,
      ...(self.bootId === undefined ? {} : { bootId: self.bootId }),
      ...(self.startTicks === undefined ? {} : { startTicks: self.startTicks + 1 }),
    });
    expect(takes()).toBe(self.startTicks !== undefined); // the parent is alive, but started at another time: its PID was reused
    write({ pid: process.ppid, bootId: 'an-earlier-boot' });
    expect(takes()).toBe(self.bootId !== undefined);
    write({ pid: process.ppid });
    expect(takes()).toBe(false); // alive, nothing says otherwise
    write({ pid: 2 ** 22 + 12_345, hostname: `not-${hostname()}` });
    expect(takes()).toBe(false); // another host's process cannot be checked from here
    write({}); // pid 1 (init) is alive
    expect(takes()).toBe(false);
    rmSync(lockFile);
  });
});
