import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, addMember, login, startHarness, type Harness } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('gateway auth', () => {
  it('logs in, rotates refresh tokens (reuse revokes the family) and revokes on logout; every step is audited', async () => {
    harness = await startHarness();
    const { app } = harness;
    const bad = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: ADMIN.username, password: 'wrong password' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid-credentials' } });
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'ghost', password: 'x' } })).statusCode).toBe(401);

    const { authorization, refreshToken } = await login(app);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: { authorization } })).json()).toEqual({ name: 'user:root', role: 'admin', kind: 'user' });

    const rotated = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });
    expect(rotated.statusCode).toBe(200);
    const next = rotated.json<{ accessToken: string; refreshToken: string }>();
    expect(next.refreshToken).not.toBe(refreshToken);
    // the old one is spent; presenting it again revokes the whole family (the new one too)
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: next.refreshToken } })).statusCode).toBe(401);

    const session = await login(app);
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: { refreshToken: session.refreshToken } })).statusCode).toBe(204);
    const afterLogout = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } });
    expect(afterLogout.statusCode).toBe(401);
    expect(afterLogout.json()).toMatchObject({ error: { code: 'invalid-token' } });
    // the access token of the ended session stops too (not only when it expires)
    expect((await app.inject({ url: '/api/v1/auth/me', headers: { authorization: session.authorization } })).statusCode).toBe(401);

    const audit = (await app.inject({ url: '/api/v1/audit?limit=500', headers: { authorization: (await login(app)).authorization } })).json<{
      items: { action: string; outcome: string; actor: string }[];
    }>();
    const summary = audit.items.map((entry) => `${entry.action}:${entry.outcome}:${entry.actor}`).reverse();
    expect(summary).toEqual(
      expect.arrayContaining([
        'auth.login:failed:user:root',
        'auth.login:failed:user:ghost',
        'auth.login:ok:user:root',
        'auth.refresh:ok:user:root',
        'auth.refresh:failed:anonymous',
        'auth.logout:ok:user:root',
      ]),
    );
  });

  it('enforces roles: viewer reads, trader trades, admin administers', async () => {
    harness = await startHarness();
    const { app } = harness;
    const admin = await login(app);
    for (const [username, role] of [
      ['vera', 'viewer'],
      ['tara', 'trader'],
    ] as const) {
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: admin.authorization },
        payload: { username, password: 'long-enough-pass-123', role },
      });
      expect(created.statusCode).toBe(201);
      await addMember(app, admin.authorization, 'paper', created.json<{ id: string }>().id, role);
    }
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/users',
          headers: { authorization: admin.authorization },
          payload: { username: 'vera', password: 'long-enough-pass-123', role: 'viewer' },
        })
      ).statusCode,
    ).toBe(409);
    const viewer = await login(app, 'vera', 'long-enough-pass-123');
    const trader = await login(app, 'tara', 'long-enough-pass-123');
    const order = { symbol: 'INFY', side: 'BUY', quantity: 1 };

    expect((await app.inject({ url: '/api/v1/positions', headers: { authorization: viewer.authorization } })).statusCode).toBe(200);
    const denied = await app.inject({ method: 'POST', url: '/api/v1/orders', headers: { authorization: viewer.authorization }, payload: order });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect((await app.inject({ method: 'POST', url: '/api/v1/strategies/ema/pause', headers: { authorization: viewer.authorization } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/api/v1/strategies/ema/pause', headers: { authorization: trader.authorization } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/audit', headers: { authorization: trader.authorization } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/api/v1/kill-switch', headers: { authorization: trader.authorization } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/api/v1/kill-switch', headers: { authorization: admin.authorization } })).json()).toEqual({
      engaged: true,
      paused: ['ema'],
    });
    expect((await app.inject({ url: '/api/v1/users', headers: { authorization: trader.authorization } })).statusCode).toBe(403);
  });

  it("API keys: shown once, stored hashed, scoped to a role no higher than the owner's, last use recorded, revocable", async () => {
    harness = await startHarness();
    const { app } = harness;
    const admin = await login(app);
    await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: admin.authorization },
      payload: { username: 'tara', password: 'long-enough-pass-123', role: 'trader' },
    });
    const trader = await login(app, 'tara', 'long-enough-pass-123');

    const tooHigh = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: trader.authorization },
      payload: { name: 'x', role: 'admin' },
    });
    expect(tooHigh.statusCode).toBe(403);
    const lift = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: trader.authorization },
      payload: { name: 'x', role: 'viewer', rateLimitPerMinute: null },
    });
    expect(lift.statusCode).toBe(403);

    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: trader.authorization },
      payload: { name: 'reader', role: 'viewer' },
    });
    expect(created.statusCode).toBe(201);
    const { key, apiKey } = created.json<{ key: string; apiKey: { id: string; lastUsedAtMs: number | null } }>();
    expect(apiKey.lastUsedAtMs).toBeNull();
    const stored = await harness.app.troupe.auth.store.apiKeyById(apiKey.id);
    expect(JSON.stringify(stored)).not.toContain(key.split('_')[2]!);

    expect((await app.inject({ url: '/api/v1/strategies', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/strategies/ema/pause', headers: { 'x-api-key': key } })).statusCode).toBe(403);
    const listed = (await app.inject({ url: '/api/v1/api-keys', headers: { authorization: trader.authorization } })).json<{
      items: { id: string; lastUsedAtMs: number | null }[];
    }>();
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]!.lastUsedAtMs).toEqual(expect.any(Number));
    expect(JSON.stringify(listed)).not.toContain(key);

    expect((await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${apiKey.id}`, headers: { authorization: trader.authorization } })).statusCode).toBe(
      204,
    );
    const revoked = await app.inject({ url: '/api/v1/strategies', headers: { 'x-api-key': key } });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json()).toMatchObject({ error: { code: 'invalid-token' } });
    expect((await app.inject({ url: '/api/v1/strategies', headers: { 'x-api-key': 'trp_nope_nope' } })).statusCode).toBe(401);

    const audit = (await app.inject({ url: '/api/v1/audit', headers: { authorization: admin.authorization } })).json<{
      items: { action: string; outcome: string }[];
    }>();
    expect(audit.items.map((entry) => `${entry.action}:${entry.outcome}`)).toEqual(
      expect.arrayContaining(['api-key.create:ok', 'api-key.create:denied', 'api-key.revoke:ok']),
    );
  });

  it('creates the first admin with a random password shown once on the terminal, never in the log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _encoding, callback) => (lines.push(chunk.toString()), callback()) }));
    const shown: { username: string; password: string }[] = [];
    harness = await startHarness(
      { adminUser: 'boss', adminPassword: undefined },
      { logger, onGeneratedAdmin: (username, password) => shown.push({ username, password }) },
    );
    expect(shown).toEqual([{ username: 'boss', password: expect.any(String) as unknown }]);
    const entry = lines.map((line) => JSON.parse(line) as { msg: string; username?: string }).find((line) => line.msg.startsWith('created the first admin'));
    expect(entry?.username).toBe('boss');
    // the log (JSON, collected by whatever runs the process) never holds it
    expect(lines.join('')).not.toContain(shown[0]!.password);
    await login(harness.app, 'boss', shown[0]!.password);
  });
});

describe('gateway rate limits', () => {
  it('answers 429 with Retry-After and RateLimit-* headers on the 101st request in a minute; health and /metrics are exempt', async () => {
    harness = await startHarness({ rateLimitPerMinute: 100 });
    const { app } = harness;
    const { authorization } = await login(app); // counts against the IP, not the user
    for (let i = 0; i < 100; i += 1) {
      const response = await app.inject({ url: '/api/v1/strategies', headers: { authorization } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-remaining']).toBe(String(99 - i));
    }
    const limited = await app.inject({ url: '/api/v1/instruments', headers: { authorization } });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'rate-limited' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-limit']).toBe('100');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBeDefined();
    for (let i = 0; i < 20; i += 1) {
      expect((await app.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
    }
    // another client (another IP, no credentials) has its own budget
    expect((await app.inject({ url: '/api/v1/strategies', remoteAddress: '10.0.0.9' })).statusCode).toBe(401);
  });

  it('rate-limits failed authentication by IP: bad API keys and tokens count, and the 101st attempt is a 429, not another guess', async () => {
    harness = await startHarness({ rateLimitPerMinute: 100 });
    const { app } = harness;
    const guesser = '10.0.0.66';
    const attempts: Record<string, string>[] = [
      { 'x-api-key': 'trp_nope_nope' }, // an unknown key
      { 'x-api-key': 'not-even-a-key' }, // a malformed one
      { authorization: 'Bearer not.a.jwt' }, // a bad access token
      {}, // no credentials at all
    ];
    for (let i = 0; i < 100; i += 1) {
      const response = await app.inject({ url: '/api/v1/positions', headers: attempts[i % attempts.length] ?? {}, remoteAddress: guesser });
      expect(response.statusCode).toBe(401);
      expect(response.headers['ratelimit-remaining']).toBe(String(99 - i));
    }
    const limited = await app.inject({ url: '/api/v1/positions', headers: { 'x-api-key': 'trp_another_guess' }, remoteAddress: guesser });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'rate-limited' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // a valid key from that address is its own client (its own budget); another address is not limited
    const { authorization } = await login(app);
    expect((await app.inject({ url: '/api/v1/positions', headers: { authorization }, remoteAddress: guesser })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/positions', headers: { 'x-api-key': 'trp_nope_nope' }, remoteAddress: '10.0.0.67' })).statusCode).toBe(401);
    // a role too low is answered after counting too (403, in the principal's own budget)
    await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization },
      payload: { username: 'vera', password: 'long-enough-pass-123', role: 'viewer' },
    });
    const viewer = await login(app, 'vera', 'long-enough-pass-123');
    const forbidden = await app.inject({
      method: 'POST',
      url: '/api/v1/kill-switch',
      headers: { authorization: viewer.authorization },
      remoteAddress: guesser,
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['ratelimit-remaining']).toBe('99');
  });

  it('applies per-role overrides and lifts the limit for an admin-made key', async () => {
    harness = await startHarness({ rateLimitPerMinute: 5, rateLimitPerRole: { admin: 20 } });
    const { app } = harness;
    const { authorization } = await login(app);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization },
      payload: { name: 'bench', role: 'viewer', rateLimitPerMinute: null },
    });
    const { key } = created.json<{ key: string }>();
    let ok = 1; // the key creation (the login counted against the IP)
    while ((await app.inject({ url: '/api/v1/strategies', headers: { authorization } })).statusCode === 200) ok += 1;
    expect(ok).toBe(20);
    for (let i = 0; i < 50; i += 1) expect((await app.inject({ url: '/api/v1/strategies', headers: { 'x-api-key': key } })).statusCode).toBe(200);
  });
});
