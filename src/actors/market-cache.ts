import type { DepthLevel, Tick } from '../model/index.js';
import type { MarketView, Quote } from '../strategies/api.js';

/**
 * The latest quote per symbol. Symbol actors write it before they publish a batch, so a
 * strategy handed a tick always reads a quote at least that fresh. Everyone else reads.
 *
 * It keeps the latest tick itself (ticks are immutable values) and makes the `Quote` when
 * one is read: every tick writes here, few are read, so the hot path allocates nothing.
 */
export class MarketCache implements MarketView {
  private readonly ticks = new Map<string, Tick>();

  /** Only symbol actors call this. */
  update(tick: Tick): void {
    this.ticks.set(tick.symbol, tick);
  }

  quote(symbol: string): Quote | undefined {
    const tick = this.ticks.get(symbol);
    return tick === undefined ? undefined : quoteOf(tick);
  }

  lastPrice(symbol: string): number | undefined {
    return this.ticks.get(symbol)?.ltpPaise;
  }

  /**
   * The order book of the latest tick: its depth when the feed sends one (Kite full mode: five
   * levels), else the best bid and ask as one level, else none.
   */
  depth(symbol: string): { readonly atMs: number; readonly buy: readonly DepthLevel[]; readonly sell: readonly DepthLevel[] } | undefined {
    const tick = this.ticks.get(symbol);
    if (tick === undefined) return undefined;
    if (tick.depth) return { atMs: tick.exchangeTimeMs, buy: tick.depth.buy, sell: tick.depth.sell };
    const level = (pricePaise: number | undefined, quantity: number | undefined): DepthLevel[] =>
      pricePaise === undefined ? [] : [{ pricePaise, quantity: quantity ?? 0, orders: 0 }];
    return { atMs: tick.exchangeTimeMs, buy: level(tick.bidPaise, tick.bidQuantity), sell: level(tick.askPaise, tick.askQuantity) };
  }

  all(): Quote[] {
    return [...this.ticks.values()].map(quoteOf);
  }
}

/** The quote part of a tick (a fresh object: readers may keep it). */
function quoteOf(tick: Tick): Quote {
  return {
    symbol: tick.symbol,
    ltpPaise: tick.ltpPaise,
    ...(tick.bidPaise === undefined ? {} : { bidPaise: tick.bidPaise }),
    ...(tick.askPaise === undefined ? {} : { askPaise: tick.askPaise }),
    volume: tick.volume,
    exchangeTimeMs: tick.exchangeTimeMs,
  };
}
