/**
 * Bad input data is never silent: the real `troupe backtest` run as a child process on data
 * folders written here. Every file or row left out is counted and named (stderr and
 * report.html), `--strict` makes any of it a failure, and an unknown symbol, bars the data
 * cannot give, an unreadable folder or a usage error is a clear one-line error with exit 2.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `troupe …`; resolves with the exit code whatever it is. */
async function troupe(args: readonly string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/troupe.js', ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const backtest = (args: readonly string[]): Promise<Outcome> => troupe(['backtest', '--quiet', ...args]);

const root = mkdtempSync(join(tmpdir(), 'troupe-bad-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const HEADER = 'timestamp,open,high,low,close,volume,oi';

/** `days` valid Kite daily candles from 2024-01-01 on, prices in a wave around ₹1,000. */
function dailyRows(days: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < days; i += 1) {
    const date = new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10);
    const close = 1000 + Math.round(50 * Math.sin(i / 4));
    rows.push(`${date} 00:00:00+05:30,${close - 2},${close + 5},${close - 6},${close},${1000 + i},0`);
  }
  return rows;
}

function folder(name: string, files: Record<string, readonly string[]>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, lines] of Object.entries(files)) writeFileSync(join(dir, file), `${lines.join('\n')}\n`);
  return dir;
}

const DAILY = '{"source":"1d","fastPeriod":3,"slowPeriod":8}';

describe.concurrent('troupe backtest on bad data', () => {
  // GOOD.csv is clean; BAD.csv has an unknown header; EMPTY.csv a header only; ROWS.csv five bad rows among good ones
  const good = dailyRows(40);
  const rows = dailyRows(40);
  rows.splice(10, 0, '2024-03-01 00:00:00+05:30,1000,990,995,996,500,0'); // line 12: high below low
  rows.splice(20, 0, '2024-03-02 00:00:00+05:30,1000,1010,995,996,-5,0'); // line 22: negative volume
  rows.splice(25, 0, '2024-03-03 00:00:00+05:30,NaN,1010,995,996,5,0'); // line 27: NaN
  rows.splice(30, 0, '2024-03-04 00:00:00+05:30,1000,1010,995,996,0'); // line 32: 6 cells under a 7-column header (oi would be read as volume)
  rows.splice(35, 0, '2024-03-05 00:00:00+05:30,1000,1010,995,996,7,0,9'); // line 37: 8 cells
  const mixed = folder('mixed', {
    'GOOD.csv': [HEADER, ...good],
    'BAD.csv': ['symbol,price', 'X,1'],
    'EMPTY.csv': [HEADER],
    'ROWS.csv': [HEADER, ...rows],
  });

  it('leaves out a bad file, a header-only file and bad rows (short and long ones too), and names each on stderr and in report.html', async () => {
    const out = join(root, 'out-mixed');
    const result = await backtest(['--data', mixed, '--strategy', 'ema-cross', '--config', DAILY, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/on 2 symbols/);
    expect(result.stderr).toContain('2 files and 5 rows left out');
    expect(result.stderr).toContain(`${join(mixed, 'BAD.csv')}: unrecognised header`);
    expect(result.stderr).toContain(`${join(mixed, 'EMPTY.csv')}: no data rows`);
    for (const line of [12, 22, 27, 32, 37]) expect(result.stderr).toContain(`${join(mixed, 'ROWS.csv')}:${line}: `);
    expect(result.stderr).toMatch(/ROWS\.csv:32: expected 7 cells as in the header, got 6/);
    expect(result.stderr).toMatch(/ROWS\.csv:37: expected 7 cells as in the header, got 8/);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('Rejected input: 2 files and 5 rows left out');
    for (const name of ['BAD.csv', 'EMPTY.csv', 'ROWS.csv']) expect(html).toContain(name);
    expect(html).toMatch(/<td>12<\/td><td>high 99000 is below max\(open, close\)/);
    const json = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { meta: { rejectedRows: { file: string; line: number }[] } };
    expect(json.meta.rejectedRows.map((r) => r.line).sort((a, b) => a - b)).toEqual([0, 0, 12, 22, 27, 32, 37]);
  });

  it('--strict refuses the same data with a non-zero exit and writes nothing', async () => {
    const out = join(root, 'out-strict');
    const result = await backtest(['--data', mixed, '--strategy', 'ema-cross', '--config', DAILY, '--out', out, '--strict']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--strict: 2 files and 5 rows of the data rejected');
    expect(result.stderr).toContain('BAD.csv');
    expect(() => readFileSync(join(out, 'result.json'))).toThrow();
  });

  it('a folder of header-only files says so, file by file (exit 2)', async () => {
    const dir = folder('headers', { 'INFY.csv': [HEADER], 'TCS.csv': [HEADER] });
    const result = await backtest(['--data', dir, '--strategy', 'ema-cross', '--config', DAILY, '--out', join(root, 'out-headers')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(dir, 'INFY.csv')}: no data rows (the file has a header only)`);
    expect(result.stderr).toContain(`${join(dir, 'TCS.csv')}: no data rows (the file has a header only)`);
  });

  it('an unknown symbol in --symbols is an error that names it (exit 2)', async () => {
    const result = await backtest(['--data', mixed, '--strategy', 'ema-cross', '--config', DAILY, '--symbols', 'GOOD,NOPE', '--out', join(root, 'out-nope')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown symbol NOPE: no NOPE\.csv in .* \(it has BAD, EMPTY, GOOD, ROWS\)/);
  });

  it('bars finer than the data (5-minute bars of daily data) are an error, not a run with no orders (exit 2)', async () => {
    const result = await backtest([
      '--data',
      mixed,
      '--strategy',
      'ema-cross',
      '--symbols',
      'GOOD',
      '--config',
      '{"source":"5m"}',
      '--out',
      join(root, 'out-5m'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ema-cross asks for 5m bars, but the data are 1d bars');
  });

  it('a wrong --data path is a clear message, not a raw ENOENT (exit 2)', async () => {
    const missing = join(root, 'no-such-folder');
    const result = await backtest(['--data', missing, '--strategy', 'ema-cross', '--out', join(root, 'out-missing')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`backtest: cannot read the data folder ${missing}: no such folder\n`);
  });

  it('a usage error is one line and where to find the options, not the whole usage (exit 2)', async () => {
    const result = await backtest(['--data', mixed, '--strategy', 'ema-cross', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('backtest: unknown option --frobnicate\nsee npm run backtest -- --help\n');
  });

  it('the simulator replaying a folder names what it leaves out, and --strict refuses to start (exit 1)', async () => {
    const result = await troupe(['sim', '--port', '0', '--data', mixed, '--strict']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('2 files and 5 rows left out');
    expect(result.stderr).toContain(`${join(mixed, 'ROWS.csv')}:32: expected 7 cells as in the header, got 6`);
    expect(result.stderr).toContain('troupe sim: --strict: 2 files and 5 rows of the data rejected');
  });

  it('every command answers a usage error in one line and where to look (exit 2)', async () => {
    const outcomes = await Promise.all([
      troupe(['frobnicate']),
      troupe(['sim', '--bogus']),
      troupe(['kite', 'frobnicate']),
      troupe(['db', 'backup', '--bogus']),
    ]);
    expect(outcomes.map((o) => o.code)).toEqual([2, 2, 2, 2]);
    expect(outcomes.map((o) => o.stderr)).toEqual([
      'troupe: unknown command "frobnicate" (start, sim, backtest, kite, fetch-history, db, ml)\nsee troupe help\n',
      'troupe sim: unknown option --bogus\nsee troupe sim --help\n',
      'troupe kite: unknown command "frobnicate" (login or status)\nsee troupe kite --help\n',
      'troupe db backup: unknown option --bogus\nsee troupe db backup --help\n',
    ]);
  });
});
