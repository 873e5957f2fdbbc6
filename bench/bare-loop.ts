/**
 * The baseline for the runtime benchmark: the same strategy code, risk gate, paper broker
 * and portfolio accounting on the same ticks, called directly in one loop, no actors. The
 * book is updated in place, as the portfolio actor updates the one it owns (until 2026-12-07
 * this loop copied the portfolio for every fill and mark, about a sixth of its time).
 *
 * With `bookkeeping` it also keeps what the tree keeps besides, with the tree's own code: each
 * symbol's day and the market cache (`foldTicks` and `MarketCache.update` once per symbol and
 * batch, on the batch's ticks of that symbol, as the symbol actors receive them), the session's orders with
 * duplicate detection (`rememberOrder`: the last 5,000 finished orders, for `GET /orders`), and
 * the signal aggregator's vote on every signal (`AggregatorBook`). What is left between the two
 * is what the actors cost: mailboxes, messages, scheduling, the bus and the metrics.
 */
import { PaperBroker } from '../src/brokers/paper/index.js';
import {
  applyFillInPlace,
  clientOrderIdFor,
  copyPortfolio,
  isTerminal,
  markInPlace,
  newOrder,
  newPortfolio,
  type Instrument,
  type Order,
  type OrderIntent,
  type PortfolioState,
  type Tick,
} from '../src/model/index.js';
import { DEFAULT_RISK_MANAGER_LIMITS, RiskManager, type RiskManagerLimits } from '../src/risk/risk-manager.js';
import type { AnyStrategyDefinition, IntentRequest, SignalRequest, StrategyContext } from '../src/strategies/api.js';
import { emptyDay, foldTicks, type SymbolDay } from '../src/actors/symbol/symbol.actor.js';
import { MarketCache } from '../src/actors/market-cache.js';
import { rememberOrder, type SessionOrders } from '../src/actors/execution/session-orders.js';
import { AggregatorBook, aggregatorConfig } from '../src/signals/index.js';

export interface BareResult {
  readonly ticks: number;
  readonly intents: number;
  readonly orders: number;
  readonly fills: number;
  readonly portfolio: PortfolioState;
  /** With bookkeeping: the orders its book holds at the end (else 0). */
  readonly keptOrders: number;
}

export function runBareLoop(
  definition: AnyStrategyDefinition,
  config: unknown,
  instruments: readonly Instrument[],
  batches: readonly (readonly Tick[])[],
  limits: RiskManagerLimits = DEFAULT_RISK_MANAGER_LIMITS,
  {
    bookkeeping,
  }: {
    /** Keep what the tree keeps; `grouped[i]` is batch i's ticks by symbol (what each symbol actor is handed). */
    readonly bookkeeping?: { readonly grouped: readonly ReadonlyMap<string, readonly Tick[]>[] };
  } = {},
): BareResult {
  const bySymbol = new Map(instruments.map((i) => [i.symbol, i]));
  const broker = new PaperBroker({});
  const gate = new RiskManager(limits, { instrument: (symbol) => bySymbol.get(symbol) });
  // updated in place, as the portfolio actor updates the book it owns
  const portfolio = copyPortfolio(newPortfolio('bare', 1_00_00_000_00));
  const positions = new Map<string, number>();
  const working = new Map<string, number>();
  const workingByOrder = new Map<string, { symbol: string; remaining: number }>();
  let now = 0;
  let sequence = 0;
  let intents = 0;
  let orders = 0;
  let fills = 0;
  const outbox: OrderIntent[] = [];
  // the tree's bookkeeping (with `bookkeeping`)
  const grouped = bookkeeping?.grouped;
  const keep = grouped !== undefined;
  const days = new Map<string, SymbolDay>(instruments.map((i) => [i.symbol, emptyDay(i.symbol)]));
  const cache = new MarketCache();
  const book: SessionOrders = { orders: new Map(), finished: [] };
  const remember = (order: Order): void => void rememberOrder(book, order);
  const aggregator = new AggregatorBook();
  const voting = aggregatorConfig();
  const signal = (request: SignalRequest): void => {
    aggregator.record({
      strategyId: 'bare',
      symbol: request.symbol,
      direction: request.direction,
      confidence: request.confidence,
      atMs: now,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    });
    // the tree publishes a changed decision on its bus: that is the bus's cost, not the vote's
    aggregator.vote(request.symbol, now, voting, false);
  };
  const ctx: StrategyContext = {
    strategyId: 'bare',
    portfolioId: 'bare',
    config,
    nowMs: () => now,
    market: { quote: () => undefined },
    portfolio: {
      netQuantity: (symbol) => positions.get(symbol) ?? 0,
      workingQuantity: (symbol) => working.get(symbol) ?? 0,
      cashPaise: 0,
    },
    intents: { pending: () => [], refused: () => [] },
    log: { info: () => undefined, warn: () => undefined },
    submit(request: IntentRequest) {
      const intentId = `bare:${sequence++}`;
      outbox.push({
        type: 'order-intent',
        intentId,
        strategyId: 'bare',
        portfolioId: 'bare',
        symbol: request.symbol,
        side: request.side,
        quantity: request.quantity,
        orderType: request.orderType ?? 'MARKET',
        product: request.product ?? 'MIS',
        validity: 'DAY',
        createdAtMs: now,
      });
      const signed = request.side === 'BUY' ? request.quantity : -request.quantity;
      working.set(request.symbol, (working.get(request.symbol) ?? 0) + signed);
      intents += 1;
      return intentId;
    },
    cancel: () => undefined,
    signal: keep ? signal : () => undefined,
    regime: () => undefined,
  };
  let state: unknown = definition.init(ctx);
  const onTick = definition.onTick!.bind(definition);
  const lastPrice = new Map<string, number>();
  const one: Tick[] = [];
  for (let b = 0; b < batches.length; b += 1) {
    const batch = batches[b]!;
    if (grouped !== undefined)
      // each symbol actor folds its ticks of the batch into its day and writes the quote before it publishes them
      for (const [symbol, symbolTicks] of grouped[b]!) {
        const last = foldTicks(days.get(symbol)!, symbolTicks);
        if (last !== undefined) cache.update(last);
      }
    for (const tick of batch) {
      now = tick.exchangeTimeMs;
      lastPrice.set(tick.symbol, tick.ltpPaise);
      one[0] = tick;
      for (const event of broker.onTicks(one)) {
        if (keep && (event.kind === 'order-updated' || event.kind === 'fill')) remember(event.order);
        if (event.kind === 'fill') {
          fills += 1;
          applyFillInPlace(portfolio, event.fill);
          const signed = event.fill.side === 'BUY' ? event.fill.quantity : -event.fill.quantity;
          positions.set(event.fill.symbol, (positions.get(event.fill.symbol) ?? 0) + signed);
          working.set(event.fill.symbol, (working.get(event.fill.symbol) ?? 0) - signed);
          gate.onFill(
            {
              portfolioId: 'bare',
              symbol: event.fill.symbol,
              signedQuantity: signed,
              pricePaise: event.fill.pricePaise,
              chargesPaise: event.fill.chargesPaise,
            },
            now,
          );
          const entry = workingByOrder.get(event.order.clientOrderId);
          if (entry) entry.remaining -= signed;
        } else if (event.kind === 'order-updated' && isTerminal(event.order.status)) {
          const entry = workingByOrder.get(event.order.clientOrderId);
          if (entry) {
            working.set(entry.symbol, (working.get(entry.symbol) ?? 0) - entry.remaining);
            gate.onOrderClosed('bare', entry.symbol, entry.remaining);
            workingByOrder.delete(event.order.clientOrderId);
          }
        }
      }
      state = onTick(state, tick, ctx);
      for (const intent of outbox) {
        const verdict = gate.evaluate(intent, now, lastPrice.get(intent.symbol));
        const signed = intent.side === 'BUY' ? intent.quantity : -intent.quantity;
        if (!verdict.approved) {
          working.set(intent.symbol, (working.get(intent.symbol) ?? 0) - signed);
          continue;
        }
        const clientOrderId = clientOrderIdFor('bare', Number(intent.intentId.split(':')[1]));
        if (keep && book.orders.has(clientOrderId)) continue; // a duplicate (never, here)
        workingByOrder.set(clientOrderId, { symbol: intent.symbol, remaining: signed });
        orders += 1;
        const instrument = bySymbol.get(intent.symbol)!;
        const order = newOrder(intent, clientOrderId, now);
        if (keep) remember(order);
        for (const event of broker.submit(order, instrument, now)) {
          if (keep && (event.kind === 'order-updated' || event.kind === 'fill')) remember(event.order);
          if (event.kind === 'order-updated' && isTerminal(event.order.status)) {
            working.set(intent.symbol, (working.get(intent.symbol) ?? 0) - signed);
            gate.onOrderClosed('bare', intent.symbol, signed);
            workingByOrder.delete(clientOrderId);
          }
        }
      }
      outbox.length = 0;
    }
    // marks once per batch, as the tree's conflated marks do (portfolio and risk)
    for (const [symbol, price] of lastPrice) {
      markInPlace(portfolio, symbol, price);
      gate.onMark(symbol, price, now);
    }
  }
  let ticks = 0;
  for (const batch of batches) ticks += batch.length;
  return { ticks, intents, orders, fills, portfolio, keptOrders: book.orders.size };
}
