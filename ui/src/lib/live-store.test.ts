import { describe, expect, it } from 'vitest';
import { addToCandles, HISTORY_POINTS, HISTORY_SAMPLE_MS, LiveStore, type LiveEvent } from './live-store.js';

/** A scheduler the test drives: frames run when the test says so. */
function manualFrames() {
  const queued: (() => void)[] = [];
  return {
    schedule: (flush: () => void) => queued.push(flush),
    get waiting() {
      return queued.length;
    },
    runFrame() {
      const callbacks = queued.splice(0);
      for (const callback of callbacks) callback();
    },
  };
}

const quote = (seq: number, symbol: string, ltpPaise: number, exchangeTimeMs = 1_700_000_000_000 + seq * 1_000): LiveEvent => ({
  seq,
  topic: `quotes:${symbol}`,
  key: symbol,
  atMs: 0,
  data: { symbol, ltpPaise, volume: seq * 10, exchangeTimeMs },
});

describe('LiveStore (rAF batching)', () => {
  it('applies a burst of events in one state change and one notification per frame', () => {
    const frames = manualFrames();
    const store = new LiveStore(frames.schedule, () => 42);
    let notifications = 0;
    store.subscribe(() => (notifications += 1));
    const before = store.getState();

    for (let i = 1; i <= 1_000; i += 1) store.ingest(quote(i, `S${i % 50}`, 10_000 + i));
    expect(frames.waiting).toBe(1); // one frame requested for the whole burst
    expect(store.getState()).toBe(before); // nothing applied before the frame
    expect(notifications).toBe(0);

    frames.runFrame();
    expect(notifications).toBe(1);
    const state = store.getState();
    expect(state.quotes.size).toBe(50);
    expect(state.quotes.get('S0')?.ltpPaise).toBe(11_000); // the latest of that symbol
    expect(state.eventsApplied).toBe(1_000);
    expect(state.flushes).toBe(1);
    expect(state.connection.lastSeq).toBe(1_000);
    // the sparkline is sampled, not fed every quote: a burst within one sampling period is one point
    expect(state.quotes.get('S1')?.history).toEqual([10_001]);
  });

  it('keeps untouched parts of the state identical, so their readers do not render', () => {
    const frames = manualFrames();
    const store = new LiveStore(frames.schedule, () => 1);
    store.ingest({
      seq: 1,
      topic: 'risk-alerts',
      key: 'max-order-value',
      atMs: 5,
      data: { severity: 'warning', code: 'max-order-value', message: 'too big', atMs: 5 },
    });
    frames.runFrame();
    const { alerts, orders } = store.getState();
    expect(alerts).toHaveLength(1);
    store.ingest(quote(2, 'INFY', 150_000));
    frames.runFrame();
    expect(store.getState().alerts).toBe(alerts);
    expect(store.getState().orders).toBe(orders);
  });

  it('samples the sparkline history every HISTORY_SAMPLE_MS, keeping its identity in between', () => {
    const frames = manualFrames();
    let nowMs = 0;
    const store = new LiveStore(frames.schedule, () => nowMs);
    store.ingest(quote(1, 'TCS', 1));
    frames.runFrame();
    const first = store.getState().quotes.get('TCS')!.history;
    nowMs = HISTORY_SAMPLE_MS - 1;
    store.ingest(quote(2, 'TCS', 2));
    frames.runFrame();
    expect(store.getState().quotes.get('TCS')!.ltpPaise).toBe(2); // the price moves at once
    expect(store.getState().quotes.get('TCS')!.history).toBe(first); // the sparkline waits for its sample
    nowMs = HISTORY_SAMPLE_MS;
    store.ingest(quote(3, 'TCS', 3));
    frames.runFrame();
    expect(store.getState().quotes.get('TCS')!.history).toEqual([1, 3]);
    for (let i = 0; i < HISTORY_POINTS + 5; i += 1) {
      nowMs += HISTORY_SAMPLE_MS;
      store.ingest(quote(10 + i, 'TCS', 100 + i));
      frames.runFrame();
    }
    expect(store.getState().quotes.get('TCS')!.history).toHaveLength(HISTORY_POINTS);
  });

  it('requests no frame when idle and a new one for the next burst', () => {
    const frames = manualFrames();
    let nowMs = 0;
    const store = new LiveStore(frames.schedule, () => (nowMs += HISTORY_SAMPLE_MS));
    frames.runFrame();
    expect(frames.waiting).toBe(0);
    store.ingest(quote(1, 'TCS', 1));
    store.ingest(quote(2, 'TCS', 2));
    frames.runFrame();
    store.ingest(quote(3, 'TCS', 3));
    expect(frames.waiting).toBe(1);
    frames.runFrame();
    // one sparkline point per frame here (the clock moves a sampling period per frame): 1 and 2 came in one
    expect(store.getState().quotes.get('TCS')?.history).toEqual([1, 3]);
  });

  it('tracks orders with their lifecycle and the connection state', () => {
    const frames = manualFrames();
    const store = new LiveStore(frames.schedule, () => 7);
    const order = { clientOrderId: 'T1', status: 'OPEN', filledQuantity: 0, updatedAtMs: 1 };
    store.dispatch({ kind: 'connection', status: 'live', atMs: 1 });
    store.ingest({ seq: 1, topic: 'orders', key: 'T1', atMs: 1, data: { event: 'submitted', order } });
    store.ingest({
      seq: 2,
      topic: 'orders',
      key: 'T1',
      atMs: 2,
      data: {
        event: 'filled',
        order: { ...order, status: 'COMPLETE', filledQuantity: 5, updatedAtMs: 2 },
        fill: { quantity: 5, pricePaise: 100, chargesPaise: 3 },
      },
    });
    store.dispatch({ kind: 'connection', status: 'reconnecting', detail: 'closed', atMs: 3 });
    frames.runFrame();
    const state = store.getState();
    expect(state.orders.get('T1')?.status).toBe('COMPLETE');
    expect(state.orderSteps.get('T1')?.map((step) => step.status)).toEqual(['OPEN', 'COMPLETE']);
    expect(state.connection).toMatchObject({ status: 'reconnecting', reconnects: 1, detail: 'closed' });
  });

  it('builds one-minute candles from quotes', () => {
    let candles = addToCandles([], 60_000, 100, 1_000, undefined);
    candles = addToCandles(candles, 90_000, 120, 1_500, 1_000);
    candles = addToCandles(candles, 119_000, 90, 1_600, 1_500);
    candles = addToCandles(candles, 120_000, 95, 1_700, 1_600);
    expect(candles).toEqual([
      { timeSec: 60, openPaise: 100, highPaise: 120, lowPaise: 90, closePaise: 90, volume: 600 },
      { timeSec: 120, openPaise: 95, highPaise: 95, lowPaise: 95, closePaise: 95, volume: 100 },
    ]);
  });
});

describe('portfolio totals', () => {
  it('marks positions to the live quotes in exact paise and derives equity from the net P&L', async () => {
    const { portfolioTotals, markPosition } = await import('./positions.js');
    const position = {
      portfolioId: 'paper',
      symbol: 'INFY',
      product: 'MIS',
      netQuantity: 7,
      costPaise: 1_050_030,
      realisedPaise: 500,
      chargesPaise: 442,
      buyQuantity: 7,
      sellQuantity: 0,
      lastPricePaise: 150_000,
    };
    const quote = { symbol: 'INFY', ltpPaise: 150_105, volume: 0, exchangeTimeMs: 0, receivedAtMs: 0, history: [], historyAtMs: 0, candles: [] };
    expect(markPosition(position, quote)).toMatchObject({ marketValuePaise: 1_050_735, unrealisedPaise: 705, averagePricePaise: 150_004 });
    const summary = {
      cashPaise: 9_000_000,
      marketValuePaise: 0,
      equityPaise: 10_000_058,
      realisedPaise: 500,
      unrealisedPaise: 0,
      chargesPaise: 442,
      netPnlPaise: 58,
      grossExposurePaise: 0,
      netExposurePaise: 0,
    };
    const [total] = portfolioTotals({
      positions: new Map([['paper:INFY:MIS', position]]),
      quotes: new Map([['INFY', quote]]),
      pnl: new Map([['paper', { summary, atMs: 0 }]]),
    });
    expect(total).toMatchObject({ netPnlPaise: 500 + 705 - 442, equityPaise: 10_000_000 + 763, grossExposurePaise: 1_050_735, openPositions: 1 });
  });
});

describe('order lifecycle and strategy books', () => {
  const order = (status: string, filledQuantity: number, updatedAtMs: number) => ({
    clientOrderId: 'T1',
    intentId: 'I1',
    strategyId: 'ema-cross-1',
    portfolioId: 'main',
    symbol: 'INFY',
    side: 'BUY',
    orderType: 'MARKET',
    product: 'MIS',
    validity: 'DAY',
    quantity: 10,
    status,
    filledQuantity,
    cancelledQuantity: 0,
    filledValuePaise: filledQuantity * 150_000,
    createdAtMs: 1_000,
    updatedAtMs,
  });

  it('times every step in market time from the server (never the browser clock), in stream order, once each', () => {
    const frames = manualFrames();
    const store = new LiveStore(frames.schedule, () => 9_999_999); // the browser's clock: never shown
    store.ingest({ seq: 5, topic: 'orders', key: 'T1', atMs: 8_000_000, data: { event: 'submitted', order: order('OPEN', 0, 1_000) } });
    const filled = {
      seq: 6,
      topic: 'orders',
      key: 'T1',
      atMs: 8_000_100,
      data: { event: 'filled', order: order('COMPLETE', 10, 1_600), fill: { fillId: 'F1', quantity: 10, pricePaise: 150_000, chargesPaise: 90, atMs: 1_500 } },
    };
    store.ingest(filled);
    store.ingest(filled); // a replay after a reconnect
    frames.runFrame();
    const steps = store.getState().orderSteps.get('T1') ?? [];
    expect(steps.map((step) => [step.seq, step.event, step.atMs])).toEqual([
      [5, 'submitted', 1_000],
      [6, 'filled', 1_500],
    ]);
    const book = store.getState().strategyBooks.get('ema-cross-1');
    expect(book).toMatchObject({ fills: 1, buyQuantity: 10, turnoverPaise: 1_500_000, chargesPaise: 90, cashFlowPaise: -1_500_090, net: { INFY: 10 } });
  });

  it('books a fill once whether it came from the start-up load or the stream', () => {
    const frames = manualFrames();
    const store = new LiveStore(frames.schedule, () => 1);
    store.ingest({
      seq: 1,
      topic: 'orders',
      key: 'T1',
      atMs: 0,
      data: { event: 'filled', order: order('COMPLETE', 10, 1_600), fill: { fillId: 'F1', quantity: 10, pricePaise: 150_000, chargesPaise: 90, atMs: 1_500 } },
    });
    store.dispatch({
      kind: 'fills',
      complete: false,
      fills: [{ fillId: 'F1', strategyId: 'ema-cross-1', symbol: 'INFY', side: 'BUY', quantity: 10, pricePaise: 150_000, chargesPaise: 90, atMs: 1_500 }],
    });
    frames.runFrame();
    expect(store.getState().strategyBooks.get('ema-cross-1')?.fills).toBe(1);
    expect(store.getState().fillsComplete).toBe(false);
  });
});

describe('equity curve on the market clock', () => {
  const summary = (equityPaise: number) => ({
    cashPaise: equityPaise,
    marketValuePaise: 0,
    equityPaise,
    realisedPaise: 0,
    unrealisedPaise: 0,
    chargesPaise: 0,
    netPnlPaise: 0,
    grossExposurePaise: 0,
    netExposurePaise: 0,
  });
  /** 2026-12-03 10:00:00 IST, while the browser's clock says something else entirely. */
  const MARKET_MS = Date.UTC(2026, 11, 3, 4, 30);
  const BROWSER_MS = Date.UTC(2026, 11, 3, 8, 0);

  it('stamps equity points with the market time the server sent, never the browser clock', () => {
    const frames = manualFrames();
    const store = new LiveStore(frames.schedule, () => BROWSER_MS);
    // before any market time has arrived there is no point to place
    store.ingest({ seq: 1, topic: 'pnl', key: 'paper', atMs: BROWSER_MS, data: { portfolioId: 'paper', summary: summary(100) } });
    store.dispatch({ kind: 'equity', portfolioId: 'paper', equityPaise: 100 });
    frames.runFrame();
    expect(store.getState().marketTimeMs).toBeUndefined();
    expect(store.getState().equity.get('paper') ?? []).toEqual([]);

    store.ingest(quote(2, 'INFY', 150_000, MARKET_MS));
    store.dispatch({ kind: 'equity', portfolioId: 'paper', equityPaise: 101 });
    frames.runFrame();
    // the market runs 30x: a second of the browser's clock later, half a minute of market time has passed
    store.ingest(quote(3, 'INFY', 150_005, MARKET_MS + 30_000));
    store.ingest({ seq: 4, topic: 'pnl', key: 'paper', atMs: BROWSER_MS + 1_000, data: { portfolioId: 'paper', summary: summary(102) } });
    frames.runFrame();
    expect(store.getState().marketTimeMs).toBe(MARKET_MS + 30_000);
    expect(store.getState().equity.get('paper')).toEqual([
      { timeSec: MARKET_MS / 1000, equityPaise: 101 },
      { timeSec: MARKET_MS / 1000 + 30, equityPaise: 102 },
    ]);
  });

  it('moves the market clock forward only, with quotes, orders and fills', () => {
    const frames = manualFrames();
    const store = new LiveStore(frames.schedule, () => BROWSER_MS);
    store.ingest(quote(1, 'INFY', 1, MARKET_MS));
    store.ingest(quote(2, 'TCS', 1, MARKET_MS - 5_000)); // a late quote does not turn the clock back
    frames.runFrame();
    expect(store.getState().marketTimeMs).toBe(MARKET_MS);
    store.dispatch({
      kind: 'fills',
      complete: true,
      fills: [{ fillId: 'F9', strategyId: 's', symbol: 'INFY', side: 'BUY', quantity: 1, pricePaise: 1, chargesPaise: 0, atMs: MARKET_MS + 2_000 }],
    });
    frames.runFrame();
    expect(store.getState().marketTimeMs).toBe(MARKET_MS + 2_000);
    store.dispatch({ kind: 'equity', portfolioId: 'paper', equityPaise: 7 });
    frames.runFrame();
    expect(store.getState().equity.get('paper')).toEqual([{ timeSec: MARKET_MS / 1000 + 2, equityPaise: 7 }]);
  });
});
