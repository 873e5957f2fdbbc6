/**
 * The paper broker's part of execution recovery: it lives in the process, so after a crash its
 * resting orders are rebuilt from the journal's open orders (a snapshot may hold broker progress
 * that never became durable: the journal wins), its order and fill numbering moves past every id
 * the journal holds (no fill id reused), its open MIS positions come from every journaled fill
 * and its CNC holdings from the recovered portfolios.
 */
import type { Instrument, MisNet, Order } from '../../model/index.js';
import type { BrokerJson, BrokerLog } from '../../actors/execution/broker-port.js';
import { decodeSnapshot } from '../../actors/execution/snapshot-schemas.js';
import { Type } from 'typebox';
import { PaperBroker } from './paper-broker.js';
import { PaperBrokerSnapshotSchema } from './paper-adapter.js';
import type { HoldingSnapshot, MisPositionSnapshot, PaperBrokerConfig, RestingOrderSnapshot } from './paper-broker.types.js';

/** What the journal (and the recovered portfolios) say that the paper broker needs. */
export interface PaperRecoveryFacts {
  readonly openOrders: readonly Order[];
  /** Open MIS positions from every journaled fill (undefined: none known). */
  readonly misPositions: ReadonlyMap<string, MisNet> | undefined;
  readonly maxOrderNumber: number;
  readonly maxFillNumber: number;
  /** CNC holdings of the recovered portfolios (theirs replace the snapshot's). */
  readonly holdings: readonly HoldingSnapshot[];
  readonly portfolioIds: readonly string[];
}

const PreviousSchema = Type.Object({ broker: PaperBrokerSnapshotSchema });

/** The paper adapter's recovered snapshot fields (`broker`). */
export function recoverPaperVenue(
  previous: unknown,
  journaled: ReadonlyMap<string, Order>,
  facts: PaperRecoveryFacts,
  options: { readonly config?: Partial<PaperBrokerConfig>; readonly instruments: ReadonlyMap<string, Instrument>; readonly log?: BrokerLog },
): { broker: BrokerJson } {
  const broker = previous === undefined ? new PaperBroker(options.config).snapshot() : decodeSnapshot(PreviousSchema, previous, 'paper execution').broker;
  const restingBefore = new Map(broker.orders.map((resting) => [resting.order.clientOrderId, resting]));
  const resting: RestingOrderSnapshot[] = broker.orders.filter((saved) => !journaled.has(saved.order.clientOrderId));
  for (const order of facts.openOrders) {
    const instrument = options.instruments.get(order.symbol);
    if (!instrument) continue;
    const before = restingBefore.get(order.clientOrderId);
    resting.push({ order, instrument, brokeragePaise: before?.brokeragePaise ?? 0, evaluated: before?.evaluated ?? false });
  }
  // the open MIS positions the square-off will close: from every journaled fill, like the portfolios
  // (the snapshot's list misses the fills after it, and may hold fills that never became durable)
  const misPositions: MisPositionSnapshot[] = [];
  for (const position of (facts.misPositions ?? new Map<string, MisNet>()).values()) {
    const instrument = options.instruments.get(position.symbol);
    if (instrument) misPositions.push({ ...position, instrument });
    else
      options.log?.warn(
        { symbol: position.symbol, strategyId: position.strategyId },
        'an open MIS position in an instrument no longer traded: not squared off by the paper broker',
      );
  }
  const holdings = [...(broker.holdings ?? []).filter((h) => !facts.portfolioIds.includes(h.portfolioId)), ...facts.holdings];
  const orderSequence = Math.max(broker.orderSequence, facts.maxOrderNumber);
  const fillSequence = Math.max(broker.fillSequence, facts.maxFillNumber);
  // JSON-safe data (`PaperBrokerSnapshot`)
  return { broker: { ...broker, misPositions, orderSequence, fillSequence, orders: resting, holdings } as never };
}
