import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, type ActorSystem } from '../../../src/actors/core/index.js';
import { executionBehavior } from '../../../src/actors/execution/execution.actor.js';
import { paperBrokerAdapter } from '../../../src/brokers/paper/paper-adapter.js';
import { newOrder, type DomainEvent } from '../../../src/model/index.js';
import type { StrategyOrderEvent } from '../../../src/strategies/api.js';
import { EventBus } from '../../../src/observability/event-bus.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { instrument, intent, tick } from '../../support/builders.js';
import { reportRecipients } from './recipients.js';

const t0 = Date.parse('2026-05-20T04:00:00Z');

/** What an order event is about, in one line: its kind, client order id and status. */
const line = (event: StrategyOrderEvent): string =>
  event.type === 'IntentRejected' ? `${event.type} ${event.intentId}` : `${event.type} ${event.order.clientOrderId} ${event.order.status}`;

describe('the execution actor with a batch of approved orders (PlaceOrders) and a turn of market data', () => {
  let system: ActorSystem;
  afterEach(async () => {
    await system.shutdown();
  });

  it('places each order in turn and reports the whole message to each of risk, the portfolio and the strategy as one message, in the order it happened', async () => {
    system = createActorSystem({ logger: silentLogger() });
    const { directory, risk, portfolio, strategy } = reportRecipients(system);
    const instruments = new Map([instrument('INFY', 150_000, 1), instrument('TCS', 350_000, 2)].map((i) => [i.symbol, i]));
    const bus = new EventBus();
    const submitted: string[] = [];
    bus.on('OrderSubmitted', (event: Extract<DomainEvent, { type: 'OrderSubmitted' }>) => submitted.push(event.order.clientOrderId));
    const execution = system.spawn(
      'execution',
      executionBehavior({
        broker: paperBrokerAdapter({ config: {}, instruments }),
        directory,
        bus,
        metrics: new Metrics({ defaultMetrics: false }),
        clock: { nowMs: () => t0 },
        instruments,
        log: silentLogger(),
      }),
    );
    system.tell(execution, { type: 'MarketData', batches: [[tick({ symbol: 'INFY', ltpPaise: 150_000 })], [tick({ symbol: 'TCS', ltpPaise: 350_000 })]] });
    const order = (id: string, fields: Parameters<typeof intent>[0]) => newOrder(intent({ intentId: `s1:${id}`, ...fields }), id, t0);
    system.tell(execution, {
      type: 'PlaceOrders',
      orders: [
        { order: order('A', { symbol: 'INFY', quantity: 10 }) },
        { order: order('B', { symbol: 'TCS', side: 'SELL', quantity: 4 }) },
        { order: order('C', { symbol: 'NOPE', quantity: 1 }) }, // no such instrument: rejected
        { order: order('D', { symbol: 'INFY', quantity: 2 }) },
      ],
    });
    const placed = await strategy.expectMessage();
    if (placed.type !== 'OrderEvents') throw new Error(`expected one OrderEvents, got ${placed.type}`);
    expect(placed.events.map(line)).toEqual(['OrderUpdated A OPEN', 'OrderUpdated B OPEN', 'OrderUpdated C REJECTED', 'OrderUpdated D OPEN']);
    expect(submitted).toEqual(['A', 'B', 'C', 'D']);
    // only the rejected order released anything: one outcome, in its single-message form
    expect(await risk.expectMessage()).toEqual({ type: 'OrderClosed', portfolioId: 'p1', symbol: 'NOPE', signedRemainder: 1 });

    // the next turn's ticks of both symbols fill all three: one message to each
    system.tell(execution, {
      type: 'MarketData',
      batches: [[tick({ symbol: 'INFY', ltpPaise: 150_100, volume: 2_000 })], [tick({ symbol: 'TCS', ltpPaise: 349_900, volume: 2_000 })]],
    });
    const filled = await strategy.expectMessage();
    if (filled.type !== 'OrderEvents') throw new Error(`expected one OrderEvents, got ${filled.type}`);
    expect(filled.events.map(line)).toEqual(['OrderFilled A COMPLETE', 'OrderFilled D COMPLETE', 'OrderFilled B COMPLETE']);
    const fills = await portfolio.expectMessage();
    if (fills.type !== 'ApplyFills') throw new Error(`expected one ApplyFills, got ${fills.type}`);
    expect(fills.fills.map((f) => [f.clientOrderId, f.symbol, f.side, f.quantity])).toEqual([
      ['A', 'INFY', 'BUY', 10],
      ['D', 'INFY', 'BUY', 2],
      ['B', 'TCS', 'SELL', 4],
    ]);
    const outcomes = await risk.expectMessage();
    if (outcomes.type !== 'Outcomes') throw new Error(`expected one Outcomes, got ${outcomes.type}`);
    // a fill moves what risk holds as working: a completing fill closes nothing more
    expect(
      outcomes.outcomes.map((o) => (o.type === 'FillApplied' ? `fill ${o.symbol} ${o.signedQuantity}` : `${o.type} ${o.symbol} ${o.signedRemainder}`)),
    ).toEqual(['fill INFY 10', 'fill INFY 2', 'fill TCS -4']);
    await Promise.all([risk.expectNoMessage(), portfolio.expectNoMessage(), strategy.expectNoMessage()]);
  });
});
