process.env.TZ = 'Asia/Kolkata';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KiteBroker, KiteFeed, type KiteFeedEvent } from '../../../src/brokers/kite/index.js';
import type { Instrument, Tick } from '../../../src/model/index.js';
import type { KiteSimulator } from '../../../src/sim/index.js';
import { marketDataPipeline } from '../../../src/streams/index.js';
import type { TickRejection } from '../../../src/streams/operators/validate-ticks.js';
import { API_KEY, API_SECRET, eventually, startSimulator } from '../../sim/support.js';

// One Kite ticker per process (kite-reference §10): one feed for this file.
let sim: KiteSimulator;
let broker: KiteBroker;
let feed: KiteFeed;
let pipeline: Subscription;
let instruments: Instrument[];
const ticks: Tick[] = [];
const rejected: TickRejection[] = [];
const events: KiteFeedEvent[] = [];

beforeAll(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 50 });
  broker = new KiteBroker({ apiKey: API_KEY, root: sim.url, retryBaseMs: 1 });
  const accessToken = await broker.createSession(sim.admin.createRequestToken(), API_SECRET);
  instruments = await broker.withReferencePrices(await broker.instruments());
  const infy = instruments.find((i) => i.symbol === 'INFY')!;
  feed = new KiteFeed({
    apiKey: API_KEY,
    accessToken,
    root: sim.wsUrl,
    tokens: [infy.token],
    mode: 'full',
    staleAfterMs: 2000,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  feed.events$.subscribe((event) => events.push(event));
  pipeline = marketDataPipeline({
    source$: feed.ticks$,
    instruments,
    onRejected: (rejection) => rejected.push(rejection),
    onTicks: (_symbol, batch) => ticks.push(...batch),
  });
  feed.start();
  await eventually(() => expect(feed.connected).toBe(true));
});
afterAll(async () => {
  feed.stop();
  pipeline.unsubscribe();
  await sim.close();
});

describe('KiteFeed against the simulator', () => {
  it('streams full-mode ticks as exact paise ticks with depth and exchange time', async () => {
    await eventually(() => expect(feed.stats.heartbeats).toBeGreaterThan(0));
    ticks.length = 0;
    sim.admin.step(50);
    await eventually(() => expect(ticks.length).toBeGreaterThan(0));
    const last = ticks.at(-1)!;
    const depth = sim.admin.depth('INFY')!;
    expect(last.symbol).toBe('INFY');
    expect(last.ltpPaise).toBe(sim.admin.lastPricePaise('INFY'));
    expect(Number.isSafeInteger(last.ltpPaise)).toBe(true);
    expect(last.exchangeTimeMs).toBe(Math.floor(sim.admin.nowMs() / 1000) * 1000);
    expect(last.depth!.buy.map((l) => l.pricePaise)).toEqual(depth.buy.map((l) => l.pricePaise));
    expect(last.depth!.sell.map((l) => l.quantity)).toEqual(depth.sell.map((l) => l.quantity));
    expect(last.bidPaise).toBe(depth.buy[0]!.pricePaise);
    expect(last.askPaise).toBe(depth.sell[0]!.pricePaise);
    expect(last.volume).toBeGreaterThan(0);
    expect(rejected).toEqual([]);
  });

  it('subscribes more instruments at run time in the same mode', async () => {
    const tcs = instruments.find((i) => i.symbol === 'TCS')!;
    feed.subscribe([tcs.token]);
    ticks.length = 0;
    await eventually(() => {
      sim.admin.step(10);
      expect(ticks.some((t) => t.symbol === 'TCS' && t.depth !== undefined)).toBe(true);
    });
    await eventually(() => expect(ticks.filter((t) => t.symbol === 'TCS').at(-1)!.ltpPaise).toBe(sim.admin.lastPricePaise('TCS')));
  });

  it('reconnects after the server drops the socket, resubscribes and flags the gap', async () => {
    const gapsBefore = feed.stats.gaps;
    events.length = 0;
    expect(sim.admin.dropWebSockets()).toBe(1);
    await eventually(() => expect(feed.stats.gaps).toBe(gapsBefore + 1));
    const kinds = events.map((e) => e.kind);
    expect(kinds).toContain('disconnected');
    expect(kinds).toContain('reconnecting');
    expect(kinds.indexOf('connected')).toBeGreaterThan(kinds.indexOf('disconnected'));
    const gap = events.find((e) => e.kind === 'gap')!;
    expect(gap).toMatchObject({ kind: 'gap', reason: 'socket closed' });
    // resubscribed: both instruments flow again, in full mode
    ticks.length = 0;
    await eventually(() => {
      sim.admin.step(10);
      expect(new Set(ticks.filter((t) => t.depth !== undefined).map((t) => t.symbol))).toEqual(new Set(['INFY', 'TCS']));
    });
    expect(feed.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(feed.stats.badFrames).toBe(0);
  });

  it('streams order postbacks', async () => {
    const updates: Record<string, unknown>[] = [];
    const sub = feed.orderUpdates$.subscribe((u) => updates.push({ ...u }));
    const id = await broker.placeOrder({
      clientOrderId: 'TICKPB1',
      symbol: 'INFY',
      side: 'BUY',
      quantity: 1,
      orderType: 'MARKET',
      product: 'MIS',
      validity: 'DAY',
    });
    await eventually(() => expect(updates.some((u) => u['order_id'] === id && u['status'] === 'COMPLETE')).toBe(true));
    expect(updates.every((u) => u['tag'] === 'TICKPB1')).toBe(true);
    sub.unsubscribe();
  });
});
