import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, type ActorSystem } from '../../../src/actors/core/index.js';
import type { BrokerEvent } from '../../../src/actors/execution/broker-port.js';
import { reportBrokerEvents } from '../../../src/actors/execution/execution.actor.js';
import { AUTO_SQUARE_OFF_REASON, NO_CHARGES, newOrder, type Fill, type Order } from '../../../src/model/index.js';
import { EventBus } from '../../../src/observability/event-bus.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { fill, intent } from '../../support/builders.js';
import { reportRecipients } from './recipients.js';

const t0 = Date.parse('2026-05-20T04:00:00Z');
/** A fill event (what reporting passes on does not include the charge breakdown, which the journal keeps). */
const filled = (fill: Fill, order: Order): BrokerEvent => ({ kind: 'fill', fill, order, charges: NO_CHARGES });
const order = (clientOrderId: string, fields: Partial<Order>): Order => ({ ...newOrder(intent({ quantity: 10 }), clientOrderId, t0), ...fields });

describe("the execution actor's report of one batch of broker events", () => {
  let system: ActorSystem;
  afterEach(async () => {
    await system.shutdown();
  });

  function rig() {
    system = createActorSystem({ logger: silentLogger() });
    const { directory, risk, portfolio, strategy } = reportRecipients(system);
    const metrics = new Metrics({ defaultMetrics: false });
    const deps = { directory, bus: new EventBus(), metrics, log: silentLogger() };
    const counted = async (): Promise<string> =>
      (await metrics.registry.metrics())
        .split('\n')
        .filter((line) => line.startsWith('troupe_orders_total{') || line.startsWith('troupe_fills_total '))
        .sort()
        .join('\n');
    return { risk, portfolio, strategy, metrics, counted, report: (events: BrokerEvent[]) => reportBrokerEvents(events, deps, system) };
  }

  it('reaches risk, the portfolio and the strategy as one message each, in the order of the events, and counts every status and fill', async () => {
    const { risk, portfolio, strategy, counted, report } = rig();
    const a = order('A', { status: 'OPEN', filledQuantity: 6 });
    const aDone = order('A', { status: 'COMPLETE', filledQuantity: 10 });
    const b = order('B', { status: 'CANCELLED', side: 'SELL', quantity: 5, cancelledQuantity: 5 });
    const squareOff = order('C', { status: 'COMPLETE', side: 'SELL', quantity: 3, filledQuantity: 3, reason: AUTO_SQUARE_OFF_REASON });
    const f1 = fill({ fillId: 'F1', clientOrderId: 'A', quantity: 6, pricePaise: 150_000, chargesPaise: 30 });
    const f2 = fill({ fillId: 'F2', clientOrderId: 'A', quantity: 4, pricePaise: 150_100, chargesPaise: 20 });
    const f3 = fill({ fillId: 'F3', clientOrderId: 'C', side: 'SELL', quantity: 3, pricePaise: 149_900, chargesPaise: 15 });
    report([filled(f1, a), filled(f2, aDone), { kind: 'order-updated', order: aDone }, { kind: 'order-updated', order: b }, filled(f3, squareOff)]);

    expect(await risk.expectMessage()).toEqual({
      type: 'Outcomes',
      outcomes: [
        { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: 6, pricePaise: 150_000, chargesPaise: 30 },
        { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: 4, pricePaise: 150_100, chargesPaise: 20 },
        { type: 'OrderClosed', portfolioId: 'p1', symbol: 'INFY', signedRemainder: 0 },
        { type: 'OrderClosed', portfolioId: 'p1', symbol: 'INFY', signedRemainder: -5 },
        { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: -3, pricePaise: 149_900, chargesPaise: 15, unreserved: true },
      ],
    });
    expect(await portfolio.expectMessage()).toEqual({ type: 'ApplyFills', fills: [f1, f2, f3] });
    expect(await strategy.expectMessage()).toEqual({
      type: 'OrderEvents',
      events: [
        { type: 'OrderFilled', order: a, fill: f1 },
        { type: 'OrderFilled', order: aDone, fill: f2 },
        { type: 'OrderUpdated', order: aDone },
        { type: 'OrderUpdated', order: b },
        { type: 'OrderFilled', order: squareOff, fill: f3 },
      ],
    });
    // a status change per update, a COMPLETE per completing fill, every fill
    expect(await counted()).toBe(['troupe_fills_total 3', 'troupe_orders_total{status="CANCELLED"} 1', 'troupe_orders_total{status="COMPLETE"} 3'].join('\n'));
    await Promise.all([risk.expectNoMessage(), portfolio.expectNoMessage(), strategy.expectNoMessage()]);
  });

  it('a single event keeps its single-message form', async () => {
    const { risk, portfolio, strategy, counted, report } = rig();
    const done = order('A', { status: 'COMPLETE', filledQuantity: 10 });
    const only = fill({ fillId: 'F1', clientOrderId: 'A' });
    report([filled(only, done)]);
    expect(await risk.expectMessage()).toEqual({
      type: 'FillApplied',
      portfolioId: 'p1',
      symbol: 'INFY',
      signedQuantity: 10,
      pricePaise: 150_000,
      chargesPaise: 0,
    });
    expect(await portfolio.expectMessage()).toEqual({ type: 'ApplyFill', fill: only });
    expect(await strategy.expectMessage()).toEqual({ type: 'OrderEvent', event: { type: 'OrderFilled', order: done, fill: only } });
    expect(await counted()).toBe(['troupe_fills_total 1', 'troupe_orders_total{status="COMPLETE"} 1'].join('\n'));
  });
});
