import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { login, startHarness, type Harness } from './harness.js';

const built = mkdtempSync(join(tmpdir(), 'troupe-ui-dist-'));
mkdirSync(join(built, 'assets'));
writeFileSync(join(built, 'index.html'), '<!doctype html><title>Troupe desk</title><div id="root"></div><script type="module" src="/assets/app.js"></script>');
writeFileSync(join(built, 'assets', 'app.js'), 'console.log("desk");');
// what the build writes beside each asset (ui/scripts/build-ui.ts): served instead when accepted
writeFileSync(join(built, 'assets', 'app.js.br'), brotliCompressSync('console.log("desk");'));
writeFileSync(join(built, 'assets', 'app.js.gz'), gzipSync('console.log("desk");'));
const missing = join(built, 'not-built');

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});
afterAll(() => rmSync(built, { recursive: true, force: true }));

describe('the dashboard at /', () => {
  it('serves ui/dist with @fastify/static, falls back to index.html for its routes, and leaves the API alone', async () => {
    harness = await startHarness({ rateLimitPerMinute: 3 }, { uiDir: built });
    const { app } = harness;
    const root = await app.inject({ url: '/' });
    expect(root.statusCode).toBe(200);
    expect(root.headers['content-type']).toMatch(/text\/html/);
    expect(root.body).toContain('Troupe desk');
    const asset = await app.inject({ url: '/assets/app.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.body).toBe('console.log("desk");');
    // hashed assets are cached for good, the page revalidates; pre-compressed bodies as accepted
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(root.headers['cache-control']).toBe('no-cache');
    const brotli = await app.inject({ url: '/assets/app.js', headers: { 'accept-encoding': 'br, gzip' } });
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(brotli.rawPayload).toString()).toBe('console.log("desk");');
    for (const route of ['/orders', '/strategies/ema', '/admin?tab=keys']) {
      const page = await app.inject({ url: route });
      expect(page.statusCode, route).toBe(200);
      expect(page.body).toContain('Troupe desk');
    }
    // a missing file is a 404, not the page; API paths keep their envelope
    expect((await app.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
    const api = await app.inject({ url: '/api/v1/nothing-here' });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ error: { code: 'not-found' } });
    expect((await app.inject({ method: 'POST', url: '/orders' })).statusCode).toBe(404);
    // files are public and not rate limited (a page load fetches many); the API still needs a login
    for (let i = 0; i < 10; i += 1) expect((await app.inject({ url: '/assets/app.js' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/positions' })).statusCode).toBe(401);
    const { authorization } = await login(app);
    expect((await app.inject({ url: '/api/v1/positions', headers: { authorization } })).statusCode).toBe(200);
    // path traversal stays inside the directory
    expect((await app.inject({ url: '/../package.json' })).statusCode).not.toBe(200);
    expect((await app.inject({ url: '/assets/..%2f..%2fpackage.json' })).statusCode).not.toBe(200);
  });

  it('without ui/dist, / explains how to build it (never a 500) and other paths are 404', async () => {
    harness = await startHarness({}, { uiDir: missing });
    const { app } = harness;
    const root = await app.inject({ url: '/' });
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('npm run build:ui');
    expect(root.body).toContain('/api/v1/docs');
    expect((await app.inject({ url: '/orders' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
  });
});
