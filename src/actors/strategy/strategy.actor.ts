import type { ActorContext, ActorRef, Behavior, Json } from '../core/index.js';
import { assertNever, clientOrderIdFor, isTerminal, MARKET_REGIME_SYMBOL, type Bar, type DomainEvent, type OrderIntent, type Regime, type Tick } from '../../model/index.js';
import { REFUSED_INTENTS_KEPT, regimeGateQuantity, type AnyStrategyDefinition, type RefusedIntent, type IntentRequest, type SignalRequest, type StrategyContext, type StrategyOrderEvent } from '../../strategies/api.js';
import type { Signal } from '../../signals/index.js';
import type { AggregatorCommand } from '../aggregator/aggregator.protocol.js';
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

/** 2: `regimes` and the `gated`/`signals` counters (a version 1 snapshot decodes with none); 3: `pending`, `refused` and `paced`. */
const HOST_VERSION = 3;

const sideOf = (signed: number): 'BUY' | 'SELL' => (signed >= 0 ? 'BUY' : 'SELL');

/** Keeps a refused intent in the host's bounded list. */
function recordRefused(state: StrategyHostState, refused: RefusedIntent): void {
  state.refused.push(refused);
  if (state.refused.length > REFUSED_INTENTS_KEPT) state.refused.splice(0, state.refused.length - REFUSED_INTENTS_KEPT);
}

const inSymbol = <T extends { readonly symbol: string }>(list: readonly T[], symbol: string | undefined): readonly T[] => (symbol === undefined ? list : list.filter((item) => item.symbol === symbol));

/** `RiskAlert.code` and `IntentRejected.code` of an intent the regime gate refused or cut. */
export const REGIME_GATED = 'regime-gated';

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
  /** Refusals by the regime gate, told back to this actor as `IntentRejected` after the hook. */
  const refusals: StrategyOrderEvent[] = [];
  const signalOutbox: Signal[] = [];
  const log = deps.log.child({ strategyId });
  const tradesIn: readonly Regime[] | undefined = instance.regimes === null ? undefined : (instance.regimes ?? definition.regimes);
  const gated = tradesIn !== undefined && tradesIn.length > 0;
  /** The product of intents that name none: the one the strategy declares (MIS when it declares none). */
  const defaultProduct = definition.product?.(instance.config) ?? 'MIS';

  /** The regime that gates `symbol` now (undefined while unknown: not gated). */
  const regimeFor = (state: StrategyHostState, symbol: string): Regime | undefined =>
    definition.regimeScope === 'market' ? state.regimes[MARKET_REGIME_SYMBOL] : (state.regimes[symbol] ?? state.regimes[MARKET_REGIME_SYMBOL]);

  const submit = (request: IntentRequest): string => {
    if (!host) throw new Error('submit outside a hook');
    const sequence = host.sequence;
    host.sequence += 1;
    const intentId = `${strategyId}:${sequence}`;
    const clientOrderId = clientOrderIdFor(strategyId, sequence);
    const regime = regimeFor(host, request.symbol);
    const explanation = request.explanation === undefined ? undefined : regime === undefined || request.explanation.regime !== undefined ? request.explanation : { ...request.explanation, regime };
    const intent: OrderIntent = {
      type: 'order-intent',
      intentId,
      strategyId,
      portfolioId,
      symbol: request.symbol,
      side: request.side,
      quantity: request.quantity,
      orderType: request.orderType ?? 'MARKET',
      product: request.product ?? defaultProduct,
      validity: request.validity ?? 'DAY',
      ...(request.limitPricePaise === undefined ? {} : { limitPricePaise: request.limitPricePaise }),
      ...(request.triggerPricePaise === undefined ? {} : { triggerPricePaise: request.triggerPricePaise }),
      createdAtMs: deps.clock.nowMs(),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      ...(explanation === undefined ? {} : { explanation }),
      ...(currentTick?.receivedMonoMs === undefined ? {} : { triggerReceivedMonoMs: currentTick.receivedMonoMs }),
    };
    host.stats.intents += 1;
    const committed = (host.positions[request.symbol] ?? 0) + (host.workingBySymbol[request.symbol] ?? 0);
    const allowed = regimeGateQuantity(tradesIn, regime, committed, request.side, request.quantity);
    if (allowed < request.quantity) {
      host.stats.gated += 1;
      const outside = `${request.symbol} is ${regime === undefined ? 'unclassified' : regime}${definition.regimeScope === 'market' ? ' (market)' : ''}, outside the regimes ${definition.kind} trades in (${(tradesIn ?? []).join(', ')})`;
      const message = allowed === 0 ? `${request.side} ${request.quantity} ${request.symbol} not sent: ${outside}; only exits go through` : `${request.side} ${request.quantity} ${request.symbol} cut to ${allowed}, the quantity that flattens the position: ${outside}`;
      deps.bus?.publish({ type: 'RiskAlert', severity: 'info', code: REGIME_GATED, message, atMs: intent.createdAtMs, intent, strategyId, symbol: request.symbol });
      log.info({ intentId, symbol: request.symbol, regime, allowed }, message);
      if (allowed === 0) {
        host.stats.rejected += 1;
        recordRefused(host, { intentId, symbol: request.symbol, side: request.side, quantity: request.quantity, code: REGIME_GATED, reason: message, atMs: intent.createdAtMs });
        refusals.push({ type: 'IntentRejected', intentId, symbol: request.symbol, reason: message, code: REGIME_GATED });
        return intentId;
      }
      return place({ ...intent, quantity: allowed, reason: intent.reason === undefined ? `exit only (${regime ?? 'unclassified'})` : `${intent.reason}; exit only (${regime ?? 'unclassified'})` }, clientOrderId);
    }
    return place(intent, clientOrderId);
  };

  /** Records an intent as working and queues it for risk. */
  const place = (intent: OrderIntent, clientOrderId: string): string => {
    if (!host) throw new Error('submit outside a hook');
    const signed = intent.side === 'BUY' ? intent.quantity : -intent.quantity;
    host.working[intent.intentId] = { symbol: intent.symbol, clientOrderId, remaining: signed };
    host.workingBySymbol[intent.symbol] = (host.workingBySymbol[intent.symbol] ?? 0) + signed;
    outbox.push({ intent, clientOrderId });
    return intent.intentId;
  };

  const signal = (request: SignalRequest): void => {
    if (!host) throw new Error('signal outside a hook');
    if (request.direction !== 'long' && request.direction !== 'short' && request.direction !== 'flat') throw new RangeError(`signal direction must be long, short or flat, got ${String(request.direction)}`);
    const regime = regimeFor(host, request.symbol);
    const outside = gated && regime !== undefined && !tradesIn.includes(regime);
    host.stats.signals += 1;
    signalOutbox.push({
      strategyId,
      symbol: request.symbol,
      // outside its regimes a strategy abstains: its previous view stops counting
      direction: outside ? 'flat' : request.direction,
      confidence: outside ? 0 : request.confidence,
      atMs: deps.clock.nowMs(),
      ...(outside
        ? { reason: `outside its regimes (${regime})${request.reason === undefined ? '' : `; would have said ${request.direction}: ${request.reason}`}` }
        : request.reason === undefined
          ? {}
          : { reason: request.reason }),
    });
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
    intents: {
      pending: (symbol) => (host === undefined ? [] : inSymbol(Object.values(host.pending), symbol).map((p) => ({ ...p }))),
      refused: (symbol) => (host === undefined ? [] : inSymbol(host.refused, symbol).map((r) => ({ ...r }))),
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
    signal,
    regime: (symbol) => (host === undefined ? undefined : symbol === undefined ? host.regimes[MARKET_REGIME_SYMBOL] : host.regimes[symbol]),
  };

  let system: ActorContext<StrategyCommand>['system'] | undefined;
  const cancelOrder = (clientOrderId: string): void => {
    const execution = deps.directory.execution;
    if (execution && system) system.tell(execution, { type: 'CancelOrder', clientOrderId, requestedBy: strategyId });
  };

  const flush = (ctx: ActorContext<StrategyCommand>): void => {
    if (signalOutbox.length > 0) {
      const aggregator = deps.aggregator?.();
      if (aggregator) ctx.system.tell(aggregator, { type: 'SubmitSignals', signals: signalOutbox.splice(0) });
      else signalOutbox.length = 0;
    }
    for (const event of refusals) ctx.system.tell(ctx.self, { type: 'OrderEvent', event });
    refusals.length = 0;
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
    delete state.pending[intentId];
  };

  const onOrderEvent = (state: StrategyHostState, event: StrategyOrderEvent): void => {
    switch (event.type) {
      case 'OrderFilled': {
        delete state.pending[event.order.intentId];
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
        delete state.pending[event.order.intentId];
        if (isTerminal(event.order.status)) closeWorking(state, event.order.intentId);
        break;
      case 'IntentRejected': {
        if (event.code !== REGIME_GATED) {
          // the gate counted and recorded its own already
          state.stats.rejected += 1;
          const working = state.working[event.intentId];
          recordRefused(state, {
            intentId: event.intentId,
            symbol: event.symbol,
            side: sideOf(working?.remaining ?? 0),
            quantity: Math.abs(working?.remaining ?? 0),
            ...(event.code === undefined ? {} : { code: event.code }),
            reason: event.reason,
            atMs: deps.clock.nowMs(),
          });
        }
        closeWorking(state, event.intentId);
        break;
      }
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
        pending: {},
        refused: [],
        regimes: {},
        stats: { ticks: 0, bars: 0, intents: 0, rejected: 0, fills: 0, gated: 0, signals: 0, paced: 0 },
      };
      fresh.strategy = runHook(fresh, (): unknown => definition.init(strategyContext));
      // init may not trade or signal: nothing is wired yet
      outbox.length = 0;
      refusals.length = 0;
      signalOutbox.length = 0;
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
          pending: Object.fromEntries(
            Object.entries(state.pending).map(([id, p]) => [id, { intentId: p.intentId, symbol: p.symbol, side: p.side, quantity: p.quantity, queuedAtMs: p.queuedAtMs, reason: p.reason }]),
          ),
          refused: state.refused.map((r) => ({ intentId: r.intentId, symbol: r.symbol, side: r.side, quantity: r.quantity, ...(r.code === undefined ? {} : { code: r.code }), reason: r.reason, atMs: r.atMs })),
          regimes: state.regimes,
          stats: state.stats,
        }),
        decode(json, fromVersion) {
          const copy = structuredClone(json) as unknown as Omit<StrategyHostState, 'strategy' | 'regimes' | 'stats' | 'pending' | 'refused'> & {
            strategy: Json;
            regimes?: Record<string, Regime>;
            stats?: Partial<StrategyHostState['stats']>;
            pending?: StrategyHostState['pending'];
            refused?: StrategyHostState['refused'];
          };
          const strategy: unknown = definition.decodeState(copy.strategy, fromVersion);
          // hostVersion 1 had no regimes and fewer counters; 2 no pending or refused intents
          const stats = { ticks: 0, bars: 0, intents: 0, rejected: 0, fills: 0, gated: 0, signals: 0, paced: 0, ...copy.stats };
          return { ...copy, regimes: copy.regimes ?? {}, pending: copy.pending ?? {}, refused: copy.refused ?? [], stats, strategy };
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
        case 'IntentPaced': {
          const working = state.working[message.intentId];
          if (!working) return state; // closed already
          state.stats.paced += 1;
          state.pending[message.intentId] = {
            intentId: message.intentId,
            symbol: message.symbol,
            side: sideOf(working.remaining),
            quantity: Math.abs(working.remaining),
            queuedAtMs: message.atMs,
            reason: message.reason,
          };
          log.info({ intentId: message.intentId, symbol: message.symbol }, message.reason);
          return state;
        }
        case 'IntentReleased':
          delete state.pending[message.intentId];
          return state;
        case 'RegimesChanged':
          Object.assign(state.regimes, message.regimes);
          return state;
        case 'SignalsAggregated': {
          if (state.paused || !definition.onAggregate) return state;
          const onAggregate = definition.onAggregate.bind(definition);
          runHook(state, () => {
            let strategy = state.strategy;
            for (const decision of message.decisions) strategy = onAggregate(strategy, decision, strategyContext);
            state.strategy = strategy;
          });
          flush(ctx);
          return state;
        }
        case 'PredictionsMade': {
          if (state.paused || !definition.onPrediction) return state;
          const onPrediction = definition.onPrediction.bind(definition);
          runHook(state, () => {
            let strategy = state.strategy;
            for (const prediction of message.predictions) strategy = onPrediction(strategy, prediction, strategyContext);
            state.strategy = strategy;
          });
          flush(ctx);
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
            pendingIntents: Object.values(state.pending).map((p) => ({ ...p })),
            refusedIntents: state.refused.map((r) => ({ ...r })),
            ...(tradesIn === undefined ? {} : { tradesIn: [...tradesIn] }),
            regimes: { ...state.regimes },
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
