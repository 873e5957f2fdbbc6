process.env.TZ = 'Asia/Kolkata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/actors/core/types.js';
import { KiteBroker } from '../../../src/brokers/kite/index.js';
import { recoverKite } from '../../../src/wiring/kite-reconcile.js';
import { startKiteTrading } from '../../../src/wiring/kite.wiring.js';
import type { Instrument, Order } from '../../../src/model/index.js';
import { toJournalEntry } from '../../../src/actors/journal.js';
import { MemoryJournal } from '../../support/memory-journal.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import type { KiteSimulator } from '../../../src/sim/index.js';
import { API_KEY, API_SECRET, eventually, startSimulator } from '../../sim/support.js';

let sim: KiteSimulator;
beforeAll(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 50 });
});
afterAll(async () => {
  await sim.close();
});

const manual = (n: number, overrides: Partial<Order> = {}): Order => ({
  clientOrderId: `TRECON${String(n).padStart(14, '0')}`,
  intentId: `manual:${n}`,
  strategyId: 'manual',
  portfolioId: 'kite',
  symbol: 'INFY',
  side: 'BUY',
  orderType: 'MARKET',
  product: 'MIS',
  validity: 'DAY',
  quantity: 2,
  status: 'PUT ORDER REQ RECEIVED',
  filledQuantity: 0,
  cancelledQuantity: 0,
  filledValuePaise: 0,
  createdAtMs: Date.now(),
  updatedAtMs: Date.now(),
  ...overrides,
});

describe('Kite mode journals before acting', () => {
  it('an order reaches Kite only once OrderPlaced is durable; state changes and fills are journaled before they are reported; a failing journal refuses orders', async () => {
    const journal = new MemoryJournal();
    const alerts: string[] = [];
    const trading = await startKiteTrading({
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
      journal,
    });
    try {
      trading.runtime.bus.on('RiskAlert', (alert) => alerts.push(alert.code));
      const fills: string[] = [];
      trading.runtime.bus.on('OrderFilled', (event) => {
        // reported only once durable
        expect(journal.records.some((r) => r.type === 'Fill' && (r.payload as unknown as { fill: { fillId: string } }).fill.fillId === event.fill.fillId)).toBe(
          true,
        );
        fills.push(event.fill.fillId);
      });
      const atSim = (): number => sim.admin.stats().orderPlacements;
      const before = atSim();
      journal.close();
      trading.runtime.system.tell(trading.runtime.kiteExecution!, { type: 'PlaceOrder', order: manual(1) });
      await trading.runtime.whenIdle();
      expect(atSim()).toBe(before); // not durable yet: not sent
      journal.open();
      await eventually(() => expect(fills).toHaveLength(1));
      expect(atSim()).toBe(before + 1);
      expect(journal.types(manual(1).clientOrderId)).toEqual(['OrderPlaced', 'OrderUpdated', 'Fill']);
      expect(journal.records[0]!.stream).toBe('execution/kite');

      journal.failing = true;
      trading.runtime.system.tell(trading.runtime.kiteExecution!, { type: 'PlaceOrder', order: manual(2) });
      await eventually(() => expect(alerts).toContain('journal-unavailable'));
      trading.runtime.system.tell(trading.runtime.kiteExecution!, { type: 'PlaceOrder', order: manual(3) });
      await trading.runtime.whenIdle();
      expect(atSim()).toBe(before + 1);
      journal.failing = false;
      await eventually(() => expect(alerts).toContain('journal-recovered'));
      trading.runtime.system.tell(trading.runtime.kiteExecution!, { type: 'PlaceOrder', order: manual(4) });
      await eventually(() => expect(fills).toHaveLength(2));
      expect(atSim()).toBe(before + 2);
    } finally {
      await trading.stop('test over');
    }
  });
});

describe('reconciliation with Kite at start-up', () => {
  it('by tag: an order Kite has but never acknowledged is moved on (not re-sent), one Kite lacks is closed; missing trades and unexplained positions raise alerts', async () => {
    const broker = new KiteBroker({ apiKey: API_KEY, root: sim.url, retryBaseMs: 1 });
    await broker.createSession(sim.admin.createRequestToken('ZS0042'), API_SECRET);
    const journal = new MemoryJournal();
    const sent = manual(11, { symbol: 'TCS' });
    const neverSent = manual(12, { symbol: 'TCS' });
    await journal.append([
      toJournalEntry('execution/kite', { type: 'OrderPlaced', order: sent }),
      toJournalEntry('execution/kite', { type: 'OrderPlaced', order: neverSent }),
    ]);
    // the process died after Kite took `sent` but before Troupe heard back
    const brokerOrderId = await broker.placeOrder({
      clientOrderId: sent.clientOrderId,
      symbol: 'TCS',
      side: 'BUY',
      quantity: 2,
      orderType: 'MARKET',
      product: 'MIS',
      validity: 'DAY',
    });
    const placements = sim.admin.stats().orderPlacements;

    const snapshots = new Map<string, Snapshot>();
    const target = {
      instruments: new Map<string, Instrument>(sim.admin.instruments.map((i) => [i.symbol, i])),
      statefulActorPaths: () => ['/execution/kite', '/portfolios/kite'],
      restoredSnapshot: (path: string) => snapshots.get(path),
      setRestoredSnapshot: (snapshot: Snapshot) => snapshots.set(snapshot.key, snapshot),
    };
    const report = await recoverKite({
      journal,
      target,
      kite: broker,
      portfolios: [{ portfolioId: 'kite', initialCashPaise: 10_00_000_00 }],
      nowMs: () => Date.now(),
    });
    expect(sim.admin.stats().orderPlacements).toBe(placements); // nothing re-sent
    const reconciled = journal.records.filter((r) => r.type === 'OrderReconciled').map((r) => (r.payload as unknown as { order: Order }).order);
    expect(reconciled.find((o) => o.clientOrderId === sent.clientOrderId)).toMatchObject({ status: 'OPEN', brokerOrderId, filledQuantity: 0 });
    expect(reconciled.find((o) => o.clientOrderId === neverSent.clientOrderId)).toMatchObject({ status: 'REJECTED' });
    // the trade of `sent` is not journaled yet: flagged, and applied by the execution actor from Kite's trades
    expect(report.audit.missingTrades).toBe(1);
    expect(report.audit.positionMismatches).toEqual([]);
    expect(report.alerts.filter((a) => a.code === 'reconciliation')).toHaveLength(3);
    const execution = snapshots.get('/execution/kite')!.state as unknown as {
      orders: Order[];
      appliedTrades: string[];
      byBrokerId: [string, string][];
      halted: null;
    };
    expect(execution.orders.map((o) => [o.clientOrderId, o.status]).sort()).toEqual(
      [
        [sent.clientOrderId, 'OPEN'],
        [neverSent.clientOrderId, 'REJECTED'],
      ].sort(),
    );
    expect(execution.byBrokerId).toEqual([[brokerOrderId, sent.clientOrderId]]);
    expect(execution.appliedTrades).toEqual([]);

    // a trade outside Troupe on a symbol it trades: Kite's position cannot be explained by the journal
    const manualParams = {
      exchange: 'NSE',
      tradingsymbol: 'TCS',
      transaction_type: 'BUY',
      quantity: 5,
      product: 'MIS',
      order_type: 'MARKET',
      market_protection: -1,
      tag: 'MANUAL',
    };
    await broker.client.placeOrder('regular', manualParams as unknown as Parameters<typeof broker.client.placeOrder>[1]);
    const again = await recoverKite({
      journal,
      target,
      kite: broker,
      portfolios: [{ portfolioId: 'kite', initialCashPaise: 10_00_000_00 }],
      nowMs: () => Date.now(),
    });
    expect(again.audit.positionMismatches).toEqual([{ symbol: 'TCS', kite: 7, journal: 2 }]);
    expect(again.alerts.map((a) => a.code)).toContain('position-mismatch');
  });
});

describe('reconciliation alerts in metrics', () => {
  it('counts the RiskAlerts start-up recovery publishes (alert rules watch troupe_risk_alerts_total)', async () => {
    // one order journaled as placed that Kite never received: recovery closes it with one `reconciliation` alert
    const journal = new MemoryJournal();
    await journal.append([toJournalEntry('execution/kite', { type: 'OrderPlaced', order: manual(31, { symbol: 'INFY' }) })]);
    const metrics = new Metrics({ defaultMetrics: false });
    const trading = await startKiteTrading({
      apiKey: API_KEY,
      requestToken: sim.admin.createRequestToken('ZS0077'),
      apiSecret: API_SECRET,
      root: sim.url,
      tickerUrl: sim.wsUrl,
      symbols: ['INFY'],
      strategies: [],
      portfolio: { portfolioId: 'kite', initialCashPaise: 10_00_000_00 },
      logger: silentLogger(),
      journal,
      metrics,
    });
    try {
      expect(trading.recovery?.alerts.map((alert) => alert.code)).toEqual(['reconciliation']);
      expect(await metrics.text()).toMatch(/^troupe_risk_alerts_total\{severity="warning",code="reconciliation"\} 1$/m);
    } finally {
      await trading.stop('test over');
    }
  });
});
