import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { callApi, eventually as pollUntil, loginToken, startTroupeProcess, type TroupeProcess } from '../support/troupe-process.js';
import { CHROMIUM_ARGS, ensureChromium } from './support/chromium.js';

/**
 * Yesterday's record in a real browser (Debian's Chromium, playwright-core) against a real
 * Troupe process on its embedded store: trade, stop the process, start it again on the same data
 * directory, and the desk still shows the orders, trades, risk alerts (×count, acknowledged from
 * the page) and the strategy's P&L. Then the kill switch: the halt banner on every page and
 * `halted` on the strategy; released from the banner, it goes away.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'ui', 'dist');
const SHOTS = join(ROOT, 'test-results', 'ui');
const ADMIN = { user: 'admin', password: 'history-e2e-password' };
const PAGES = ['overview', 'positions', 'orders', 'strategies', 'market', 'risk', 'system', 'admin'];

let troupe: TroupeProcess | undefined;
let context: BrowserContext | undefined;
let userDataDir: string | undefined;
let dataDir: string | undefined;
let page: Page;
let apiPort = 0;

async function startTroupe(): Promise<number> {
  troupe = await startTroupeProcess({
    dataDir: dataDir!,
    inheritStores: false,
    readyMessages: ['Troupe is trading', 'Troupe started'],
    env: {
      TROUPE_MARKET_SPEED: '30',
      ADMIN_USER: ADMIN.user,
      ADMIN_PASSWORD: ADMIN.password,
      TROUPE_RATE_LIMIT_ROLES: 'admin=2000',
      TROUPE_RISK_MAX_ORDERS_PER_SECOND: '1000',
      TROUPE_RISK_MAX_ORDERS_PER_SECOND_PER_STRATEGY: '1000',
    },
  });
  return troupe.port;
}

async function stopTroupe(): Promise<void> {
  if (!troupe?.running()) return;
  expect(await troupe.stop()).toBe(0);
  troupe = undefined;
}

const api = <T>(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: T }> =>
  callApi<T>(apiPort, method, path, token, body);
const adminToken = (): Promise<string> => loginToken(apiPort, ADMIN);
const eventually = <T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> => pollUntil(probe, what, timeoutMs, 100);

async function go(hash: string, ready: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.waitForSelector(ready);
}

async function logIn(): Promise<void> {
  await page.goto(`http://127.0.0.1:${apiPort}/`, { timeout: 60_000 });
  await page.waitForSelector('form[aria-label="Log in"]');
  await page.fill('#login-username', ADMIN.user);
  await page.fill('#login-password', ADMIN.password);
  await page.click('button[type="submit"]');
  await page.waitForSelector('[data-testid="connection"][data-status="live"]', { timeout: 30_000 });
}

beforeAll(async () => {
  const executablePath = ensureChromium();
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'ui/scripts/build-ui.ts'], { cwd: ROOT, stdio: 'inherit' });
  expect(build.status).toBe(0);
  expect(existsSync(join(DIST, 'index.html'))).toBe(true);
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'troupe-history-e2e-'));
  userDataDir = mkdtempSync(join(tmpdir(), 'troupe-history-chromium-'));
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
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the record and halts in Chromium across a restart', () => {
  it(
    "shows yesterday's orders, trades, alerts and P&L after a restart; the kill switch halts every page and the strategy; release clears it",
    { timeout: 420_000 },
    async () => {
      onTestFailed(async () => {
        await page.screenshot({ path: join(SHOTS, 'history-failure.png'), fullPage: true }).catch(() => undefined);
      });
      // day one: the strategy trades; a manual order fills; three refused orders are one alert ×3
      apiPort = await startTroupe();
      let token = await adminToken();
      const instruments = await api<{ items: { symbol: string; lastPricePaise: number | null }[] }>('GET', '/api/v1/instruments', token);
      const symbol = instruments.body.items[0]!.symbol;
      await eventually(
        async () => (await api<{ items: { lastPricePaise: number | null }[] }>('GET', '/api/v1/instruments', token)).body.items[0]?.lastPricePaise,
        'prices',
      );
      // CNC: delivery is open all session (an MIS order after the 15:20 cut-off is refused)
      const placed = await api<{ clientOrderId: string }>('POST', '/api/v1/orders', token, { symbol, side: 'BUY', quantity: 3, product: 'CNC' });
      expect(placed.status, JSON.stringify(placed.body)).toBe(201);
      const manualId = placed.body.clientOrderId;
      for (let n = 0; n < 3; n += 1) expect((await api('POST', '/api/v1/orders', token, { symbol, side: 'BUY', quantity: 9_000_000 })).status).toBe(422);
      const booked = await eventually(
        async () => {
          const books = await api<{ items: { strategyId: string; fills: number; chargesPaise: number }[] }>('GET', '/api/v1/history/strategy-books', token);
          const ema = books.body.items.find((book) => book.strategyId === 'ema-cross-1');
          const manual = books.body.items.find((book) => book.strategyId === 'manual');
          const alerts = await api<{ items: { code: string; count: number }[] }>('GET', '/api/v1/risk/alerts?code=freeze-quantity', token);
          return ema && ema.fills >= 2 && manual?.fills === 1 && alerts.body.items[0]?.count === 3 ? ema : undefined;
        },
        'the strategy and the manual order to fill, and the refusals to be kept',
        120_000,
      );
      expect(booked.chargesPaise).toBeGreaterThan(0);
      const emaOrder = (await api<{ items: { clientOrderId: string }[] }>('GET', '/api/v1/orders?strategy=ema-cross-1&limit=1', token)).body.items[0]!
        .clientOrderId;
      await stopTroupe();

      // day two: the same data directory
      apiPort = await startTroupe();
      token = await adminToken();
      await logIn();
      await go('#/orders', '[data-testid="orders-table"]');
      await page.fill('form[aria-label="Filters"] input[name="strategy"]', 'manual');
      await page.click('form[aria-label="Filters"] button[type="submit"]');
      await page.waitForSelector(`[data-testid="orders-table"] tr[data-order="${manualId}"][data-status="COMPLETE"]`);
      // one of the strategy's orders of day one, from the record
      await go(`#/orders/${emaOrder}`, `[data-testid="order-detail"][aria-label="Order ${emaOrder}"] [data-testid="order-status"]`);
      await page.click('button[role="tab"]:has-text("Trades")');
      await page.fill('form[aria-label="Filters"] input[name="strategy"]', 'manual');
      await page.click('form[aria-label="Filters"] button[type="submit"]');
      await page.waitForSelector(`[data-testid="trades-table"] td:has-text("${manualId}")`);
      await page.screenshot({ path: join(SHOTS, 'history-01-trades-after-restart.png'), fullPage: true });

      // the alert row, ×3, acknowledged from the page
      await go('#/risk', '[data-testid="alerts-table"] tr[data-code="freeze-quantity"]');
      const row = page.locator('[data-testid="alerts-table"] tr[data-code="freeze-quantity"]').first();
      expect(await row.locator('[data-testid="alert-count"]').textContent()).toBe('×3');
      await row.locator('[data-testid="alert-ack"]').click();
      await row.locator('[data-testid="alert-acknowledged"]').waitFor();
      expect(await row.locator('[data-testid="alert-acknowledged"]').textContent()).toContain(ADMIN.user);
      await page.screenshot({ path: join(SHOTS, 'history-02-alerts-after-restart.png'), fullPage: true });

      // the strategy's P&L, charges and turnover count yesterday's fills
      await go('#/strategies', '[data-testid="strategies-table"] tr[data-strategy="ema-cross-1"]');
      const strategyRow = page.locator('[data-testid="strategies-table"] tr[data-strategy="ema-cross-1"]');
      await eventually(async () => {
        const cells = await strategyRow.locator('td.num').allTextContents();
        // net P&L, charges, turnover: none of them zero
        return cells.slice(0, 3).every((text) => !/^[+−-]?₹0\.00$/.test(text.trim())) ? cells : undefined;
      }, "the strategy's P&L from the record");

      // the kill switch: the banner on every page, `halted` on the strategy
      expect((await api('POST', '/api/v1/kill-switch', token, { reason: 'history e2e drill' })).status).toBe(200);
      for (const id of PAGES) {
        await go(`#/${id}`, '[data-testid="halt-banner"][data-halted="true"] [data-halt="kill-switch"]');
      }
      await go('#/strategies', '[data-testid="strategies-table"] tr[data-strategy="ema-cross-1"] [data-testid="strategy-halted"]');
      await page.screenshot({ path: join(SHOTS, 'history-03-halted.png'), fullPage: true });

      // released: the banner goes away
      expect((await api('POST', '/api/v1/risk/kill-switch/reset', token)).status).toBe(200);
      await eventually(async () => (await api<{ halted: boolean }>('GET', '/api/v1/halts', token)).body.halted === false, 'the halt to clear');
      await go('#/overview', '[data-testid="connection"]');
      await eventually(async () => (await page.$('[data-halt="kill-switch"]')) === null, 'the banner to go');
      await stopTroupe();
    },
  );
});
