/**
 * The broker contract: one suite every adapter of the broker port passes, run through the real
 * execution actor (journal mode, an in-memory journal) so that what is checked is what the rest
 * of Troupe sees: events on the bus, the journal, the strategy's messages, `GetOrders`.
 * A venue file gives the adapter and how to make its market trade (`step`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActorSystem, createProbe, InMemorySnapshotStore, type ActorRef, type ActorSystem, type TestProbe } from '../../../src/actors/core/index.js';
import { executionBehavior } from '../../../src/actors/execution/execution.actor.js';
import type { ExecutionInput } from '../../../src/actors/execution/execution.protocol.js';
import type { StrategyCommand } from '../../../src/actors/strategy/strategy.protocol.js';
import type { BrokerPort } from '../../../src/actors/execution/broker-port.js';
import { fromJournalRecord } from '../../../src/actors/journal.js';
import type { Instrument, Order, OrderFilled, OrderUpdated } from '../../../src/model/index.js';
import { Directory } from '../../../src/actors/directory.js';
import { EventBus } from '../../../src/observability/event-bus.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { MemoryJournal } from '../../support/memory-journal.js';

/** One venue under contract. */
export interface ContractVenue<S, V> {
  readonly instrument: Instrument;
  /** A price the market trades at now (paise). */
  lastPricePaise(): number;
  /** A fresh adapter over the same venue (a restart makes a new one). */
  adapter(): BrokerPort<S, V>;
  /** The market trades once; `send` reaches the execution actor (paper: market data; Kite: the simulator steps and the actor polls). */
  step(send: (message: ExecutionInput) => void): void;
  /** How many orders the venue holds with this client order id (Kite: by tag). */
  ordersAtVenue(clientOrderId: string): Promise<number>;
  readonly clock: { nowMs(): number };
  /** A quantity larger than one step of the market trades (partial fills). */
  readonly partialQuantity: number;
}

/** Polls until `check` passes (no fixed sleeps), stepping the market between tries when asked. */
async function until(check: () => void | Promise<void>, step?: () => void, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      step?.();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

let sequence = 0;

/** Runs the broker contract against the venue `setUp` gives (one per test). */
export function describeBrokerContract<S, V>(
  name: string,
  setUp: () => Promise<ContractVenue<S, V>>,
  tearDown: () => Promise<void> = () => Promise.resolve(),
): void {
  describe(`broker contract: ${name}`, () => {
    let venue!: ContractVenue<S, V>;
    let system: ActorSystem;
    let journal: MemoryJournal;
    let bus: EventBus;
    let directory: Directory;
    let strategy: TestProbe<StrategyCommand>;
    let execution: ActorRef<ExecutionInput>;
    const updates: Order[] = [];
    const fills: OrderFilled[] = [];
    const fillsNotDurable: string[] = [];

    const spawn = (): ActorRef<ExecutionInput> => {
      const broker = venue.adapter();
      const deps = {
        broker,
        directory,
        bus,
        metrics: new Metrics({ defaultMetrics: false }),
        clock: venue.clock,
        instruments: new Map([[venue.instrument.symbol, venue.instrument]]),
        log: silentLogger(),
        journal,
      };
      const snapshot = system.lastSnapshot(`/execution-${broker.venue}`);
      return system.spawn(`execution-${broker.venue}`, executionBehavior(deps), snapshot ? { initialSnapshot: snapshot } : {});
    };

    beforeEach(async () => {
      venue = await setUp();
      system = createActorSystem({ name: 'contract', snapshotStore: new InMemorySnapshotStore(), logger: silentLogger() });
      journal = new MemoryJournal();
      bus = new EventBus((error) => {
        throw error;
      });
      directory = new Directory();
      strategy = createProbe<StrategyCommand>(system);
      directory.strategies.set('contract', strategy.ref);
      updates.length = 0;
      fills.length = 0;
      fillsNotDurable.length = 0;
      bus.on('OrderUpdated', (event: OrderUpdated) => updates.push(event.order));
      bus.on('OrderFilled', (event: OrderFilled) => {
        const durable = journal.records.map(fromJournalRecord).some((entry) => entry?.type === 'Fill' && entry.fill.fillId === event.fill.fillId);
        if (!durable) fillsNotDurable.push(event.fill.fillId);
        fills.push(event);
      });
      execution = spawn();
    });
    afterEach(async () => {
      await system.shutdown();
      await tearDown();
    });

    const order = (fields: Partial<Order> & Pick<Order, 'side' | 'quantity'>): Order => {
      sequence += 1;
      const atMs = venue.clock.nowMs();
      return {
        clientOrderId: `CONTRACT${String(Date.now() % 1e8)}${String(sequence).padStart(4, '0')}`.slice(0, 20),
        intentId: `contract:${sequence}`,
        strategyId: 'contract',
        portfolioId: 'contract',
        symbol: venue.instrument.symbol,
        orderType: 'MARKET',
        product: 'MIS',
        validity: 'DAY',
        status: 'PUT ORDER REQ RECEIVED',
        filledQuantity: 0,
        cancelledQuantity: 0,
        filledValuePaise: 0,
        createdAtMs: atMs,
        updatedAtMs: atMs,
        ...fields,
      };
    };
    const orders = async (): Promise<readonly Order[]> => system.ask(execution, (replyTo) => ({ type: 'GetOrders', replyTo }), 5000);
    const latest = async (clientOrderId: string): Promise<Order | undefined> => (await orders()).find((o) => o.clientOrderId === clientOrderId);
    const step = (): void => venue.step((message) => system.tell(execution, message));
    const tickOf = (): number => venue.instrument.tickSizePaise;
    const awayFromMarket = (side: 'BUY' | 'SELL'): number => {
      const price = venue.lastPricePaise();
      const away = Math.round((price * (side === 'BUY' ? 0.95 : 1.05)) / tickOf()) * tickOf();
      return away;
    };

    it('place → ack → fill: the order is acknowledged, fills completely, and every fill is durable before anyone hears of it', async () => {
      const placed = order({ side: 'BUY', quantity: 5 });
      system.tell(execution, { type: 'PlaceOrder', order: placed });
      const filledQuantity = (): number => fills.filter((f) => f.order.clientOrderId === placed.clientOrderId).reduce((sum, f) => sum + f.fill.quantity, 0);
      await until(async () => {
        expect((await latest(placed.clientOrderId))?.status).toBe('COMPLETE');
        expect(filledQuantity()).toBe(5); // reported once durable
      }, step);
      const statuses = updates.filter((o) => o.clientOrderId === placed.clientOrderId).map((o) => o.status);
      expect(statuses[0]).toBe('OPEN');
      const mine = fills.filter((f) => f.order.clientOrderId === placed.clientOrderId);
      expect(mine.reduce((sum, f) => sum + f.fill.quantity, 0)).toBe(5);
      expect(mine.every((f) => f.fill.chargesPaise > 0 && f.fill.pricePaise > 0)).toBe(true);
      expect(fillsNotDurable).toEqual([]);
      const types = journal.types(placed.clientOrderId);
      expect(types[0]).toBe('OrderPlaced');
      expect(types.filter((t) => t === 'Fill')).toHaveLength(mine.length);
      expect((await latest(placed.clientOrderId))?.brokerOrderId).toBeDefined();
    });

    it('cancel: a resting order is cancelled; a cancel of an unknown order changes nothing', async () => {
      const resting = order({ side: 'BUY', quantity: 3, orderType: 'LIMIT', limitPricePaise: awayFromMarket('BUY') });
      system.tell(execution, { type: 'PlaceOrder', order: resting });
      await until(async () => expect((await latest(resting.clientOrderId))?.status).toBe('OPEN'), step);
      system.tell(execution, { type: 'CancelOrder', clientOrderId: 'NOSUCHORDER', requestedBy: 'contract' });
      system.tell(execution, { type: 'CancelOrder', clientOrderId: resting.clientOrderId, requestedBy: 'contract' });
      await until(async () => expect((await latest(resting.clientOrderId))?.status).toBe('CANCELLED'), step);
      const cancelled = await latest(resting.clientOrderId);
      expect(cancelled).toMatchObject({ filledQuantity: 0, cancelledQuantity: 3 });
      expect(journal.types(resting.clientOrderId).at(-1)).toBe('OrderUpdated');
      expect(await orders()).toHaveLength(1);
    });

    it('reject with a reason: a limit price outside the price band is rejected, the strategy and the journal hear why', async () => {
      const outside = order({
        side: 'BUY',
        quantity: 1,
        orderType: 'LIMIT',
        limitPricePaise: Math.round((venue.lastPricePaise() * 1.6) / tickOf()) * tickOf(),
      });
      system.tell(execution, { type: 'PlaceOrder', order: outside });
      await until(async () => expect((await latest(outside.clientOrderId))?.status).toBe('REJECTED'), step);
      const rejected = await latest(outside.clientOrderId);
      expect(rejected?.statusMessage ?? '').not.toBe('');
      expect(rejected?.filledQuantity).toBe(0);
      const heard = await strategy.fishForMessage((m) => m.type === 'OrderEvent' && m.event.type === 'OrderUpdated' && m.event.order.status === 'REJECTED');
      expect(heard.type).toBe('OrderEvent');
      expect(journal.types(outside.clientOrderId)).toEqual(['OrderPlaced', 'OrderUpdated']);
    });

    it('idempotent by client order id: a re-submit is refused to the strategy, journaled once, sent to the venue once', async () => {
      const once = order({ side: 'BUY', quantity: 2, orderType: 'LIMIT', limitPricePaise: awayFromMarket('BUY') });
      system.tell(execution, { type: 'PlaceOrder', order: once });
      system.tell(execution, { type: 'PlaceOrder', order: once });
      await until(async () => expect((await latest(once.clientOrderId))?.status).toBe('OPEN'), step);
      system.tell(execution, { type: 'PlaceOrder', order: once });
      const refused = await strategy.fishForMessage((m) => m.type === 'OrderEvent' && m.event.type === 'IntentRejected');
      expect(refused).toMatchObject({ event: { intentId: once.intentId } });
      expect(journal.types(once.clientOrderId).filter((t) => t === 'OrderPlaced')).toHaveLength(1);
      expect(await venue.ordersAtVenue(once.clientOrderId)).toBe(1);
    });

    it('modify: a resting order takes a new limit price and a lower quantity', async () => {
      const resting = order({ side: 'BUY', quantity: 4, orderType: 'LIMIT', limitPricePaise: awayFromMarket('BUY') });
      system.tell(execution, { type: 'PlaceOrder', order: resting });
      await until(async () => expect((await latest(resting.clientOrderId))?.status).toBe('OPEN'), step);
      const lower = (resting.limitPricePaise ?? 0) - tickOf();
      system.tell(execution, {
        type: 'ModifyOrder',
        clientOrderId: resting.clientOrderId,
        change: { limitPricePaise: lower, quantity: 2 },
        requestedBy: 'contract',
      });
      await until(async () => expect(await latest(resting.clientOrderId)).toMatchObject({ limitPricePaise: lower, quantity: 2, status: 'OPEN' }), step);
      expect(journal.types(resting.clientOrderId).filter((t) => t === 'OrderUpdated').length).toBeGreaterThanOrEqual(2);
    });

    it('partial fills: an order larger than what trades fills in parts, each its own durable fill; the rest can be cancelled', async () => {
      const large = order({
        side: 'BUY',
        quantity: venue.partialQuantity,
        orderType: 'LIMIT',
        limitPricePaise: Math.round((venue.lastPricePaise() * 1.02) / tickOf()) * tickOf(),
      });
      system.tell(execution, { type: 'PlaceOrder', order: large });
      await until(async () => {
        const now = await latest(large.clientOrderId);
        expect(now?.filledQuantity ?? 0).toBeGreaterThan(0);
        expect(now?.status).toBe('OPEN');
      }, step);
      system.tell(execution, { type: 'CancelOrder', clientOrderId: large.clientOrderId, requestedBy: 'contract' });
      await until(() => expect(updates.some((o) => o.clientOrderId === large.clientOrderId && o.status === 'CANCELLED')).toBe(true), step);
      const done = await latest(large.clientOrderId);
      const mine = fills.filter((f) => f.order.clientOrderId === large.clientOrderId);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.reduce((sum, f) => sum + f.fill.quantity, 0)).toBe(done?.filledQuantity);
      expect((done?.filledQuantity ?? 0) + (done?.cancelledQuantity ?? 0)).toBe(venue.partialQuantity);
      expect(fillsNotDurable).toEqual([]);
    });

    it('restart: the actor comes back from its snapshot with its orders; a resting order is still known and can be cancelled', async () => {
      const resting = order({ side: 'SELL', quantity: 1, orderType: 'LIMIT', limitPricePaise: awayFromMarket('SELL') });
      const filled = order({ side: 'BUY', quantity: 1 });
      system.tell(execution, { type: 'PlaceOrder', order: resting });
      system.tell(execution, { type: 'PlaceOrder', order: filled });
      await until(async () => {
        expect((await latest(resting.clientOrderId))?.status).toBe('OPEN');
        expect((await latest(filled.clientOrderId))?.status).toBe('COMPLETE');
      }, step);
      const before = await orders();
      await system.stop(execution);
      execution = spawn();
      expect(await orders()).toEqual(before);
      system.tell(execution, { type: 'PlaceOrder', order: resting });
      await strategy.fishForMessage((m) => m.type === 'OrderEvent' && m.event.type === 'IntentRejected');
      system.tell(execution, { type: 'CancelOrder', clientOrderId: resting.clientOrderId, requestedBy: 'contract' });
      await until(async () => expect((await latest(resting.clientOrderId))?.status).toBe('CANCELLED'), step);
      expect(await venue.ordersAtVenue(resting.clientOrderId)).toBe(1);
    });
  });
}
