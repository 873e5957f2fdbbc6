import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTroupe, type Running } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { TrainedModel } from '../../src/ml/model.js';
import { DAY_MS, type Bar } from '../../src/model/index.js';
import { MlModelStore } from '../../src/persistence/ml-model-store.js';
import { silentLogger } from '../../src/observability/logger.js';
import { suiteTroupeStore } from '../support/databases.js';
import { mlSeries, smallForests, storeMinuteBars } from '../support/ml-models.js';
import { login, startHarness } from './harness.js';

/**
 * The ML routes over HTTP against a real Troupe (startTroupe, listening on a loopback port) on
 * real PostgreSQL: three small forests trained here on the shared data are in the registry, the
 * shared bars are stored as the 1-minute bars a retraining reads. List, show, promote, roll back
 * (the ML actor follows), retrain now with its progress, and the refusals: unknown versions
 * (404), bad bodies (400 for broken JSON, 415 for other media types), nothing to roll back or already live (409), viewers (403),
 * anonymous callers (401), a process with ML off (409).
 */
const store = suiteTroupeStore('troupe-ml-api-');
const ADMIN = { username: 'ops', password: 'ml-api-test-password' };
const VIEWER = { username: 'watcher', password: 'ml-api-viewer-password' };

let running: Running | undefined;
let base = '';
let admin = '';
let viewer = '';
let models: TrainedModel[] = [];
let series: Map<string, Bar[]>;

interface ModelView {
  version: string;
  kind: string;
  status: string;
  featureSchemaHash: string;
  onnxBytes: number;
  trainingWindow: { fromMs: number; toMs: number };
  metrics: { samples: number | null; accuracy: number | null; brier: number | null; baselineAccuracy: number | null; retraining: string | null };
}
interface ErrorBody {
  error: { code: string; message: string };
}
interface StatusBody {
  mode: string;
  kind: string;
  actor: { modelVersion: string | null; lastError: string | null } | null;
  retraining: {
    schedule: string;
    running: boolean;
    progress: { phase: string; fraction: number; message: string } | null;
    lastOutcome: { version: string; promoted: boolean; reason: string; candidateAccuracy: number; liveAccuracy: number | null } | null;
    lastError: string | null;
  };
}

/** One HTTP request to the running gateway; `raw` sends a body as is with its content type. */
async function call<T>(
  method: string,
  path: string,
  token: string | undefined,
  body?: { json: unknown } | { raw: string; type: string },
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let payload: string | undefined;
  if (body && 'json' in body) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body) {
    headers['content-type'] = body.type;
    payload = body.raw;
  }
  const response = await fetch(`${base}${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

async function token(user: { username: string; password: string }): Promise<string> {
  const login = await call<{ accessToken: string }>('POST', '/api/v1/auth/login', undefined, { json: user });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  return login.body.accessToken;
}

const status = async (): Promise<StatusBody> => (await call<StatusBody>('GET', '/api/v1/ml/status', admin)).body;
const statuses = async (): Promise<Record<string, string>> =>
  Object.fromEntries((await call<{ items: ModelView[] }>('GET', '/api/v1/ml/models', admin)).body.items.map((m) => [m.version, m.status]));

/** Polls `probe` until it gives a truthy value (no fixed sleeps); fails after `timeoutMs`. */
async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveTurn) => setTimeout(resolveTurn, 50));
  }
}

/** The ML actor runs `version` (it loads a promoted or restored model at once). */
async function actorRuns(version: string): Promise<void> {
  await until(async () => (await status()).actor?.modelVersion === version, `the ML actor to run ${version}`);
}

beforeAll(async () => {
  series = await mlSeries();
  models = await smallForests(series, [1, 2, 3]);
  // the retraining's window (ending now) covers the shared data; its last week is held out
  const firstMs = Math.min(...[...series.values()].map((bars) => bars[0]!.startMs));
  const lastMs = Math.max(...[...series.values()].map((bars) => bars[bars.length - 1]!.startMs));
  const daysBack = (ms: number): number => Math.ceil((Date.now() - ms) / DAY_MS);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: store().url,
    TROUPE_DATA_DIR: store().dataDir,
    TROUPE_SYMBOLS: '2',
    TROUPE_MARKET_SPEED: '20',
    ADMIN_USER: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    TROUPE_RATE_LIMIT_PER_MINUTE: '100000',
    TROUPE_ML: 'auto',
    TROUPE_ML_RETRAIN: 'weekly sun 02:00',
    TROUPE_ML_RETRAIN_DAYS: String(daysBack(firstMs) + 1),
    TROUPE_ML_RETRAIN_TEST_DAYS: String(daysBack(lastMs) + 7),
    TROUPE_ML_RETRAIN_TREES: '3',
    TROUPE_ML_RETRAIN_MAX_ROWS: '200',
  });
  running = await startTroupe(config, silentLogger());
  base = `http://127.0.0.1:${running.port}`;
  const registry = new MlModelStore(store().database);
  for (const model of models) await registry.register(model);
  await storeMinuteBars(store().database, series);
  admin = await token(ADMIN);
  const created = await call('POST', '/api/v1/users', admin, { json: { ...VIEWER, role: 'viewer' } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  viewer = await token(VIEWER);
}, 180_000);

afterAll(async () => {
  await running?.stop('test over');
});

describe('the ML API on a running Troupe and PostgreSQL', () => {
  it('lists the registered models newest first with their out-of-sample metrics; shows one; 404 for an unknown version', async () => {
    expect((await call('GET', '/api/v1/ml/models', undefined)).status).toBe(401);
    const list = await call<{ items: ModelView[] }>('GET', '/api/v1/ml/models', viewer);
    expect(list.status).toBe(200);
    expect(list.body.items.map((m) => m.version)).toEqual(models.map((m) => m.version).reverse());
    for (const model of models) {
      const view = list.body.items.find((m) => m.version === model.version)!;
      expect(view).toMatchObject({
        kind: 'random-forest',
        status: 'candidate',
        featureSchemaHash: model.featureSchemaHash,
        onnxBytes: model.onnx.length,
        trainingWindow: model.trainingWindow,
        metrics: {
          samples: model.metrics.samples,
          accuracy: model.metrics.accuracy,
          brier: model.metrics.brier,
          baselineAccuracy: model.metrics.baselineAccuracy,
          retraining: null,
        },
      });
      expect(view.metrics.accuracy).toBeGreaterThan(0);
      const one = await call<ModelView>('GET', `/api/v1/ml/models/${model.version}`, viewer);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(view);
    }
    const unknown = await call<ErrorBody>('GET', '/api/v1/ml/models/rf-nope', viewer);
    expect(unknown).toEqual({ status: 404, body: { error: { code: 'not-found', message: 'no model rf-nope in the registry (troupe ml list)' } } });
    // longer than the router's parameter limit: no such route
    const tooLong = await call<ErrorBody>('GET', `/api/v1/ml/models/${'x'.repeat(201)}`, viewer);
    expect(tooLong.status).toBe(404);
    expect(tooLong.body.error.code).toBe('not-found');
  });

  it('promotes (admins only; the ML actor starts and loads the model), refuses unknown and already-live versions, rolls back', async () => {
    const [a, b] = models.map((m) => m.version);
    const before = await status();
    expect(before).toMatchObject({ mode: 'auto', kind: 'random-forest', actor: null, retraining: { schedule: 'weekly sun 02:00 IST', running: false } });

    expect((await call<ErrorBody>('POST', `/api/v1/ml/models/${a}/promote`, viewer)).status).toBe(403);
    expect((await call('POST', `/api/v1/ml/models/${a}/promote`, undefined)).status).toBe(401);
    const unknown = await call<ErrorBody>('POST', '/api/v1/ml/models/rf-nope/promote', admin);
    expect(unknown).toEqual({ status: 404, body: { error: { code: 'not-found', message: 'no model rf-nope in the registry (troupe ml list)' } } });
    const nothingLive = await call<ErrorBody>('POST', '/api/v1/ml/rollback', admin);
    expect(nothingLive.status).toBe(409);
    expect(nothingLive.body.error).toEqual({ code: 'conflict', message: 'no live random-forest model to roll back' });

    expect(await call('POST', `/api/v1/ml/models/${a}/promote`, admin)).toEqual({ status: 200, body: { promoted: a, retired: null } });
    await actorRuns(a!);
    const again = await call<ErrorBody>('POST', `/api/v1/ml/models/${a}/promote`, admin);
    expect(again).toEqual({ status: 409, body: { error: { code: 'conflict', message: `model ${a} is already live` } } });
    const onlyOne = await call<ErrorBody>('POST', '/api/v1/ml/rollback', admin);
    expect(onlyOne.status).toBe(409);
    expect(onlyOne.body.error.message).toBe(`no earlier random-forest model to roll back to (${a} is the first that went live)`);

    expect(await call('POST', `/api/v1/ml/models/${b}/promote`, admin)).toEqual({ status: 200, body: { promoted: b, retired: a } });
    await actorRuns(b!);
    expect(await statuses()).toMatchObject({ [a!]: 'retired', [b!]: 'live' });

    expect((await call('POST', '/api/v1/ml/rollback', viewer)).status).toBe(403);
    expect(await call('POST', '/api/v1/ml/rollback', admin)).toEqual({ status: 200, body: { restored: a, retired: b } });
    await actorRuns(a!);
    expect(await statuses()).toMatchObject({ [a!]: 'live', [b!]: 'retired' });
    expect((await call<ModelView>('GET', `/api/v1/ml/models/${a}`, viewer)).body.status).toBe('live');
    expect((await status()).actor?.lastError).toBeNull();
  });

  it('answers bad bodies with 400 or 415 and changes nothing', async () => {
    const live = await statuses();
    const [, b] = models.map((m) => m.version);
    const broken = await call<ErrorBody>('POST', `/api/v1/ml/models/${b}/promote`, admin, { raw: '{"version": ', type: 'application/json' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid-json');
    const rollbackBroken = await call<ErrorBody>('POST', '/api/v1/ml/rollback', admin, { raw: 'not json', type: 'application/json' });
    expect(rollbackBroken.status).toBe(400);
    expect(rollbackBroken.body.error.code).toBe('invalid-json');
    const retrainBroken = await call<ErrorBody>('POST', '/api/v1/ml/retrain', admin, { raw: '{"now": tru', type: 'application/json' });
    expect(retrainBroken.status).toBe(400);
    expect(retrainBroken.body.error.code).toBe('invalid-json');
    const xml = await call<ErrorBody>('POST', `/api/v1/ml/models/${b}/promote`, admin, { raw: '<promote/>', type: 'application/xml' });
    expect(xml.status).toBe(415);
    expect(xml.body.error.code).toBe('unsupported-media-type');
    expect(await statuses()).toEqual(live);
    expect((await status()).retraining.running).toBe(false);
  });

  it('retrains now in a child process: 202, a second start is refused while it runs, progress then the outcome in the status', async () => {
    const live = Object.entries(await statuses()).find(([, s]) => s === 'live')![0];
    expect((await call('POST', '/api/v1/ml/retrain', viewer)).status).toBe(403);
    expect(await call('POST', '/api/v1/ml/retrain', admin)).toEqual({ status: 202, body: { started: true } });
    // the child process (a fresh Node.js with tsx) takes far longer to start than this request
    const twice = await call<ErrorBody>('POST', '/api/v1/ml/retrain', admin);
    expect(twice).toEqual({ status: 409, body: { error: { code: 'conflict', message: 'a retraining is already running' } } });
    const phases = new Set<string>();
    const done = await until(
      async () => {
        const now = await status();
        if (now.retraining.progress) phases.add(now.retraining.progress.phase);
        return !now.retraining.running && (now.retraining.lastOutcome !== null || now.retraining.lastError !== null) ? now : undefined;
      },
      'the retraining to finish',
      150_000,
    );
    expect(done.retraining.lastError).toBeNull();
    expect(phases.has('done')).toBe(true);
    const outcome = done.retraining.lastOutcome!;
    expect(outcome.liveAccuracy).not.toBeNull();
    const candidate = await call<ModelView>('GET', `/api/v1/ml/models/${outcome.version}`, viewer);
    expect(candidate.status).toBe(200);
    expect(candidate.body.metrics).toMatchObject({ accuracy: outcome.candidateAccuracy, retraining: outcome.reason });
    expect(candidate.body.status).toBe(outcome.promoted ? 'live' : 'candidate');
    await actorRuns(outcome.promoted ? outcome.version : live);
  }, 180_000);
});

describe('the ML API in a process with ML off', () => {
  it('answers 409 with the reason on every route', async () => {
    const harness = await startHarness();
    try {
      const { authorization } = await login(harness.app);
      for (const [method, url] of [
        ['GET', '/api/v1/ml/models'],
        ['GET', '/api/v1/ml/models/rf-a'],
        ['GET', '/api/v1/ml/status'],
        ['POST', '/api/v1/ml/models/rf-a/promote'],
        ['POST', '/api/v1/ml/rollback'],
        ['POST', '/api/v1/ml/retrain'],
      ] as const) {
        const response = await harness.app.inject({ method, url, headers: { authorization } });
        expect(response.statusCode, url).toBe(409);
        expect(response.json<ErrorBody>().error).toEqual({ code: 'conflict', message: 'ML is off in this process (TROUPE_ML=off)' });
      }
    } finally {
      await harness.close();
    }
  });
});
