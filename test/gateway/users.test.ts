import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY_CACHE_MS, AuthService } from '../../src/gateway/auth/auth-service.js';
import { InMemoryAuthStore } from '../../src/gateway/auth/in-memory-auth-store.js';
import { login, startHarness, type Harness } from './harness.js';
import { useAuthStores } from './auth-stores.js';

const { stores } = useAuthStores();

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface Audit {
  items: { action: string; outcome: string; target?: string; actor: string }[];
}

describe.each(stores)('user administration (%s)', (_name, makeStore) => {
  it('an admin disables a user: login, refresh, access token and API keys all stop; enabling lets them log in again; all audited', async () => {
    harness = await startHarness({}, { authStore: await makeStore() });
    const { app } = harness;
    const admin = await login(app);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: admin.authorization },
      payload: { username: 'ana', password: 'long-enough-pass-123', role: 'trader' },
    });
    const ana = created.json<{ id: string }>();
    const session = await login(app, 'ana', 'long-enough-pass-123');
    const { key } = (
      await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { authorization: session.authorization }, payload: { name: 'bot', role: 'trader' } })
    ).json<{ key: string }>();
    expect((await app.inject({ url: '/api/v1/positions', headers: { 'x-api-key': key } })).statusCode).toBe(200);

    // not by a trader, not by yourself, not an unknown user
    expect((await app.inject({ method: 'POST', url: `/api/v1/users/${ana.id}/disable`, headers: { authorization: session.authorization } })).statusCode).toBe(
      403,
    );
    const me = (await app.inject({ url: '/api/v1/users', headers: { authorization: admin.authorization } }))
      .json<{ items: { id: string; username: string }[] }>()
      .items.find((user) => user.username !== 'ana')!;
    const self = await app.inject({ method: 'POST', url: `/api/v1/users/${me.id}/disable`, headers: { authorization: admin.authorization } });
    expect(self.statusCode).toBe(409);
    expect(self.json()).toMatchObject({ error: { code: 'conflict' } });
    expect((await app.inject({ method: 'POST', url: '/api/v1/users/nobody/disable', headers: { authorization: admin.authorization } })).json()).toMatchObject({
      error: { code: 'not-found' },
    });

    const disabled = await app.inject({ method: 'POST', url: `/api/v1/users/${ana.id}/disable`, headers: { authorization: admin.authorization } });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ username: 'ana', disabled: true });
    for (const headers of [{ authorization: session.authorization }, { 'x-api-key': key }]) {
      const refused = await app.inject({ url: '/api/v1/positions', headers });
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error: { code: 'invalid-token' } });
    }
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'ana', password: 'long-enough-pass-123' } })).json(),
    ).toMatchObject({ error: { code: 'invalid-credentials' } });

    const enabled = await app.inject({ method: 'POST', url: `/api/v1/users/${ana.id}/enable`, headers: { authorization: admin.authorization } });
    expect(enabled.json()).toMatchObject({ disabled: false });
    const again = await login(app, 'ana', 'long-enough-pass-123');
    expect((await app.inject({ url: '/api/v1/positions', headers: { authorization: again.authorization } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/positions', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    // the access token from before the disable stays dead after the enable (a new token generation)
    expect((await app.inject({ url: '/api/v1/positions', headers: { authorization: session.authorization } })).statusCode).toBe(401);
    // the session revoked by the disable stays revoked
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } })).statusCode).toBe(401);

    const audit = (await app.inject({ url: '/api/v1/audit?limit=500', headers: { authorization: admin.authorization } })).json<Audit>();
    expect(audit.items.map((entry) => `${entry.action}:${entry.outcome}:${entry.target ?? ''}`)).toEqual(
      expect.arrayContaining(['user.disable:ok:ana', 'user.enable:ok:ana', 'user.disable:denied:root']),
    );
  });

  it('an admin resets a password (sessions end); a user changes their own with the current one (others end, a fresh pair comes back)', async () => {
    harness = await startHarness({}, { authStore: await makeStore() });
    const { app } = harness;
    const admin = await login(app);
    const ana = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: admin.authorization },
        payload: { username: 'ana', password: 'long-enough-pass-123', role: 'viewer' },
      })
    ).json<{ id: string }>();
    const first = await login(app, 'ana', 'long-enough-pass-123');

    const tooShort = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${ana.id}/password`,
      headers: { authorization: admin.authorization },
      payload: { password: 'short' },
    });
    expect(tooShort.statusCode).toBe(400);
    expect(tooShort.json()).toMatchObject({ error: { code: 'invalid-request', details: [{ path: '/password' }] } });
    expect(
      (
        await app.inject({
          method: 'POST',
          url: `/api/v1/users/${ana.id}/password`,
          headers: { authorization: first.authorization },
          payload: { password: 'mine-now-123' },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: `/api/v1/users/${ana.id}/password`,
          headers: { authorization: admin.authorization },
          payload: { password: 'reset-by-admin-1' },
        })
      ).statusCode,
    ).toBe(204);
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'ana', password: 'long-enough-pass-123' } })).statusCode).toBe(
      401,
    );
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: first.refreshToken } })).statusCode).toBe(401);
    // and the access token issued before the reset stops at once
    expect((await app.inject({ url: '/api/v1/auth/me', headers: { authorization: first.authorization } })).statusCode).toBe(401);

    const second = await login(app, 'ana', 'reset-by-admin-1');
    const other = await login(app, 'ana', 'reset-by-admin-1');
    const change = (payload: Record<string, string>, authorization = second.authorization) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { authorization }, payload });
    const wrong = await change({ currentPassword: 'not-it-at-all', newPassword: 'chosen-by-ana-1' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ error: { code: 'invalid-request', details: [{ path: '/currentPassword' }] } });
    expect((await change({ currentPassword: 'reset-by-admin-1', newPassword: 'short' })).statusCode).toBe(400);
    expect((await change({ newPassword: 'chosen-by-ana-1' })).statusCode).toBe(400);
    const changed = await change({ currentPassword: 'reset-by-admin-1', newPassword: 'chosen-by-ana-1' });
    expect(changed.statusCode).toBe(200);
    const fresh = changed.json<{ accessToken: string; refreshToken: string }>();
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: other.refreshToken } })).statusCode).toBe(401);
    // every access token from before the change stops; the fresh pair works
    for (const authorization of [second.authorization, other.authorization])
      expect((await app.inject({ url: '/api/v1/auth/me', headers: { authorization } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${fresh.accessToken}` } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: fresh.refreshToken } })).statusCode).toBe(200);
    const third = await login(app, 'ana', 'chosen-by-ana-1');
    // an API key cannot change its owner's password
    const { key } = (
      await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { authorization: third.authorization }, payload: { name: 'k', role: 'viewer' } })
    ).json<{ key: string }>();
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/auth/password',
          headers: { 'x-api-key': key },
          payload: { currentPassword: 'chosen-by-ana-1', newPassword: 'chosen-by-key-1' },
        })
      ).statusCode,
    ).toBe(403);

    const audit = (await app.inject({ url: '/api/v1/audit?limit=500', headers: { authorization: admin.authorization } })).json<Audit>();
    expect(audit.items.map((entry) => `${entry.action}:${entry.outcome}`)).toEqual(
      expect.arrayContaining(['user.password.reset:ok', 'user.password.change:failed', 'user.password.change:ok']),
    );
    expect(JSON.stringify(audit)).not.toMatch(/chosen-by-ana|reset-by-admin/);
  });
});

describe('API key lookups are cached for a second', () => {
  it('a key revoked or an owner disabled by another gateway process stops working within API_KEY_CACHE_MS; here at once', async () => {
    let nowMs = 1_800_000_000_000;
    const store = new InMemoryAuthStore();
    const signer = { sign: () => 'token', verify: () => ({ sub: 'x', name: 'x', role: 'viewer' as const, ver: 0 }) };
    const auth = new AuthService(store, signer, { accessTokenTtlSec: 60, refreshTokenTtlSec: 600, nowMs: () => nowMs });
    const other = new AuthService(store, signer, { accessTokenTtlSec: 60, refreshTokenTtlSec: 600, nowMs: () => nowMs });
    const owner = await auth.createUser('bot-owner', 'long-enough-pass-123', 'trader');
    const principal = {
      kind: 'user' as const,
      userId: owner.id,
      name: 'user:bot-owner',
      role: 'trader' as const,
      rateKey: `user:${owner.id}`,
      rateLimitPerMinute: undefined,
    };
    const first = await auth.createApiKey(principal, { name: 'one', role: 'viewer' });
    const second = await auth.createApiKey(principal, { name: 'two', role: 'viewer' });
    for (const { key } of [first, second]) expect((await auth.principalFromApiKey(key)).name).toMatch(/^key:/);

    await other.revokeApiKey(first.record.id); // another process
    expect((await auth.principalFromApiKey(first.key)).name).toBe('key:one');
    nowMs += API_KEY_CACHE_MS;
    await expect(auth.principalFromApiKey(first.key)).rejects.toMatchObject({ code: 'invalid-token' });
    await expect(other.principalFromApiKey(first.key)).rejects.toMatchObject({ code: 'invalid-token' });

    await other.setDisabled(owner.id, true);
    await expect(other.principalFromApiKey(second.key)).rejects.toMatchObject({ message: expect.stringContaining('disabled') as unknown });
    nowMs += API_KEY_CACHE_MS;
    await expect(auth.principalFromApiKey(second.key)).rejects.toMatchObject({ message: expect.stringContaining('disabled') as unknown });
  });

  it('the synchronous path answers a key it verified only while that check stands: a wrong secret, expiry, revocation and a disabled owner end it', async () => {
    let nowMs = 1_800_000_000_000;
    const store = new InMemoryAuthStore();
    const signer = { sign: () => 'token', verify: () => ({ sub: 'x', name: 'x', role: 'viewer' as const, ver: 0 }) };
    const auth = new AuthService(store, signer, { accessTokenTtlSec: 60, refreshTokenTtlSec: 600, nowMs: () => nowMs });
    const other = new AuthService(store, signer, { accessTokenTtlSec: 60, refreshTokenTtlSec: 600, nowMs: () => nowMs });
    const owner = await auth.createUser('poller', 'long-enough-pass-123', 'trader');
    const principal = {
      kind: 'user' as const,
      userId: owner.id,
      name: 'user:poller',
      role: 'trader' as const,
      rateKey: `user:${owner.id}`,
      rateLimitPerMinute: undefined,
    };
    const first = await auth.createApiKey(principal, { name: 'one', role: 'viewer' });
    const second = await auth.createApiKey(principal, { name: 'two', role: 'viewer' });

    // nothing is answered without I/O before the key was looked up and its use recorded
    expect(auth.principalFromApiKeyCached(first.key)).toBeUndefined();
    await auth.principalFromApiKey(first.key);
    for (let i = 0; i < 3; i += 1) expect(auth.principalFromApiKeyCached(first.key)?.name).toBe('key:one');
    // the same key id with another secret never rides on the verified key
    const [prefix, id] = first.key.split('_');
    expect(() => auth.principalFromApiKeyCached(`${prefix}_${id}_not-the-secret`)).toThrow(expect.objectContaining({ code: 'invalid-token' }));
    expect(auth.principalFromApiKeyCached(first.key)?.name).toBe('key:one');

    // revoked by another process: trusted until the cached record expires, then refused
    await other.revokeApiKey(first.record.id);
    expect(auth.principalFromApiKeyCached(first.key)?.name).toBe('key:one');
    nowMs += API_KEY_CACHE_MS;
    expect(auth.principalFromApiKeyCached(first.key)).toBeUndefined();
    await expect(auth.principalFromApiKey(first.key)).rejects.toMatchObject({ message: expect.stringContaining('revoked') as unknown });
    // (a refused key's use is not recorded, so the synchronous path leaves it to the full check)
    expect(auth.principalFromApiKeyCached(first.key)).toBeUndefined();

    // revoked or disabled here: at once
    await auth.principalFromApiKey(second.key);
    expect(auth.principalFromApiKeyCached(second.key)?.name).toBe('key:two');
    await auth.setDisabled(owner.id, true);
    expect(auth.principalFromApiKeyCached(second.key)).toBeUndefined();
    await expect(auth.principalFromApiKey(second.key)).rejects.toMatchObject({ message: expect.stringContaining('disabled') as unknown });
    await auth.setDisabled(owner.id, false);
    nowMs += API_KEY_CACHE_MS;
    expect((await auth.principalFromApiKey(second.key)).name).toBe('key:two');
    expect(auth.principalFromApiKeyCached(second.key)?.name).toBe('key:two');
    await auth.revokeApiKey(second.record.id);
    expect(auth.principalFromApiKeyCached(second.key)).toBeUndefined();
    await expect(auth.principalFromApiKey(second.key)).rejects.toMatchObject({ message: expect.stringContaining('revoked') as unknown });
  });
});
