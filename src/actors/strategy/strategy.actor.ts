import type { ActorContext, Behavior, Json } from '../core/index.js';
import { assertNever, clientOrderIdFor, isTerminal, type Bar, type OrderIntent, type Tick } from '../../model/index.js';
import type { AnyStrategyDefinition, IntentRequest, StrategyContext, StrategyOrderEvent } from '../../strategies/api.js';
import type { Directory } from '../../runtime/directory.js';
import type { MarketCache } from '../../runtime/market-cache.js';
import type { Logger } from '../../runtime/logger.js';
import type { StrategyCommand, StrategyHostState, StrategyStatus } from './strategy.protocol.js';

export interface StrategyInstance {
  readonly strategyId: string;
  readonly portfolioId: string;
  readonly definition: AnyStrategyDefinition;
  /** Already parsed by definition.parseConfig. */
  readonly config: unknown;
}

export interface StrategyActorDeps {
  readonly directory: Directory;
  readonly cache: MarketCache;
  readonly clock: { nowMs(): number };
  readonly log: Logger;
  /** The latest cash of a portfolio, as its actor last published it (read-only view). */
  readonly portfolioCashPaise?: (portfolioId: string) => number | undefined;
}

const HOST_VERSION = 1;

/**
 * Hosts one strategy plugin: feeds it ticks and bars, gives it a context that can only
 * read and submit intents, numbers the intents deterministically, sends them to risk, and
 * tracks the strategy's own working orders and positions from the order events.
 */
export function strategyBehavior(instance: StrategyInstance, deps: StrategyActorDeps): Behavior<StrategyCommand, StrategyHostState> {
  const { definition, strategyId, portfolioId } = instance;
  let host: StrategyHostState | undefined;
  let currentTick: Tick | undefined;
  const outbox: { intent: OrderIntent; clientOrderId: string }[] = [];
  const log = deps.log.child({ strategyId });

  const submit = (request: IntentRequest): string => {
    if (!host) throw new Error('submit outside a hook');
    const sequence = host.sequence;
    host.sequence += 1;
    const intentId = `${strategyId}:${sequence}`;
    const clientOrderId = clientOrderIdFor(strategyId, sequence);
    const intent: OrderIntent = {
      type: 'order-intent',
      intentId,
      strategyId,
      portfolioId,
      symbol: request.symbol,
      side: request.side,
      quantity: request.quantity,
      orderType: request.orderType ?? 'MARKET',
      product: request.product ?? 'MIS',
      validity: request.validity ?? 'DAY',
      ...(request.limitPricePaise === undefined ? {} : { limitPricePaise: request.limitPricePaise }),
      ...(request.triggerPricePaise === undefined ? {} : { triggerPricePaise: request.triggerPricePaise }),
      createdAtMs: deps.clock.nowMs(),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      ...(currentTick?.receivedMonoMs === undefined ? {} : { triggerReceivedMonoMs: currentTick.receivedMonoMs }),
    };
    const signed = request.side === 'BUY' ? request.quantity : -request.quantity;
    host.working[intentId] = { symbol: request.symbol, clientOrderId, remaining: signed };
    host.workingBySymbol[request.symbol] = (host.workingBySymbol[request.symbol] ?? 0) + signed;
    host.stats.intents += 1;
    outbox.push({ intent, clientOrderId });
    return intentId;
  };

  const strategyContext: StrategyContext = {
    strategyId,
    portfolioId,
    config: instance.config,
    nowMs: () => deps.clock.nowMs(),
    market: deps.cache,
    portfolio: {
      netQuantity: (symbol) => host?.positions[symbol] ?? 0,
      workingQuantity: (symbol) => host?.workingBySymbol[symbol] ?? 0,
      get cashPaise() {
        return deps.portfolioCashPaise?.(portfolioId) ?? 0;
      },
    },
    log: {
      info: (message, data) => log.info(data ?? {}, message),
      warn: (message, data) => log.warn(data ?? {}, message),
    },
    submit,
    cancel(intentId) {
      const working = host?.working[intentId];
      if (working) cancelOrder(working.clientOrderId);
    },
  };

  let system: ActorContext<StrategyCommand>['system'] | undefined;
  const cancelOrder = (clientOrderId: string): void => {
    const execution = deps.directory.execution;
    if (execution && system) system.tell(execution, { type: 'CancelOrder', clientOrderId, requestedBy: strategyId });
  };

  const flush = (ctx: ActorContext<StrategyCommand>): void => {
    if (outbox.length === 0) return;
    const risk = deps.directory.requireRisk();
    for (const { intent, clientOrderId } of outbox) ctx.system.tell(risk, { type: 'EvaluateIntent', intent, clientOrderId });
    outbox.length = 0;
  };

  const closeWorking = (state: StrategyHostState, intentId: string): void => {
    const working = state.working[intentId];
    if (!working) return;
    state.workingBySymbol[working.symbol] = (state.workingBySymbol[working.symbol] ?? 0) - working.remaining;
    delete state.working[intentId];
  };

  const onOrderEvent = (state: StrategyHostState, event: StrategyOrderEvent): void => {
    switch (event.type) {
      case 'OrderFilled': {
        const signed = event.fill.side === 'BUY' ? event.fill.quantity : -event.fill.quantity;
        state.positions[event.fill.symbol] = (state.positions[event.fill.symbol] ?? 0) + signed;
        const working = state.working[event.order.intentId];
        if (working) {
          working.remaining -= signed;
          state.workingBySymbol[working.symbol] = (state.workingBySymbol[working.symbol] ?? 0) - signed;
        }
        state.stats.fills += 1;
        if (isTerminal(event.order.status)) closeWorking(state, event.order.intentId);
        break;
      }
      case 'OrderUpdated':
        if (isTerminal(event.order.status)) closeWorking(state, event.order.intentId);
        break;
      case 'IntentRejected':
        state.stats.rejected += 1;
        closeWorking(state, event.intentId);
        break;
      default:
        assertNever(event, 'strategy order event');
    }
  };

  const runHook = <T>(state: StrategyHostState, call: () => T): T => {
    host = state;
    try {
      return call();
    } finally {
      host = undefined;
      currentTick = undefined;
    }
  };

  return {
    kind: 'strategy',
    initial(ctx, restored) {
      system = ctx.system;
      if (restored) return restored;
      const fresh: StrategyHostState = {
        strategy: undefined,
        sequence: 0,
        positions: {},
        working: {},
        workingBySymbol: {},
        paused: false,
        stats: { ticks: 0, bars: 0, intents: 0, rejected: 0, fills: 0 },
      };
      fresh.strategy = runHook(fresh, (): unknown => definition.init(strategyContext));
      outbox.length = 0; // init may not trade: nothing is wired yet
      return fresh;
    },
    snapshot: {
      codec: {
        version: definition.stateVersion,
        encode: (state): Json => ({
          hostVersion: HOST_VERSION,
          strategy: definition.encodeState(state.strategy),
          sequence: state.sequence,
          positions: state.positions,
          working: state.working as unknown as Json,
          workingBySymbol: state.workingBySymbol,
          paused: state.paused,
          stats: state.stats,
        }),
        decode(json, fromVersion) {
          const copy = structuredClone(json) as unknown as Omit<StrategyHostState, 'strategy'> & { strategy: Json };
          const strategy: unknown = definition.decodeState(copy.strategy, fromVersion);
          return { ...copy, strategy };
        },
      },
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'MarketData': {
          if (state.paused || !definition.onTick) {
            for (const batch of message.batches) state.stats.ticks += batch.length;
            return state;
          }
          const onTick = definition.onTick.bind(definition);
          runHook(state, () => {
            let strategy = state.strategy;
            for (const batch of message.batches) {
              for (const tick of batch) {
                currentTick = tick;
                strategy = onTick(strategy, tick, strategyContext);
              }
              state.stats.ticks += batch.length;
            }
            state.strategy = strategy;
          });
          flush(ctx);
          return state;
        }
        case 'BarsClosed': {
          state.stats.bars += message.bars.length;
          if (state.paused || !definition.onBar) return state;
          const onBar = definition.onBar.bind(definition);
          runHook(state, () => {
            let strategy = state.strategy;
            for (const bar of message.bars) strategy = onBar(strategy, bar, strategyContext);
            state.strategy = strategy;
          });
          flush(ctx);
          return state;
        }
        case 'OrderEvent': {
          onOrderEvent(state, message.event);
          if (definition.onOrderEvent) {
            const onOrder = definition.onOrderEvent.bind(definition);
            runHook(state, () => {
              state.strategy = onOrder(state.strategy, message.event, strategyContext);
            });
            flush(ctx);
          }
          return state;
        }
        case 'Pause':
          state.paused = true;
          log.info('strategy paused');
          return state;
        case 'Resume':
          state.paused = false;
          log.info('strategy resumed');
          return state;
        case 'GetStatus': {
          const status: StrategyStatus = {
            strategyId,
            kind: definition.kind,
            paused: state.paused,
            positions: { ...state.positions },
            workingIntents: Object.keys(state.working).length,
            stats: { ...state.stats },
          };
          ctx.system.tell(message.replyTo, status);
          return state;
        }
        default:
          return assertNever(message, 'strategy command');
      }
    },
  };
}

/** Bars for a strategy arrive one by one through its inlet; this wraps them. */
export const wrapBars = (bars: readonly Bar[]): StrategyCommand => ({ type: 'BarsClosed', bars });
/** Tick batches for a strategy arrive through its inlet; this wraps them. */
export const wrapTicks = (batches: readonly (readonly Tick[])[]): StrategyCommand => ({ type: 'MarketData', batches });
