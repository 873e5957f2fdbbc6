import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const troupe = (args: readonly string[]) => run(process.execPath, ['bin/troupe.js', ...args], { encoding: 'utf8' });

describe('the troupe command', () => {
  it('lists its commands, and refuses an unknown one with exit code 2', async () => {
    const { stdout } = await troupe(['help']);
    expect(stdout).toContain('backtest');
    expect(stdout).toContain('start');
    await expect(troupe(['frobnicate'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') as unknown });
  });

  it('backtests a real data folder and writes the same bytes twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-cli-'));
    const data = resolve(process.cwd(), '../shared/data/nse-1min-2016-09-30');
    const args = ['backtest', '--data', data, '--strategy', 'ema-cross', '--symbols', 'INFY,TCS,SBIN', '--config', '{"source":"1m","fastPeriod":5,"slowPeriod":15}', '--quiet'];
    const first = await troupe([...args, '--out', join(dir, 'a.json')]);
    await troupe([...args, '--out', join(dir, 'b.json')]);
    expect(first.stdout).toMatch(/strategy ema-cross on 3 symbols, 1125 bars/);
    const a = readFileSync(join(dir, 'a.json'), 'utf8');
    expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe(a);
    const result = JSON.parse(a) as { meta: { note: string }; summary: { fills: number } };
    expect(result.meta.note).toContain('generated inside each bar');
    expect(result.summary.fills).toBeGreaterThan(0);
  });

  it('explains a bad option', async () => {
    await expect(troupe(['backtest', '--data'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--data needs a value') as unknown });
    await expect(troupe(['backtest', '--strategy', 'ema-cross'])).rejects.toMatchObject({ stderr: expect.stringContaining('--data is required') as unknown });
  });
});
