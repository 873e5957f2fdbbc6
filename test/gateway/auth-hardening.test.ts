import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthService } from '../../src/gateway/auth/auth-service.js';
import { MIN_PASSWORD_LENGTH, passwordProblem } from '../../src/gateway/auth/password-policy.js';
import { ADMIN, gatewayConfig, login, startHarness, type Harness } from './harness.js';
import { useAuthStores } from './auth-stores.js';

const { stores, database } = useAuthStores();

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const PASSWORD = 'tangerine-kettle-orbit';

/** An HS256 JWT made here, by hand (the test's own signer, not the gateway's). */
function handMadeJwt(claims: Record<string, unknown>, secret = gatewayConfig().jwtSecret!): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe.each(stores)('refresh tokens and access tokens (%s)', (storeName, makeStore) => {
  it("of 50 parallel redemptions of one refresh token exactly one succeeds; the reuse revokes the family, the winner's new token included", async () => {
    harness = await startHarness({}, { authStore: await makeStore() });
    const { app } = harness;
    const { refreshToken } = await login(app);
    const answers = await Promise.all(Array.from({ length: 50 }, () => app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } })));
    const won = answers.filter((answer) => answer.statusCode === 200);
    expect(won).toHaveLength(1);
    expect(answers.filter((answer) => answer.statusCode === 401)).toHaveLength(49);
    const winner = won[0]!.json<{ refreshToken: string }>();
    const afterwards = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: winner.refreshToken } });
    expect(afterwards.statusCode).toBe(401);
    if (storeName === 'on PostgreSQL') {
      // exactly one token was ever minted from the redeemed one, and none of the family is live
      const [row] = await database().query<{ live: unknown; total: unknown }>(
        'SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS live, count(*) AS total FROM refresh_tokens',
      );
      expect([Number(row?.live), Number(row?.total)]).toEqual([0, 2]);
    }
  });

  it('access tokens stop at logout, logout everywhere, a password change, disable and enable, and deletion', async () => {
    harness = await startHarness({}, { authStore: await makeStore() });
    const { app } = harness;
    const admin = await login(app);
    const me = (authorization: string) => app.inject({ url: '/api/v1/auth/me', headers: { authorization } }).then((answer) => answer.statusCode);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: admin.authorization },
      payload: { username: 'ana', password: PASSWORD, role: 'trader' },
    });
    const ana = created.json<{ id: string }>();

    // logout ends the access token of the session (other sessions refresh)
    const first = await login(app, 'ana', PASSWORD);
    const second = await login(app, 'ana', PASSWORD);
    expect(await me(first.authorization)).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: { refreshToken: first.refreshToken } })).statusCode).toBe(204);
    expect(await me(first.authorization)).toBe(401);
    const renewed = (await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: second.refreshToken } })).json<{
      accessToken: string;
      refreshToken: string;
    }>();
    expect(await me(`Bearer ${renewed.accessToken}`)).toBe(200);

    // logout everywhere: every access and refresh token
    const third = await login(app, 'ana', PASSWORD);
    const all = await app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: { authorization: third.authorization } });
    expect(all.json()).toEqual({ revokedSessions: 2 });
    expect(await me(`Bearer ${renewed.accessToken}`)).toBe(401);
    expect(await me(third.authorization)).toBe(401);
    for (const refreshToken of [renewed.refreshToken, third.refreshToken])
      expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } })).statusCode).toBe(401);

    // disabled then enabled: the token from before stays dead
    const fourth = await login(app, 'ana', PASSWORD);
    await app.inject({ method: 'POST', url: `/api/v1/users/${ana.id}/disable`, headers: { authorization: admin.authorization } });
    await app.inject({ method: 'POST', url: `/api/v1/users/${ana.id}/enable`, headers: { authorization: admin.authorization } });
    expect(await me(fourth.authorization)).toBe(401);

    // deleted: tokens and keys refused at once; the name is free again
    const fifth = await login(app, 'ana', PASSWORD);
    const { key } = (
      await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { authorization: fifth.authorization }, payload: { name: 'bot', role: 'viewer' } })
    ).json<{ key: string }>();
    expect((await app.inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/users/${ana.id}`, headers: { authorization: admin.authorization } });
    expect(deleted.statusCode).toBe(204);
    expect(await me(fifth.authorization)).toBe(401);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: fifth.refreshToken } })).statusCode).toBe(401);
    // a token made for the deleted user with the right secret, generation and expiry is refused too
    expect(
      await me(
        `Bearer ${handMadeJwt({ sub: ana.id, name: 'ana', role: 'admin', ver: 0, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 })}`,
      ),
    ).toBe(401);
    const self = (await app.inject({ url: '/api/v1/users', headers: { authorization: admin.authorization } }))
      .json<{ items: { id: string; username: string }[] }>()
      .items.find((user) => user.username === ADMIN.username)!;
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/users/${self.id}`, headers: { authorization: admin.authorization } })).statusCode).toBe(409);
  });
});

describe('refresh rotation in the AuthService itself', () => {
  it.each(stores)('%s: 50 redemptions started together (no HTTP between them): one wins, the family ends', async (_name, makeStore) => {
    const signer = { sign: () => 'token', verify: () => ({ sub: 'x', name: 'x', role: 'viewer' as const, ver: 0 }) };
    const auth = new AuthService(await makeStore(), signer, { accessTokenTtlSec: 60, refreshTokenTtlSec: 600 });
    await auth.createUser('ana', PASSWORD, 'trader');
    const { tokens } = await auth.login('ana', PASSWORD);
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => auth.refresh(tokens.refreshToken)));
    const won = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    expect(won).toHaveLength(1);
    await expect(auth.refresh(won[0]!.tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid-token' });
  });
});

describe('the generated admin password', () => {
  it('without a terminal callback it goes to stderr once, never through the logger', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _encoding, callback) => (lines.push(chunk.toString()), callback()) }));
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      harness = await startHarness({ adminUser: 'boss', adminPassword: undefined }, { logger });
    } finally {
      spy.mockRestore();
    }
    const shown = written.join('').match(/password (\S+) \(shown once\)/);
    expect(shown?.[1]).toEqual(expect.any(String));
    expect(lines.join('')).not.toContain(shown![1]!);
    await login(harness.app, 'boss', shown![1]);
  });
});

describe('access tokens must expire', () => {
  it('a correctly signed token without exp is refused; the same with exp passes', async () => {
    harness = await startHarness();
    const { app } = harness;
    const admin = await login(app);
    const self = (await app.inject({ url: '/api/v1/users', headers: { authorization: admin.authorization } })).json<{ items: { id: string }[] }>().items[0]!;
    const claims = { sub: self.id, name: ADMIN.username, role: 'admin', ver: 0, iat: Math.floor(Date.now() / 1000) };
    const withExp = await app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${handMadeJwt({ ...claims, exp: claims.iat + 600 })}` } });
    expect(withExp.statusCode).toBe(200);
    const forever = await app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${handMadeJwt(claims)}` } });
    expect(forever.statusCode).toBe(401);
    expect(forever.json()).toMatchObject({ error: { code: 'invalid-token' } });
    // nor one without a token generation
    const { ver: _ver, ...unversioned } = claims;
    expect(
      (await app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${handMadeJwt({ ...unversioned, exp: claims.iat + 600 })}` } })).statusCode,
    ).toBe(401);
  });
});

describe('password policy', () => {
  // weak by this test's own reading: the list's top entries, with the usual decorations
  const weak = ['password', 'password1234', 'Password-2024!', 'qwertyuiop12', '123456789012', 'iloveyou!!!!', '!!dragon12345', 'aaaaaaaaaaaa', 'short-one'];
  const strong = [PASSWORD, 'correct horse battery', 'mauve-ledger-quartz-19'];

  it(`refuses fewer than ${MIN_PASSWORD_LENGTH} characters and common passwords, decorated or not`, () => {
    for (const password of weak) expect(passwordProblem(password), password).toBeDefined();
    for (const password of strong) expect(passwordProblem(password), password).toBeUndefined();
  });

  it("applies to creating a user, an admin reset and a user's own change (400 naming the field)", async () => {
    harness = await startHarness();
    const { app } = harness;
    const admin = await login(app);
    for (const password of ['password', 'password1234', 'Password-2024!']) {
      const answer = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: admin.authorization },
        payload: { username: 'weak', password, role: 'viewer' },
      });
      expect(answer.statusCode, password).toBe(400);
      expect(answer.json()).toMatchObject({ error: { code: 'invalid-request', details: [{ path: '/password' }] } });
    }
    const ana = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: admin.authorization },
        payload: { username: 'ana', password: PASSWORD, role: 'viewer' },
      })
    ).json<{ id: string }>();
    const reset = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${ana.id}/password`,
      headers: { authorization: admin.authorization },
      payload: { password: 'qwertyuiop12' },
    });
    expect(reset.statusCode).toBe(400);
    const session = await login(app, 'ana', PASSWORD);
    const change = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: { authorization: session.authorization },
      payload: { currentPassword: PASSWORD, newPassword: '123456789012' },
    });
    expect(change.statusCode).toBe(400);
    expect(change.json()).toMatchObject({ error: { details: [{ path: '/newPassword' }] } });
    await login(app, 'ana', PASSWORD); // nothing changed
  });
});

describe('credential rate limits', () => {
  it('300 password guesses with an unlimited API key: only the per-user budget is answered, the rest are 429', async () => {
    harness = await startHarness({ credentialRateLimit: { perIpPerMinute: 1000, perUserPerMinute: 10 } });
    const { app } = harness;
    const admin = await login(app);
    const { key } = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: { authorization: admin.authorization },
        payload: { name: 'bench', role: 'admin', rateLimitPerMinute: null },
      })
    ).json<{ key: string }>();
    const statuses: number[] = [];
    for (let i = 0; i < 300; i += 1) {
      const answer = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-api-key': key },
        payload: { username: ADMIN.username, password: `guess-number-${i}` },
      });
      statuses.push(answer.statusCode);
    }
    // the admin's own login above counted once for this user name
    expect(statuses.filter((status) => status === 401)).toHaveLength(9);
    expect(statuses.filter((status) => status === 429)).toHaveLength(291);
    const limited = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: ADMIN.username, password: ADMIN.password } });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // the key itself still works for everything else (its lifted limit)
    expect((await app.inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    const audit = (await app.inject({ url: '/api/v1/audit?action=auth.login&limit=500', headers: { 'x-api-key': key } })).json<{
      items: { outcome: string }[];
    }>();
    expect(audit.items.filter((entry) => entry.outcome === 'denied').length).toBeGreaterThan(0);
  });

  it("per IP across user names, and refresh counts too; a key's own (tight) limit does not apply to logging in", async () => {
    harness = await startHarness({ credentialRateLimit: { perIpPerMinute: 30, perUserPerMinute: 10 } });
    const { app } = harness;
    const admin = await login(app);
    const { key } = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: { authorization: admin.authorization },
        payload: { name: 'tight', role: 'viewer', rateLimitPerMinute: 3 },
      })
    ).json<{ key: string }>();
    // 8 logins with a key limited to 3 a minute: the key's limit is not the one that counts here
    for (let i = 0; i < 8; i += 1) {
      const answer = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-api-key': key },
        payload: { username: ADMIN.username, password: ADMIN.password },
      });
      expect(answer.statusCode, `login ${i}`).toBe(200);
    }
    // 9 used from this address; 21 more go, whatever the names or tokens; then 429
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) {
      const answer =
        i % 2 === 0
          ? await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: `user-${i}`, password: 'whatever-it-is' } })
          : await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: `not-a-token-${i}` } });
      statuses.push(answer.statusCode);
    }
    expect(statuses.slice(0, 21).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(21)).toEqual([429, 429, 429, 429]);
  });
});

describe('API keys per user are capped', () => {
  it('refuses the key past the cap with 409, also when asked in parallel; revoking one frees a place', async () => {
    harness = await startHarness({ maxApiKeysPerUser: 3 });
    const { app } = harness;
    const admin = await login(app);
    const create = (name: string) =>
      app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { authorization: admin.authorization }, payload: { name, role: 'viewer' } });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => create(`k${i}`)));
    expect(answers.filter((answer) => answer.statusCode === 201)).toHaveLength(3);
    const refused = answers.filter((answer) => answer.statusCode === 409);
    expect(refused).toHaveLength(7);
    expect(refused[0]!.json()).toMatchObject({ error: { code: 'conflict' } });
    const { apiKey } = answers.find((answer) => answer.statusCode === 201)!.json<{ apiKey: { id: string } }>();
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${apiKey.id}`, headers: { authorization: admin.authorization } })).statusCode).toBe(
      204,
    );
    expect((await create('again')).statusCode).toBe(201);
    expect((await create('one-too-many')).statusCode).toBe(409);
  });
});
