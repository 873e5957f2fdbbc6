import {
  regimeGateQuantity,
  type AnyStrategyDefinition,
  type IntentRequest,
  type MarketRegime,
  type Quote,
  type SignalRequest,
  type StrategyContext,
  type StrategyOrderEvent,
} from '../../src/strategies/api.js';
import { MARKET_REGIME_SYMBOL, type Bar, type Tick } from '../../src/model/index.js';

/** What a fake context recorded. */
export interface Recorded {
  /** Intents that went through (after the regime gate, when one is set: a cut intent is recorded with the cut quantity). */
  readonly submitted: (IntentRequest & { intentId: string })[];
  readonly cancelled: string[];
  readonly logs: { level: 'info' | 'warn'; message: string }[];
  /** Every `ctx.signal`, stamped with the fake clock. */
  readonly signals: (SignalRequest & { atMs: number })[];
  /** Intents the regime gate refused or cut, with the regime that did it. */
  readonly gated: (IntentRequest & { intentId: string; allowed: number; regime: MarketRegime })[];
}

/** Options of {@link fakeContext}. */
export interface FakeContextOptions {
  readonly strategyId?: string;
  readonly portfolioId?: string;
  /**
   * Gate intents like the host does (`regimeGateQuantity`): pass the definition's `regimes`
   * (and `regimeScope`), then `setRegime(…)`. Absent: no gate, every intent is recorded.
   */
  readonly tradesIn?: readonly MarketRegime[] | undefined;
  readonly regimeScope?: 'symbol' | 'market' | undefined;
}

/**
 * A fake strategy context for unit tests: a settable clock, quotes, positions and regimes,
 * and a recording of every submit/cancel/signal. `fillAll()` turns working intents into
 * positions. With `tradesIn` it applies the host's regime gate.
 */
export function fakeContext<C>(config: C, options: FakeContextOptions = {}) {
  let now = Date.parse('2026-05-20T04:00:00Z');
  const quotes = new Map<string, Quote>();
  const net = new Map<string, number>();
  const working = new Map<string, number>();
  const regimes = new Map<string, MarketRegime>();
  const recorded: Recorded = { submitted: [], cancelled: [], logs: [], signals: [], gated: [] };
  let sequence = 0;
  const regimeFor = (symbol: string): MarketRegime | undefined =>
    options.regimeScope === 'market' ? regimes.get(MARKET_REGIME_SYMBOL) : (regimes.get(symbol) ?? regimes.get(MARKET_REGIME_SYMBOL));
  const ctx: StrategyContext<C> = {
    strategyId: options.strategyId ?? 'test-strategy',
    portfolioId: options.portfolioId ?? 'test-portfolio',
    config,
    nowMs: () => now,
    market: { quote: (symbol) => quotes.get(symbol) },
    portfolio: {
      netQuantity: (symbol) => net.get(symbol) ?? 0,
      workingQuantity: (symbol) => working.get(symbol) ?? 0,
      cashPaise: 0,
    },
    intents: { pending: () => [], refused: () => [] },
    log: {
      info: (message) => recorded.logs.push({ level: 'info', message }),
      warn: (message) => recorded.logs.push({ level: 'warn', message }),
    },
    submit(request) {
      const intentId = `${ctx.strategyId}:${sequence++}`;
      const regime = regimeFor(request.symbol);
      const committed = (net.get(request.symbol) ?? 0) + (working.get(request.symbol) ?? 0);
      const allowed = regimeGateQuantity(options.tradesIn, regime, committed, request.side, request.quantity);
      if (allowed < request.quantity && regime !== undefined) recorded.gated.push({ ...request, intentId, allowed, regime });
      if (allowed === 0) return intentId;
      recorded.submitted.push({ ...request, quantity: allowed, intentId });
      const signed = request.side === 'BUY' ? allowed : -allowed;
      working.set(request.symbol, (working.get(request.symbol) ?? 0) + signed);
      return intentId;
    },
    cancel(intentId) {
      recorded.cancelled.push(intentId);
    },
    signal(request) {
      recorded.signals.push({ ...request, atMs: now });
    },
    regime: (symbol) => regimes.get(symbol ?? MARKET_REGIME_SYMBOL),
  };
  return {
    ctx,
    recorded,
    setTime(ms: number) {
      now = ms;
    },
    setQuote(quote: Quote) {
      quotes.set(quote.symbol, quote);
    },
    /** Sets the regime of a symbol, or of the market with `'MARKET'` (what the host learns from `RegimeChanged`). */
    setRegime(symbol: string, regime: MarketRegime | undefined) {
      if (regime === undefined) regimes.delete(symbol);
      else regimes.set(symbol, regime);
    },
    /** Every working intent is refused (risk or the broker said no): nothing fills, nothing is working. */
    refuseAll() {
      working.clear();
    },
    /** The working intents in `symbol` are refused (risk or the broker said no); the others stay working. */
    refuse(symbol: string) {
      working.delete(symbol);
    },
    /** The working intents in `symbol` fill completely; the others stay working. */
    fill(symbol: string) {
      net.set(symbol, (net.get(symbol) ?? 0) + (working.get(symbol) ?? 0));
      working.delete(symbol);
    },
    /** Every working intent fills completely. */
    fillAll() {
      for (const [symbol, quantity] of working) net.set(symbol, (net.get(symbol) ?? 0) + quantity);
      working.clear();
    },
  };
}

/** Runs ticks through a strategy's onTick with a context; returns the final state. */
export function runTicks<S>(definition: AnyStrategyDefinition, state: S, ticks: readonly Tick[], ctx: StrategyContext<unknown>): S {
  let current = state;
  for (const tick of ticks) current = definition.onTick?.(current, tick, ctx) as S;
  return current;
}

export function runBars<S>(definition: AnyStrategyDefinition, state: S, bars: readonly Bar[], ctx: StrategyContext<unknown>): S {
  let current = state;
  for (const bar of bars) current = definition.onBar?.(current, bar, ctx) as S;
  return current;
}

export function deliver<S>(definition: AnyStrategyDefinition, state: S, event: StrategyOrderEvent, ctx: StrategyContext<unknown>): S {
  return (definition.onOrderEvent?.(state, event, ctx) ?? state) as S;
}

/** Signed sum of the quantities a strategy submitted in a symbol (BUY +, SELL −). */
export function netSubmitted(recorded: Recorded, symbol: string): number {
  return recorded.submitted.filter((r) => r.symbol === symbol).reduce((sum, r) => sum + (r.side === 'BUY' ? r.quantity : -r.quantity), 0);
}
