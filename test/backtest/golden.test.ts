/**
 * Golden backtests: four runs whose result.json must keep the same bytes through refactors of the
 * runtime (a redesign of the execution core, the startup or recovery must not change a single
 * fill, charge or equity point). They run on a market the test writes itself
 * (test/support/golden-market.ts), so the bytes depend on nothing but this repository: machines
 * may hold different data in ../shared/data, and the data directory's path is hashed as `<data>`. The hashes were taken on main after the #16 redesign
 * and are the same bytes as the tree before it (8b16c5b) gives on that market. A deliberate change
 * of behaviour updates them in the same commit and says why; an accidental one fails here.
 *
 * On the shared NSE data, whatever it holds, every backtest must be byte-deterministic: two runs
 * give the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { backtestCommand } from '../../src/cli/backtest.js';
import { writeGoldenMarket } from '../support/golden-market.js';

const SHARED = join(import.meta.dirname, '../../../shared/data');
const out = mkdtempSync(join(tmpdir(), 'troupe-golden-'));
const market = writeGoldenMarket(join(out, 'market'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let runs = 0;
/**
 * Runs `npm run backtest` in-process and returns the sha256 of its result.json. The file names the
 * data directory it read (an absolute path that differs from machine to machine and from run to
 * run here): that one value is checked, then hashed as `<data>`.
 */
async function resultHash(argv: readonly string[]): Promise<string> {
  const dataDir = argv[argv.indexOf('--data') + 1] ?? '';
  const dir = join(out, `run-${++runs}`);
  const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    expect(await backtestCommand([...argv, '--out', dir, '--quiet'])).toBe(0);
  } finally {
    quiet.mockRestore();
  }
  const text = readFileSync(join(dir, 'result.json'), 'utf8');
  const named = `"dataDir": ${JSON.stringify(dataDir)}`;
  expect(text.split(named)).toHaveLength(2);
  return createHash('sha256').update(text.replace(named, '"dataDir": "<data>"')).digest('hex');
}

const GOLDEN: readonly { readonly name: string; readonly argv: readonly string[]; readonly sha256: string }[] = [
  {
    name: 'ema-cross on 5-minute bars',
    argv: ['--data', market.fiveMinute, '--strategy', 'ema-cross'],
    sha256: '67441d8b8a1b1714ad0dc391454ead682c9988c543f4f33a5ebab5c8729d1a94',
  },
  {
    name: 'ensemble of ema-cross and rsi-reversion on 5-minute bars',
    argv: ['--data', market.fiveMinute, '--strategy', 'ensemble,ema-cross,rsi-reversion'],
    sha256: '881e6997b72f39efd7bd99e657dd4e65ec7b37f1830309acb2ef141ae7942079',
  },
  {
    name: 'rsi-reversion on one session of 1-minute bars, shorting allowed (MIS)',
    argv: ['--data', market.oneMinute, '--strategy', 'rsi-reversion', '--config', '{"interval":"1m","product":"MIS","allowShort":true}'],
    sha256: 'd0852819251f1c027a4268e80f498b6273c9ca3d1175b80fa42627b8916e6c60',
  },
  {
    name: 'ema-cross on daily bars',
    argv: ['--data', market.daily, '--strategy', 'ema-cross', '--config', '{"source":"1d"}'],
    sha256: '282a8ce125f784df7abfbb38358c4896393c500f3094436541bc16d52543a882',
  },
];

describe('golden backtests (result.json byte for byte, on the market the test writes)', () => {
  it.each(GOLDEN)('$name', async ({ argv, sha256 }) => expect(await resultHash(argv)).toBe(sha256), 120_000);
});

describe('backtests on the shared NSE data are byte-deterministic', () => {
  it.each([
    { name: 'ensemble on nse-5min', argv: ['--data', `${SHARED}/nse-5min`, '--strategy', 'ensemble,ema-cross,rsi-reversion'] },
    { name: 'ema-cross on nse-daily', argv: ['--data', `${SHARED}/nse-daily`, '--strategy', 'ema-cross', '--config', '{"source":"1d"}'] },
  ])('$name: two runs, the same bytes', async ({ argv }) => expect(await resultHash(argv)).toBe(await resultHash(argv)), 120_000);
});
