import { performance } from 'node:perf_hooks';
import type { ActorContext, ActorSystem, Behavior } from '../core/index.js';
import { PaperBroker, type BrokerEvent, type PaperBrokerConfig, type PaperBrokerSnapshot } from '../../brokers/paper/index.js';
import { assertNever, isTerminal, type Instrument, type Order, type Tick } from '../../model/index.js';
import type { Directory } from '../../runtime/directory.js';
import type { EventBus } from '../../runtime/event-bus.js';
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { ExecutionCommand } from './execution.protocol.js';

export interface ExecutionActorDeps {
  readonly directory: Directory;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly clock: { nowMs(): number };
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly config: Partial<PaperBrokerConfig>;
  readonly log: Logger;
  /** Called with the tick-to-order latency in microseconds of every order that carries its trigger time. */
  readonly onOrderLatencyUs?: (latencyUs: number) => void;
}

/** The execution actor's state: the paper broker and the orders of the session. */
export interface ExecutionState {
  readonly broker: PaperBroker;
  /** Open orders and the most recent finished ones, by client order id (latest version). */
  readonly orders: Map<string, Order>;
  /** Finished orders, oldest first; beyond {@link KEEP_FINISHED_ORDERS} the oldest are forgotten here (the journal keeps them). */
  readonly finished: string[];
}

/** How many finished orders the actor keeps for queries and duplicate detection. */
export const KEEP_FINISHED_ORDERS = 5_000;

function remember(state: ExecutionState, order: Order): void {
  const known = state.orders.get(order.clientOrderId);
  state.orders.set(order.clientOrderId, order);
  if (isTerminal(order.status) && !(known && isTerminal(known.status))) {
    state.finished.push(order.clientOrderId);
    if (state.finished.length > KEEP_FINISHED_ORDERS) {
      const forgotten = state.finished.splice(0, state.finished.length - KEEP_FINISHED_ORDERS);
      for (const id of forgotten) state.orders.delete(id);
    }
  }
}

interface EncodedExecution {
  broker: PaperBrokerSnapshot;
  orders: Order[];
  finished: string[];
}

const signed = (order: Order, quantity: number): number => (order.side === 'BUY' ? quantity : -quantity);

/** What reporting broker outcomes needs. */
export interface OutcomeReporting {
  readonly system: ActorSystem;
  readonly directory: Directory;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * Tells everyone concerned what a broker reported, for any broker (paper or Kite): the
 * strategy (its order events), risk (fills and closed orders move exposure), the
 * portfolio (fills), the event bus and metrics. `remember` keeps the latest order.
 */
export function reportBrokerEvents(events: readonly BrokerEvent[], deps: OutcomeReporting, remember: (order: Order) => void): void {
  const { directory, bus, metrics, system } = deps;
  for (const event of events) {
    switch (event.kind) {
      case 'order-updated': {
        const order = event.order;
        remember(order);
        metrics.orders.inc({ status: order.status });
        bus.publish({ type: 'OrderUpdated', order });
        const strategy = directory.strategies.get(order.strategyId);
        if (strategy) system.tell(strategy, { type: 'OrderEvent', event: { type: 'OrderUpdated', order } });
        if (isTerminal(order.status) && directory.risk) {
          system.tell(directory.risk, {
            type: 'OrderClosed',
            portfolioId: order.portfolioId,
            symbol: order.symbol,
            signedRemainder: signed(order, order.quantity - order.filledQuantity),
          });
        }
        if (order.status === 'REJECTED') deps.log.warn({ clientOrderId: order.clientOrderId, reason: order.statusMessage }, 'order rejected by the broker');
        break;
      }
      case 'fill': {
        const { fill, order } = event;
        remember(order);
        metrics.fills.inc();
        if (order.status === 'COMPLETE') metrics.orders.inc({ status: 'COMPLETE' });
        const portfolio = directory.portfolios.get(fill.portfolioId);
        if (portfolio) system.tell(portfolio, { type: 'ApplyFill', fill });
        else deps.log.error({ portfolioId: fill.portfolioId, fillId: fill.fillId }, 'fill for an unknown portfolio');
        if (directory.risk) {
          system.tell(directory.risk, { type: 'FillApplied', portfolioId: fill.portfolioId, symbol: fill.symbol, signedQuantity: signed(order, fill.quantity) });
        }
        const strategy = directory.strategies.get(order.strategyId);
        if (strategy) system.tell(strategy, { type: 'OrderEvent', event: { type: 'OrderFilled', order, fill } });
        bus.publish({ type: 'OrderFilled', fill, order });
        break;
      }
      case 'cancel-rejected':
        deps.log.warn({ clientOrderId: event.clientOrderId, reason: event.reason }, 'cancel refused');
        break;
      default:
        assertNever(event, 'broker event');
    }
  }
  }


/**
 * Wraps the paper broker. Places approved orders (once per client order id), matches
 * them on market data, and tells everyone concerned what happened.
 */
export function executionBehavior(deps: ExecutionActorDeps): Behavior<ExecutionCommand, ExecutionState> {
  const dispatch = (state: ExecutionState, events: readonly BrokerEvent[], ctx: ActorContext<ExecutionCommand>): void =>
    reportBrokerEvents(events, { ...deps, system: ctx.system }, (order) => remember(state, order));

  return {
    kind: 'execution',
    initial(_ctx, restored) {
      return restored ?? { broker: new PaperBroker(deps.config), orders: new Map(), finished: [] };
    },
    snapshot: {
      codec: {
        version: 1,
        encode: (state) => ({ broker: state.broker.snapshot(), orders: [...state.orders.values()], finished: state.finished }) as never,
        decode(json) {
          const encoded = structuredClone(json) as unknown as EncodedExecution;
          return {
            broker: PaperBroker.restore(encoded.broker, deps.config),
            orders: new Map(encoded.orders.map((order) => [order.clientOrderId, order])),
            finished: encoded.finished,
          };
        },
      },
      everyMessages: 500,
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'PlaceOrder': {
          const { order } = message;
          if (message.triggerReceivedMonoMs !== undefined) {
            const latencyUs = (performance.now() - message.triggerReceivedMonoMs) * 1000;
            deps.metrics.tickToOrderSeconds.observe(latencyUs / 1e6);
            deps.onOrderLatencyUs?.(latencyUs);
          }
          if (state.orders.has(order.clientOrderId)) {
            deps.log.warn({ clientOrderId: order.clientOrderId }, 'duplicate order ignored (already placed)');
            return state;
          }
          const instrument = deps.instruments.get(order.symbol);
          remember(state, order);
          deps.bus.publish({ type: 'OrderSubmitted', order });
          if (!instrument) {
            dispatch(state, [{ kind: 'order-updated', order: { ...order, status: 'REJECTED', statusMessage: `Unknown instrument ${order.symbol}.`, cancelledQuantity: order.quantity } }], ctx);
            return state;
          }
          dispatch(state, state.broker.submit(order, instrument, deps.clock.nowMs()), ctx);
          return state;
        }
        case 'CancelOrder':
          dispatch(state, state.broker.cancel(message.clientOrderId, deps.clock.nowMs()), ctx);
          return state;
        case 'MarketData':
          for (const batch of message.batches) {
            const events = state.broker.onTicks(batch);
            if (events.length > 0) dispatch(state, events, ctx);
          }
          return state;
        case 'GetOrders':
          ctx.system.tell(message.replyTo, [...state.orders.values()]);
          return state;
        default:
          return assertNever(message, 'execution command');
      }
    },
  };
}

export const wrapExecutionTicks = (batches: readonly (readonly Tick[])[]): ExecutionCommand => ({ type: 'MarketData', batches });
