process.env.TZ = 'Asia/Kolkata';
/**
 * Zerodha's RMS squares off open MIS positions at 15:20 IST with orders Troupe did not place
 * (no tag). Through the unmodified `kiteconnect` client against the simulator (which performs
 * the square-off), the Kite execution actor must book them as fills with reason
 * `auto-square-off`: journaled before anyone hears of them, position and cash moved, the
 * call-and-trade fee charged, the `AutoSquareOff` event and metric, as the paper broker does.
 * The expected charges come from the independent contract-note oracle, fed with Kite's trades.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/actors/core/types.js';
import { rebuildKiteExecutionSnapshot } from '../../../src/wiring/kite-reconcile.js';
import { startKiteTrading, type KiteTrading } from '../../../src/wiring/kite.wiring.js';
import { fromJournalRecord, toJournalEntry } from '../../../src/actors/journal.js';
import { istTimeMs, nseEquity, type AutoSquareOff, type Bar, type Fill, type Order } from '../../../src/model/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import type { KiteSimulator } from '../../../src/sim/index.js';
import { oracleNote, type NoteFill } from '../../support/contract-note-oracle.js';
import { MemoryJournal } from '../../support/memory-journal.js';
import { bar } from '../../support/builders.js';
import { API_KEY, API_SECRET, eventually, startSimulator } from '../../sim/support.js';

const INFY = nseEquity('INFY', 408_065, 1_500_00);
const DAY = '2026-05-20';
/** Five-minute INFY bars from 14:55 to 15:25 IST: four ticks each, the 15:20 bar's first tick is the cut-off. */
const BARS: Bar[] = [0, 5, 10, 15, 20, 25].map((minutes, index) =>
  bar({
    symbol: 'INFY',
    interval: '5m',
    startMs: istTimeMs(DAY, 14, 55) + minutes * 60_000,
    openPaise: 1_500_00 + index * 10,
    highPaise: 1_502_00 + index * 10,
    lowPaise: 1_498_00 + index * 10,
    closePaise: 1_500_50 + index * 10,
    volume: 40_000,
  }),
);

let sim: KiteSimulator;
let trading: KiteTrading;
const journal = new MemoryJournal();
const metrics = new Metrics({ defaultMetrics: false });
const squareOffs: AutoSquareOff[] = [];
const reportedFills: Fill[] = [];
const notDurableWhenReported: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 50, market: { kind: 'replay', data: { instruments: [INFY], bars: new Map([['INFY', BARS]]) } } });
  trading = await startKiteTrading({
    apiKey: API_KEY,
    requestToken: sim.admin.createRequestToken(),
    apiSecret: API_SECRET,
    root: sim.url,
    tickerUrl: sim.wsUrl,
    symbols: ['INFY'],
    strategies: [],
    portfolio: { portfolioId: 'kite', initialCashPaise: 10_00_000_00 },
    logger: silentLogger(),
    pollEveryMs: 100,
    metrics,
    journal,
  });
  trading.runtime.bus.on('AutoSquareOff', (event) => squareOffs.push(event));
  trading.runtime.bus.on('OrderFilled', (event) => {
    const durable = journal.records.map(fromJournalRecord).some((entry) => entry?.type === 'Fill' && entry.fill.fillId === event.fill.fillId);
    if (!durable) notDurableWhenReported.push(event.fill.fillId);
    reportedFills.push(event.fill);
  });
  await eventually(() => expect(trading.feed.connected).toBe(true));
}, 60_000);
afterAll(async () => {
  await trading?.stop('test over');
  await sim?.close();
});

const buy = (quantity: number): Order => ({
  clientOrderId: 'TSQOFF00000000000001',
  intentId: 'manual:1',
  strategyId: 'manual',
  portfolioId: 'kite',
  symbol: 'INFY',
  side: 'BUY',
  orderType: 'MARKET',
  product: 'MIS',
  validity: 'DAY',
  quantity,
  status: 'PUT ORDER REQ RECEIVED',
  filledQuantity: 0,
  cancelledQuantity: 0,
  filledValuePaise: 0,
  createdAtMs: istTimeMs(DAY, 14, 55),
  updatedAtMs: istTimeMs(DAY, 14, 55),
});

/** Steps the replay one tick at a time until `check` passes. */
async function stepUntil(check: () => void | Promise<void>): Promise<void> {
  await eventually(async () => {
    await trading.runtime.whenIdle();
    try {
      await check();
    } catch (error) {
      sim.admin.step(1);
      throw error;
    }
  }, 20_000);
}

describe('Kite mode: Zerodha RMS auto square-off', () => {
  it('books the RMS square-off of an MIS position as auto-square-off fills: journaled first, position and cash moved, call-and-trade charged, event and metric', async () => {
    sim.admin.step(1); // 14:55: the market is open
    await eventually(() => expect(trading.lastTickWallMs()).toBeDefined());
    trading.runtime.system.tell(trading.runtime.kiteExecution!, { type: 'PlaceOrder', order: buy(7) });
    await stepUntil(() => expect(trading.runtime.portfolio()?.positions['INFY:MIS']?.netQuantity).toBe(7));
    expect(squareOffs).toEqual([]);

    // through 15:20: the simulator's RMS sells the 7 with an untagged MARKET order
    await stepUntil(() => expect(trading.runtime.portfolio()?.positions['INFY:MIS']?.netQuantity).toBe(0));
    const kite = trading.broker.client;
    const kiteOrders = await kite.getOrders();
    const rms = kiteOrders.filter((o) => o.tag === null || o.tag === undefined);
    expect(rms.map((o) => [o.transaction_type, o.quantity, o.product, o.status])).toEqual([['SELL', 7, 'MIS', 'COMPLETE']]);
    const rmsOrderId = String(rms[0]!.order_id);

    // Troupe's order for it: reason auto-square-off, the strategy whose position it was
    const orders = await trading.runtime.system.ask(trading.runtime.kiteExecution!, (replyTo) => ({ type: 'GetOrders', replyTo }), 2000);
    const adopted = orders.filter((o) => o.reason === 'auto-square-off');
    expect(adopted.map((o) => [o.brokerOrderId, o.strategyId, o.side, o.quantity, o.filledQuantity, o.status])).toEqual([
      [rmsOrderId, 'manual', 'SELL', 7, 7, 'COMPLETE'],
    ]);
    expect(squareOffs).toMatchObject([
      { portfolioId: 'kite', strategyId: 'manual', symbol: 'INFY', side: 'SELL', quantity: 7, orders: [adopted[0]!.clientOrderId] },
    ]);
    expect(await metrics.text()).toMatch(/^troupe_auto_square_off_orders_total 1$/m);

    // journaled before it was reported
    expect(notDurableWhenReported).toEqual([]);
    const journaledSquareOff = journal.records.filter((r) => fromJournalRecord(r)?.order.clientOrderId === adopted[0]!.clientOrderId);
    expect(journaledSquareOff.map((r) => r.type)).toContain('Fill');
    expect(journaledSquareOff.every((r) => fromJournalRecord(r)?.order.reason === 'auto-square-off')).toBe(true);

    // charges: the day's contract note of Kite's trades, by the independent oracle (₹59 per square-off order on top)
    const trades = await kite.getTrades();
    const tagOf = new Map(kiteOrders.map((o) => [String(o.order_id), o.tag ?? null]));
    const noteFills: NoteFill[] = trades.map((t) => ({
      orderId: String(t.order_id),
      symbol: t.tradingsymbol,
      side: t.transaction_type === 'BUY' ? 'BUY' : 'SELL',
      product: 'MIS',
      quantity: t.quantity,
      pricePaise: Math.round(t.average_price * 100),
      autoSquareOff: tagOf.get(String(t.order_id)) === null,
    }));
    const note = oracleNote(noteFills);
    expect(note.callAndTradePaise).toBe(59_00);
    expect(reportedFills.reduce((sum, f) => sum + f.chargesPaise, 0)).toBe(note.totalPaise);
    const flow = noteFills.reduce((sum, f) => sum + (f.side === 'SELL' ? 1 : -1) * f.quantity * f.pricePaise, 0);
    expect(trading.runtime.portfolio()?.cashPaise).toBe(10_00_000_00 + flow - note.totalPaise);
    // and Kite agrees: nothing left in MIS
    const positions = await kite.getPositions();
    expect(positions.net.filter((p) => p.product === 'MIS').map((p) => p.quantity)).toEqual([0]);
  });

  it("after a restart the MIS book (whose position a square-off closes) is rebuilt from the journal's fills", async () => {
    const restarted = new MemoryJournal();
    const done = (id: string, strategyId: string, side: 'BUY' | 'SELL', quantity: number, product: 'MIS' | 'CNC'): Order => ({
      ...buy(quantity),
      clientOrderId: id,
      strategyId,
      side,
      product,
      brokerOrderId: `K${id}`,
      status: 'COMPLETE',
      filledQuantity: quantity,
    });
    const fillOf = (order: Order, n: number): Fill => ({
      type: 'fill',
      fillId: `kite:${n}`,
      clientOrderId: order.clientOrderId,
      brokerOrderId: order.brokerOrderId!,
      portfolioId: 'kite',
      strategyId: order.strategyId,
      symbol: 'INFY',
      side: order.side,
      product: order.product,
      quantity: order.quantity,
      pricePaise: 1_500_00,
      chargesPaise: 10,
      atMs: istTimeMs(DAY, 10, n),
    });
    const orders = [
      done('TA1', 'a', 'BUY', 7, 'MIS'),
      done('TB1', 'b', 'SELL', 4, 'MIS'),
      done('TA2', 'a', 'SELL', 2, 'MIS'),
      done('TC1', 'c', 'BUY', 5, 'CNC'),
    ];
    await restarted.append(
      orders.flatMap((order, n) => [
        toJournalEntry('execution/kite', { type: 'OrderPlaced', order: { ...order, status: 'PUT ORDER REQ RECEIVED', filledQuantity: 0 } }),
        toJournalEntry('execution/kite', { type: 'Fill', fill: fillOf(order, n + 1), order }),
      ]),
    );
    const snapshots = new Map<string, Snapshot>();
    const target = {
      instruments: new Map([['INFY', INFY]]),
      statefulActorPaths: () => ['/execution/kite'],
      restoredSnapshot: (path: string) => snapshots.get(path),
      setRestoredSnapshot: (snapshot: Snapshot) => snapshots.set(snapshot.key, snapshot),
    };
    await rebuildKiteExecutionSnapshot(restarted, target, Date.now());
    const state = snapshots.get('/execution/kite')!.state as unknown as { misPositions: { strategyId: string; net: number }[] };
    expect(state.misPositions.map((p) => [p.strategyId, p.net]).sort()).toEqual([
      ['a', 5],
      ['b', -4],
    ]);
  });
});
