/**
 * The baseline for the runtime benchmark: the same strategy code, risk gate, paper broker
 * and portfolio accounting on the same ticks, called directly in one loop, no actors. The
 * book is updated in place, as the portfolio actor updates the one it owns (until 2026-12-07
 * this loop copied the portfolio for every fill and mark, about a sixth of its time).
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
  type OrderIntent,
  type PortfolioState,
  type Tick,
} from '../src/model/index.js';
import { DEFAULT_RISK_MANAGER_LIMITS, RiskManager, type RiskManagerLimits } from '../src/risk/risk-manager.js';
import type { AnyStrategyDefinition, IntentRequest, StrategyContext } from '../src/strategies/api.js';

export interface BareResult {
  readonly ticks: number;
  readonly intents: number;
  readonly orders: number;
  readonly fills: number;
  readonly portfolio: PortfolioState;
}

export function runBareLoop(
  definition: AnyStrategyDefinition,
  config: unknown,
  instruments: readonly Instrument[],
  batches: readonly (readonly Tick[])[],
  limits: RiskManagerLimits = DEFAULT_RISK_MANAGER_LIMITS,
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
    signal: () => undefined, // the baseline has no aggregator
    regime: () => undefined,
  };
  let state: unknown = definition.init(ctx);
  const onTick = definition.onTick!.bind(definition);
  const lastPrice = new Map<string, number>();
  const one: Tick[] = [];
  for (const batch of batches) {
    for (const tick of batch) {
      now = tick.exchangeTimeMs;
      lastPrice.set(tick.symbol, tick.ltpPaise);
      one[0] = tick;
      for (const event of broker.onTicks(one)) {
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
        workingByOrder.set(clientOrderId, { symbol: intent.symbol, remaining: signed });
        orders += 1;
        const instrument = bySymbol.get(intent.symbol)!;
        for (const event of broker.submit(newOrder(intent, clientOrderId, now), instrument, now)) {
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
  return { ticks, intents, orders, fills, portfolio };
}
