import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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
    const args = [
      'backtest',
      '--data',
      data,
      '--strategy',
      'ema-cross',
      '--symbols',
      'INFY,TCS,SBIN',
      '--config',
      '{"source":"1m","fastPeriod":5,"slowPeriod":15}',
      '--quiet',
    ];
    const first = await troupe([...args, '--out', join(dir, 'a.json')]);
    await troupe([...args, '--out', join(dir, 'b.json')]);
    expect(first.stdout).toMatch(/strategy ema-cross on 3 symbols, 1125 bars/);
    const a = readFileSync(join(dir, 'a.json'), 'utf8');
    expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe(a);
    const result = JSON.parse(a) as { meta: { note: string }; summary: { fills: number } };
    expect(result.meta.note).toContain('generated inside each bar');
    expect(result.summary.fills).toBeGreaterThan(0);
    // a .json out path still works, and the report lands beside it
    expect(readFileSync(join(dir, 'b.html'), 'utf8')).toBe(readFileSync(join(dir, 'a.html'), 'utf8'));
  });

  it('writes result.json and a self-contained report.html into an out folder, the same bytes twice, for the dates asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-cli-'));
    const data = resolve(process.cwd(), '../shared/data/nse-daily');
    const args = [
      'backtest',
      '--data',
      data,
      '--strategy',
      'ema-cross',
      '--symbols',
      'INFY,TCS',
      '--config',
      '{"source":"1d","fastPeriod":5,"slowPeriod":20}',
      '--from',
      '2023-01-01',
      '--to',
      '2023-12-31',
      '--capital',
      '500000',
      '--quiet',
    ];
    const first = await troupe([...args, '--out', join(dir, 'one')]);
    await troupe([...args, '--out', join(dir, 'two')]);
    expect(first.stdout).toMatch(/CAGR -?[\d.]+%, Sharpe/);
    expect(first.stdout).toContain('report.html');
    for (const name of ['result.json', 'report.html']) {
      expect(existsSync(join(dir, 'one', name))).toBe(true);
      expect(readFileSync(join(dir, 'two', name), 'utf8')).toBe(readFileSync(join(dir, 'one', name), 'utf8'));
    }
    const result = JSON.parse(readFileSync(join(dir, 'one', 'result.json'), 'utf8')) as {
      equity: Array<{ date: string; equityPaise: number }>;
      metrics: { days: number; sharpe: number | null; byStrategy: Record<string, unknown> };
      summary: { initialCashPaise: number; netPnlPaise: number };
    };
    expect(result.summary.initialCashPaise).toBe(500000_00);
    expect(result.equity[0]!.date.startsWith('2023-01')).toBe(true);
    expect(result.equity.at(-1)!.date.startsWith('2023-12')).toBe(true);
    expect(result.metrics.days).toBe(result.equity.length);
    expect(Object.keys(result.metrics.byStrategy)).toEqual(['ema-cross']);
    const html = readFileSync(join(dir, 'one', 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<svg ');
    expect(html).not.toMatch(/<script|<link/i);
    await expect(troupe([...args.slice(0, -1), '--from', '2023-02-30', '--out', join(dir, 'x')])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--from must be a date') as unknown,
    });
  });

  it('explains a bad option', async () => {
    await expect(troupe(['backtest', '--data'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--data needs a value') as unknown });
    await expect(troupe(['backtest', '--strategy', 'ema-cross'])).rejects.toMatchObject({ stderr: expect.stringContaining('--data is required') as unknown });
    const data = resolve(process.cwd(), '../shared/data/nse-daily');
    await expect(troupe(['backtest', '--data', data, '--strategy', 'ensemble,ema-crosss'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown strategy "ema-crosss"') as unknown,
    });
    await expect(troupe(['backtest', '--data', data, '--strategy', 'ensemble,ema-cross', '--companion-config', '{"rsi-reversion":{}}'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--companion-config names "rsi-reversion", which is not one of the other strategies') as unknown,
    });
  });
});
