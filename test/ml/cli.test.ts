import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mlCommand } from '../../src/cli/ml.js';
import { usePostgres, type PostgresService } from '../support/services.js';

// the registry on a real PostgreSQL (DATABASE_URL), as a deployment has it: a fresh embedded
// PGlite store takes tens of seconds to initialise, the server a second
const dir = mkdtempSync(join(tmpdir(), 'troupe-ml-cli-'));
let postgres: PostgresService;
beforeAll(async () => {
  postgres = await usePostgres();
});
afterAll(async () => {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ml(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await mlCommand(argv, {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: { DATABASE_URL: postgres.url, TROUPE_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' },
  });
  return { code, out, err };
}

function expectFailure(result: { code: number; err: string }, code: number, text: string): void {
  expect(result.code).toBe(code);
  expect(result.err).toContain(text);
}

const TRAIN = [
  'train',
  '--data',
  '../shared/data/nse-5min',
  '--symbols',
  'INFY,TCS',
  '--test-from',
  '2026-06-12',
  '--trees',
  '3',
  '--depth',
  '4',
  '--max-rows',
  '200',
  '--json',
];

describe('troupe ml', () => {
  it('--help on the command and on every subcommand; usage errors exit 2 with one line and a pointer', async () => {
    const top = await ml('--help');
    expect(top.code).toBe(0);
    for (const sub of ['train', 'list', 'promote', 'rollback', 'evaluate', 'export']) {
      expect(top.out).toContain(sub);
      const help = await ml(sub, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toMatch(new RegExp(`^Usage: troupe ml ${sub} \\[options\\]`));
    }
    expectFailure(await ml('fly'), 2, 'unknown command "fly"');
    expect(await ml('train', '--data', 'x', '--labels', 'five')).toMatchObject({
      code: 2,
      err: 'troupe ml train: --labels must be ternary or binary, got "five"\nsee troupe ml train --help\n',
    });
    expectFailure(await ml('train'), 2, '--data is required');
    expectFailure(await ml('train', '--data', join(dir, 'missing')), 2, 'cannot read the data folder');
    expectFailure(await ml('promote', '--model', 'nope'), 1, 'no model nope in the registry');
  });

  it('trains (progress on stderr, out-of-sample report on stdout), lists, promotes, rolls back and evaluates', async () => {
    const onnxFile = join(dir, 'first.onnx');
    const first = await ml(...TRAIN, '--out', onnxFile);
    expect(first.err).toContain('ml train: features: 76 per bar for 2 symbol(s)');
    expect(first.err).toMatch(/equal the forest's rounded to float32/);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.out) as {
      version: string;
      registered: boolean;
      testSamples: number;
      metrics: { accuracy: number; brier: number; perClass: Record<string, unknown>; reliability: unknown[] };
    };
    expect(report.registered).toBe(true);
    expect(report.testSamples).toBeGreaterThan(500);
    expect(Object.keys(report.metrics.perClass)).toEqual(['down', 'flat', 'up']);
    expect(report.metrics.reliability).toHaveLength(10);
    expect(readFileSync(onnxFile).length).toBeGreaterThan(100);

    const second = JSON.parse((await ml(...TRAIN, '--seed', '9')).out) as { version: string };
    expect(second.version).not.toBe(report.version);

    const list = await ml('list');
    expect(list.code).toBe(0);
    expect(
      list.out
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/).slice(0, 3)),
    ).toEqual([
      [second.version, 'random-forest', 'candidate'],
      [report.version, 'random-forest', 'candidate'],
    ]);
    expect(await ml('promote', '--model', report.version)).toMatchObject({ code: 0, out: `${report.version} is live\n` });
    expect(await ml('promote', '--model', second.version)).toMatchObject({ code: 0, out: `${second.version} is live; ${report.version} retired\n` });
    expect(await ml('rollback')).toMatchObject({ code: 0, out: `${report.version} is live again; ${second.version} retired\n` });
    expectFailure(await ml('rollback'), 1, 'no earlier random-forest model');

    const evaluated = await ml('evaluate', '--model', 'live', '--data', '../shared/data/nse-5min', '--from', '2026-06-12');
    expect(evaluated.err).toBe('');
    expect(evaluated.code).toBe(0);
    expect(evaluated.out).toContain(`model ${report.version} on 2 symbol(s)`);
    expect(evaluated.out).toMatch(/accuracy: +\d+\.\d%/);
    expect(evaluated.out).toMatch(/Brier score: \d\.\d{4}/);
  }, 120_000);
});
