/**
 * The paper broker behind the broker port: the execution actor's venue in paper trading and
 * backtests. The {@link PaperBroker} is synchronous, so every call answers at once: a durable
 * order is submitted (accepted or rejected), market data matches resting orders (fills, the MIS
 * square-off at the cut-off), cancels and modifications apply in place. It has no I/O of its own
 * (`V` is `never`) and ignores postbacks, polls and sessions.
 */
import { Type } from 'typebox';
import type { Instrument, Order } from '../../model/index.js';
import type { BrokerPort } from '../../actors/execution/broker-port.js';
import {
  ChargeLedgerSnapshotSchema,
  decodeSnapshot,
  InstrumentSnapshotSchema,
  MisNetSchema,
  OrderSnapshotSchema,
} from '../../actors/execution/snapshot-schemas.js';
import { PaperBroker } from './paper-broker.js';
import type { PaperBrokerConfig } from './paper-broker.types.js';

/** The stream of the paper execution actor. */
export const EXECUTION_STREAM = 'execution/paper';

const Int = Type.Integer();

/** The paper broker's snapshot (`PaperBrokerSnapshot`), as a schema. */
export const PaperBrokerSnapshotSchema = Type.Object({
  version: Type.Literal(1),
  nowMs: Type.Number(),
  orderSequence: Int,
  fillSequence: Int,
  orders: Type.Array(Type.Object({ order: OrderSnapshotSchema, instrument: InstrumentSnapshotSchema, brokeragePaise: Int, evaluated: Type.Boolean() })),
  markets: Type.Array(Type.Object({ symbol: Type.String(), lastVolume: Type.Number(), lastPricePaise: Int, nextSquareOffMs: Type.Optional(Type.Number()) })),
  ledgers: Type.Array(Type.Object({ portfolioId: Type.String(), day: Type.String(), ledger: ChargeLedgerSnapshotSchema })),
  holdings: Type.Optional(Type.Array(Type.Object({ portfolioId: Type.String(), symbol: Type.String(), quantity: Int }))),
  misPositions: Type.Optional(Type.Array(Type.Intersect([MisNetSchema, Type.Object({ instrument: InstrumentSnapshotSchema })]))),
  squareOffSequence: Type.Optional(Int),
});

/** The paper adapter's part of the execution snapshot. */
const PaperVenueSchema = Type.Object({ broker: PaperBrokerSnapshotSchema });

/** The paper adapter's options. */
export interface PaperAdapterOptions {
  readonly config: Partial<PaperBrokerConfig>;
  readonly instruments: ReadonlyMap<string, Instrument>;
}

const rejectedUnknown = (order: Order): Order => ({
  ...order,
  status: 'REJECTED',
  statusMessage: `Unknown instrument ${order.symbol}.`,
  cancelledQuantity: order.quantity,
});

/** The paper broker as a {@link BrokerPort} adapter. */
export function paperBrokerAdapter(options: PaperAdapterOptions): BrokerPort<PaperBroker, never> {
  const { config, instruments } = options;
  return {
    venue: 'paper',
    stream: EXECUTION_STREAM,
    snapshotEveryMessages: 500,
    wantsMarketData: true,
    initial: () => new PaperBroker(config),
    // JSON-safe by construction (`PaperBrokerSnapshot`); typed as JSON without a copy on the hot path
    encode: (broker) => ({ broker: broker.snapshot() as never }),
    decode: (json) => PaperBroker.restore(decodeSnapshot(PaperVenueSchema, json, 'paper broker').broker, config),
    started: () => undefined,
    place(broker, order, io) {
      const instrument = instruments.get(order.symbol);
      if (!instrument) return io.emit([{ kind: 'order-updated', order: rejectedUnknown(order) }]);
      io.emit(broker.submit(order, instrument, io.nowMs()));
    },
    cancel: (broker, clientOrderId, _order, io) => io.emit(broker.cancel(clientOrderId, io.nowMs())),
    modifyProblem: () => undefined,
    modify(broker, order, change, io) {
      const result = broker.modify(order.clientOrderId, change, io.nowMs());
      if (result.refused !== undefined) return io.modifyRefused(order.clientOrderId, result.refused, order);
      io.modified(order, change.quantity ?? order.quantity, result.events);
    },
    marketData: (broker, ticks, io) => io.emit(broker.onTicks(ticks)),
    postback: () => undefined,
    poll: () => undefined,
    sessionRenewed: () => undefined,
    receive: () => undefined,
    forget: () => undefined,
  };
}
