import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { TrainedModel } from '../../src/ml/model.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { MlModelStore } from '../../src/persistence/ml-model-store.js';
import { mlSeries, smallForests } from '../support/ml-models.js';
import { usePostgres, type PostgresService } from '../support/services.js';
import { callApi, eventually as pollUntil, loginToken, startTroupeProcess, type TroupeProcess } from '../support/troupe-process.js';
import { CHROMIUM_ARGS, ensureChromium } from './support/chromium.js';

/**
 * The Models page in a real browser (Debian's Chromium, playwright-core) against a real Troupe
 * process on real PostgreSQL whose registry holds three small forests trained here on the shared
 * data, one of them live: the page lists them with their out-of-sample metrics and the active
 * model; Promote on a row and Roll back change the live model, and the API (the registry and
 * the ML actor) agrees with the page after each.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'ui', 'dist');
const SHOTS = join(ROOT, 'test-results', 'ui');
const ADMIN = { user: 'admin', password: 'models-e2e-password' };

let postgres: PostgresService | undefined;
let database: PostgresDatabase | undefined;
let troupe: TroupeProcess | undefined;
let context: BrowserContext | undefined;
let userDataDir: string | undefined;
let dataDir: string | undefined;
let page: Page;
let apiPort = 0;
let models: TrainedModel[] = [];

async function startTroupe(): Promise<number> {
  troupe = await startTroupeProcess({
    dataDir: dataDir!,
    inheritStores: false,
    readyMessages: ['Troupe is trading', 'Troupe started'],
    env: {
      DATABASE_URL: postgres!.url,
      TROUPE_SYMBOLS: '2',
      TROUPE_MARKET_SPEED: '30',
      TROUPE_ML: 'auto',
      ADMIN_USER: ADMIN.user,
      ADMIN_PASSWORD: ADMIN.password,
      TROUPE_RATE_LIMIT_ROLES: 'admin=2000',
      // the page unchanged with the gateway in its worker thread: the ML routes reach the host's ML service across the port
      TROUPE_GATEWAY_THREAD: 'worker',
    },
  });
  return troupe.port;
}

const api = <T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> =>
  callApi<T>(apiPort, method, path, token, body);
const adminToken = (): Promise<string> => loginToken(apiPort, ADMIN);
const eventually = <T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> => pollUntil(probe, what, timeoutMs, 100);

/** The registry's statuses and the ML actor's model, as the API tells them. */
async function apiView(token: string): Promise<{ statuses: Record<string, string>; actor: string | null }> {
  const list = await api<{ items: { version: string; status: string }[] }>('GET', '/api/v1/ml/models', token);
  const status = await api<{ actor: { modelVersion: string | null } | null }>('GET', '/api/v1/ml/status', token);
  return { statuses: Object.fromEntries(list.body.items.map((m) => [m.version, m.status])), actor: status.body.actor?.modelVersion ?? null };
}

/** Percent with one decimal, computed here from the registered metrics (not by the page's code). */
const percent = (value: unknown): string => `${(Number(value) * 100).toFixed(1)}%`;

beforeAll(async () => {
  const executablePath = ensureChromium();
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'ui/scripts/build-ui.ts'], { cwd: ROOT, stdio: 'inherit' });
  expect(build.status).toBe(0);
  expect(existsSync(join(DIST, 'index.html'))).toBe(true);
  mkdirSync(SHOTS, { recursive: true });
  postgres = await usePostgres();
  database = new PostgresDatabase(postgres.url);
  await migrate(database);
  models = await smallForests(await mlSeries(), [1, 2, 3]);
  const registry = new MlModelStore(database);
  for (const model of models) await registry.register(model);
  await registry.promote(models[0]!.version);
  dataDir = mkdtempSync(join(tmpdir(), 'troupe-models-e2e-'));
  userDataDir = mkdtempSync(join(tmpdir(), 'troupe-models-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (error) => console.error('page error:', error.message));
}, 180_000);

afterAll(async () => {
  await context?.close();
  await troupe?.stop();
  await database?.close();
  await postgres?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the Models page in Chromium', () => {
  it(
    'lists the trained models with their metrics; promote and roll back from the page change the live model and the API agrees',
    { timeout: 300_000 },
    async () => {
      onTestFailed(async () => {
        await page.screenshot({ path: join(SHOTS, 'models-failure.png'), fullPage: true }).catch(() => undefined);
      });
      const [a, b, c] = models.map((m) => m.version) as [string, string, string];
      apiPort = await startTroupe();
      const token = await adminToken();
      // the live model at start: the ML actor loads it
      await eventually(async () => (await apiView(token)).actor === a, `the ML actor to load ${a}`);

      await page.goto(`http://127.0.0.1:${apiPort}/`, { timeout: 60_000 });
      await page.waitForSelector('form[aria-label="Log in"]');
      await page.fill('#login-username', ADMIN.user);
      await page.fill('#login-password', ADMIN.password);
      await page.click('button[type="submit"]');
      await page.waitForSelector('[data-testid="connection"][data-status="live"]', { timeout: 30_000 });
      await page.evaluate(`location.hash = '#/models'`);
      await page.waitForSelector(`[data-testid="models-table"] tr[data-version="${a}"][data-status="live"]`);

      // every model, newest first, with its out-of-sample accuracy (and baseline) and Brier score
      const rows = page.locator('[data-testid="models-table"] tbody tr');
      const order: (string | null)[] = [];
      for (let i = 0; i < (await rows.count()); i += 1) order.push(await rows.nth(i).getAttribute('data-version'));
      expect(order).toEqual([c, b, a]);
      for (const model of models) {
        const cells = await page.locator(`[data-testid="models-table"] tr[data-version="${model.version}"] td`).allTextContents();
        expect(cells[0]).toBe(model.version);
        expect(cells[1]).toBe('random-forest');
        expect(cells[2]).toBe(model.version === a ? 'live' : 'candidate');
        expect(cells[4]).toBe(`${percent(model.metrics.accuracy)} (${percent(model.metrics.baselineAccuracy)})`);
        expect(cells[5]).toBe(Number(model.metrics.brier).toFixed(4));
        expect(cells[8]).toBe(model.featureSchemaHash.slice(0, 12));
      }
      await eventually(async () => (await page.textContent('[data-testid="active-model"]'))?.includes(a), 'the page to show the active model');
      await page.screenshot({ path: join(SHOTS, 'models-01-listed.png'), fullPage: true });

      // promote B from its row: B live, A retired, the actor runs B; the API agrees
      await page.locator(`[data-testid="models-table"] tr[data-version="${b}"] button:has-text("Promote")`).click();
      await page.waitForSelector(`[data-testid="models-message"]:has-text("${b} is live; ${a} retired.")`);
      await page.waitForSelector(`[data-testid="models-table"] tr[data-version="${b}"][data-status="live"]`);
      await page.waitForSelector(`[data-testid="models-table"] tr[data-version="${a}"][data-status="retired"]`);
      expect(await page.locator(`[data-testid="models-table"] tr[data-version="${b}"] button:has-text("Promote")`).count()).toBe(0);
      await eventually(async () => (await apiView(token)).actor === b, `the ML actor to run ${b}`);
      expect((await apiView(token)).statuses).toEqual({ [a]: 'retired', [b]: 'live', [c]: 'candidate' });
      await eventually(async () => (await page.textContent('[data-testid="active-model"]'))?.includes(b), 'the page to show the promoted model');
      await page.screenshot({ path: join(SHOTS, 'models-02-promoted.png'), fullPage: true });

      // roll back from the page: A live again, B retired; the API agrees
      await page.click('section[aria-label="Active model"] button:has-text("Roll back")');
      await page.waitForSelector(`[data-testid="models-message"]:has-text("${a} is live again; ${b} retired.")`);
      await page.waitForSelector(`[data-testid="models-table"] tr[data-version="${a}"][data-status="live"]`);
      await eventually(async () => (await apiView(token)).actor === a, `the ML actor to run ${a} again`);
      expect((await apiView(token)).statuses).toEqual({ [a]: 'live', [b]: 'retired', [c]: 'candidate' });
      await eventually(async () => (await page.textContent('[data-testid="active-model"]'))?.includes(a), 'the page to show the restored model');

      // a second roll back has nothing to go back to: the page says why
      await page.click('section[aria-label="Active model"] button:has-text("Roll back")');
      await page.waitForSelector(`[data-testid="models-message"]:has-text("no earlier random-forest model")`);
      expect((await apiView(token)).statuses).toEqual({ [a]: 'live', [b]: 'retired', [c]: 'candidate' });
      await page.screenshot({ path: join(SHOTS, 'models-03-rolled-back.png'), fullPage: true });

      expect(await troupe!.stop()).toBe(0);
    },
  );
});
