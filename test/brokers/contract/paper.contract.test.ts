/** The broker contract against the paper broker (the adapter in `src/brokers/paper/paper-adapter.ts`). */
import { paperBrokerAdapter } from '../../../src/brokers/paper/paper-adapter.js';
import type { PaperBroker } from '../../../src/brokers/paper/paper-broker.js';
import type { BrokerPort } from '../../../src/actors/execution/broker-port.js';
import { INFY, SESSION_MS, tick } from '../paper/fixtures.js';
import { describeBrokerContract } from './broker-contract.js';

describeBrokerContract('paper', () => {
  let nowMs = SESSION_MS;
  let lastPricePaise = 1_000_00;
  const placed = new Map<string, number>();
  const adapter = (): BrokerPort<PaperBroker, never> => {
    const paper = paperBrokerAdapter({ config: {}, instruments: new Map([[INFY.symbol, INFY]]) });
    // the venue counts what it was asked to place, by client order id
    return {
      ...paper,
      place: (broker, order, io) => (placed.set(order.clientOrderId, (placed.get(order.clientOrderId) ?? 0) + 1), paper.place(broker, order, io)),
    };
  };
  return Promise.resolve({
    instrument: INFY,
    clock: { nowMs: () => nowMs },
    partialQuantity: 40_000,
    lastPricePaise: () => lastPricePaise,
    adapter,
    step(send) {
      // the market trades 1,000 shares a tick, around ₹1,000
      nowMs += 1_000;
      lastPricePaise = 1_000_00 + ((nowMs / 1_000) % 3) * 5;
      send({ type: 'MarketData', batches: [[tick(lastPricePaise, { exchangeTimeMs: nowMs, lastQuantity: 1_000 })]] });
    },
    ordersAtVenue: (clientOrderId) => Promise.resolve(placed.get(clientOrderId) ?? 0),
  });
});
