import { afterEach, describe, expect, it } from 'vitest';
import type { Json, Snapshot } from '../../src/actors/core/index.js';
import {
  applyFillToPortfolio,
  clientOrderIdFor,
  istTimeMs,
  newOrder,
  nseEquity,
  newPortfolio,
  type Fill,
  type Instrument,
  type Order,
  type OrderIntent,
  type PortfolioState,
} from '../../src/model/index.js';
import { PgliteDatabase } from '../../src/persistence/database.js';
import { OrderJournal } from '../../src/persistence/journal-orders.js';
import { EXECUTION_STREAM } from '../../src/brokers/paper/paper-adapter.js';
import { toJournalEntry, type Journal } from '../../src/actors/journal.js';
import { migrate } from '../../src/persistence/migrate.js';
import { PaperBroker, type PaperBrokerSnapshot } from '../../src/brokers/paper/index.js';
import { decodePortfolioSnapshot } from '../../src/actors/portfolio/portfolio.snapshot.js';
import { decodeRiskSnapshot } from '../../src/actors/risk/risk.snapshot.js';
import { decodeStrategyHostSnapshot } from '../../src/actors/strategy/strategy.snapshot.js';
import { advanceCheckpoint, recoverFromJournal, SqlCheckpointStore, type RecoveryTarget } from '../../src/persistence/recovery.js';

let db: PgliteDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const instrument = { symbol: 'INFY', token: 1, tickSizePaise: 5, lotSize: 1 } as unknown as Instrument;

function order(sequence: number, patch: Partial<Order> = {}): Order {
  const intent: OrderIntent = {
    type: 'order-intent',
    intentId: `s1:${sequence}`,
    strategyId: 's1',
    portfolioId: 'paper',
    symbol: 'INFY',
    side: 'BUY',
    quantity: 10,
    orderType: 'MARKET',
    product: 'MIS',
    validity: 'DAY',
    createdAtMs: 1_000,
  };
  return { ...newOrder(intent, clientOrderIdFor('s1', sequence), 1_000), ...patch };
}

function fill(of: Order, id: number, quantity: number, pricePaise: number): Fill {
  return {
    type: 'fill',
    fillId: `F${String(id).padStart(9, '0')}`,
    clientOrderId: of.clientOrderId,
    brokerOrderId: of.brokerOrderId ?? '',
    portfolioId: 'paper',
    strategyId: 's1',
    symbol: 'INFY',
    side: of.side,
    product: 'MIS',
    quantity,
    pricePaise,
    chargesPaise: 3,
    atMs: 2_000,
  };
}

function target(snapshots: Map<string, Snapshot>): RecoveryTarget {
  return {
    instruments: new Map([['INFY', instrument]]),
    statefulActorPaths: () => ['/portfolios/paper', '/execution/paper', '/risk', '/strategies/s1', '/market/INFY'],
    restoredSnapshot: (path) => snapshots.get(path),
    setRestoredSnapshot: (snapshot) => snapshots.set(snapshot.key, snapshot),
  };
}

describe('recovery from the journal', () => {
  it('replays fills after the portfolio snapshot, moves intent numbering past the journal, and closes an order the broker never acknowledged', async () => {
    db = await PgliteDatabase.open('memory://');
    await migrate(db);
    const journal = new OrderJournal(db);
    const a = order(0);
    const aOpen = { ...a, brokerOrderId: 'P000000001', status: 'OPEN' as const };
    const aDone = { ...aOpen, status: 'COMPLETE' as const, filledQuantity: 10, filledValuePaise: 10 * 100_000 };
    const b = order(1);
    const bOpen = { ...b, brokerOrderId: 'P000000002', status: 'OPEN' as const };
    const c = order(2); // journaled, never acknowledged: the process died
    await journal.append(
      [
        { type: 'OrderPlaced', order: a } as const,
        { type: 'OrderUpdated', order: aOpen } as const,
        { type: 'Fill', fill: fill(aOpen, 1, 10, 100_000), order: aDone } as const,
        { type: 'OrderPlaced', order: b } as const,
        { type: 'OrderUpdated', order: bOpen } as const,
        { type: 'OrderPlaced', order: c } as const,
      ].map((entry) => toJournalEntry(EXECUTION_STREAM, entry)),
    );
    // the snapshots are older than the journal: the portfolio saw no fill, the strategy numbered nothing
    const snapshots = new Map<string, Snapshot>([
      [
        '/portfolios/paper',
        {
          key: '/portfolios/paper',
          version: 1,
          sequence: 5,
          atMs: 0,
          state: { portfolioId: 'paper', initialCashPaise: 1_000_000, cashPaise: 1_000_000, positions: {}, fillCount: 0 },
        },
      ],
      [
        '/strategies/s1',
        {
          key: '/strategies/s1',
          version: 1,
          sequence: 5,
          atMs: 0,
          state: { hostVersion: 1, strategy: null, sequence: 0, positions: {}, working: {}, workingBySymbol: {}, paused: false, stats: {} },
        },
      ],
    ]);
    const report = await recoverFromJournal({
      journal,
      target: target(snapshots),
      portfolios: [{ portfolioId: 'paper', initialCashPaise: 1_000_000 }],
      nowMs: () => 5_000,
    });

    expect(report).toMatchObject({ orders: 3, fills: 1, openOrders: 1, replayedFills: { paper: 1 }, placedMoreThanOnce: [] });
    expect(report.alerts).toHaveLength(1);
    expect(report.alerts[0]).toMatchObject({ type: 'RiskAlert', code: 'reconciliation' });
    const portfolio = decodePortfolioSnapshot(snapshots.get('/portfolios/paper')!.state);
    expect(portfolio.fillCount).toBe(1);
    expect(portfolio.positions['INFY:MIS']?.netQuantity).toBe(10);
    expect(portfolio.cashPaise).toBe(1_000_000 - 10 * 100_000 - 3);
    const strategy = decodeStrategyHostSnapshot(snapshots.get('/strategies/s1')!.state);
    expect(strategy.sequence).toBe(3);
    expect(strategy.positions).toEqual({ INFY: 10 });
    expect(Object.keys(strategy.working)).toEqual(['s1:1']);
    const execution = snapshots.get('/execution/paper')!.state as unknown as {
      broker: { orders: { order: Order }[]; fillSequence: number; orderSequence: number };
      orders: Order[];
    };
    expect(execution.broker.orders.map((resting) => resting.order.clientOrderId)).toEqual([b.clientOrderId]);
    expect(execution.broker.fillSequence).toBe(1);
    expect(execution.broker.orderSequence).toBe(2);
    expect(execution.orders.find((o) => o.clientOrderId === c.clientOrderId)?.status).toBe('REJECTED');
    const { manager } = decodeRiskSnapshot(snapshots.get('/risk')!.state);
    const risk = { manager: manager! };
    const infy = risk.manager.portfolios.paper?.symbols.INFY;
    expect(infy?.net).toBe(10);
    expect((infy?.workingBuy ?? 0) - (infy?.workingSell ?? 0)).toBe(10);
    // the correction is journaled and projected; a second recovery finds nothing more to do
    const rows = await db.query<{ client_order_id: string; status: string }>('SELECT client_order_id, status FROM orders ORDER BY client_order_id');
    expect(rows.map((row) => row.status)).toEqual(['COMPLETE', 'OPEN', 'REJECTED']);
    expect(await db.query('SELECT fill_id FROM trades')).toHaveLength(1);
    const again = await recoverFromJournal({
      journal,
      target: target(snapshots),
      portfolios: [{ portfolioId: 'paper', initialCashPaise: 1_000_000 }],
      nowMs: () => 6_000,
    });
    expect(again.alerts).toHaveLength(0);
    expect(again.replayedFills).toEqual({ paper: 0 });
  });

  it("rebuilds the paper broker's CNC holdings from the recovered portfolios, so a CNC sell of shares bought before a crash is taken", async () => {
    db = await PgliteDatabase.open('memory://');
    await migrate(db);
    const journal = new OrderJournal(db);
    const a = order(0, { product: 'CNC' });
    const aOpen = { ...a, brokerOrderId: 'P000000001', status: 'OPEN' as const };
    const aDone = { ...aOpen, status: 'COMPLETE' as const, filledQuantity: 10, filledValuePaise: 10 * 100_000 };
    await journal.append(
      [
        { type: 'OrderPlaced', order: a } as const,
        { type: 'OrderUpdated', order: aOpen } as const,
        { type: 'Fill', fill: { ...fill(aOpen, 1, 10, 100_000), product: 'CNC' as const }, order: aDone } as const,
      ].map((entry) => toJournalEntry(EXECUTION_STREAM, entry)),
    );
    // no execution snapshot at all (the broker's holdings died with the process)
    const snapshots = new Map<string, Snapshot>([
      [
        '/portfolios/paper',
        {
          key: '/portfolios/paper',
          version: 1,
          sequence: 5,
          atMs: 0,
          state: { portfolioId: 'paper', initialCashPaise: 1_000_000, cashPaise: 1_000_000, positions: {}, fillCount: 0 },
        },
      ],
    ]);
    await recoverFromJournal({ journal, target: target(snapshots), portfolios: [{ portfolioId: 'paper', initialCashPaise: 1_000_000 }], nowMs: () => 5_000 });
    const execution = snapshots.get('/execution/paper')!.state as unknown as { broker: PaperBrokerSnapshot };
    expect(execution.broker.holdings).toEqual([{ portfolioId: 'paper', symbol: 'INFY', quantity: 10 }]);
    const broker = PaperBroker.restore(execution.broker);
    const sell = (sequence: number, quantity: number) => {
      const [event] = broker.submit(order(sequence, { side: 'SELL', product: 'CNC', quantity }), nseEquity('INFY', 1, 1_000_00), 6_000);
      return event?.kind === 'order-updated' ? event.order.status : 'none';
    };
    expect(sell(1, 11)).toBe('REJECTED');
    expect(sell(2, 10)).toBe('OPEN');
  });

  it("rebuilds the paper broker's open-MIS list from the journal: fills after the snapshot are squared off at 15:20 too, every MIS position is closed", async () => {
    db = await PgliteDatabase.open('memory://');
    await migrate(db);
    const journal = new OrderJournal(db);
    const infy = nseEquity('INFY', 1, 1_000_00);
    const at = istTimeMs('2026-05-20', 10, 0);
    const placed = (sequence: number, strategyId: string, quantity: number, side: 'BUY' | 'SELL' = 'BUY'): { open: Order; done: Order } => {
      const base = order(sequence, {
        strategyId,
        intentId: `${strategyId}:${sequence}`,
        clientOrderId: clientOrderIdFor(strategyId, sequence),
        side,
        quantity,
        createdAtMs: at,
        updatedAtMs: at,
      });
      const open = { ...base, brokerOrderId: `P${String(sequence + 1).padStart(9, '0')}`, status: 'OPEN' as const };
      return { open, done: { ...open, status: 'COMPLETE' as const, filledQuantity: quantity, filledValuePaise: quantity * 1_000_00 } };
    };
    const misFill = (o: Order, id: number): Fill => ({ ...fill(o, id, o.quantity, 1_000_00), strategyId: o.strategyId, atMs: at + id * 1000 });
    const a = placed(0, 's1', 10); // before the execution snapshot
    const b = placed(1, 's1', 5); // after it
    const c = placed(2, 's2', 8); // after it, another strategy
    const d = placed(3, 's2', 3, 'SELL'); // after it: s2 reduces to 5
    const entries = [a, b, c, d].flatMap(({ open, done }, index) => [
      { type: 'OrderPlaced', order: { ...open, status: 'PUT ORDER REQ RECEIVED' as const, brokerOrderId: undefined } } as const,
      { type: 'OrderUpdated', order: open } as const,
      { type: 'Fill', fill: misFill(open, index + 1), order: done } as const,
    ]);
    await journal.append(entries.map((entry) => toJournalEntry(EXECUTION_STREAM, entry as never)));
    // the execution snapshot was taken after the first fill: its broker knows only s1's 10
    const before = {
      ...new PaperBroker().snapshot(),
      nowMs: at + 1000,
      orderSequence: 1,
      fillSequence: 1,
      misPositions: [{ portfolioId: 'paper', strategyId: 's1', symbol: 'INFY', net: 10, instrument: infy }],
    };
    const snapshots = new Map<string, Snapshot>([
      [
        '/execution/paper',
        {
          key: '/execution/paper',
          version: 1,
          sequence: 5,
          atMs: 0,
          state: { broker: before, orders: [a.done], finished: [a.done.clientOrderId] } as unknown as Json,
        },
      ],
    ]);
    const recoveryTarget: RecoveryTarget = { ...target(snapshots), instruments: new Map([['INFY', infy]]) };
    await recoverFromJournal({
      journal,
      target: recoveryTarget,
      portfolios: [{ portfolioId: 'paper', initialCashPaise: 100_000_000 }],
      nowMs: () => at + 10_000,
    });

    // restart, then 15:20 passes: the broker squares off every MIS position the journal explains
    const recovered = (snapshots.get('/execution/paper')!.state as unknown as { broker: PaperBrokerSnapshot }).broker;
    const broker = PaperBroker.restore(JSON.parse(JSON.stringify(recovered)) as PaperBrokerSnapshot);
    const events = broker.onTicks([
      { type: 'tick', symbol: 'INFY', token: 1, ltpPaise: 1_000_00, lastQuantity: 100, volume: 1_000_000, exchangeTimeMs: istTimeMs('2026-05-20', 15, 20) },
    ]);
    const closed = events.flatMap((e) => (e.kind === 'fill' ? [[e.fill.strategyId, e.fill.side, e.fill.quantity, e.order.reason]] : []));
    expect(closed).toEqual([
      ['s1', 'SELL', 15, 'auto-square-off'],
      ['s2', 'SELL', 5, 'auto-square-off'],
    ]);
    expect(broker.openMisPositions()).toEqual([]);
    // the portfolio, recovered from the same journal, ends flat in MIS once it takes the square-off fills
    let portfolio: PortfolioState = decodePortfolioSnapshot(snapshots.get('/portfolios/paper')!.state);
    for (const event of events) if (event.kind === 'fill') portfolio = applyFillToPortfolio(portfolio, event.fill);
    expect(portfolio.positions['INFY:MIS']?.netQuantity).toBe(0);
  });

  it('journal watermark: recovery reads only the entries after the checkpoint and ends in the same state as a full read', async () => {
    db = await PgliteDatabase.open('memory://');
    await migrate(db);
    const journal = new OrderJournal(db);
    const checkpoints = new SqlCheckpointStore(db);
    let fillId = 0;
    let portfolio = newPortfolio('paper', 100_000_000);
    let prefixFills = 0;
    const entries = (list: Parameters<typeof toJournalEntry>[1][]) => list.map((entry) => toJournalEntry(EXECUTION_STREAM, entry));
    const placeOpen = (sequence: number, side: 'BUY' | 'SELL' = 'BUY'): { open: Order; list: Parameters<typeof toJournalEntry>[1][] } => {
      const placed = order(sequence, { side });
      const open = { ...placed, brokerOrderId: `P${String(sequence + 1).padStart(9, '0')}`, status: 'OPEN' as const };
      return {
        open,
        list: [
          { type: 'OrderPlaced', order: placed },
          { type: 'OrderUpdated', order: open },
        ],
      };
    };
    const fillOf = (open: Order, quantity: number, trackPrefix: boolean): Parameters<typeof toJournalEntry>[1] => {
      fillId += 1;
      const filled = open.filledQuantity + quantity;
      const after: Order = { ...open, filledQuantity: filled, filledValuePaise: filled * 100_000, status: filled === open.quantity ? 'COMPLETE' : 'OPEN' };
      const f = fill(open, fillId, quantity, 100_000 + fillId);
      if (trackPrefix) {
        portfolio = applyFillToPortfolio(portfolio, f);
        prefixFills += 1;
      }
      return { type: 'Fill', fill: f, order: after };
    };
    // before the mark: 60 finished orders, 5 open, 1 half filled
    for (let sequence = 0; sequence < 60; sequence += 1) {
      const { open, list } = placeOpen(sequence, sequence % 3 === 0 ? 'SELL' : 'BUY');
      await journal.append(entries([...list, fillOf(open, 10, true)]));
    }
    const stillOpen: Order[] = [];
    for (let sequence = 60; sequence < 65; sequence += 1) {
      const { open, list } = placeOpen(sequence);
      stillOpen.push(open);
      await journal.append(entries(list));
    }
    const half = placeOpen(65, 'SELL');
    const halfFill = fillOf(half.open, 5, true) as { order: Order };
    await journal.append(entries([...half.list, halfFill as Parameters<typeof toJournalEntry>[1]]));
    const mark = await advanceCheckpoint({ journal, checkpoints, snapshotFillCount: () => Promise.resolve(prefixFills) });
    expect(mark).toMatchObject({ entries: 60 * 3 + 5 * 2 + 3, fillCounts: { paper: 61 } });
    expect(mark!.open).toHaveLength(6);
    // after the mark: the open ones fill, the half one completes, four more round trips
    const tail = entries([
      ...stillOpen.slice(0, 3).map((open) => fillOf(open, 10, false)),
      fillOf(halfFill.order, 5, false),
      ...[66, 67, 68, 69].flatMap((sequence) => {
        const { open, list } = placeOpen(sequence, sequence % 2 === 0 ? 'SELL' : 'BUY');
        return [...list, fillOf(open, 10, false)];
      }),
    ]);
    await journal.append(tail);

    const snapshotsAt = (): Map<string, Snapshot> =>
      new Map<string, Snapshot>([
        ['/portfolios/paper', { key: '/portfolios/paper', version: 1, sequence: 5, atMs: 0, state: structuredClone(portfolio) as never }],
        [
          '/strategies/s1',
          {
            key: '/strategies/s1',
            version: 1,
            sequence: 5,
            atMs: 0,
            state: { hostVersion: 1, strategy: null, sequence: 0, positions: {}, working: {}, workingBySymbol: {}, paused: false, stats: {} },
          },
        ],
      ]);
    let read = 0;
    const counting: Journal = {
      append: (list) => journal.append(list),
      readAfter: async (sequence, options) => {
        const records = await journal.readAfter(sequence, options);
        read += records.length;
        return records;
      },
    };
    const withMark = snapshotsAt();
    const options = { portfolios: [{ portfolioId: 'paper', initialCashPaise: 100_000_000 }], nowMs: () => 9_000 };
    const fast = await recoverFromJournal({ ...options, journal: counting, target: target(withMark), checkpoints });
    expect(read).toBe(tail.length); // only the tail
    expect(fast).toMatchObject({
      journalEntriesRead: tail.length,
      fromSequence: mark!.sequence,
      journalEntries: mark!.entries + tail.length,
      replayedFills: { paper: 8 },
      fills: 69,
      placedMoreThanOnce: [],
    });
    expect(fast.alerts).toEqual([]);

    read = 0;
    const full = snapshotsAt();
    const slow = await recoverFromJournal({ ...options, journal: counting, target: target(full) });
    expect(read).toBe(mark!.entries + tail.length);
    expect(slow).toMatchObject({ journalEntriesRead: mark!.entries + tail.length, fromSequence: 0, replayedFills: { paper: 8 }, fills: 69 });
    for (const path of ['/portfolios/paper', '/execution/paper', '/risk', '/strategies/s1'])
      expect(withMark.get(path)?.state, path).toEqual(full.get(path)?.state);
    const strategy = decodeStrategyHostSnapshot(withMark.get('/strategies/s1')!.state);
    expect(strategy.sequence).toBe(70);
    expect(Object.keys(strategy.working).sort()).toEqual(['s1:63', 's1:64']);

    // a portfolio snapshot older than the mark: the whole journal is read (correct, just slower)
    read = 0;
    const stale = snapshotsAt();
    stale.set('/portfolios/paper', { key: '/portfolios/paper', version: 1, sequence: 1, atMs: 0, state: newPortfolio('paper', 100_000_000) as never });
    const fallback = await recoverFromJournal({ ...options, journal: counting, target: target(stale), checkpoints });
    expect(fallback).toMatchObject({ fromSequence: 0, replayedFills: { paper: 69 } });
    expect(stale.get('/portfolios/paper')?.state).toEqual(full.get('/portfolios/paper')?.state);
  });
});
