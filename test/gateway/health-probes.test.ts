import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryAuthStore } from '../../src/gateway/auth/in-memory-auth-store.js';
import type { FeedState, PersistenceState } from '../../src/gateway/context.js';
import { startHarness, type Harness } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** An in-memory auth store whose database "goes away" on demand (countUsers is what health asks). */
class FlakyAuthStore extends InMemoryAuthStore {
  down = false;
  override countUsers(): Promise<number> {
    return this.down ? Promise.reject(new Error('connection refused')) : super.countUsers();
  }
}

const statuses = async (h: Harness): Promise<{ health: number; live: number; ready: number }> => ({
  health: (await h.app.inject({ url: '/api/v1/health' })).statusCode,
  live: (await h.app.inject({ url: '/api/v1/health/live' })).statusCode,
  ready: (await h.app.inject({ url: '/api/v1/health/ready' })).statusCode,
});

// The Kubernetes probes (deploy/k8s) use these: liveness restarts the pod, readiness takes it out
// of its Service. A restart cannot fix a feed or a store outside the process, and the API must stay
// reachable to deal with a degraded feed (kill switch, dashboard), so each condition maps as below.
describe('health probes: /api/v1/health/live and /api/v1/health/ready', () => {
  it('all three answer 200 without auth when everything is up, and appear in the OpenAPI document', async () => {
    harness = await startHarness();
    expect(await statuses(harness)).toEqual({ health: 200, live: 200, ready: 200 });
    expect((await harness.app.inject({ url: '/api/v1/health/live' })).json()).toMatchObject({ status: 'alive' });
    expect((await harness.app.inject({ url: '/api/v1/health/ready' })).json()).toMatchObject({ status: 'ok', checks: { authStore: { ok: true } } });
    const doc = (await harness.app.inject({ url: '/api/v1/docs/json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/health', '/api/v1/health/live', '/api/v1/health/ready']));
  });

  it('a disconnected feed degrades health but stays live and ready', async () => {
    const feed: { state: FeedState } = { state: { connected: true, lastTickAgeMs: 5 } };
    harness = await startHarness({}, { feedState: () => feed.state });
    feed.state = { connected: false, lastTickAgeMs: 120_000 };
    expect(await statuses(harness)).toEqual({ health: 503, live: 200, ready: 200 });
    expect((await harness.app.inject({ url: '/api/v1/health/ready' })).json()).toMatchObject({
      status: 'degraded',
      checks: { marketData: { ok: false, lastTickAgeMs: 120_000 } },
    });
  });

  it('a journal that is down makes the process unready (still live); a degraded Redis does not', async () => {
    const stores: { state: PersistenceState } = { state: { journal: 'ok', redis: 'degraded' } };
    harness = await startHarness({}, { persistenceState: () => stores.state });
    expect(await statuses(harness)).toEqual({ health: 200, live: 200, ready: 200 });
    stores.state = { journal: 'down', redis: 'ok' };
    expect(await statuses(harness)).toEqual({ health: 503, live: 200, ready: 503 });
    stores.state = { journal: 'ok', redis: 'ok' };
    expect(await statuses(harness)).toEqual({ health: 200, live: 200, ready: 200 });
  });

  it('an unreachable auth store makes the process unready (still live), and ready again when it returns', async () => {
    const authStore = new FlakyAuthStore();
    harness = await startHarness({}, { authStore });
    authStore.down = true;
    expect(await statuses(harness)).toEqual({ health: 503, live: 200, ready: 503 });
    expect((await harness.app.inject({ url: '/api/v1/health/ready' })).json()).toMatchObject({ checks: { authStore: { ok: false } } });
    authStore.down = false;
    expect(await statuses(harness)).toEqual({ health: 200, live: 200, ready: 200 });
  });
});
