/**
 * Golden backtests: four runs on the shared NSE data whose result.json must keep the same bytes
 * through refactors of the runtime (the redesign of the execution core, the startup and recovery
 * must not change a single fill, charge or equity point). The hashes were taken on main before
 * that redesign (2026-12-07). A deliberate change of behaviour updates them in the same commit and
 * says why; an accidental one fails here.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { backtestCommand } from '../../src/cli/backtest.js';

const DATA = join(import.meta.dirname, '../../../shared/data');
const out = mkdtempSync(join(tmpdir(), 'troupe-golden-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const GOLDEN: readonly { readonly name: string; readonly argv: readonly string[]; readonly sha256: string }[] = [
  {
    name: 'ema-cross on 5-minute bars',
    argv: ['--data', `${DATA}/nse-5min`, '--strategy', 'ema-cross'],
    sha256: 'ac2660b7b3e1f5fec994de6d750d39a18af368bc941859aa7cc27e7c5864f125',
  },
  {
    name: 'ensemble of ema-cross and rsi-reversion on 5-minute bars',
    argv: ['--data', `${DATA}/nse-5min`, '--strategy', 'ensemble,ema-cross,rsi-reversion'],
    sha256: '432341ae732c6ab0aaf3ec3f7353b21586dc392f5f1353e877cf6c9cdcb0d5ab',
  },
  {
    name: 'rsi-reversion on one session of 1-minute bars',
    argv: ['--data', `${DATA}/nse-1min-2016-09-30`, '--strategy', 'rsi-reversion'],
    sha256: 'bd16757a7ad2fa8eb43d2f78fa50dd4a74ef0a1fc42377695ee51e74031c750b',
  },
  {
    name: 'ema-cross on five years of daily bars',
    argv: ['--data', `${DATA}/nse-daily`, '--strategy', 'ema-cross', '--config', '{"source":"1d"}'],
    sha256: 'c585caf784d258f874c2db2233560864080fd4179b112a0352cb3412374be1ac',
  },
];

describe('golden backtests (result.json byte for byte)', () => {
  it.each(GOLDEN.map((golden, index) => ({ ...golden, index })))(
    '$name',
    async ({ argv, sha256, index }) => {
      const file = join(out, `golden-${index}`, 'result.json');
      const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        expect(await backtestCommand([...argv, '--out', file.replace(/result\.json$/, ''), '--quiet'])).toBe(0);
      } finally {
        quiet.mockRestore();
      }
      expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(sha256);
    },
    120_000,
  );
});
