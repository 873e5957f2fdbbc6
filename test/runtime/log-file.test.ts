import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createLogger, openLogFile } from '../../src/observability/logger.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-log-file-'));
  dirs.push(dir);
  return dir;
}

/** The rotated files of `troupe.log` in `dir`, by number. */
function rotated(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => /^troupe\.(\d+)\.log$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Polls `check` until it returns true, doing `step` between tries; fails after `timeoutMs`. */
async function until(check: () => boolean, step: () => void | Promise<void>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await step();
    await turn();
  }
}

describe('the file log', () => {
  it('rotates by size and keeps only TROUPE_LOG_RETAIN rotated files besides the current one', async () => {
    const dir = tempDir();
    // a file of an earlier run beyond retention is removed too
    writeFileSync(join(dir, 'troupe.1.log'), '{"message":"from an earlier run"}\n');
    const config = loadConfig({ TROUPE_LOG_FILE: join(dir, 'troupe.log'), TROUPE_LOG_ROTATE: '4k', TROUPE_LOG_RETAIN: '3' });
    expect(config.logFile).toEqual({ path: join(dir, 'troupe.log'), rotateBytes: 4096, rotateDaily: false, retain: 3 });
    const stream = await openLogFile(config.logFile!);
    const log = createLogger('info', stream);
    let written = 0;
    const write = async (): Promise<void> => {
      // ~300-byte lines: a 4 KiB file holds about a dozen
      for (let i = 0; i < 5; i += 1) log.info({ clientOrderId: `T${written}`, symbol: 'INFY', padding: 'x'.repeat(120) }, `line ${written++}`);
      await new Promise<void>((resolve, reject) => stream.flush((error) => (error ? reject(error) : resolve())));
    };
    // real writes until the file has rotated at least eight times
    await until(
      () => Math.max(0, ...rotated(dir)) >= 10,
      write,
      20_000,
      () => `rotated files ${rotated(dir).join(', ')} after ${written} lines`,
    );
    // pruning runs after each rotation: wait for it to settle at retain + 1 files (3 rotated + the current one)
    await until(
      () => rotated(dir).length === 4,
      turn,
      10_000,
      () => `files left ${rotated(dir).join(', ')}`,
    );
    const numbers = rotated(dir);
    const newest = numbers[numbers.length - 1]!;
    expect(numbers).toEqual([newest - 3, newest - 2, newest - 1, newest]);
    expect(readlinkSync(join(dir, 'current.log'))).toBe(`troupe.${newest}.log`);
    await new Promise<void>((resolve, reject) => stream.flush((error) => (error ? reject(error) : resolve())));
    stream.end();
    // every kept line is whole JSON in ECS names; the rotated (full) files are about the size limit
    for (const n of numbers) {
      const lines = readFileSync(join(dir, `troupe.${n}.log`), 'utf8')
        .split('\n')
        .filter(Boolean);
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        expect(entry['troupe.symbol']).toBe('INFY');
        expect(typeof entry.message).toBe('string');
      }
      if (n !== newest) expect(lines.join('\n').length).toBeLessThan(4096 + 2000);
    }
  }, 40_000);

  it('reads the rotation settings, with clear errors', () => {
    const base = { TROUPE_LOG_FILE: '/var/log/troupe/troupe.log' };
    expect(loadConfig({}).logFile).toBeUndefined();
    expect(loadConfig({}).logRotation).toEqual({ rotateDaily: true, rotateBytes: 100 * 1024 ** 2, retain: 14 });
    expect(loadConfig({ ...base, TROUPE_LOG_ROTATE: 'daily' }).logFile).toEqual({
      path: '/var/log/troupe/troupe.log',
      rotateDaily: true,
      rotateBytes: undefined,
      retain: 14,
    });
    expect(loadConfig({ ...base, TROUPE_LOG_ROTATE: '1g, daily', TROUPE_LOG_RETAIN: '30' }).logFile).toEqual({
      path: '/var/log/troupe/troupe.log',
      rotateDaily: true,
      rotateBytes: 1024 ** 3,
      retain: 30,
    });
    expect(() => loadConfig({ ...base, TROUPE_LOG_ROTATE: 'weekly' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, TROUPE_LOG_ROTATE: '10x' })).toThrow(/TROUPE_LOG_ROTATE must be daily, a size/);
    expect(() => loadConfig({ ...base, TROUPE_LOG_RETAIN: '0' })).toThrow(/TROUPE_LOG_RETAIN must be an integer from 1/);
  });
});
