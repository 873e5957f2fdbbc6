process.env.TZ = 'Asia/Kolkata';
import { KiteConnect } from 'kiteconnect';
import type { Connect } from 'kiteconnect/types/connect.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { istTimeMs } from '../../src/model/time.js';
import type { KiteSimulator } from '../../src/sim/index.js';
import { API_KEY, API_SECRET, login, startSimulator } from './support.js';

/** placeOrder's published type lacks market_protection; Kite accepts it (kite-reference §5). */
type PlaceParams = Parameters<Connect['placeOrder']>[1] & { market_protection?: number };
const place = (kite: Connect, params: PlaceParams): ReturnType<Connect['placeOrder']> => kite.placeOrder('regular', params);
const limitBuy = (symbol: string, price: number, quantity = 1, tag?: string): PlaceParams => ({
  exchange: 'NSE',
  tradingsymbol: symbol,
  transaction_type: 'BUY',
  quantity,
  product: 'MIS',
  order_type: 'LIMIT',
  price,
  ...(tag === undefined ? {} : { tag }),
});

let sim: KiteSimulator;
let kite: Connect;

beforeAll(async () => {
  sim = await startSimulator();
  ({ kite } = await login(sim));
});
afterAll(async () => {
  await sim.close();
});

describe('session and user', () => {
  it('generateSession exchanges a minted request token (checksum checked) and parses login_time', async () => {
    const client = new KiteConnect({ api_key: API_KEY, root: sim.url });
    const requestToken = sim.admin.createRequestToken('AB1234');
    const session = await client.generateSession(requestToken, API_SECRET);
    expect(session.user_id).toBe('AB1234');
    expect(session.access_token).toMatch(/^[0-9a-f]{32}$/);
    expect(session.login_time).toBeInstanceOf(Date);
    await expect(client.generateSession(requestToken, API_SECRET)).rejects.toMatchObject({ error_type: 'TokenException' });
    await expect(client.generateSession(sim.admin.createRequestToken(), 'wrong-secret')).rejects.toMatchObject({
      error_type: 'TokenException',
      message: 'Invalid `checksum`.',
    });
  });

  it('getProfile and getMargins', async () => {
    const profile = await kite.getProfile();
    expect(profile).toMatchObject({ user_id: 'ZS0001', broker: 'ZERODHA', exchanges: ['NSE'] });
    const margins = await kite.getMargins();
    expect(margins.equity?.available.cash).toBe(1_000_000);
    const equity = await kite.getMargins('equity');
    expect(equity).toMatchObject({ enabled: true });
  });

  it('answers 403 TokenException without or with a wrong access token, and fires the expiry hook', async () => {
    const anonymous = new KiteConnect({ api_key: API_KEY, root: sim.url });
    await expect(anonymous.getProfile()).rejects.toMatchObject({ status: 'error', error_type: 'TokenException', data: null });
    const wrong = new KiteConnect({ api_key: API_KEY, root: sim.url, access_token: 'nope' });
    let expired = 0;
    wrong.setSessionExpiryHook(() => (expired += 1));
    await expect(wrong.getOrders()).rejects.toMatchObject({ error_type: 'TokenException' });
    expect(expired).toBe(1);
  });
});

describe('market data', () => {
  it('getInstruments parses Kite’s CSV (text/csv, trailing newline → one empty row)', async () => {
    const rows = await kite.getInstruments();
    const real = rows.filter((r) => String(r.instrument_token) !== '');
    expect(real).toHaveLength(sim.admin.instruments.length + 1);
    const tcs = real.find((r) => r.tradingsymbol === 'TCS')!;
    const instrument = sim.admin.instruments.find((i) => i.symbol === 'TCS')!;
    expect(tcs).toMatchObject({
      instrument_token: String(instrument.token),
      tick_size: instrument.tickSizePaise / 100,
      lot_size: 1,
      segment: 'NSE',
      exchange: 'NSE',
    });
    expect(real.find((r) => r.segment === 'INDICES')?.tradingsymbol).toBe('NIFTY 50');
    expect(await kite.getInstruments('NSE')).toHaveLength(rows.length);
  });

  it('getQuote, getLTP and getOHLC echo the keys and carry the simulator’s prices and depth', async () => {
    const ltpPaise = sim.admin.lastPricePaise('INFY')!;
    const quote = await kite.getQuote(['NSE:INFY', 'NSE:NOPE', String(sim.admin.instruments[0]!.token)]);
    expect(Object.keys(quote).sort()).toEqual(['NSE:INFY', String(sim.admin.instruments[0]!.token)].sort());
    const infy = quote['NSE:INFY']!;
    expect(infy.last_price).toBe(ltpPaise / 100);
    expect(infy.timestamp).toBeInstanceOf(Date);
    expect(infy.depth.buy).toHaveLength(5);
    expect(infy.depth.sell[0]!.price).toBeGreaterThan(infy.depth.buy[0]!.price);
    expect(infy.upper_circuit_limit).toBeGreaterThan(infy.last_price);
    expect(await kite.getLTP('NSE:INFY')).toEqual({ 'NSE:INFY': { instrument_token: infy.instrument_token, last_price: ltpPaise / 100 } });
    const ohlc = await kite.getOHLC(['NSE:INFY']);
    expect(ohlc['NSE:INFY']!.ohlc.close).toBeGreaterThan(0);
    await expect(kite.getQuote([])).rejects.toMatchObject({ error_type: 'InputException' });
  });

  it('getHistoricalData aggregates what the market traded into candles (+0530 → Date)', async () => {
    sim.admin.step(2000);
    const token = sim.admin.instruments[1]!.token;
    const candles = await kite.getHistoricalData(token, '5minute', '2026-01-05 09:15:00', '2026-01-05 15:30:00');
    expect(candles.length).toBeGreaterThan(0);
    expect(candles[0]!.date.getTime()).toBe(istTimeMs('2026-01-05', 9, 15));
    for (const c of candles) expect(c.high).toBeGreaterThanOrEqual(Math.max(c.open, c.close));
    await expect(kite.getHistoricalData(token, 'minute', '2025-01-01 09:15:00', '2026-01-05 15:30:00')).rejects.toMatchObject({
      error_type: 'InputException',
      message: 'interval exceeds max limit: 60 days',
    });
  });
});

describe('orders', () => {
  it('places, lists (tag kept), modifies and cancels a resting limit order with Kite’s status history', async () => {
    const ltp = sim.admin.lastPricePaise('TCS')! / 100;
    const price = Math.round((ltp - 20) * 10) / 10;
    const { order_id } = await place(kite, limitBuy('TCS', price, 2, 'troupe1'));
    const orders = await kite.getOrders();
    const order = orders.find((o) => o.order_id === order_id)!;
    expect(order).toMatchObject({ status: 'OPEN', tag: 'troupe1', price, quantity: 2, pending_quantity: 2, tradingsymbol: 'TCS' });
    expect(order.order_timestamp).toBeInstanceOf(Date);
    expect((await kite.getOrderHistory(order_id)).map((o) => o.status)).toEqual(['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING', 'OPEN']);
    await kite.modifyOrder('regular', order_id, { price: price - 1, quantity: 3 });
    const modified = (await kite.getOrderHistory(order_id)).at(-1)!;
    expect(modified).toMatchObject({ status: 'OPEN', price: price - 1, quantity: 3 });
    expect(await kite.cancelOrder('regular', order_id)).toEqual({ order_id });
    const history = await kite.getOrderHistory(order_id);
    expect(history.slice(-2).map((o) => o.status)).toEqual(['CANCEL PENDING', 'CANCELLED']);
    await expect(kite.cancelOrder('regular', order_id)).rejects.toMatchObject({ error_type: 'InputException' });
  });

  it('fills a protected MARKET order and reports trades and positions', async () => {
    const { order_id } = await place(kite, {
      exchange: 'NSE',
      tradingsymbol: 'INFY',
      transaction_type: 'BUY',
      quantity: 4,
      product: 'MIS',
      order_type: 'MARKET',
      market_protection: -1,
    });
    const [order] = (await kite.getOrderHistory(order_id)).slice(-1);
    expect(order).toMatchObject({ status: 'COMPLETE', filled_quantity: 4, pending_quantity: 0 });
    const trades = await kite.getOrderTrades(order_id);
    expect(trades.reduce((s, t) => s + t.quantity, 0)).toBe(4);
    expect(trades[0]!.fill_timestamp).toBeInstanceOf(Date);
    expect((await kite.getTrades()).some((t) => t.order_id === order_id)).toBe(true);
    const positions = await kite.getPositions();
    expect(positions.net.find((p) => p.tradingsymbol === 'INFY' && p.product === 'MIS')).toMatchObject({ quantity: 4, buy_quantity: 4 });
    expect(await kite.getHoldings()).toEqual([]);
  });

  it('takes a CNC sell within the holdings (bought today counts), refuses the rest', async () => {
    const { order_id } = await place(kite, {
      exchange: 'NSE',
      tradingsymbol: 'INFY',
      transaction_type: 'BUY',
      quantity: 2,
      product: 'CNC',
      order_type: 'MARKET',
      market_protection: -1,
    });
    expect((await kite.getOrderHistory(order_id)).at(-1)).toMatchObject({ status: 'COMPLETE', filled_quantity: 2 });
    const sell = async (quantity: number) => {
      const placed = await place(kite, {
        exchange: 'NSE',
        tradingsymbol: 'INFY',
        transaction_type: 'SELL',
        quantity,
        product: 'CNC',
        order_type: 'MARKET',
        market_protection: -1,
      });
      return (await kite.getOrderHistory(placed.order_id)).at(-1)!;
    };
    expect((await sell(3)).status).toBe('REJECTED');
    expect((await sell(2)).status).not.toBe('REJECTED');
    expect((await sell(1)).status_message).toMatch(/Insufficient holdings/);
  });

  it('answers bad input with 400 InputException', async () => {
    await expect(kite.placeOrder('regular', { exchange: 'NSE', tradingsymbol: 'TCS' } as PlaceParams)).rejects.toMatchObject({
      status: 'error',
      error_type: 'InputException',
      data: null,
    });
    await expect(place(kite, { ...limitBuy('TCS', 3000), quantity: 'x' as unknown as number })).rejects.toMatchObject({
      error_type: 'InputException',
      message: 'Invalid `quantity`.',
    });
    await expect(place(kite, limitBuy('NOSUCH', 10))).rejects.toMatchObject({ error_type: 'InputException' });
    await expect(place(kite, limitBuy('TCS', 3000, 1, 'not-alnum!'))).rejects.toMatchObject({ error_type: 'InputException' });
    await expect(kite.getOrderHistory('123')).rejects.toMatchObject({ error_type: 'InputException' });
  });

  it('rejects orders that break NSE rules, with Kite-like messages', async () => {
    const ltp = sim.admin.lastPricePaise('TCS')! / 100;
    const rejected = async (params: PlaceParams): Promise<string> => {
      const { order_id } = await place(kite, params);
      const last = (await kite.getOrderHistory(order_id)).at(-1)!;
      expect(last.status).toBe('REJECTED');
      return String(last.status_message);
    };
    expect(await rejected(limitBuy('TCS', Math.floor(ltp) + 0.05))).toMatch(/Tick size for this script is 0.10/);
    expect(await rejected(limitBuy('TCS', Math.floor(ltp * 1.5)))).toMatch(/higher than the current upper circuit limit/);
    expect(await rejected(limitBuy('TCS', Math.floor(ltp), 200_000))).toMatch(/freeze limit/);
    expect(await rejected({ ...limitBuy('TCS', 0), order_type: 'MARKET', price: undefined as unknown as number })).toMatch(/market protection/);
    expect(await rejected(limitBuy('TCS', Math.floor(ltp), 5000))).toMatch(/Insufficient funds/);
    // a CNC sell needs holdings: short selling is MIS only
    const cncSell = { ...limitBuy('TCS', Math.floor(ltp)), transaction_type: 'SELL', product: 'CNC' } as PlaceParams;
    expect(await rejected(cncSell)).toMatch(/Insufficient holdings.*0 available/);
  });

  it('rejects orders outside market hours when the clock says so', async () => {
    const closed = await startSimulator({ clock: () => istTimeMs('2026-01-05', 8, 0) });
    try {
      const { kite: client } = await login(closed);
      const { order_id } = await place(client, limitBuy('TCS', 3000));
      expect((await client.getOrderHistory(order_id)).at(-1)).toMatchObject({
        status: 'REJECTED',
        status_message: expect.stringMatching(/Markets are closed/) as unknown,
      });
    } finally {
      await closed.close();
    }
  });

  it('lets two clients trade with each other (partial fill of the resting order)', async () => {
    const other = (await login(sim, 'CD5678')).kite;
    // At the best ask a resting client order comes before the ladder (it was there first).
    const askPaise = sim.admin.depth('HDFCBANK')!.sell[0]!.pricePaise;
    const { order_id: restingId } = await place(other, { ...limitBuy('HDFCBANK', askPaise / 100, 10), transaction_type: 'SELL' });
    const { order_id: buyId } = await place(kite, limitBuy('HDFCBANK', askPaise / 100, 4));
    expect((await kite.getOrderHistory(buyId)).at(-1)).toMatchObject({ status: 'COMPLETE', average_price: askPaise / 100 });
    const resting = (await other.getOrderHistory(restingId)).at(-1)!;
    expect(resting).toMatchObject({ status: 'OPEN', filled_quantity: 4, pending_quantity: 6 });
    expect(resting.filled_quantity + resting.pending_quantity).toBe(10);
  });
});

describe('limits and faults', () => {
  it('answers 429 NetworkException over Kite’s order rate limit', async () => {
    const limited = await startSimulator({ rateLimits: { ordersPerSecond: 10 } });
    try {
      const { kite: client } = await login(limited);
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => place(client, limitBuy('TCS', 3000))));
      const refused = results.filter((r) => r.status === 'rejected');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      expect(refused[0]).toMatchObject({ reason: { error_type: 'NetworkException', message: 'Too many requests' } });
    } finally {
      await limited.close();
    }
  });

  it('injects 5xx (NetworkException on the client), rejections, and session expiry', async () => {
    const faulty = await startSimulator();
    try {
      const { kite: client } = await login(faulty);
      faulty.admin.setFaults({ serverErrors: 1 });
      await expect(client.getProfile()).rejects.toMatchObject({ error_type: 'NetworkException' });
      await expect(client.getProfile()).resolves.toMatchObject({ user_id: 'ZS0001' });
      faulty.admin.setFaults({ serverErrors: 1 });
      await expect(place(client, limitBuy('TCS', 3000, 1, 'unknown1'))).rejects.toMatchObject({ error_type: 'NetworkException' });
      expect((await client.getOrders()).filter((o) => o.tag === 'unknown1')).toHaveLength(1); // processed anyway
      faulty.admin.setFaults({ rejectOrders: 'RMS: blocked by the simulator' });
      const { order_id } = await place(client, limitBuy('TCS', 3000));
      expect((await client.getOrderHistory(order_id)).at(-1)).toMatchObject({ status: 'REJECTED', status_message: 'RMS: blocked by the simulator' });
      const response = await fetch(`${faulty.url}/__admin/expire-sessions`, { method: 'POST' });
      expect(response.status).toBe(200);
      await expect(client.getProfile()).rejects.toMatchObject({ error_type: 'TokenException', message: 'Token is invalid or has expired.' });
    } finally {
      await faulty.close();
    }
  });

  it('delays order answers past the client timeout while still taking the order', async () => {
    const slow = await startSimulator({ faults: { orderDelayMs: 400 } });
    try {
      const { kite: client } = await login(slow, undefined, 150);
      await expect(place(client, limitBuy('TCS', 3000, 1, 'slow1'))).rejects.toMatchObject({ error_type: 'NetworkException' });
      slow.admin.setFaults({ orderDelayMs: 0 });
      expect((await client.getOrders()).map((o) => o.tag)).toContain('slow1');
    } finally {
      await slow.close();
    }
  });

  it('serves the admin endpoints with Kite’s envelope', async () => {
    const token = (await (await fetch(`${sim.url}/__admin/request-token`, { method: 'POST', body: new URLSearchParams({ user_id: 'EF9012' }) })).json()) as {
      data: { request_token: string };
    };
    const client = new KiteConnect({ api_key: API_KEY, root: sim.url });
    expect((await client.generateSession(token.data.request_token, API_SECRET)).user_id).toBe('EF9012');
    const faults = (await (await fetch(`${sim.url}/__admin/faults`, { method: 'POST', body: new URLSearchParams({ stopPostbacks: 'true' }) })).json()) as {
      data: { stopPostbacks: boolean };
    };
    expect(faults.data.stopPostbacks).toBe(true);
    sim.admin.setFaults({ stopPostbacks: false });
    const step = (await (await fetch(`${sim.url}/__admin/step`, { method: 'POST', body: new URLSearchParams({ ticks: '10' }) })).json()) as {
      data: { ticks: number };
    };
    expect(step.data.ticks).toBe(10);
  });
});
