import { receiveByType, type ActorContext, type ActorRef, type Behavior, type HandlerMap } from '../core/index.js';
import {
  amended,
  assertNever,
  clientOrderIdFor,
  isTerminal,
  MARKET_REGIME_SYMBOL,
  type Bar,
  type DomainEvent,
  type Mutable,
  type OrderIntent,
  type Product,
  type Regime,
  type Tick,
} from '../../model/index.js';
import {
  REFUSED_INTENTS_KEPT,
  regimeGateQuantity,
  type AnyStrategyDefinition,
  type RefusedIntent,
  type IntentRequest,
  type SignalRequest,
  type StrategyContext,
  type StrategyOrderEvent,
} from '../../strategies/api.js';
import type { Signal } from '../../signals/index.js';
import type { AggregatorCommand } from '../aggregator/aggregator.protocol.js';
import type { Directory } from '../directory.js';
import type { MarketCache } from '../market-cache.js';
import type { Logger } from '../../observability/logger.js';
import type { StrategyCommand, StrategyHostState, StrategyStatus } from './strategy.protocol.js';
import { strategyHostCodec } from './strategy.snapshot.js';

export interface StrategyInstance {
  readonly strategyId: string;
  readonly portfolioId: string;
  readonly definition: AnyStrategyDefinition;
  /** Already parsed by definition.parseConfig. */
  readonly config: unknown;
  /**
   * Overrides the definition's `regimes` for this instance: a list to trade only in those,
   * `null` to trade in any regime (gating off). Absent: the definition's.
   */
  readonly regimes?: readonly Regime[] | null;
}

export interface StrategyActorDeps {
  readonly directory: Directory;
  readonly cache: MarketCache;
  readonly clock: { nowMs(): number };
  readonly log: Logger;
  /** The latest cash of a portfolio, as its actor last published it (read-only view). */
  readonly portfolioCashPaise?: (portfolioId: string) => number | undefined;
  /** Where a regime-gated intent is reported (a `RiskAlert` with code `regime-gated`): the runtime's event bus. */
  readonly bus?: { publish(event: DomainEvent): void };
  /** The signal aggregator, read at flush time; signals are counted and dropped while there is none. */
  readonly aggregator?: () => ActorRef<AggregatorCommand> | undefined;
}

const sideOf = (signed: number): 'BUY' | 'SELL' => (signed >= 0 ? 'BUY' : 'SELL');

/** Keeps a refused intent in the host's bounded list. */
function recordRefused(state: StrategyHostState, refused: RefusedIntent): void {
  state.refused.push(refused);
  if (state.refused.length > REFUSED_INTENTS_KEPT) state.refused.splice(0, state.refused.length - REFUSED_INTENTS_KEPT);
}

const inSymbol = <T extends { readonly symbol: string }>(list: readonly T[], symbol: string | undefined): readonly T[] =>
  symbol === undefined ? list : list.filter((item) => item.symbol === symbol);

/** `RiskAlert.code` and `IntentRejected.code` of an intent the regime gate refused or cut. */
export const REGIME_GATED = 'regime-gated';

/**
 * Hosts one strategy plugin: feeds it ticks and bars, gives it a context that can only
 * read and submit intents, numbers the intents deterministically, sends them to risk, and
 * tracks the strategy's own working orders and positions from the order events.
 */
export function strategyBehavior(instance: StrategyInstance, deps: StrategyActorDeps): Behavior<StrategyCommand, StrategyHostState> {
  const host = new StrategyHost(instance, deps);
  return {
    kind: 'strategy',
    initial: (ctx, restored) => host.initial(ctx, restored),
    snapshot: { codec: strategyHostCodec(instance.definition), everyMs: 1000 },
    receive: receiveByType(strategyHandlers(host)),
  };
}

const emptyStats = (): StrategyHostState['stats'] => ({ ticks: 0, bars: 0, intents: 0, rejected: 0, fills: 0, gated: 0, signals: 0, paced: 0 });

/** The host's working parts around the plugin: its context, the outboxes a hook fills, and what the handlers share. */
class StrategyHost {
  readonly definition: AnyStrategyDefinition;
  readonly strategyId: string;
  readonly portfolioId: string;
  readonly log: Logger;
  readonly tradesIn: readonly Regime[] | undefined;
  readonly context: StrategyContext;
  private readonly gated: boolean;
  /** The product of intents that name none: the one the strategy declares (MIS when it declares none). */
  private readonly defaultProduct: Product;
  /** The state a hook runs on (only while one runs). */
  private current: StrategyHostState | undefined;
  private currentTick: Tick | undefined;
  private readonly outbox: { intent: OrderIntent; clientOrderId: string }[] = [];
  /** Refusals by the regime gate, told back to this actor as `IntentRejected` after the hook. */
  private readonly refusals: StrategyOrderEvent[] = [];
  private readonly signalOutbox: Signal[] = [];
  private system: ActorContext<StrategyCommand>['system'] | undefined;

  constructor(
    readonly instance: StrategyInstance,
    readonly deps: StrategyActorDeps,
  ) {
    this.definition = instance.definition;
    this.strategyId = instance.strategyId;
    this.portfolioId = instance.portfolioId;
    this.log = deps.log.child({ strategyId: this.strategyId });
    this.tradesIn = instance.regimes === null ? undefined : (instance.regimes ?? this.definition.regimes);
    this.gated = this.tradesIn !== undefined && this.tradesIn.length > 0;
    this.defaultProduct = this.definition.product?.(instance.config) ?? 'MIS';
    this.context = this.makeContext();
  }

  private makeContext(): StrategyContext {
    const { deps, portfolioId } = this;
    return {
      strategyId: this.strategyId,
      portfolioId,
      config: this.instance.config,
      nowMs: () => deps.clock.nowMs(),
      market: deps.cache,
      portfolio: {
        netQuantity: (symbol) => this.current?.positions[symbol] ?? 0,
        workingQuantity: (symbol) => this.current?.workingBySymbol[symbol] ?? 0,
        get cashPaise() {
          return deps.portfolioCashPaise?.(portfolioId) ?? 0;
        },
      },
      intents: {
        pending: (symbol) => (this.current === undefined ? [] : inSymbol([...this.current.pending.values()], symbol).map((p) => ({ ...p }))),
        refused: (symbol) => (this.current === undefined ? [] : inSymbol(this.current.refused, symbol).map((r) => ({ ...r }))),
      },
      log: {
        info: (message, data) => this.log.info(data ?? {}, message),
        warn: (message, data) => this.log.warn(data ?? {}, message),
      },
      submit: (request) => this.submit(request),
      cancel: (intentId) => {
        const working = this.current?.working.get(intentId);
        if (working) this.cancelOrder(working.clientOrderId);
      },
      signal: (request) => this.signal(request),
      regime: (symbol) =>
        this.current === undefined ? undefined : symbol === undefined ? this.current.regimes[MARKET_REGIME_SYMBOL] : this.current.regimes[symbol],
    };
  }

  /** The restored state, or a fresh one with the plugin's `init` (which may not trade or signal: nothing is wired yet). */
  initial(ctx: ActorContext<StrategyCommand>, restored: StrategyHostState | undefined): StrategyHostState {
    this.system = ctx.system;
    if (restored) return restored;
    const fresh: StrategyHostState = {
      strategy: undefined,
      sequence: 0,
      positions: {},
      working: new Map(),
      workingBySymbol: {},
      paused: false,
      pending: new Map(),
      refused: [],
      regimes: {},
      stats: emptyStats(),
    };
    fresh.strategy = this.runHook(fresh, (): unknown => this.definition.init(this.context));
    this.outbox.length = 0;
    this.refusals.length = 0;
    this.signalOutbox.length = 0;
    return fresh;
  }

  /** The regime that gates `symbol` now (undefined while unknown: not gated). */
  private regimeFor(state: StrategyHostState, symbol: string): Regime | undefined {
    return this.definition.regimeScope === 'market' ? state.regimes[MARKET_REGIME_SYMBOL] : (state.regimes[symbol] ?? state.regimes[MARKET_REGIME_SYMBOL]);
  }

  private submit(request: IntentRequest): string {
    const host = this.current;
    if (!host) throw new Error('submit outside a hook');
    const { strategyId, definition, tradesIn } = this;
    const sequence = host.sequence;
    host.sequence += 1;
    const intentId = `${strategyId}:${sequence}`;
    const clientOrderId = clientOrderIdFor(strategyId, sequence);
    const regime = this.regimeFor(host, request.symbol);
    const explanation =
      request.explanation === undefined
        ? undefined
        : regime === undefined || request.explanation.regime !== undefined
          ? request.explanation
          : amended(request.explanation, { regime });
    // the optional fields are set one by one: a literal with conditional spreads copies through the
    // runtime for every intent
    const intent: Mutable<OrderIntent> = {
      type: 'order-intent',
      intentId,
      strategyId,
      portfolioId: this.portfolioId,
      symbol: request.symbol,
      side: request.side,
      quantity: request.quantity,
      orderType: request.orderType ?? 'MARKET',
      product: request.product ?? this.defaultProduct,
      validity: request.validity ?? 'DAY',
      createdAtMs: this.deps.clock.nowMs(),
    };
    if (request.limitPricePaise !== undefined) intent.limitPricePaise = request.limitPricePaise;
    if (request.triggerPricePaise !== undefined) intent.triggerPricePaise = request.triggerPricePaise;
    if (request.reason !== undefined) intent.reason = request.reason;
    if (explanation !== undefined) intent.explanation = explanation;
    const receivedMonoMs = this.currentTick?.receivedMonoMs;
    if (receivedMonoMs !== undefined) intent.triggerReceivedMonoMs = receivedMonoMs;
    host.stats.intents += 1;
    const committed = (host.positions[request.symbol] ?? 0) + (host.workingBySymbol[request.symbol] ?? 0);
    const allowed = regimeGateQuantity(tradesIn, regime, committed, request.side, request.quantity);
    if (allowed < request.quantity) {
      host.stats.gated += 1;
      const outside = `${request.symbol} is ${regime === undefined ? 'unclassified' : regime}${definition.regimeScope === 'market' ? ' (market)' : ''}, outside the regimes ${definition.kind} trades in (${(tradesIn ?? []).join(', ')})`;
      const message =
        allowed === 0
          ? `${request.side} ${request.quantity} ${request.symbol} not sent: ${outside}; only exits go through`
          : `${request.side} ${request.quantity} ${request.symbol} cut to ${allowed}, the quantity that flattens the position: ${outside}`;
      this.deps.bus?.publish({
        type: 'RiskAlert',
        severity: 'info',
        code: REGIME_GATED,
        message,
        atMs: intent.createdAtMs,
        intent,
        strategyId,
        symbol: request.symbol,
      });
      this.log.info({ intentId, symbol: request.symbol, regime, allowed }, message);
      if (allowed === 0) {
        host.stats.rejected += 1;
        recordRefused(host, {
          intentId,
          symbol: request.symbol,
          side: request.side,
          quantity: request.quantity,
          code: REGIME_GATED,
          reason: message,
          atMs: intent.createdAtMs,
        });
        this.refusals.push({ type: 'IntentRejected', intentId, symbol: request.symbol, reason: message, code: REGIME_GATED });
        return intentId;
      }
      return this.place(
        {
          ...intent,
          quantity: allowed,
          reason: intent.reason === undefined ? `exit only (${regime ?? 'unclassified'})` : `${intent.reason}; exit only (${regime ?? 'unclassified'})`,
        },
        clientOrderId,
      );
    }
    return this.place(intent, clientOrderId);
  }

  /** Records an intent as working and queues it for risk. */
  private place(intent: OrderIntent, clientOrderId: string): string {
    const host = this.current;
    if (!host) throw new Error('submit outside a hook');
    const signed = intent.side === 'BUY' ? intent.quantity : -intent.quantity;
    host.working.set(intent.intentId, { symbol: intent.symbol, clientOrderId, remaining: signed });
    host.workingBySymbol[intent.symbol] = (host.workingBySymbol[intent.symbol] ?? 0) + signed;
    this.outbox.push({ intent, clientOrderId });
    return intent.intentId;
  }

  private signal(request: SignalRequest): void {
    const host = this.current;
    if (!host) throw new Error('signal outside a hook');
    if (request.direction !== 'long' && request.direction !== 'short' && request.direction !== 'flat')
      throw new RangeError(`signal direction must be long, short or flat, got ${String(request.direction)}`);
    const regime = this.regimeFor(host, request.symbol);
    const outside = this.gated && regime !== undefined && !(this.tradesIn ?? []).includes(regime);
    host.stats.signals += 1;
    this.signalOutbox.push({
      strategyId: this.strategyId,
      symbol: request.symbol,
      // outside its regimes a strategy abstains: its previous view stops counting
      direction: outside ? 'flat' : request.direction,
      confidence: outside ? 0 : request.confidence,
      atMs: this.deps.clock.nowMs(),
      ...(outside
        ? { reason: `outside its regimes (${regime})${request.reason === undefined ? '' : `; would have said ${request.direction}: ${request.reason}`}` }
        : request.reason === undefined
          ? {}
          : { reason: request.reason }),
    });
  }

  private cancelOrder(clientOrderId: string): void {
    const execution = this.deps.directory.execution;
    if (execution && this.system) this.system.tell(execution, { type: 'CancelOrder', clientOrderId, requestedBy: this.strategyId });
  }

  /** Sends what the last hook produced: signals to the aggregator, regime refusals to itself, intents to risk. */
  flush(ctx: ActorContext<StrategyCommand>): void {
    const { signalOutbox, refusals, outbox } = this;
    if (signalOutbox.length > 0) {
      const aggregator = this.deps.aggregator?.();
      if (aggregator) ctx.system.tell(aggregator, { type: 'SubmitSignals', signals: signalOutbox.splice(0) });
      else signalOutbox.length = 0;
    }
    for (const event of refusals) ctx.system.tell(ctx.self, { type: 'OrderEvent', event });
    refusals.length = 0;
    if (outbox.length === 0) return;
    const risk = this.deps.directory.requireRisk();
    // one message for the hook's intents: risk evaluates them in order either way
    if (outbox.length === 1) {
      ctx.system.tell(risk, { type: 'EvaluateIntent', ...outbox[0]! });
      outbox.length = 0;
    } else ctx.system.tell(risk, { type: 'EvaluateIntents', intents: outbox.splice(0) });
  }

  /** Runs a hook on `state`: the context reads and writes it only meanwhile. */
  runHook<T>(state: StrategyHostState, call: () => T): T {
    this.current = state;
    try {
      return call();
    } finally {
      this.current = undefined;
      this.currentTick = undefined;
    }
  }

  /** Sets the tick a hook is running for (its receive time goes into the intents it causes). */
  setTick(tick: Tick): void {
    this.currentTick = tick;
  }

  /** The host's own book after an order event (before the plugin hears it). */
  applyOrderEvent(state: StrategyHostState, event: StrategyOrderEvent): void {
    switch (event.type) {
      case 'OrderFilled': {
        state.pending.delete(event.order.intentId);
        const signed = event.fill.side === 'BUY' ? event.fill.quantity : -event.fill.quantity;
        state.positions[event.fill.symbol] = (state.positions[event.fill.symbol] ?? 0) + signed;
        const working = state.working.get(event.order.intentId);
        if (working) {
          working.remaining -= signed;
          state.workingBySymbol[working.symbol] = (state.workingBySymbol[working.symbol] ?? 0) - signed;
        }
        state.stats.fills += 1;
        if (isTerminal(event.order.status)) closeWorking(state, event.order.intentId);
        break;
      }
      case 'OrderUpdated':
        state.pending.delete(event.order.intentId);
        if (isTerminal(event.order.status)) closeWorking(state, event.order.intentId);
        break;
      case 'IntentRejected': {
        if (event.code !== REGIME_GATED) {
          // the gate counted and recorded its own already
          state.stats.rejected += 1;
          const working = state.working.get(event.intentId);
          recordRefused(state, {
            intentId: event.intentId,
            symbol: event.symbol,
            side: sideOf(working?.remaining ?? 0),
            quantity: Math.abs(working?.remaining ?? 0),
            ...(event.code === undefined ? {} : { code: event.code }),
            reason: event.reason,
            atMs: this.deps.clock.nowMs(),
          });
        }
        closeWorking(state, event.intentId);
        break;
      }
      default:
        assertNever(event, 'strategy order event');
    }
  }

  status(state: StrategyHostState): StrategyStatus {
    return {
      strategyId: this.strategyId,
      kind: this.definition.kind,
      paused: state.paused,
      positions: { ...state.positions },
      workingIntents: state.working.size,
      pendingIntents: [...state.pending.values()].map((p) => ({ ...p })),
      refusedIntents: state.refused.map((r) => ({ ...r })),
      ...(this.tradesIn === undefined ? {} : { tradesIn: [...this.tradesIn] }),
      regimes: { ...state.regimes },
      stats: { ...state.stats },
    };
  }
}

function closeWorking(state: StrategyHostState, intentId: string): void {
  const working = state.working.get(intentId);
  if (!working) return;
  state.workingBySymbol[working.symbol] = (state.workingBySymbol[working.symbol] ?? 0) - working.remaining;
  state.working.delete(intentId);
  state.pending.delete(intentId);
}

/** One handler per message type of the strategy host's protocol. */
function strategyHandlers(host: StrategyHost): HandlerMap<StrategyCommand, StrategyHostState> {
  const { definition, context } = host;
  // bound once: a hook bound per message is a new call target each time, which the JIT cannot inline into the tick loop
  const onTick = definition.onTick?.bind(definition);
  const onOrder = definition.onOrderEvent?.bind(definition);
  /** The host's book, then the plugin's hook, for each event in order; what the hooks asked for is sent once. */
  const orderEvents = (state: StrategyHostState, events: readonly StrategyOrderEvent[], ctx: ActorContext<StrategyCommand>): StrategyHostState => {
    for (const event of events) {
      host.applyOrderEvent(state, event);
      if (onOrder)
        host.runHook(state, () => {
          state.strategy = onOrder(state.strategy, event, context);
        });
    }
    if (onOrder) host.flush(ctx);
    return state;
  };
  /** Runs `hook` over `items` in order (each call gets the strategy state the last one returned) as one hook run, then sends what it asked for. */
  const runOver = <T>(
    state: StrategyHostState,
    ctx: ActorContext<StrategyCommand>,
    items: readonly T[],
    hook: (strategy: unknown, item: T, strategyContext: StrategyContext) => unknown,
  ): StrategyHostState => {
    host.runHook(state, () => {
      let strategy = state.strategy;
      for (const item of items) strategy = hook(strategy, item, context);
      state.strategy = strategy;
    });
    host.flush(ctx);
    return state;
  };
  return {
    MarketData(state, message, ctx) {
      if (state.paused || !onTick) {
        for (const batch of message.batches) state.stats.ticks += batch.length;
        return state;
      }
      host.runHook(state, () => {
        let strategy = state.strategy;
        for (const batch of message.batches) {
          for (const tick of batch) {
            host.setTick(tick);
            strategy = onTick(strategy, tick, context);
          }
          state.stats.ticks += batch.length;
        }
        state.strategy = strategy;
      });
      host.flush(ctx);
      return state;
    },
    BarsClosed(state, message, ctx) {
      state.stats.bars += message.bars.length;
      if (state.paused || !definition.onBar) return state;
      return runOver(state, ctx, message.bars, definition.onBar.bind(definition));
    },
    OrderEvent: (state, message, ctx) => orderEvents(state, [message.event], ctx),
    OrderEvents: (state, message, ctx) => orderEvents(state, message.events, ctx),
    IntentPaced(state, message) {
      const working = state.working.get(message.intentId);
      if (!working) return state; // closed already
      state.stats.paced += 1;
      state.pending.set(message.intentId, {
        intentId: message.intentId,
        symbol: message.symbol,
        side: sideOf(working.remaining),
        quantity: Math.abs(working.remaining),
        queuedAtMs: message.atMs,
        reason: message.reason,
      });
      host.log.info({ intentId: message.intentId, symbol: message.symbol }, message.reason);
      return state;
    },
    IntentReleased(state, message) {
      state.pending.delete(message.intentId);
      return state;
    },
    RegimesChanged(state, message) {
      Object.assign(state.regimes, message.regimes);
      return state;
    },
    SignalsAggregated(state, message, ctx) {
      if (state.paused || !definition.onAggregate) return state;
      return runOver(state, ctx, message.decisions, definition.onAggregate.bind(definition));
    },
    PredictionsMade(state, message, ctx) {
      if (state.paused || !definition.onPrediction) return state;
      return runOver(state, ctx, message.predictions, definition.onPrediction.bind(definition));
    },
    Pause(state) {
      state.paused = true;
      host.log.info('strategy paused');
      return state;
    },
    Resume(state) {
      state.paused = false;
      host.log.info('strategy resumed');
      return state;
    },
    GetStatus(state, message, ctx) {
      ctx.system.tell(message.replyTo, host.status(state));
      return state;
    },
  };
}

/** Bars for a strategy arrive one by one through its inlet; this wraps them. */
export const wrapBars = (bars: readonly Bar[]): StrategyCommand => ({ type: 'BarsClosed', bars });
/** Tick batches for a strategy arrive through its inlet; this wraps them. */
export const wrapTicks = (batches: readonly (readonly Tick[])[]): StrategyCommand => ({ type: 'MarketData', batches });
