import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestCommand } from '../../src/cli/backtest.js';
import { mlCommand } from '../../src/cli/ml.js';
import type { TrainedModel } from '../../src/ml/model.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { MlModelStore } from '../../src/persistence/ml-model-store.js';
import { ML_DATA, mlSeries, smallForests } from '../support/ml-models.js';
import { usePostgres, type PostgresService } from '../support/services.js';

/**
 * `npm run backtest -- --strategy ml-signal --model <version|file.json>`: ml-signal trades the
 * predictions of a stored model (a registry version) or an exported one (`troupe ml export`);
 * the two give the same bytes, and so does a second run; another model gives another result;
 * a missing, foreign or corrupt model file and an unknown version are refused with clear errors.
 */
const dir = mkdtempSync(join(tmpdir(), 'troupe-backtest-model-'));
let postgres: PostgresService;
let database: PostgresDatabase;
let models: TrainedModel[] = [];

beforeAll(async () => {
  postgres = await usePostgres();
  database = new PostgresDatabase(postgres.url);
  await migrate(database);
  models = await smallForests(await mlSeries(), [1, 2]);
  const store = new MlModelStore(database);
  for (const model of models) await store.register(model);
}, 120_000);

afterAll(async () => {
  await database.close();
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the backtest CLI; returns its exit code and what it wrote on stderr. */
async function backtest(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array): boolean => {
    err += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  };
  try {
    return { code: await backtestCommand(argv), err };
  } finally {
    process.stderr.write = write;
  }
}

function refused(run: { code: number; err: string }, code: number, text: string): void {
  expect(run.code).toBe(code);
  expect(run.err).toContain(text);
}

const RUN = ['--data', ML_DATA, '--symbols', 'RELIANCE,TCS', '--strategy', 'ml-signal', '--config', '{"entryProbability":0,"minEdge":0}', '--quiet'];
const result = (name: string): string => readFileSync(join(dir, name, 'result.json'), 'utf8');

describe('backtesting ml-signal against a stored or exported model', () => {
  it('trades the same predictions from the registry and from the exported file, byte for byte, run after run', async () => {
    const [a, b] = models as [TrainedModel, TrainedModel];
    const file = join(dir, 'a.json');
    const exported = await mlCommand(['export', '--model', a.version, '--out', file], {
      stdout: () => undefined,
      stderr: (text) => void process.stderr.write(text),
      env: { DATABASE_URL: postgres.url, LOG_LEVEL: 'warn' },
    });
    expect(exported).toBe(0);

    expect(await backtest(...RUN, '--model', file, '--out', join(dir, 'file-1'))).toMatchObject({ code: 0 });
    expect(await backtest(...RUN, '--model', file, '--out', join(dir, 'file-2'))).toMatchObject({ code: 0 });
    expect(await backtest(...RUN, '--model', a.version, '--database-url', postgres.url, '--out', join(dir, 'registry'))).toMatchObject({ code: 0 });
    expect(result('file-2')).toBe(result('file-1'));
    expect(result('registry')).toBe(result('file-1'));
    const parsed = JSON.parse(result('file-1')) as { meta: { model: unknown; strategy: string }; summary: { fills: number } };
    expect(parsed.meta).toMatchObject({ strategy: 'ml-signal', model: { version: a.version, kind: 'random-forest' } });
    expect(parsed.summary.fills).toBeGreaterThan(0);

    // another model's predictions trade differently
    expect(await backtest(...RUN, '--model', b.version, '--database-url', postgres.url, '--out', join(dir, 'other'))).toMatchObject({ code: 0 });
    const other = JSON.parse(result('other')) as { meta: { model: { version: string } }; fills: unknown[] };
    expect(other.meta.model.version).toBe(b.version);
    expect(JSON.stringify(other.fills)).not.toBe(JSON.stringify((JSON.parse(result('file-1')) as { fills: unknown[] }).fills));
  }, 240_000);

  it('refuses a missing, foreign or corrupt model file, an unknown version, ml-signal without a model and a model without ml-signal', async () => {
    refused(await backtest(...RUN, '--model', join(dir, 'missing.json')), 2, 'no model file');
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, '{"fastPeriod": 5}');
    refused(await backtest(...RUN, '--model', foreign), 2, 'is not a Troupe model file');
    const corrupt = join(dir, 'corrupt.json');
    const good = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as { onnxBase64: string };
    writeFileSync(corrupt, JSON.stringify({ ...good, onnxBase64: `AAAA${good.onnxBase64.slice(4)}` }));
    refused(await backtest(...RUN, '--model', corrupt), 2, 'do not match their sha256');
    expect(await backtest(...RUN, '--model', 'rf-nope', '--database-url', postgres.url)).toMatchObject({
      code: 1,
      err: 'backtest: no model rf-nope in the registry (troupe ml list)\n',
    });
    refused(await backtest(...RUN), 2, 'ml-signal trades a model');
    refused(await backtest('--data', ML_DATA, '--strategy', 'ema-cross', '--model', 'rf-x', '--quiet'), 2, '--model is for ml-signal');
  }, 120_000);
});
