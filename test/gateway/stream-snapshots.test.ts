import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { InMemoryAuthStore } from '../../src/gateway/auth/in-memory-auth-store.js';
import { eventually } from '../../src/actors/core/index.js';
import { TroupeClient, type StreamEventMessage, type TroupeStream } from '../../src/gateway/client/index.js';
import { listenGateway } from '../../src/gateway/gateway.js';
import type { ServerMessage } from '../../src/gateway/stream/protocol.js';
import type { StreamHubOptions } from '../../src/gateway/stream/hub.js';
import type { RiskAlert } from '../../src/model/index.js';
import { ADMIN, startHarness, type Harness } from './harness.js';

type Snapshot = Extract<ServerMessage, { type: 'snapshot' }>;

let harness: Harness | undefined;
const streams: TroupeStream[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await harness?.close();
  harness = undefined;
});

async function serve(stream: Partial<StreamHubOptions> = {}): Promise<TroupeClient> {
  harness = await startHarness({}, { stream });
  const port = await listenGateway(harness.app, 0, '127.0.0.1');
  const client = new TroupeClient({ baseUrl: `http://127.0.0.1:${port}` });
  await client.login(ADMIN.username, ADMIN.password);
  return client;
}

const alert = (n: number): RiskAlert => ({
  type: 'RiskAlert',
  severity: 'warning',
  code: `test-${n % 3}`,
  message: `alert ${n}`,
  atMs: 1_000 + n,
  symbol: 'INFY',
});
const TOPICS = ['orders', 'positions', 'pnl', 'risk-alerts', 'actors', 'quotes:INFY'];

describe('WebSocket snapshots carry the state of every topic', () => {
  it('a resume beyond the replay buffer gets recent risk alerts (bounded), orders, positions, P&L, actors and the latest quote', async () => {
    const client = await serve({ replayCapacity: 20 });
    const { runtime, hub } = { runtime: harness!.runtime, hub: harness!.app.troupe.hub };
    // trading happens first: an order, a fill, a position, a quote
    await harness!.feed('INFY', [100_000, 99_000, 98_000, 97_000, 96_000, 95_000, 100_000, 106_000, 112_000, 113_000]);
    await eventually(() => expect(runtime.portfolio()?.positions).not.toEqual({}));

    const snapshots: Snapshot[] = [];
    const events: StreamEventMessage[] = [];
    const stream = client.stream({
      topics: TOPICS,
      onEvent: (event) => events.push(event),
      onSnapshot: (snapshot) => snapshots.push(snapshot),
      reconnect: { minMs: 10, maxMs: 50 },
    });
    streams.push(stream);
    await eventually(() => expect(stream.subscribed).toBe(true));
    stream.rawSocket!.terminate();
    await eventually(() => expect(stream.subscribed).toBe(false));
    // more alerts than the history keeps (200) while away: the replay buffer (20) cannot cover them
    for (let n = 0; n < 250; n += 1) runtime.bus.publish(alert(n));
    await eventually(() => expect(snapshots).toHaveLength(1));

    const [snapshot] = snapshots;
    expect(snapshot!.reason).toContain('older than the replay buffer');
    expect(snapshot!.seq).toBeGreaterThanOrEqual(250);
    expect(snapshot!.seq).toBeLessThanOrEqual(hub.lastSeq); // quotes keep taking numbers
    const data = snapshot!.data as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual(['actors', 'orders', 'pnl', 'positions', 'quotes', 'risk-alerts']);
    const alerts = data['risk-alerts'] as RiskAlert[];
    expect(alerts).toHaveLength(200);
    expect(alerts[0]).toMatchObject({ type: 'RiskAlert', message: 'alert 50' });
    expect(alerts.at(-1)).toMatchObject({ message: 'alert 249', code: 'test-0', symbol: 'INFY' });
    expect(data.orders).toEqual(expect.arrayContaining([expect.objectContaining({ symbol: 'INFY', strategyId: 'ema' })]));
    expect(data.positions).toEqual([{ portfolioId: 'paper', positions: [expect.objectContaining({ symbol: 'INFY' })] }]);
    const pnl = data.pnl as { portfolioId: string; summary: { equityPaise: number; fillCount?: number } }[];
    expect(pnl.map((entry) => entry.portfolioId)).toEqual(['paper']);
    expect(Number.isSafeInteger(pnl[0]!.summary.equityPaise)).toBe(true);
    expect((data.actors as { path: string }[]).map((node) => node.path)).toEqual(expect.arrayContaining(['/market', '/strategies', '/risk']));
    expect(data.quotes).toMatchObject({ INFY: { symbol: 'INFY', ltpPaise: 113_000 } });
    // after the snapshot the stream carries on from its seq
    runtime.bus.publish(alert(1_000));
    await eventually(() =>
      expect(events.filter((event) => event.topic === 'risk-alerts').map((event) => (event.data as RiskAlert).message)).toEqual(['alert 1000']),
    );
    expect(events.find((event) => event.topic === 'risk-alerts')!.seq).toBeGreaterThan(snapshot!.seq);
  });

  it('a new client may ask for a snapshot with its first subscription; without asking it gets none', async () => {
    const client = await serve();
    const { runtime } = harness!;
    for (let n = 0; n < 3; n += 1) runtime.bus.publish(alert(n));
    await harness!.feed('TCS', [200_000]);

    const asked: Snapshot[] = [];
    const withSnapshot = client.stream({
      topics: ['risk-alerts', 'quotes:TCS', 'pnl'],
      initialSnapshot: true,
      onEvent: () => undefined,
      onSnapshot: (snapshot) => asked.push(snapshot),
    });
    const plain: Snapshot[] = [];
    const without = client.stream({ topics: ['risk-alerts'], onEvent: () => undefined, onSnapshot: (snapshot) => plain.push(snapshot) });
    streams.push(withSnapshot, without);
    await eventually(() => expect(asked).toHaveLength(1));
    await eventually(() => expect(without.subscribed).toBe(true));
    expect(asked[0]!.reason).toBe('asked for');
    expect((asked[0]!.data['risk-alerts'] as RiskAlert[]).map((entry) => entry.message)).toEqual(['alert 0', 'alert 1', 'alert 2']);
    expect(asked[0]!.data.quotes).toMatchObject({ TCS: { symbol: 'TCS', ltpPaise: 200_000 } });
    expect(asked[0]!.data.pnl).toMatchObject([{ portfolioId: 'paper', summary: { cashPaise: 10_00_000_00 } }]);
    expect(plain).toEqual([]);
  });

  it('a client dropped before any event still resumes without a gap (its resume point is the subscription seq)', async () => {
    const client = await serve();
    const hub = harness!.app.troupe.hub;
    hub.publish('pnl', 'paper', { before: true }); // the server's seq is not 0
    const received: number[] = [];
    const stream = client.stream({
      topics: ['orders'],
      onEvent: (event) => received.push((event.data as { n: number }).n),
      reconnect: { minMs: 10, maxMs: 50 },
    });
    streams.push(stream);
    await eventually(() => expect(stream.subscribed).toBe(true));
    stream.rawSocket!.terminate();
    await eventually(() => expect(stream.subscribed).toBe(false));
    for (let n = 0; n < 5; n += 1) hub.publish('orders', `o${n}`, { n });
    await eventually(() => expect(received).toEqual([0, 1, 2, 3, 4]));
    expect(stream.connections).toBe(2);
  });
});

describe('messages sent while the connection is being authenticated', () => {
  it('a subscribe sent at once, before the API key lookup finished, is handled after it (not lost)', async () => {
    let release: () => void = () => undefined;
    let gated = false;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class SlowKeys extends InMemoryAuthStore {
      override async apiKeyForAuth(id: string) {
        if (gated) await gate; // the database is slow this time
        return super.apiKeyForAuth(id);
      }
    }
    harness = await startHarness({}, { authStore: new SlowKeys() });
    const port = await listenGateway(harness.app, 0, '127.0.0.1');
    const admin = await harness.app.troupe.auth.store.userByName(ADMIN.username);
    const owner = { kind: 'user' as const, userId: admin!.id, name: 'user:root', role: 'admin' as const, rateKey: 'user:root', rateLimitPerMinute: undefined };
    const { key } = await harness.app.troupe.auth.createApiKey(owner, { name: 'ws', role: 'viewer' });
    gated = true;
    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream?token=${key}`);
    const messages: { type: string }[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as { type: string }));
    await new Promise<void>((resolve) => socket.once('open', () => resolve()));
    socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders'] }));
    socket.send(JSON.stringify({ type: 'ping' }));
    await eventually(() => expect(harness!.app.troupe.hub.clients).toBe(0)); // still being authenticated
    release();
    try {
      await eventually(() => expect(messages.map((message) => message.type)).toEqual(['welcome', 'subscribed', 'pong']));
      harness.app.troupe.hub.publish('orders', 'o1', { n: 1 });
      await eventually(() => expect(messages.at(-1)).toMatchObject({ type: 'event', topic: 'orders' }));
    } finally {
      socket.terminate();
    }
  });
});
