/**
 * Bars on days the NSE was closed are replayed but counted and named (file, line, the holiday),
 * in the parse result, the backtest's meta, report.html and on the CLI's stderr.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/backtest.js';
import { renderReport } from '../../src/backtest/report.js';
import { parseBarsCsv, readDataFolder } from '../../src/streams/index.js';

const CSV = [
  'timestamp,open,high,low,close,volume,oi',
  '2024-10-01 00:00:00+05:30,100,101,99,100.5,1000,0',
  '2024-10-02 00:00:00+05:30,100.5,102,100,101,1000,0', // Mahatma Gandhi Jayanti
  '2024-10-03 00:00:00+05:30,101,103,100,102,1000,0',
  '2024-10-05 00:00:00+05:30,102,103,101,102,1000,0', // a Saturday, no session
  '2024-11-01 00:00:00+05:30,102,104,101,103,1000,0', // Diwali Laxmi Pujan: a Muhurat session, no warning
  '2024-11-04 00:00:00+05:30,103,104,102,103,1000,0',
].join('\n');

describe('bars on days the NSE was closed', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-calendar-'));
    await writeFile(join(dir, 'ABC.csv'), CSV);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are kept, and named with their line and the holiday', () => {
    const parsed = parseBarsCsv(CSV, 'ABC.csv', 'ABC');
    expect(parsed.bars).toHaveLength(6);
    expect(parsed.rejected).toEqual([]);
    expect(parsed.warnings.map((warning) => [warning.line, warning.date, warning.reason])).toEqual([
      [3, '2024-10-02', 'NSE is closed on 2024-10-02 (Mahatma Gandhi Jayanti); the bar is replayed anyway'],
      [5, '2024-10-05', 'NSE is closed on 2024-10-05 (weekend); the bar is replayed anyway'],
    ]);
  });

  it('none in the real daily data (its Saturday, Sunday and Muhurat sessions are listed)', async () => {
    const data = await readDataFolder(resolve(process.cwd(), '../shared/data/nse-daily'), { symbols: ['INFY', 'TCS'] });
    expect(data.warnings).toEqual([]);
  });

  it('are counted in result.json, shown in report.html and printed by the CLI', async () => {
    const result = await runBacktest({ dataDir: dir, strategyKind: 'ema-cross', strategyConfig: { source: '1d' } });
    expect(result.meta.offCalendarBars.count).toBe(2);
    expect(result.meta.offCalendarBars.examples[0]).toMatchObject({ file: join(dir, 'ABC.csv'), line: 3, symbol: 'ABC', date: '2024-10-02' });
    expect(renderReport(result)).toContain('2 bar day(s) on days the NSE was closed');
    // a cut of loaded data keeps the lines
    const cut = await runBacktest({
      dataDir: dir,
      data: await readDataFolder(dir),
      strategyKind: 'ema-cross',
      strategyConfig: { source: '1d' },
      fromMs: Date.parse('2024-10-04T00:00:00+05:30'),
    });
    expect(cut.meta.offCalendarBars.examples.map((warning) => warning.line)).toEqual([5]);

    const { stderr } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'src/cli/backtest.ts',
      '--data',
      dir,
      '--strategy',
      'ema-cross',
      '--config',
      '{"source":"1d"}',
      '--out',
      join(dir, 'out'),
      '--quiet',
    ]);
    expect(stderr).toContain(
      `backtest: warning: 2 bar day(s) fall on days the NSE was closed (replayed anyway), e.g. ${join(dir, 'ABC.csv')}:3: NSE is closed on 2024-10-02 (Mahatma Gandhi Jayanti)`,
    );
    expect(await readFile(join(dir, 'out', 'report.html'), 'utf8')).toContain('Mahatma Gandhi Jayanti');
  });
});
