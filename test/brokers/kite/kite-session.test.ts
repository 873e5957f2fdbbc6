process.env.TZ = 'Asia/Kolkata';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KiteBroker, KiteSessionExpiredError } from '../../../src/brokers/kite/index.js';
import { loadInstruments } from '../../../src/brokers/kite/instruments.js';
import { kiteLoginUrl } from '../../../src/brokers/kite/login.js';
import { KiteTokenStore, kiteSessionExpiry } from '../../../src/brokers/kite/token-store.js';
import { SecretBox, SecretBoxError, secretKeyFile } from '../../../src/config/secret-box.js';
import { kiteCommand } from '../../../src/cli/kite.js';
import { kiteCredentials } from '../../../src/wiring/kite-credentials.js';
import type { KiteSimulator } from '../../../src/sim/index.js';
import { API_KEY, API_SECRET, startSimulator } from '../../sim/support.js';

let sim: KiteSimulator;
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-kite-session-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const IST = (iso: string): number => Date.parse(`${iso}+05:30`);

describe('Kite session kept encrypted at rest', () => {
  it('expires at 06:00 IST: the next morning, or the same morning when logged in before 06:00', () => {
    expect(kiteSessionExpiry(IST('2026-05-20T09:30:00'))).toBe(IST('2026-05-21T06:00:00'));
    expect(kiteSessionExpiry(IST('2026-05-20T23:59:00'))).toBe(IST('2026-05-21T06:00:00'));
    expect(kiteSessionExpiry(IST('2026-05-21T05:59:00'))).toBe(IST('2026-05-21T06:00:00'));
    expect(kiteSessionExpiry(IST('2026-05-21T06:00:00'))).toBe(IST('2026-05-22T06:00:00'));
  });

  it("the session is sealed with Troupe's one secret box, bound to its place: another key, another context or tampering do not open it", () => {
    const dataDir = tempDir();
    const box = new SecretBox(Buffer.alloc(32, 0xaa));
    const store = new KiteTokenStore({ dataDir, box, now: () => IST('2026-05-20T10:00:00') });
    store.save({ apiKey: 'k', accessToken: 'secret-token', userId: 'ZS0001', loginAtMs: IST('2026-05-20T09:30:00') });
    const sealed = readFileSync(store.path, 'utf8');
    expect(sealed).not.toContain('secret-token');
    expect(JSON.parse(box.open(sealed, 'kite-session'))).toMatchObject({ accessToken: 'secret-token' });
    expect(() => box.open(sealed, 'totp:user-1')).toThrow(SecretBoxError);
    expect(new KiteTokenStore({ dataDir, box: new SecretBox(Buffer.alloc(32, 0xbb)) }).load('k').problem).toMatch(/cannot be decrypted/);
    // the configured key is the same box the gateway uses for TOTP secrets
    expect(new KiteTokenStore({ dataDir, secretKey: 'aa'.repeat(32), now: () => IST('2026-05-20T10:00:00') }).load('k').session?.accessToken).toBe(
      'secret-token',
    );
  });

  it('a session file written before the boxes were unified (old layout, old kite/secret.key) still opens, and is re-sealed with the one key', () => {
    const dataDir = tempDir();
    // what the first Kite token store wrote: its own key file and `v1.<iv>.<tag>.<body>` (base64, no associated data)
    const oldKey = randomBytes(32);
    mkdirSync(join(dataDir, 'kite'), { recursive: true });
    writeFileSync(join(dataDir, 'kite', 'secret.key'), oldKey.toString('hex'), { mode: 0o600 });
    const session = { apiKey: 'k', accessToken: 'old-token', userId: 'ZS0001', loginAtMs: IST('2026-05-20T09:30:00'), expiresAtMs: IST('2026-05-21T06:00:00') };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', oldKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(session), 'utf8'), cipher.final()]);
    writeFileSync(
      join(dataDir, 'kite', 'session.enc'),
      ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.'),
      { mode: 0o600 },
    );
    // a gateway key file exists too (TOTP secrets in the database were sealed with it): it becomes the one key
    const gatewayKey = randomBytes(32);
    mkdirSync(join(dataDir, 'gateway'), { recursive: true });
    writeFileSync(join(dataDir, 'gateway', 'secret.key'), `${gatewayKey.toString('hex')}\n`, { mode: 0o600 });

    const store = new KiteTokenStore({ dataDir, now: () => IST('2026-05-20T10:00:00') });
    expect(readFileSync(join(dataDir, 'secret.key'), 'utf8').trim()).toBe(gatewayKey.toString('hex'));
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(store.load('k').session).toEqual(session);
    // re-sealed in the current layout with the one key: it opens without the old key file now
    rmSync(join(dataDir, 'kite', 'secret.key'));
    expect(JSON.parse(new SecretBox(gatewayKey).open(readFileSync(store.path, 'utf8'), 'kite-session'))).toEqual(session);
    expect(new KiteTokenStore({ dataDir, now: () => IST('2026-05-20T10:00:00') }).load('k').session).toEqual(session);
  });

  it('without TROUPE_SECRET_KEY a key file is generated once with 0600; the session file is 0600 and holds no plain token', () => {
    const dataDir = tempDir();
    let now = IST('2026-05-20T10:00:00');
    const store = new KiteTokenStore({ dataDir, now: () => now });
    const keyFile = secretKeyFile(dataDir);
    const key = readFileSync(keyFile, 'utf8');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    store.save({ apiKey: 'k', accessToken: 'plain-access-token', userId: 'ZS0001', loginAtMs: now });
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(store.path, 'utf8')).not.toContain('plain-access-token');
    // a second store (a restart) reuses the key and reads the session
    const again = new KiteTokenStore({ dataDir, now: () => now });
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    expect(again.load('k').session?.accessToken).toBe('plain-access-token');
    expect(again.load('other').problem).toMatch(/another|belongs/);
    now = IST('2026-05-21T06:00:00');
    expect(again.load('k')).toEqual({ problem: expect.stringMatching(/expired/) as unknown });
    // altered file: not usable, asks for a login
    now = IST('2026-05-20T11:00:00');
    const sealed = readFileSync(store.path, 'utf8').split('.');
    const body = Buffer.from(sealed[3]!, 'base64');
    body[2] = body[2]! ^ 0x20;
    writeFileSync(store.path, [...sealed.slice(0, 3), body.toString('base64')].join('.'));
    expect(again.load('k').problem).toMatch(/cannot be decrypted/);
  });

  it('troupe kite login: login URL → redirect with request_token to the loopback receiver → generateSession → stored encrypted; start-up uses it', async () => {
    const dataDir = tempDir();
    const env = { KITE_API_KEY: API_KEY, KITE_API_SECRET: API_SECRET, KITE_ROOT: sim.url, TROUPE_DATA_DIR: dataDir, TROUPE_SECRET_KEY: 'c'.repeat(64) };
    const out: string[] = [];
    const err: string[] = [];
    let followed: Promise<Response> | undefined;
    const code = await kiteCommand(['login', '--port', '0', '--timeout-sec', '20'], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      env,
      // the "browser": opens the URL, Kite (the simulator) redirects to the receiver
      onLoginUrl: (url) => {
        followed = fetch(url);
      },
    });
    expect(code).toBe(0);
    expect(err.join('')).toContain(`${sim.url}/connect/login?api_key=${API_KEY}&v=3&redirect_url=`);
    expect(out.join('')).toMatch(/Logged in to Kite as ZS0001/);
    expect(await (await followed!).text()).toMatch(/You can close this window/);

    const store = new KiteTokenStore({ dataDir, secretKey: 'c'.repeat(64) });
    const stored = store.load(API_KEY).session!;
    expect(readFileSync(store.path, 'utf8')).not.toContain(stored.accessToken);
    const credentials = kiteCredentials({ ...emptyKite(), apiKey: API_KEY }, undefined, () => store);
    expect(credentials.accessToken).toBe(stored.accessToken);
    const broker = new KiteBroker({ apiKey: API_KEY, root: sim.url, accessToken: stored.accessToken });
    expect((await broker.client.getProfile()).user_id).toBe('ZS0001');

    const status: string[] = [];
    expect(await kiteCommand(['status'], { stdout: (t) => status.push(t), stderr: () => undefined, env })).toBe(0);
    expect(status.join('')).toMatch(/ZS0001 stored; valid until/);
    // without a stored session and no token: a clear message naming the way out
    expect(() =>
      kiteCredentials({ ...emptyKite(), apiKey: API_KEY }, undefined, () => new KiteTokenStore({ dataDir: tempDir(), secretKey: 'c'.repeat(64) })),
    ).toThrow(/troupe kite login/);
  });

  it('the login URL is Kite’s own for the real API', () => {
    expect(kiteLoginUrl('abc')).toBe('https://kite.zerodha.com/connect/login?api_key=abc&v=3');
    expect(kiteLoginUrl('abc', 'https://api.kite.trade', 'http://127.0.0.1:5077/kite/callback')).toBe('https://kite.zerodha.com/connect/login?api_key=abc&v=3');
  });

  it('daily expiry: a TokenException halts the adapter once; calls fail fast without reaching Kite', async () => {
    const other = await startSimulator();
    try {
      const broker = new KiteBroker({ apiKey: API_KEY, root: other.url, retryBaseMs: 1 });
      await broker.createSession(other.admin.createRequestToken(), API_SECRET);
      other.admin.expireSessions();
      await expect(broker.orders()).rejects.toBeInstanceOf(KiteSessionExpiredError);
      const placements = other.admin.stats().orderPlacements;
      for (let i = 0; i < 5; i += 1) {
        await expect(
          broker.placeOrder({ clientOrderId: `X${i}`, symbol: 'TCS', side: 'BUY', quantity: 1, orderType: 'MARKET', product: 'MIS', validity: 'DAY' }),
        ).rejects.toThrow(/log in again/);
      }
      expect(other.admin.stats().orderPlacements).toBe(placements);
      // a new login resumes
      const fresh = await broker.createSession(other.admin.createRequestToken(), API_SECRET);
      broker.useAccessToken(fresh);
      expect(broker.halted).toBeUndefined();
      expect((await broker.orders()).length).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('a call sent with the old token that fails after a new login does not halt the new session: it goes again with the new token', async () => {
    const other = await startSimulator();
    // a loopback proxy in front of the simulator that holds the first GET /orders until released
    let arrived!: () => void;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    const target = new URL(other.url);
    const proxy = createServer((req, res) => {
      const forward = (): void => {
        const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(upstream);
      };
      if (holding && req.method === 'GET' && req.url?.startsWith('/orders')) {
        holding = false;
        arrived();
        void released.then(forward);
      } else forward();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const address = proxy.address() as AddressInfo;
      const broker = new KiteBroker({ apiKey: API_KEY, root: `http://127.0.0.1:${address.port}`, retryBaseMs: 1 });
      await broker.createSession(other.admin.createRequestToken(), API_SECRET);
      other.admin.expireSessions();
      const fresh = await new KiteBroker({ apiKey: API_KEY, root: other.url }).createSession(other.admin.createRequestToken(), API_SECRET);
      const inFlight = broker.orders();
      await held; // sent with the expired token
      broker.useAccessToken(fresh); // the new login arrives meanwhile
      release(); // Kite refuses the old token now
      await expect(inFlight).resolves.toEqual([]);
      expect(broker.halted).toBeUndefined();
      const placed = await broker.placeOrder({
        clientOrderId: 'AFTER1',
        symbol: 'TCS',
        side: 'BUY',
        quantity: 1,
        orderType: 'MARKET',
        product: 'CNC',
        validity: 'DAY',
      });
      expect(placed).toMatch(/^\d+$/);
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await other.close();
    }
  });
});

describe('instrument dump cached per IST day', () => {
  it('downloads once a day, maps symbols ↔ tokens with tick and lot sizes, and refreshes the next day', async () => {
    const broker = new KiteBroker({ apiKey: API_KEY, root: sim.url });
    await broker.createSession(sim.admin.createRequestToken(), API_SECRET);
    const dataDir = tempDir();
    let now = IST('2026-05-20T08:45:00');
    const before = sim.admin.stats().instrumentDumps;
    const first = await loadInstruments(broker, { dataDir, now: () => now });
    expect(first.from).toBe('kite');
    const second = await loadInstruments(broker, { dataDir, now: () => now });
    expect(second.from).toBe('cache');
    expect(sim.admin.stats().instrumentDumps).toBe(before + 1);
    expect(second.map.instruments).toEqual(first.map.instruments);
    for (const expected of sim.admin.instruments) {
      const bySymbol = second.map.symbol(expected.symbol)!;
      expect(bySymbol).toMatchObject({ token: expected.token, tickSizePaise: expected.tickSizePaise, lotSize: expected.lotSize });
      expect(second.map.token(expected.token)?.symbol).toBe(expected.symbol);
    }
    expect(() => second.map.require(['INFY', 'NOSUCH'])).toThrow(/NOSUCH/);
    now = IST('2026-05-21T08:45:00');
    const next = await loadInstruments(broker, { dataDir, now: () => now });
    expect(next.from).toBe('kite');
    expect(readdirSync(join(dataDir, 'kite')).filter((f) => f.startsWith('instruments-'))).toEqual(['instruments-NSE-2026-05-21.json']);
    // a corrupt cache is downloaded again, not trusted
    writeFileSync(next.path!, '{not json');
    expect((await loadInstruments(broker, { dataDir, now: () => now })).from).toBe('kite');
  });
});

function emptyKite() {
  return {
    apiKey: undefined,
    apiSecret: undefined,
    accessToken: undefined,
    requestToken: undefined,
    credentialsFile: undefined,
    root: undefined,
    tickerUrl: undefined,
    symbols: undefined,
    pollEveryMs: 5000,
    secretKey: undefined,
    loginPort: 5077,
  };
}
