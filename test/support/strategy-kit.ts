import type { AnyStrategyDefinition, IntentRequest, Quote, StrategyContext, StrategyOrderEvent } from '../../src/strategies/api.js';
import type { Bar, Tick } from '../../src/model/index.js';

/** What a fake context recorded. */
export interface Recorded {
  readonly submitted: (IntentRequest & { intentId: string })[];
  readonly cancelled: string[];
  readonly logs: { level: 'info' | 'warn'; message: string }[];
}

/**
 * A fake strategy context for unit tests: a settable clock, quotes and positions, and a
 * recording of every submit/cancel. `fillAll()` turns working intents into positions.
 */
export function fakeContext<C>(config: C, options: { strategyId?: string; portfolioId?: string } = {}) {
  let now = Date.parse('2026-05-20T04:00:00Z');
  const quotes = new Map<string, Quote>();
  const net = new Map<string, number>();
  const working = new Map<string, number>();
  const recorded: Recorded = { submitted: [], cancelled: [], logs: [] };
  let sequence = 0;
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
    log: {
      info: (message) => recorded.logs.push({ level: 'info', message }),
      warn: (message) => recorded.logs.push({ level: 'warn', message }),
    },
    submit(request) {
      const intentId = `${ctx.strategyId}:${sequence++}`;
      recorded.submitted.push({ ...request, intentId });
      const signed = request.side === 'BUY' ? request.quantity : -request.quantity;
      working.set(request.symbol, (working.get(request.symbol) ?? 0) + signed);
      return intentId;
    },
    cancel(intentId) {
      recorded.cancelled.push(intentId);
    },
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
