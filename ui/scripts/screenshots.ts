/**
 * Screenshots of every page of the desk at 1400×900 and 390×844, into docs/screenshots/.
 *
 *   npx tsx ui/scripts/screenshots.ts [--out docs/screenshots] [--speed 30] [--warmup-sec 60]
 *
 * Starts a Troupe of its own (fresh data directory, synthetic market at `--speed`, loopback
 * port; two small models trained on ../shared/data with `troupe ml train`, one live, for the
 * Models page), lets it trade for `--warmup-sec`, logs in with Debian's Chromium (headless,
 * playwright-core, --no-sandbox) and saves `<page>-desktop.png` and `<page>-mobile.png`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: { out: { type: 'string', default: 'docs/screenshots' }, speed: { type: 'string', default: '30' }, 'warmup-sec': { type: 'string', default: '60' } },
});
const OUT = resolve(ROOT, values.out);
const ADMIN = { user: 'admin', password: 'screenshot-password-1' };
const PAGES: readonly { readonly id: string; readonly hash: string; readonly ready: string }[] = [
  { id: 'overview', hash: '#/overview', ready: '[data-testid="pnl-cards"]' },
  { id: 'positions', hash: '#/positions', ready: 'main h1' },
  { id: 'orders', hash: '#/orders', ready: 'form[aria-label="Order ticket"]' },
  { id: 'strategies', hash: '#/strategies', ready: '[data-testid="strategies-table"]' },
  { id: 'market', hash: '#/market', ready: '[data-testid="candle-chart"] canvas' },
  { id: 'risk', hash: '#/risk', ready: 'main h1' },
  { id: 'system', hash: '#/system', ready: 'main h1' },
  { id: 'models', hash: '#/models', ready: '[data-testid="models-table"] tr[data-status="live"]' },
  { id: 'performance', hash: '#/performance', ready: '[data-testid="performance-cards"]' },
  { id: 'admin', hash: '#/admin', ready: 'main h1' },
];
const SIZES = [
  { name: 'desktop', width: 1400, height: 900 },
  { name: 'mobile', width: 390, height: 844 },
] as const;

async function startTroupe(dataDir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      TROUPE_DATA_DIR: dataDir,
      TROUPE_MARKET_SPEED: values.speed,
      ADMIN_USER: ADMIN.user,
      ADMIN_PASSWORD: ADMIN.password,
      DATABASE_URL: '',
      REDIS_URL: '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const reader = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolvePort, reject) => {
    reader.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { message?: string; 'server.port'?: number };
        if (entry['server.port'] && entry.message?.startsWith('Troupe')) resolvePort(entry['server.port']);
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => reject(new Error(`troupe exited with ${code}`)));
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** `troupe ml …` on the data directory's embedded store (before the Troupe starts: one process owns it). */
function troupeMl(dataDir: string, args: readonly string[]): string {
  const run = spawnSync(process.execPath, ['bin/troupe.js', 'ml', ...args], {
    cwd: ROOT,
    env: { ...process.env, TROUPE_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`troupe ml ${args[0] ?? ''} failed (${run.status})`);
  return run.stdout;
}

/** Two small forests on the shared data (the Models page's rows), the first one live. */
function trainModels(dataDir: string): void {
  const versions = ['1', '2'].map((seed) => {
    const out = troupeMl(dataDir, [
      'train',
      '--data',
      '../shared/data/nse-5min',
      '--symbols',
      'RELIANCE,TCS',
      '--test-from',
      '2026-06-12',
      '--trees',
      '5',
      '--depth',
      '4',
      '--max-rows',
      '400',
      '--seed',
      seed,
      '--json',
    ]);
    return (JSON.parse(out) as { version: string }).version;
  });
  troupeMl(dataDir, ['promote', '--model', versions[0]!]);
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'ui/scripts/build-ui.ts'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the UI build failed');
  mkdirSync(OUT, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-screenshots-'));
  const userDataDir = mkdtempSync(join(tmpdir(), 'troupe-screenshots-chromium-'));
  trainModels(dataDir);
  const troupe = await startTroupe(dataDir);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    viewport: SIZES[0],
  });
  try {
    const page: Page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(`http://127.0.0.1:${troupe.port}/`);
    await page.fill('#login-username', ADMIN.user);
    await page.fill('#login-password', ADMIN.password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="connection"][data-status="live"]');
    // let the demo strategy warm up and trade (market time runs at --speed)
    await page.waitForTimeout(Number(values['warmup-sec']) * 1000);
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      for (const target of PAGES) {
        await page.evaluate((hash) => (window.location.hash = hash), target.hash);
        await page.waitForSelector(target.ready);
        // two seconds of live data and the polled panels (charts, depth, analytics)
        await page.waitForTimeout(2_000);
        const path = join(OUT, `${target.id}-${size.name}.png`);
        await page.screenshot({ path });
        console.log(`${path}`);
      }
    }
  } finally {
    await context.close();
    await troupe.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

await main();
