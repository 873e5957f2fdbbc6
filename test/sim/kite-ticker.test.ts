process.env.TZ = 'Asia/Kolkata';
import { KiteTicker } from 'kiteconnect';
import type { Connect } from 'kiteconnect/types/connect.js';
import type { KiteTickerParams, Ticker, Tick as KiteTick, FullTick } from 'kiteconnect/types/ticker.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_INDEX, type KiteSimulator } from '../../src/sim/index.js';
import { API_KEY, API_SECRET, eventually, login, startSimulator } from './support.js';

// The ticker keeps its state module-global (kite-reference §10): one ticker for this file.
let sim: KiteSimulator;
let kite: Connect;
let ticker: Ticker;
const ticks: KiteTick[] = [];
const updates: Record<string, unknown>[] = [];
let heartbeats = 0;

beforeAll(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 20 });
  const session = await login(sim);
  kite = session.kite;
  const params: KiteTickerParams & { root: string } = { api_key: API_KEY, access_token: session.accessToken, root: sim.wsUrl, reconnect: false };
  ticker = new KiteTicker(params);
  ticker.on('ticks', (batch: KiteTick[]) => ticks.push(...batch));
  ticker.on('order_update', (order: Record<string, unknown>) => updates.push(order));
  ticker.on('message', (data: ArrayBuffer) => {
    if (data.byteLength <= 2) heartbeats += 1;
  });
  await new Promise<void>((resolve) => {
    ticker.on('connect', () => resolve());
    ticker.connect();
  });
});
afterAll(async () => {
  ticker.disconnect();
  await sim.close();
});

const token = (symbol: string): number => sim.admin.instruments.find((i) => i.symbol === symbol)!.token;

describe('KiteTicker against the simulator', () => {
  it('sends heartbeats', async () => {
    await eventually(() => expect(heartbeats).toBeGreaterThanOrEqual(2));
  });

  it('streams quote mode by default on subscribe, with OHLC and volume', async () => {
    ticks.length = 0;
    const infy = token('INFY');
    ticker.subscribe([infy]);
    await eventually(() => expect(ticks.some((t) => t.instrument_token === infy)).toBe(true));
    const tick = ticks.find((t) => t.instrument_token === infy) as FullTick;
    expect(tick.mode).toBe('quote');
    expect(tick.tradable).toBe(true);
    expect(tick.last_price).toBe(sim.admin.lastPricePaise('INFY')! / 100);
    expect(tick.ohlc.close).toBeGreaterThan(0);
    expect(tick.volume_traded).toBeGreaterThan(0);
    ticks.length = 0;
    sim.admin.step(200);
    await eventually(() => expect(ticks.filter((t) => t.instrument_token === infy).length).toBeGreaterThan(1));
    expect(ticks.at(-1)!.last_price).toBe(sim.admin.lastPricePaise('INFY')! / 100);
  });

  it('full mode carries depth, timestamps and last trade time', async () => {
    ticks.length = 0;
    const infy = token('INFY');
    ticker.setMode('full', [infy]);
    await eventually(() => expect(ticks.some((t) => t.mode === 'full')).toBe(true));
    const tick = ticks.find((t) => t.mode === 'full') as FullTick;
    const depth = sim.admin.depth('INFY')!;
    expect(tick.depth!.buy.map((l) => l.price)).toEqual(depth.buy.map((l) => l.pricePaise / 100));
    expect(tick.depth!.sell.map((l) => l.quantity)).toEqual(depth.sell.map((l) => l.quantity));
    expect(tick.exchange_timestamp).toBeInstanceOf(Date);
    expect(tick.exchange_timestamp!.getTime()).toBe(Math.floor(sim.admin.nowMs() / 1000) * 1000);
    expect(tick.last_trade_time).toBeInstanceOf(Date);
  });

  it('ltp mode sends 8-byte packets; unsubscribe stops them', async () => {
    ticks.length = 0;
    const tcs = token('TCS');
    ticker.subscribe([tcs]);
    ticker.setMode('ltp', [tcs]);
    await eventually(() => expect(ticks.some((t) => t.instrument_token === tcs && t.mode === 'ltp')).toBe(true));
    const tick = ticks.find((t) => t.instrument_token === tcs && t.mode === 'ltp')!;
    expect(Object.keys(tick).sort()).toEqual(['instrument_token', 'last_price', 'mode', 'tradable']);
    ticker.unsubscribe([tcs, token('INFY')]);
    // A round trip that proves the server handled the unsubscribe: subscribe the index and see it.
    ticks.length = 0;
    ticker.subscribe([SIM_INDEX.token]);
    await eventually(() => expect(ticks.some((t) => t.instrument_token === SIM_INDEX.token)).toBe(true));
    ticks.length = 0;
    sim.admin.step(100);
    await eventually(() => expect(ticks.some((t) => t.instrument_token === SIM_INDEX.token)).toBe(true));
    expect(ticks.every((t) => t.instrument_token === SIM_INDEX.token)).toBe(true);
  });

  it('index packets are not tradable and carry OHLC in quote and full mode', async () => {
    ticks.length = 0;
    ticker.setMode('full', [SIM_INDEX.token]);
    await eventually(() => expect(ticks.some((t) => t.mode === 'full')).toBe(true));
    const full = ticks.find((t) => t.mode === 'full') as FullTick;
    expect(full.tradable).toBe(false);
    expect(full.last_price).toBeGreaterThan(20_000);
    expect(full.ohlc.high).toBeGreaterThanOrEqual(full.ohlc.low);
    expect(full.exchange_timestamp).toBeInstanceOf(Date);
    ticker.unsubscribe([SIM_INDEX.token]);
  });

  it('streams order postbacks with a checksum validatePostback accepts', async () => {
    updates.length = 0;
    const ltp = sim.admin.lastPricePaise('ICICIBANK')!;
    const price = (ltp - 200) / 100;
    const { order_id } = await kite.placeOrder('regular', {
      exchange: 'NSE',
      tradingsymbol: 'ICICIBANK',
      transaction_type: 'BUY',
      quantity: 1,
      product: 'MIS',
      order_type: 'LIMIT',
      price,
      tag: 'pb1',
    });
    await kite.cancelOrder('regular', order_id);
    await eventually(() => expect(updates.map((u) => u['status'])).toEqual(['OPEN', 'CANCELLED']));
    for (const update of updates) {
      expect(update).toMatchObject({ order_id, tag: 'pb1', user_id: 'ZS0001', app_id: API_KEY });
      expect(kite.validatePostback(update as { order_id: string; checksum: string; order_timestamp: string }, API_SECRET)).toBe(true);
      expect(kite.validatePostback(update as { order_id: string; checksum: string; order_timestamp: string }, 'other-secret')).toBe(false);
    }
  });

  it('stops postbacks when the fault switch is on', async () => {
    updates.length = 0;
    sim.admin.setFaults({ stopPostbacks: true });
    const ltp = sim.admin.lastPricePaise('ICICIBANK')!;
    const { order_id } = await kite.placeOrder('regular', {
      exchange: 'NSE',
      tradingsymbol: 'ICICIBANK',
      transaction_type: 'BUY',
      quantity: 1,
      product: 'MIS',
      order_type: 'LIMIT',
      price: (ltp - 200) / 100,
    });
    sim.admin.setFaults({ stopPostbacks: false });
    await kite.cancelOrder('regular', order_id);
    await eventually(() => expect(updates.map((u) => u['status'])).toEqual(['CANCELLED']));
  });

  it('refuses a socket with a bad token and drops sockets on demand', async () => {
    const { WebSocket } = await import('ws');
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${sim.wsUrl}?api_key=${API_KEY}&access_token=bad`);
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('error', () => resolve(-1));
    });
    expect(refused).toBe(403);
    let closed = false;
    ticker.on('close', () => (closed = true));
    expect(sim.admin.dropWebSockets()).toBe(1);
    await eventually(() => expect(closed).toBe(true));
    expect(ticker.connected()).toBe(false);
  });
});
