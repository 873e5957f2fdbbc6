import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bar } from '../../src/model/market.js';
import { migrate } from '../../src/persistence/migrate.js';
import { deskSources } from '../../src/persistence/desk-queries.js';
import { rollUpHourBars, upsertBars } from '../../src/persistence/timeseries/bars.js';
import { startHarness, login, type Harness } from './harness.js';
import { suiteDatabase } from '../support/databases.js';

/**
 * The desk's history routes on real PostgreSQL: candles at every timeframe against an
 * aggregation written here (IST wall-clock buckets from calendar fields, not the code's
 * arithmetic), fill markers one per candle and side, and the analytics against figures
 * computed here from the fills (cash flows, round trips, daily series).
 */
const SYMBOL = 'INFY';
const MINUTE = 60_000;
/** 09:15 IST on two trading days. */
const DAY1 = Date.UTC(2026, 4, 18, 3, 45);
const DAY2 = Date.UTC(2026, 4, 19, 3, 45);

/** A deterministic 1 m series: every minute of both sessions (375 each). */
function minuteBars(): Bar[] {
  const bars: Bar[] = [];
  let price = 150_000;
  let seed = 7;
  const next = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  for (const day of [DAY1, DAY2]) {
    for (let minute = 0; minute < 375; minute += 1) {
      const open = price;
      const close = open + Math.round((next() - 0.5) * 400);
      const high = Math.max(open, close) + Math.round(next() * 100);
      const low = Math.min(open, close) - Math.round(next() * 100);
      price = close;
      bars.push({
        type: 'bar',
        symbol: SYMBOL,
        interval: '1m',
        startMs: day + minute * MINUTE,
        openPaise: open,
        highPaise: high,
        lowPaise: low,
        closePaise: close,
        volume: 1 + Math.floor(next() * 1000),
        tickCount: 1 + Math.floor(next() * 20),
      });
    }
  }
  return bars;
}

/** The oracle's bucket: the IST wall clock read as fields, minutes since 09:15 cut into `minutes`; days by IST date. */
function oracleKey(startMs: number, timeframe: string): string {
  const ist = new Date(startMs + 330 * MINUTE);
  const date = ist.toISOString().slice(0, 10);
  if (timeframe === '1d') return date;
  const sinceOpen = ist.getUTCHours() * 60 + ist.getUTCMinutes() - (9 * 60 + 15);
  const minutes = { '1m': 1, '5m': 5, '15m': 15, '1h': 60 }[timeframe]!;
  return `${date}+${Math.floor(sinceOpen / minutes) * minutes}`;
}

function oracleCandles(bars: readonly Bar[], timeframe: string): { key: string; o: number; h: number; l: number; c: number; v: number; n: number }[] {
  const groups = new Map<string, Bar[]>();
  for (const bar of bars) groups.set(oracleKey(bar.startMs, timeframe), [...(groups.get(oracleKey(bar.startMs, timeframe)) ?? []), bar]);
  return [...groups.entries()].map(([key, list]) => ({
    key,
    o: list[0]!.openPaise,
    h: Math.max(...list.map((bar) => bar.highPaise)),
    l: Math.min(...list.map((bar) => bar.lowPaise)),
    c: list.at(-1)!.closePaise,
    v: list.reduce((sum, bar) => sum + bar.volume, 0),
    n: list.reduce((sum, bar) => sum + bar.tickCount, 0),
  }));
}

interface TestFill {
  strategy: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  quantity: number;
  price: number;
  charges: number;
  atMs: number;
}

/** Round trips (each flat → flat) on two days and two strategies, and one position left open. */
const TRIPS = [
  { strategy: 'alpha', symbol: 'INFY', quantity: 10, buy: 150_000, sell: 151_500, charges: [700, 900], at: DAY1 + 5 * MINUTE, hold: 3 },
  { strategy: 'alpha', symbol: 'INFY', quantity: 10, buy: 151_000, sell: 150_200, charges: [700, 800], at: DAY1 + 9 * MINUTE, hold: 30 },
  { strategy: 'beta', symbol: 'TCS', quantity: 4, buy: 350_000, sell: 350_100, charges: [500, 600], at: DAY1 + 60 * MINUTE, hold: 10 },
  { strategy: 'alpha', symbol: 'INFY', quantity: 5, buy: 149_000, sell: 152_000, charges: [400, 500], at: DAY2 + 10 * MINUTE, hold: 100 },
  { strategy: 'beta', symbol: 'TCS', quantity: 8, buy: 351_000, sell: 349_000, charges: [900, 900], at: DAY2 + 30 * MINUTE, hold: 20 },
];
const OPEN = { strategy: 'beta', symbol: 'SBIN', quantity: 20, price: 80_000, charges: 300, at: DAY2 + 200 * MINUTE };
const SBIN_MARK = 81_250;

function testFills(): TestFill[] {
  const fills: TestFill[] = [];
  for (const trip of TRIPS) {
    fills.push({
      strategy: trip.strategy,
      symbol: trip.symbol,
      side: 'BUY',
      quantity: trip.quantity,
      price: trip.buy,
      charges: trip.charges[0]!,
      atMs: trip.at,
    });
    fills.push({
      strategy: trip.strategy,
      symbol: trip.symbol,
      side: 'SELL',
      quantity: trip.quantity,
      price: trip.sell,
      charges: trip.charges[1]!,
      atMs: trip.at + trip.hold * MINUTE,
    });
  }
  fills.push({ strategy: OPEN.strategy, symbol: OPEN.symbol, side: 'BUY', quantity: OPEN.quantity, price: OPEN.price, charges: OPEN.charges, atMs: OPEN.at });
  return fills.sort((a, b) => a.atMs - b.atMs);
}

describe('desk history routes on PostgreSQL', () => {
  const database = suiteDatabase('postgres');
  let harness: Harness;
  let authorization: string;
  const bars = minuteBars();

  beforeAll(async () => {
    const db = database();
    await migrate(db);
    await upsertBars(db, bars);
    // the recorder rolls each written hour up; the 1 d candles read those hours
    await rollUpHourBars(db, DAY1, DAY2 + 375 * MINUTE);
    for (const [index, fill] of testFills().entries()) {
      await db.query(
        `INSERT INTO trades (fill_id, client_order_id, broker_order_id, portfolio_id, strategy_id, symbol, side, product, quantity, price_paise, charges_paise, executed_at)
         VALUES ($1, $2, $3, 'paper', $4, $5, $6, 'MIS', $7, $8, $9, timestamptz 'epoch' + $10::bigint * interval '1 millisecond')`,
        [`F${index}`, `C${index}`, `B${index}`, fill.strategy, fill.symbol, fill.side, fill.quantity, fill.price, fill.charges, fill.atMs],
      );
    }
    harness = await startHarness({}, { desk: deskSources(db) });
    authorization = (await login(harness.app)).authorization;
    // a mark for the open position (one tick: the harness's strategy needs four to trade)
    await harness.feed('SBIN', [SBIN_MARK]);
  });
  afterAll(async () => {
    await harness?.close();
  });

  const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
    const response = await harness.app.inject({ method: 'GET', url, headers: { authorization } });
    return { status: response.statusCode, body: response.json<T>() };
  };

  it.each(['1m', '5m', '15m', '1h', '1d'])('aggregates %s candles exactly as an independent aggregation', async (timeframe) => {
    const from = DAY1 - 60 * MINUTE;
    const to = DAY2 + 24 * 60 * MINUTE;
    const { status, body } = await get<{
      candles: { startMs: number; openPaise: number; highPaise: number; lowPaise: number; closePaise: number; volume: number; tickCount: number }[];
      truncated: boolean;
    }>(`/api/v1/bars?symbol=${SYMBOL}&timeframe=${timeframe}&from=${from}&to=${to}`);
    expect(status).toBe(200);
    const expected = oracleCandles(bars, timeframe);
    expect(body.truncated).toBe(false);
    expect(
      body.candles.map((candle) => ({
        key: oracleKey(candle.startMs, timeframe),
        o: candle.openPaise,
        h: candle.highPaise,
        l: candle.lowPaise,
        c: candle.closePaise,
        v: candle.volume,
        n: candle.tickCount,
      })),
    ).toEqual(expected);
    // every candle starts where its bucket starts: the first minute of the bucket on the IST clock
    const counts = { '1m': 750, '5m': 150, '15m': 50, '1h': 14, '1d': 2 } as const;
    expect(body.candles).toHaveLength(counts[timeframe as keyof typeof counts]);
  });

  it('marks fills once per candle and side, with summed quantity and the weighted price', async () => {
    const { body } = await get<{ markers: { startMs: number; side: string; quantity: number; fills: number; averagePricePaise: number }[] }>(
      `/api/v1/bars?symbol=INFY&timeframe=15m&from=${DAY1}&to=${DAY2 + 375 * MINUTE}`,
    );
    // day 1: buys at 09:20 (10 @ 1500.00) and 09:24 (10 @ 1510.00), sells at 09:23 (same candle) and 09:54
    expect(body.markers.filter((marker) => marker.startMs === DAY1)).toEqual([
      { startMs: DAY1, side: 'BUY', quantity: 20, fills: 2, averagePricePaise: 150_500 },
      { startMs: DAY1, side: 'SELL', quantity: 10, fills: 1, averagePricePaise: 151_500 },
    ]);
    const keys = body.markers.map((marker) => `${marker.startMs}:${marker.side}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(body.markers.reduce((sum, marker) => sum + marker.quantity, 0)).toBe(2 * (10 + 10 + 5));
  });

  it('answers a bad range, an unknown symbol and a bad timeframe with clear errors', async () => {
    expect((await get(`/api/v1/bars?symbol=INFY&from=${DAY2}&to=${DAY1}`)).status).toBe(400);
    expect((await get('/api/v1/bars?symbol=NOPE')).status).toBe(404);
    const bad = await get<{ error: { code: string; message: string } }>('/api/v1/bars?symbol=INFY&timeframe=2m');
    expect(bad.status).toBe(400);
  });

  it('gives the book of a symbol: best bid and ask from a feed without depth', async () => {
    const { status, body } = await get<{ levels: number; buy: unknown[]; sell: unknown[] }>('/api/v1/market/depth/SBIN');
    expect(status).toBe(200);
    expect(body.levels).toBeLessThanOrEqual(1);
  });

  it('computes analytics that match an oracle computed from the fills', async () => {
    const fills = testFills();
    const { status, body } = await get<{
      total: Record<string, number | null>;
      byStrategy: Record<string, Record<string, number | null>>;
      bySymbol: Record<string, Record<string, number | null>>;
      calendar: {
        daily: { period: string; netPnlPaise: number }[];
        weekly: { period: string; netPnlPaise: number }[];
        monthly: { period: string; netPnlPaise: number }[];
      };
      equity: { atMs: number; equityPaise: number }[];
      initialCashPaise: number;
    }>('/api/v1/analytics');
    expect(status).toBe(200);

    // cash flows: realised + unrealised = Σ sells − Σ buys + open quantity × mark
    const cash = fills.reduce((sum, fill) => sum + (fill.side === 'SELL' ? 1 : -1) * fill.quantity * fill.price, 0);
    const openValue = OPEN.quantity * SBIN_MARK;
    const charges = fills.reduce((sum, fill) => sum + fill.charges, 0);
    const turnover = fills.reduce((sum, fill) => sum + fill.quantity * fill.price, 0);
    const unrealised = OPEN.quantity * (SBIN_MARK - OPEN.price);
    expect(body.total.unrealisedPaise).toBe(unrealised);
    expect((body.total.realisedPaise as number) + (body.total.unrealisedPaise as number)).toBe(cash + openValue);
    expect(body.total.chargesPaise).toBe(charges);
    expect(body.total.turnoverPaise).toBe(turnover);
    expect(body.total.netPnlPaise).toBe(cash + openValue - charges);
    expect(body.total.grossExposurePaise).toBe(openValue);

    // round trips: a win when the trip's P&L less its two fills' charges is above zero
    const tripNet = TRIPS.map((trip) => trip.quantity * (trip.sell - trip.buy) - trip.charges[0]! - trip.charges[1]!);
    expect(body.total.roundTrips).toBe(TRIPS.length);
    expect(body.total.wins).toBe(tripNet.filter((net) => net > 0).length);
    expect(body.total.winRate).toBeCloseTo(tripNet.filter((net) => net > 0).length / TRIPS.length, 12);

    // per strategy and symbol
    for (const strategy of ['alpha', 'beta']) {
      const own = TRIPS.filter((trip) => trip.strategy === strategy);
      const realised = own.reduce((sum, trip) => sum + trip.quantity * (trip.sell - trip.buy), 0);
      expect(body.byStrategy[strategy]!.realisedPaise).toBe(realised);
    }
    expect(body.bySymbol.INFY!.realisedPaise).toBe(
      TRIPS.filter((trip) => trip.symbol === 'INFY').reduce((sum, trip) => sum + trip.quantity * (trip.sell - trip.buy), 0),
    );
    expect(body.bySymbol.SBIN!.unrealisedPaise).toBe(unrealised);

    // daily net P&L: what each day's closing fills realised, less that day's charges; today adds the open position
    const istDay = (ms: number): string => new Date(ms + 330 * MINUTE).toISOString().slice(0, 10);
    const days = new Map<string, number>();
    for (const trip of TRIPS)
      days.set(istDay(trip.at), (days.get(istDay(trip.at)) ?? 0) + trip.quantity * (trip.sell - trip.buy) - trip.charges[0]! - trip.charges[1]!);
    days.set(istDay(OPEN.at), (days.get(istDay(OPEN.at)) ?? 0) - OPEN.charges + unrealised);
    expect(body.calendar.daily.map(({ period, netPnlPaise }) => [period, netPnlPaise])).toEqual([...days.entries()]);
    expect(body.calendar.monthly).toEqual([{ period: '2026-05', netPnlPaise: cash + openValue - charges, fills: fills.length }]);
    expect(body.calendar.weekly.map((week) => week.period)).toEqual(['2026-05-18']); // Monday 18 May 2026

    // Sharpe and Sortino of the daily series, annualised with √252
    const daily = [...days.values()];
    const mean = daily.reduce((a, b) => a + b, 0) / daily.length;
    const sd = Math.sqrt(daily.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (daily.length - 1));
    expect(body.total.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(252), 9);
    const downside = Math.sqrt(daily.reduce((sum, value) => sum + Math.min(0, value) ** 2, 0) / daily.length);
    if (downside === 0) expect(body.total.sortino).toBeNull();
    else expect(body.total.sortino).toBeCloseTo((mean / downside) * Math.sqrt(252), 9);

    // max drawdown of cumulative net P&L after each fill (fills in time order; the last point marks SBIN)
    let running = 0;
    let peak = 0;
    let drawdown = 0;
    const positions = new Map<string, { quantity: number; cost: number }>();
    const curve: number[] = [];
    for (const fill of fills) {
      const position = positions.get(fill.symbol) ?? { quantity: 0, cost: 0 };
      if (fill.side === 'BUY') positions.set(fill.symbol, { quantity: position.quantity + fill.quantity, cost: position.cost + fill.quantity * fill.price });
      else {
        // every trip here sells all it bought at one price: the realised P&L is the whole lot's
        running += fill.quantity * fill.price - position.cost;
        positions.set(fill.symbol, { quantity: 0, cost: 0 });
      }
      running -= fill.charges;
      curve.push(running);
    }
    curve.push(running + unrealised);
    for (const point of curve) {
      peak = Math.max(peak, point);
      drawdown = Math.max(drawdown, peak - point);
    }
    expect(body.total.maxDrawdownPaise).toBe(drawdown);
    expect(body.equity.map((point) => point.equityPaise - body.initialCashPaise)).toEqual(curve);
  });

  it('answers 503 without a database, 404 for an unknown portfolio', async () => {
    const bare = await startHarness();
    try {
      const auth = (await login(bare.app)).authorization;
      expect((await bare.app.inject({ method: 'GET', url: '/api/v1/analytics', headers: { authorization: auth } })).statusCode).toBe(503);
    } finally {
      await bare.close();
    }
    expect((await get('/api/v1/analytics?portfolioId=nope')).status).toBe(404);
  });
});
