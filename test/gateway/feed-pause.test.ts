import { afterEach, describe, expect, it } from 'vitest';
import { login, startHarness, type Harness } from './harness.js';

/** `GET/PUT /api/v1/market/feed`: an admin's pause switch for the paper market's feed (drills of the stalled-feed alert). */
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('/api/v1/market/feed', () => {
  it('lets an admin pause and resume the feed, audited, and shows it in troupe_feed_paused', async () => {
    let paused = false;
    harness = await startHarness({}, { feedControl: { paused: () => paused, setPaused: (value) => (paused = value) } });
    harness.runtime.metrics.bindFeedPaused(() => paused);
    const { app } = harness;
    const { authorization } = await login(app);
    expect((await app.inject({ url: '/api/v1/market/feed', headers: { authorization } })).json()).toEqual({
      pausable: true,
      paused: false,
      connected: true,
      lastTickAgeMs: 5,
    });

    const pause = await app.inject({ method: 'PUT', url: '/api/v1/market/feed', headers: { authorization }, payload: { paused: true } });
    expect(pause.statusCode).toBe(200);
    expect(pause.json()).toMatchObject({ pausable: true, paused: true });
    expect(paused).toBe(true);
    expect((await app.inject({ url: '/metrics' })).body).toMatch(/^troupe_feed_paused 1$/m);

    expect((await app.inject({ method: 'PUT', url: '/api/v1/market/feed', headers: { authorization }, payload: { paused: false } })).json()).toMatchObject({
      paused: false,
    });
    expect(paused).toBe(false);
    expect((await app.inject({ url: '/metrics' })).body).toMatch(/^troupe_feed_paused 0$/m);

    const audit = (await app.inject({ url: '/api/v1/audit', headers: { authorization } })).json<{
      items: { action: string; actor: string; outcome: string }[];
    }>().items;
    expect(audit.filter((entry) => entry.action.startsWith('market.feed.')).map(({ action, actor, outcome }) => ({ action, actor, outcome }))).toEqual([
      { action: 'market.feed.resume', actor: 'user:root', outcome: 'ok' },
      { action: 'market.feed.pause', actor: 'user:root', outcome: 'ok' },
    ]);
  });

  it('is for admins only; viewers may read it', async () => {
    let paused = false;
    harness = await startHarness({}, { feedControl: { paused: () => paused, setPaused: (value) => (paused = value) } });
    const { app } = harness;
    const admin = await login(app);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/users',
          headers: { authorization: admin.authorization },
          payload: { username: 'vera', password: 'long-enough-pass-123', role: 'viewer' },
        })
      ).statusCode,
    ).toBe(201);
    const viewer = await login(app, 'vera', 'long-enough-pass-123');
    expect((await app.inject({ url: '/api/v1/market/feed', headers: { authorization: viewer.authorization } })).statusCode).toBe(200);
    const refused = await app.inject({
      method: 'PUT',
      url: '/api/v1/market/feed',
      headers: { authorization: viewer.authorization },
      payload: { paused: true },
    });
    expect(refused.statusCode).toBe(403);
    expect(paused).toBe(false);
    expect((await app.inject({ method: 'PUT', url: '/api/v1/market/feed', payload: { paused: true } })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'PUT', url: '/api/v1/market/feed', headers: { authorization: admin.authorization }, payload: { paused: 'yes' } })).json(),
    ).toMatchObject({ error: { code: 'invalid-request' } });
    expect(paused).toBe(false);
  });

  it('answers 409 (and audits the refusal) when the feed cannot be paused, as with Kite', async () => {
    harness = await startHarness();
    const { app } = harness;
    const { authorization } = await login(app);
    expect((await app.inject({ url: '/api/v1/market/feed', headers: { authorization } })).json()).toMatchObject({ pausable: false, paused: false });
    const refused = await app.inject({ method: 'PUT', url: '/api/v1/market/feed', headers: { authorization }, payload: { paused: true } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ error: { code: 'conflict' } });
    const audit = (await app.inject({ url: '/api/v1/audit?action=market.feed.pause', headers: { authorization } })).json<{ items: { outcome: string }[] }>()
      .items;
    expect(audit).toMatchObject([{ outcome: 'denied' }]);
  });
});
